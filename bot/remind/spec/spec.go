// Package spec validates and evaluates what a reminder is made of: its cron
// expression (5 fields, always in Asia/Ho_Chi_Minh), its target and its
// Vietnamese message template with live figures. It imports nothing of
// trolyso, so both the engine (admin commands) and the scheduler use it.
package spec

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/robfig/cron/v3"
)

// Zone is the time zone every reminder is scheduled in.
const Zone = "Asia/Ho_Chi_Minh"

// Location returns Asia/Ho_Chi_Minh. cmd/trolyso embeds time/tzdata, so it
// loads on any server; should it still be missing, Vietnam's fixed UTC+7
// (no daylight saving) is used.
var Location = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation(Zone); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*3600)
})

// ParseCron parses a standard 5-field cron expression (minute hour
// day-of-month month day-of-week). Time-zone prefixes and descriptors are
// refused: every reminder runs on Vietnamese time. An expression that never
// fires (like "0 0 30 2 *") is refused too.
func ParseCron(expr string) (cron.Schedule, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, errors.New("empty cron expression: want 5 fields, like \"30 7 * * 1\" (minute hour day month weekday)")
	}
	if strings.HasPrefix(expr, "CRON_TZ=") || strings.HasPrefix(expr, "TZ=") {
		return nil, fmt.Errorf("cron expression %q: no time-zone prefix, please; reminders always run on Vietnamese time (%s)", expr, Zone)
	}
	if strings.HasPrefix(expr, "@") {
		return nil, fmt.Errorf("cron expression %q: descriptors are not accepted; write the 5 fields, like \"0 8 * * *\"", expr)
	}
	if n := len(strings.Fields(expr)); n != 5 {
		return nil, fmt.Errorf("cron expression %q has %d fields: want exactly 5 (minute hour day month weekday), like \"30 7 * * 1\"", expr, n)
	}
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: %v (minute hour day month weekday; L, W and # are not supported)", expr, err)
	}
	// cron.ParseStandard leaves the schedule in time.Local, which Next
	// reads as "the zone of the time given": pin it to Vietnamese time so
	// that Next(t) is right for a t in any zone (UTC from the database, the
	// server's own zone).
	if ss, ok := s.(*cron.SpecSchedule); ok {
		ss.Location = Location()
	}
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, Location())).IsZero() {
		return nil, fmt.Errorf("cron expression %q never fires", expr)
	}
	return s, nil
}

// NextTimes returns the next n activations strictly after t, in Vietnamese
// time. It stops early if the schedule ends (Next returns the zero time).
func NextTimes(s cron.Schedule, t time.Time, n int) []time.Time {
	var out []time.Time
	t = t.In(Location())
	for len(out) < n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// Target says who a reminder goes to.
type Target struct {
	// Kind is "all" (members of every team), "teams" (members of Teams) or
	// "groups" (every team's Telegram group chat).
	Kind  string
	Teams []int64
}

// String renders the target as stored.
func (t Target) String() string {
	if t.Kind != "teams" {
		return t.Kind
	}
	ids := make([]string, len(t.Teams))
	for i, id := range t.Teams {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return "teams:" + strings.Join(ids, ",")
}

// ParseTarget parses "all", "groups" or "teams:ID,ID".
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "all":
		return Target{Kind: "all"}, nil
	case "groups":
		return Target{Kind: "groups"}, nil
	}
	list, ok := strings.CutPrefix(s, "teams:")
	if !ok {
		return Target{}, fmt.Errorf("target %q: want all, groups or teams:ID,ID", s)
	}
	t := Target{Kind: "teams"}
	for _, f := range strings.Split(list, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || id <= 0 {
			return Target{}, fmt.Errorf("target %q: %q is not a team id", s, f)
		}
		t.Teams = append(t.Teams, id)
	}
	return t, nil
}

// Data is what a message template can use.
type Data struct {
	Team             string // village of the team the message goes to
	Date             string // day of the run, dd/mm/yyyy
	Questions        int    // residents' questions in the 7 days before the run's day
	Unanswered       int    // of which the bot had no answer
	SatisfactionRate string // share of 👍 among ratings, like "96,5%", or "chưa có đánh giá"
	DaysToDeadline   int    // days left until the quarterly report deadline
	Deadline         string // the deadline, dd/mm/yyyy
	// StaleEntries counts the knowledge-base entries whose review date has
	// passed or is at most 30 days after the run's day.
	StaleEntries int
	// OpenHandoffs counts residents' requests to commune staff still open.
	OpenHandoffs int
}

// Fields lists the template fields, for error messages and help.
var Fields = []string{".Team", ".Date", ".Questions", ".Unanswered", ".SatisfactionRate", ".DaysToDeadline", ".Deadline", ".StaleEntries", ".OpenHandoffs"}

// SampleData is what templates are checked and previewed with when no live
// figures are at hand.
func SampleData(now time.Time) Data {
	d := Data{Team: "Thôn Mẫu", Questions: 128, Unanswered: 7, SatisfactionRate: FormatRate(200, 193), StaleEntries: 3, OpenHandoffs: 2}
	d.FillDates(now)
	return d
}

// FillDates sets Date, Deadline and DaysToDeadline for a run at now.
func (d *Data) FillDates(now time.Time) {
	local := now.In(Location())
	dl := Deadline(local)
	d.Date = local.Format("02/01/2006")
	d.Deadline = dl.Format("02/01/2006")
	d.DaysToDeadline = DaysBetween(local, dl)
}

// Deadline is the next quarterly report deadline on or after t's day: the
// 20th of the last month of the quarter (20/3, 20/6, 20/9, 20/12), as
// midnight in Vietnamese time.
func Deadline(t time.Time) time.Time {
	t = t.In(Location())
	lastMonth := ((int(t.Month())-1)/3)*3 + 3
	dl := time.Date(t.Year(), time.Month(lastMonth), 20, 0, 0, 0, 0, Location())
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Location())
	if today.After(dl) {
		dl = dl.AddDate(0, 3, 0)
	}
	return dl
}

// DaysBetween counts calendar days (in Vietnamese time) from a's day to b's.
func DaysBetween(a, b time.Time) int {
	a, b = a.In(Location()), b.In(Location())
	da := time.Date(a.Year(), a.Month(), a.Day(), 12, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 12, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// WeekBefore returns the 7 whole Vietnamese days before t's day, as [from,
// to): for a Monday run, last Monday 00:00 to this Monday 00:00.
func WeekBefore(t time.Time) (from, to time.Time) {
	t = t.In(Location())
	to = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Location())
	return to.AddDate(0, 0, -7), to
}

// FormatRate renders the share of positive ratings the Vietnamese way
// ("96,5%", "100%"), or "chưa có đánh giá" when nothing was rated.
func FormatRate(rated, positive int) string {
	if rated <= 0 {
		return "chưa có đánh giá"
	}
	s := strconv.FormatFloat(float64(positive)*100/float64(rated), 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return strings.Replace(s, ".", ",", 1) + "%"
}

// Template is a parsed, checked message template.
type Template struct{ t *template.Template }

var unknownField = regexp.MustCompile(`can't evaluate field (\w+)`)

// ParseTemplate parses a message template and checks it by executing it
// against sample data: unknown fields, syntax errors and empty results are
// refused with an error saying what is wrong.
func ParseTemplate(text string) (*Template, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("empty message template")
	}
	t, err := template.New("reminder").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("message template: %v", strings.TrimPrefix(err.Error(), "template: "))
	}
	tp := &Template{t: t}
	out, err := tp.Execute(SampleData(time.Date(2026, 3, 15, 8, 0, 0, 0, Location())))
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(out) == "" {
		return nil, errors.New("message template gives an empty message")
	}
	return tp, nil
}

// Execute renders the template with d.
func (tp *Template) Execute(d Data) (string, error) {
	var b bytes.Buffer
	if err := tp.t.Execute(&b, d); err != nil {
		if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
			return "", fmt.Errorf("message template uses unknown field .%s; available: %s", m[1], strings.Join(Fields, ", "))
		}
		return "", fmt.Errorf("message template: %v", strings.TrimPrefix(err.Error(), "template: "))
	}
	return b.String(), nil
}

// Render parses and executes a template in one step.
func Render(text string, d Data) (string, error) {
	tp, err := ParseTemplate(text)
	if err != nil {
		return "", err
	}
	return tp.Execute(d)
}
