package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
)

// starBit is robfig/cron's mark of a field written as "*" or "?".
const starBit = 1 << 63

// Describe says a cron expression in Vietnamese words, for the admins who
// read it next to the expression: "0 8 15 3,6,9,12 *" → "08:00 ngày 15 các
// tháng 3, 6, 9, 12"; "30 7 * * 1" → "07:30 thứ Hai hằng tuần". It returns
// "" for an expression ParseCron refuses.
func Describe(expr string) string {
	s, err := ParseCron(expr)
	if err != nil {
		return ""
	}
	ss, ok := s.(*cron.SpecSchedule)
	if !ok {
		return ""
	}
	return strings.TrimSpace(describeTime(ss) + " " + describeDays(ss))
}

// values lists the set bits of a field between lo and hi.
func values(field uint64, lo, hi int) []int {
	var out []int
	for v := lo; v <= hi; v++ {
		if field&(1<<uint(v)) != 0 {
			out = append(out, v)
		}
	}
	return out
}

// listText joins numbers as "3, 6, 9, 12", or as a range "1–5" when they
// are consecutive (at least three of them).
func listText(vs []int) string {
	if len(vs) >= 3 && vs[len(vs)-1]-vs[0] == len(vs)-1 {
		return strconv.Itoa(vs[0]) + "–" + strconv.Itoa(vs[len(vs)-1])
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ", ")
}

// maxTimes is how many times of day are listed one by one.
const maxTimes = 6

func describeTime(s *cron.SpecSchedule) string {
	mins, hours := values(s.Minute, 0, 59), values(s.Hour, 0, 23)
	allHours := len(hours) == 24
	switch {
	case len(mins) == 60 && allHours:
		return "mỗi phút"
	case len(mins) == 60:
		return "mỗi phút trong các giờ " + listText(hours)
	case len(hours)*len(mins) <= maxTimes:
		var ts []string
		for _, h := range hours {
			for _, m := range mins {
				ts = append(ts, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
		if len(ts) > 1 {
			return "lúc " + strings.Join(ts[:len(ts)-1], ", ") + " và " + ts[len(ts)-1]
		}
		return ts[0]
	case allHours:
		return "phút " + listText(mins) + " mỗi giờ"
	}
	return "phút " + listText(mins) + " các giờ " + listText(hours)
}

var weekdays = []string{"Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy"}

func describeDays(s *cron.SpecSchedule) string {
	months := values(s.Month, 1, 12)
	doms, dows := values(s.Dom, 1, 31), values(s.Dow, 0, 6)
	domAll := s.Dom&starBit != 0 || len(doms) == 31
	dowAll := s.Dow&starBit != 0 || len(dows) == 7
	monthText := ""
	switch {
	case len(months) == 12:
	case len(months) == 1:
		monthText = "tháng " + strconv.Itoa(months[0])
	default:
		monthText = "các tháng " + listText(months)
	}
	var dowText string
	if !dowAll {
		names := make([]string, len(dows))
		for i, d := range dows {
			names[i] = weekdays[d]
		}
		dowText = strings.Join(names, ", ")
		if len(dows) == 5 && dows[0] == 1 && dows[4] == 5 {
			dowText = "thứ Hai đến thứ Sáu"
		}
	}
	domText := ""
	if !domAll {
		domText = "ngày " + listText(doms)
	}
	var parts []string
	switch {
	case domAll && dowAll && monthText == "":
		return "hằng ngày"
	case domAll && dowAll:
		parts = append(parts, "mỗi ngày")
	case domAll: // weekdays only
		parts = append(parts, dowText)
		if monthText == "" {
			parts = append(parts, "hằng tuần")
		}
	case dowAll: // days of the month only
		parts = append(parts, domText)
		if monthText == "" {
			parts = append(parts, "hằng tháng")
		}
	default: // cron fires when either matches
		parts = append(parts, domText+" hoặc "+dowText)
	}
	if monthText != "" {
		parts = append(parts, monthText)
	}
	return strings.Join(parts, " ")
}
