package stats

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Zone is the commune's time zone; periods and weeks are counted in it.
const Zone = "Asia/Ho_Chi_Minh"

// Location loads Asia/Ho_Chi_Minh, falling back to a fixed UTC+7 zone
// (Vietnam has no daylight saving time).
func Location() *time.Location {
	if loc, err := time.LoadLocation(Zone); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*3600)
}

// Range is the half-open period [From, To) of a report.
type Range struct {
	Period string // week, month, quarter, year, range or all
	Label  string // Vietnamese, e.g. "Quý 3/2026"
	From   time.Time
	To     time.Time
}

// Periods are the named periods, in the order they are offered.
var Periods = []struct{ ID, Label string }{
	{"week", "Tuần này"},
	{"month", "Tháng này"},
	{"quarter", "Quý này"},
	{"year", "Năm nay"},
}

// Period returns the current week (ISO, from Monday), month, quarter or
// year containing now, in loc; "all" is everything recorded.
func Period(name string, now time.Time, loc *time.Location) (Range, error) {
	now = now.In(loc)
	y, m, d := now.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	switch name {
	case "week":
		wd := (int(now.Weekday()) + 6) % 7 // Monday = 0
		from := day.AddDate(0, 0, -wd)
		to := from.AddDate(0, 0, 7)
		yy, w := from.ISOWeek()
		return Range{Period: name, Label: fmt.Sprintf("Tuần %d/%d (%s–%s)", w, yy, from.Format("02/01"), to.AddDate(0, 0, -1).Format("02/01/2006")), From: from, To: to}, nil
	case "month":
		from := time.Date(y, m, 1, 0, 0, 0, 0, loc)
		return Range{Period: name, Label: fmt.Sprintf("Tháng %d/%d", int(m), y), From: from, To: from.AddDate(0, 1, 0)}, nil
	case "quarter":
		return Quarter(y, (int(m)-1)/3+1, loc), nil
	case "year":
		from := time.Date(y, 1, 1, 0, 0, 0, 0, loc)
		return Range{Period: name, Label: fmt.Sprintf("Năm %d", y), From: from, To: from.AddDate(1, 0, 0)}, nil
	case "all", "":
		return All(loc), nil
	}
	return Range{}, fmt.Errorf("unknown period %q (want week, month, quarter or year)", name)
}

// All is every record, from 2000 to 2200.
func All(loc *time.Location) Range {
	return Range{Period: "all", Label: "Toàn bộ", From: time.Date(2000, 1, 1, 0, 0, 0, 0, loc), To: time.Date(2200, 1, 1, 0, 0, 0, 0, loc)}
}

// Dates returns the range of whole days from and to (YYYY-MM-DD, both
// included) in loc. Either may be empty: open ends.
func Dates(from, to string, loc *time.Location) (Range, error) {
	r := All(loc)
	r.Period = "range"
	if from != "" {
		t, err := time.ParseInLocation(time.DateOnly, from, loc)
		if err != nil {
			return Range{}, fmt.Errorf("from date %q: want YYYY-MM-DD", from)
		}
		r.From = t
	}
	if to != "" {
		t, err := time.ParseInLocation(time.DateOnly, to, loc)
		if err != nil {
			return Range{}, fmt.Errorf("to date %q: want YYYY-MM-DD", to)
		}
		r.To = t.AddDate(0, 0, 1)
	}
	if !r.To.After(r.From) {
		return Range{}, errors.New("the to date is before the from date")
	}
	switch {
	case from != "" && to != "":
		r.Label = fmt.Sprintf("Từ %s đến %s", r.From.Format("02/01/2006"), r.To.AddDate(0, 0, -1).Format("02/01/2006"))
	case from != "":
		r.Label = "Từ " + r.From.Format("02/01/2006")
	case to != "":
		r.Label = "Đến " + r.To.AddDate(0, 0, -1).Format("02/01/2006")
	}
	return r, nil
}

// Quarter returns quarter q (1–4) of year y.
func Quarter(y, q int, loc *time.Location) Range {
	from := time.Date(y, time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, loc)
	return Range{Period: "quarter", Label: fmt.Sprintf("Quý %d/%d", q, y), From: from, To: from.AddDate(0, 3, 0)}
}

// ParseQuarter reads "2026Q3" (also "2026-Q3", "q3/2026" is not accepted).
func ParseQuarter(s string, loc *time.Location) (Range, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	ys, qs, ok := strings.Cut(strings.ReplaceAll(s, "-", ""), "Q")
	y, err1 := strconv.Atoi(ys)
	q, err2 := strconv.Atoi(qs)
	if !ok || err1 != nil || err2 != nil || q < 1 || q > 4 || y < 2000 || y > 2199 {
		return Range{}, fmt.Errorf("quarter %q: want YYYYQn, like 2026Q3", s)
	}
	return Quarter(y, q, loc), nil
}

// Deadline is when the quarterly report of r is due: the 20th of the
// quarter's last month (the report is sent before that day ends).
func Deadline(r Range) time.Time {
	last := r.To.AddDate(0, -1, 0)
	return time.Date(last.Year(), last.Month(), 20, 0, 0, 0, 0, r.From.Location())
}
