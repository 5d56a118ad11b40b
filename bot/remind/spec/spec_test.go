package spec

import (
	"strings"
	"testing"
	"time"
)

func TestParseCronRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		expr, want string
	}{
		{"", "empty cron"},
		{"0 8 * *", "has 4 fields"},
		{"0 0 8 * * *", "has 6 fields"},
		{"61 8 * * *", "cron expression"},
		{"0 9 L * *", "L, W and # are not supported"},
		{"CRON_TZ=UTC 0 8 * * *", "no time-zone prefix"},
		{"@weekly", "descriptors are not accepted"},
		{"0 0 30 2 *", "never fires"},
	} {
		_, err := ParseCron(tc.expr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCron(%q) error = %v, want it to mention %q", tc.expr, err, tc.want)
		}
	}
}

func TestNextTimesAreVietnameseWhateverTheProcessZone(t *testing.T) {
	t.Setenv("TZ", "UTC")
	s, err := ParseCron("0 8 15 3,6,9,12 *")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-03-15 00:30 UTC is 07:30 in Vietnam: the 08:00 slot that day is next.
	got := NextTimes(s, time.Date(2026, 3, 15, 0, 30, 0, 0, time.UTC), 5)
	want := []string{
		"2026-03-15T08:00:00+07:00",
		"2026-06-15T08:00:00+07:00",
		"2026-09-15T08:00:00+07:00",
		"2026-12-15T08:00:00+07:00",
		"2027-03-15T08:00:00+07:00",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d times, want %d", len(got), len(want))
	}
	for i := range want {
		if g := got[i].Format(time.RFC3339); g != want[i] {
			t.Errorf("time %d = %s, want %s", i, g, want[i])
		}
		if h := got[i].UTC().Hour(); h != 1 {
			t.Errorf("time %d is %02d:00 UTC, want 01:00 UTC", i, h)
		}
	}
	weekly, _ := ParseCron("30 7 * * 1")
	next := NextTimes(weekly, time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), 1)[0]
	if next.Format(time.RFC3339) != "2026-03-16T07:30:00+07:00" || next.Weekday() != time.Monday {
		t.Errorf("weekly next = %s", next.Format(time.RFC3339))
	}
}

func TestDeadline(t *testing.T) {
	loc := Location()
	for _, tc := range []struct {
		day      time.Time
		deadline string
		days     int
	}{
		{time.Date(2026, 3, 15, 8, 0, 0, 0, loc), "20/03/2026", 5},
		{time.Date(2026, 1, 2, 8, 0, 0, 0, loc), "20/03/2026", 77},
		{time.Date(2026, 3, 20, 23, 0, 0, 0, loc), "20/03/2026", 0},
		{time.Date(2026, 3, 21, 0, 0, 0, 0, loc), "20/06/2026", 91},
		{time.Date(2026, 12, 25, 8, 0, 0, 0, loc), "20/03/2027", 85},
		// 2026-03-14 18:00 UTC is already the 15th in Vietnam.
		{time.Date(2026, 3, 14, 18, 0, 0, 0, time.UTC), "20/03/2026", 5},
	} {
		var d Data
		d.FillDates(tc.day)
		if d.Deadline != tc.deadline || d.DaysToDeadline != tc.days {
			t.Errorf("%s: deadline %s in %d days, want %s in %d", tc.day, d.Deadline, d.DaysToDeadline, tc.deadline, tc.days)
		}
	}
}

func TestFormatRate(t *testing.T) {
	for _, tc := range []struct {
		rated, pos int
		want       string
	}{
		{0, 0, "chưa có đánh giá"},
		{200, 193, "96,5%"},
		{4, 4, "100%"},
		{3, 1, "33,3%"},
	} {
		if got := FormatRate(tc.rated, tc.pos); got != tc.want {
			t.Errorf("FormatRate(%d, %d) = %q, want %q", tc.rated, tc.pos, got, tc.want)
		}
	}
}

func TestParseTemplate(t *testing.T) {
	for _, tc := range []struct {
		text, want string
	}{
		{"Chào {{.Team}}: {{.Questions}} câu hỏi, hài lòng {{.SatisfactionRate}}, còn {{.DaysToDeadline}} ngày (hạn {{.Deadline}})", ""},
		{"", "empty"},
		{"Chào {{.Village}}", "unknown field .Village; available: .Team"},
		{"Chào {{.Team", "message template"},
		{"{{if .Team}}", "message template"},
		{"{{/* nothing */}}  ", "empty message"},
	} {
		_, err := ParseTemplate(tc.text)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ParseTemplate(%q): %v", tc.text, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ParseTemplate(%q) error = %v, want it to mention %q", tc.text, err, tc.want)
		}
	}
	out, err := Render("Tổ {{.Team}}: {{.SatisfactionRate}}, hạn {{.Deadline}}", SampleData(time.Date(2026, 3, 15, 1, 0, 0, 0, time.UTC)))
	if err != nil || out != "Tổ Thôn Mẫu: 96,5%, hạn 20/03/2026" {
		t.Errorf("Render = %q, %v", out, err)
	}
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{"all", "all", false},
		{"", "all", false},
		{"groups", "groups", false},
		{"teams:1, 2", "teams:1,2", false},
		{"teams:", "", true},
		{"teams:a", "", true},
		{"village", "", true},
	} {
		got, err := ParseTarget(tc.in)
		if tc.bad != (err != nil) || (!tc.bad && got.String() != tc.want) {
			t.Errorf("ParseTarget(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// The schedule itself is in Vietnamese time: Next gives 08:00 +07:00
// whatever the zone of the time it is given.
func TestParseCronPinsZone(t *testing.T) {
	s, err := ParseCron("0 8 * * *")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 1, 2, 1, 0, 0, 0, time.UTC) // 08:00 in Hà Nội
	for _, from := range []time.Time{
		time.Date(2026, 1, 1, 18, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 13, 0, 0, 0, time.FixedZone("EST", -5*3600)),
		time.Date(2026, 1, 2, 1, 0, 0, 0, Location()),
	} {
		if got := s.Next(from); !got.Equal(want) {
			t.Errorf("Next(%v) = %v, want %v", from, got, want)
		}
	}
}
