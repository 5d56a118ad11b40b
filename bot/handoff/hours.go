package handoff

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/colecommune/trolyso/bot/remind/spec"
	"github.com/colecommune/trolyso/knowledge/vi"
)

// Hours are the commune's working hours, read from the commune profile's
// centre.hours text: for each weekday, the spans of the day (minutes after
// midnight, Vietnamese time) when staff work. Public holidays are not
// known and count as working days.
type Hours struct {
	days [7][]span // by time.Weekday
	// Parsed is false when the profile's text held no hours the parser
	// understood and DefaultHours are used instead.
	Parsed bool
}

type span struct{ from, to int }

// DefaultHours are Vietnamese administrative hours, used when the
// profile's text cannot be read: Monday to Friday, 07:30–11:30 and
// 13:30–17:00.
func DefaultHours() Hours {
	var h Hours
	for d := time.Monday; d <= time.Friday; d++ {
		h.days[d] = []span{{7*60 + 30, 11*60 + 30}, {13*60 + 30, 17 * 60}}
	}
	return h
}

var (
	// timeToken is one time of day: "7h30", "7h", "07:30", "13g30", "7.30".
	timeToken = regexp.MustCompile(`^(\d{1,2})(?:h|g|:|\.)(\d{2})?$`)
	dayNames  = map[string]time.Weekday{
		"2": time.Monday, "hai": time.Monday, "3": time.Tuesday, "ba": time.Tuesday,
		"4": time.Wednesday, "tu": time.Wednesday, "5": time.Thursday, "nam": time.Thursday,
		"6": time.Friday, "sau": time.Friday, "7": time.Saturday, "bay": time.Saturday,
	}
)

// ParseHours reads working hours from a text such as "Sáng 7h30–11h30,
// chiều 13h30–17h00, thứ Hai đến thứ Sáu; sáng thứ Bảy 7h30–11h30".
// Parts separated by ";" or new lines may name their own days; a part
// without days means Monday to Friday. Without any time range it returns
// DefaultHours with Parsed false.
func ParseHours(text string) Hours {
	var h Hours
	for _, seg := range strings.FieldsFunc(text, func(r rune) bool { return r == ';' || r == '\n' || r == '|' }) {
		days, spans := parseSegment(seg)
		if len(spans) == 0 {
			continue
		}
		if len(days) == 0 {
			for d := time.Monday; d <= time.Friday; d++ {
				days = append(days, d)
			}
		}
		for _, d := range days {
			h.days[d] = append(h.days[d], spans...)
		}
	}
	any := false
	for d := range h.days {
		h.days[d] = mergeSpans(h.days[d])
		any = any || len(h.days[d]) > 0
	}
	if !any {
		return DefaultHours()
	}
	h.Parsed = true
	return h
}

// tokens splits folded text into words of letters, digits, ':' and '.',
// and single range marks ("-", "~").
func tokens(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, strings.Trim(cur.String(), ".:"))
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == ':' || r == '.'):
			cur.WriteRune(r)
		case r == '-' || r == '~' || r == '–' || r == '—' || r == '−':
			flush()
			out = append(out, "-")
		default:
			flush()
		}
	}
	flush()
	return out
}

func isRangeMark(w string) bool { return w == "-" || w == "den" || w == "toi" }

// parseSegment finds the days and time spans of one part of the text.
func parseSegment(seg string) (days []time.Weekday, spans []span) {
	ws := tokens(strings.ToLower(vi.StripDiacritics(seg)))
	// timeAt reads a time starting at word i: "7h30", or "17" followed by
	// "gio"/"h" (and optionally minutes); it returns the minutes and the
	// number of words used.
	timeAt := func(i int) (int, int, bool) {
		if i >= len(ws) {
			return 0, 0, false
		}
		if m := timeToken.FindStringSubmatch(ws[i]); m != nil {
			hh, _ := strconv.Atoi(m[1])
			mm := 0
			if m[2] != "" {
				mm, _ = strconv.Atoi(m[2])
			}
			return hh*60 + mm, 1, hh <= 24 && mm < 60 && hh*60+mm <= 24*60
		}
		if hh, err := strconv.Atoi(ws[i]); err == nil && hh <= 24 && i+1 < len(ws) && (ws[i+1] == "gio" || ws[i+1] == "h") {
			n, mm := 2, 0
			if i+2 < len(ws) && len(ws[i+2]) == 2 {
				if v, err := strconv.Atoi(ws[i+2]); err == nil && v < 60 {
					mm, n = v, 3
				}
			}
			return hh*60 + mm, n, hh*60+mm <= 24*60
		}
		return 0, 0, false
	}
	// dayAt reads a day at word i ("thu 2", "thu hai", "chu nhat", "cn",
	// "t2"; bare "6" or "sau" only after a range mark).
	dayAt := func(i int, bare bool) (time.Weekday, int, bool) {
		if i >= len(ws) {
			return 0, 0, false
		}
		w := ws[i]
		switch {
		case w == "thu" && i+1 < len(ws):
			if d, ok := dayNames[ws[i+1]]; ok {
				return d, 2, true
			}
		case w == "chu" && i+1 < len(ws) && ws[i+1] == "nhat", w == "cn":
			if w == "cn" {
				return time.Sunday, 1, true
			}
			return time.Sunday, 2, true
		case len(w) == 2 && w[0] == 't' && w[1] >= '2' && w[1] <= '7':
			return dayNames[w[1:]], 1, true
		case bare:
			if d, ok := dayNames[w]; ok {
				return d, 1, true
			}
		}
		return 0, 0, false
	}
	for i := 0; i < len(ws); {
		if t1, n1, ok := timeAt(i); ok && i+n1 < len(ws) && isRangeMark(ws[i+n1]) {
			if t2, n2, ok := timeAt(i + n1 + 1); ok && t2 > t1 {
				spans = append(spans, span{t1, t2})
				i += n1 + 1 + n2
				continue
			}
		}
		if d1, n1, ok := dayAt(i, false); ok {
			i += n1
			if i < len(ws) && isRangeMark(ws[i]) {
				if d2, n2, ok := dayAt(i+1, true); ok {
					for d := d1; ; d = (d + 1) % 7 {
						days = append(days, d)
						if d == d2 {
							break
						}
					}
					i += 1 + n2
					continue
				}
			}
			days = append(days, d1)
			continue
		}
		if ws[i] == "hang" && i+1 < len(ws) && ws[i+1] == "ngay" { // "hằng ngày": every day
			for d := time.Sunday; d <= time.Saturday; d++ {
				days = append(days, d)
			}
		}
		i++
	}
	slices.Sort(days)
	return slices.Compact(days), spans
}

func mergeSpans(ss []span) []span {
	if len(ss) == 0 {
		return nil
	}
	slices.SortFunc(ss, func(a, b span) int { return a.from - b.from })
	out := []span{ss[0]}
	for _, s := range ss[1:] {
		last := &out[len(out)-1]
		if s.from <= last.to {
			last.to = max(last.to, s.to)
			continue
		}
		out = append(out, s)
	}
	return out
}

// dayStart is midnight of t's day in Vietnamese time.
func dayStart(t time.Time) time.Time {
	t = t.In(spec.Location())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, spec.Location())
}

func at(day time.Time, minutes int) time.Time { return day.Add(time.Duration(minutes) * time.Minute) }

// Open reports whether t falls within the working hours.
func (h Hours) Open(t time.Time) bool {
	day := dayStart(t)
	for _, s := range h.days[day.Weekday()] {
		if !t.Before(at(day, s.from)) && t.Before(at(day, s.to)) {
			return true
		}
	}
	return false
}

// NextOpen returns t when the working hours include it, else when they
// next begin (zero if the hours are empty).
func (h Hours) NextOpen(t time.Time) time.Time {
	day := dayStart(t)
	for i := 0; i < 8; i++ {
		for _, s := range h.days[day.Weekday()] {
			if t.Before(at(day, s.to)) {
				if start := at(day, s.from); start.After(t) {
					return start
				}
				return t
			}
		}
		day = dayStart(day.Add(36 * time.Hour))
	}
	return time.Time{}
}

// Elapsed returns the working time between from and to.
func (h Hours) Elapsed(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	var total time.Duration
	day := dayStart(from)
	for i := 0; i < 400 && day.Before(to); i++ {
		for _, s := range h.days[day.Weekday()] {
			a, b := at(day, s.from), at(day, s.to)
			if a.Before(from) {
				a = from
			}
			if b.After(to) {
				b = to
			}
			if b.After(a) {
				total += b.Sub(a)
			}
		}
		day = dayStart(day.Add(36 * time.Hour))
	}
	return total
}

var weekdayNames = [7]string{"Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"}

// Describe renders the hours in Vietnamese, days with the same spans
// grouped: "Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00".
func (h Hours) Describe() string {
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	spansText := func(ss []span) string {
		parts := make([]string, len(ss))
		for i, s := range ss {
			parts[i] = fmt.Sprintf("%02d:%02d–%02d:%02d", s.from/60, s.from%60, s.to/60, s.to%60)
		}
		return strings.Join(parts, ", ")
	}
	var groups []string
	for i := 0; i < len(order); {
		d := order[i]
		if len(h.days[d]) == 0 {
			i++
			continue
		}
		j := i
		for j+1 < len(order) && slices.Equal(h.days[order[j+1]], h.days[d]) {
			j++
		}
		name := weekdayNames[d]
		if j > i {
			name += " – " + weekdayNames[order[j]]
		}
		groups = append(groups, name+": "+spansText(h.days[d]))
		i = j + 1
	}
	return strings.Join(groups, "; ")
}

// WhenText says in Vietnamese when t is, relative to now: "14:00 hôm
// nay", "07:30 ngày mai", "07:30 Thứ Hai 16/03".
func WhenText(t, now time.Time) string {
	t, now = t.In(spec.Location()), now.In(spec.Location())
	clock := t.Format("15:04")
	switch spec.DaysBetween(now, t) {
	case 0:
		return clock + " hôm nay"
	case 1:
		return clock + " ngày mai"
	}
	return clock + " " + weekdayNames[t.Weekday()] + " " + t.Format("02/01")
}
