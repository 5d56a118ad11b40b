package knowledge

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// reviewEntry is an entry file updated on updated (line 7), with review_by
// (line 8) set when reviewBy is not empty.
func reviewEntry(id, updated, reviewBy string) []byte {
	s := "---\nid: " + id + "\ntitle: Mục " + id + "\ncategory: dvc\nquestions: [hỏi một, hỏi hai, hỏi ba, hỏi bốn]\n" +
		"sources: [https://dichvucong.gov.vn/]\nupdated: " + updated + "\n"
	if reviewBy != "" {
		s += "review_by: " + reviewBy + "\n"
	}
	return []byte(s + "---\nNội dung.\n")
}

var ict = time.FixedZone("ICT", 7*3600)

// TestReviewDateBoundaries: nothing until 30 days before the review date,
// a warning from then through the day itself, and from the next day a
// passed date: a warning that still loads (the server keeps answering) but
// an error under Strict (kb check fails).
func TestReviewDateBoundaries(t *testing.T) {
	tests := []struct {
		name     string
		now      time.Time
		problem  bool
		overdue  bool
		days     int
		contains string
	}{
		{"31 days before", time.Date(2027, 4, 30, 9, 0, 0, 0, ict), false, false, 31, ""},
		{"30 days before", time.Date(2027, 5, 1, 0, 0, 0, 0, ict), true, false, 30, "is in 30 day(s)"},
		{"day before", time.Date(2027, 5, 30, 23, 59, 0, 0, ict), true, false, 1, "is in 1 day(s)"},
		{"the day itself, morning", time.Date(2027, 5, 31, 0, 0, 0, 0, ict), true, false, 0, "is today"},
		{"the day itself, night", time.Date(2027, 5, 31, 23, 59, 59, 0, ict), true, false, 0, "is today"},
		{"day after", time.Date(2027, 6, 1, 0, 0, 0, 0, ict), true, true, -1, "has passed (1 day(s) ago)"},
		{"day after in Vietnam, still the day in UTC", time.Date(2027, 6, 1, 0, 30, 0, 0, ict), true, true, -1, "has passed"},
		{"long after", time.Date(2028, 1, 1, 8, 0, 0, 0, ict), true, true, -215, "has passed (215 day(s) ago)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"a.md": {Data: reviewEntry("a", "2026-11-26", "2027-05-31")}}
			b, err := Load(fsys, testProfile(t), tt.now)
			if err != nil {
				t.Fatalf("the base must load whatever the review date: %v", err)
			}
			e, _ := b.Entry("a")
			if r := ReviewOf(e, tt.now); r.Days != tt.days || r.Overdue() != tt.overdue || r.Due() != tt.problem {
				t.Errorf("ReviewOf = %+v (overdue %v, due %v), want days %d", r, r.Overdue(), r.Due(), tt.days)
			}
			if len(b.NeedsReview(tt.now)) != map[bool]int{false: 0, true: 1}[tt.problem] {
				t.Errorf("NeedsReview = %v", b.NeedsReview(tt.now))
			}
			ps := Check(fsys, testProfile(t), tt.now)
			if !tt.problem {
				if len(ps) != 0 {
					t.Fatalf("problems %v, want none", ps)
				}
				return
			}
			if len(ps) != 1 {
				t.Fatalf("problems %v, want one", ps)
			}
			p := ps[0]
			if !p.Warning || p.Overdue != tt.overdue || p.Line != 8 || !strings.Contains(p.Msg, tt.contains) {
				t.Errorf("problem %+v, want a warning at line 8 (overdue %v) containing %q", p, tt.overdue, tt.contains)
			}
			if ps.Errors() {
				t.Error("a review date is never an error while loading")
			}
			if got := ps.Strict().Errors(); got != tt.overdue {
				t.Errorf("Strict().Errors() = %v, want %v (kb check fails only once the date has passed)", got, tt.overdue)
			}
			if tt.overdue && !strings.Contains(ps.Strict()[0].String(), "a.md:8: error: review date 2027-05-31 has passed") {
				t.Errorf("strict problem reads %q", ps.Strict()[0].String())
			}
		})
	}
}

func TestDefaultReviewBy(t *testing.T) {
	tests := []struct{ updated, want string }{
		{"2026-11-26", "2027-05-26"},
		{"2026-07-31", "2027-01-31"},
		{"2026-08-31", "2027-02-28"},
		{"2027-08-31", "2028-02-29"}, // leap year
		{"2026-12-30", "2027-06-30"},
		{"2026-03-31", "2026-09-30"},
	}
	for _, tt := range tests {
		t.Run(tt.updated, func(t *testing.T) {
			u, _ := time.Parse(dateLayout, tt.updated)
			if got := DefaultReviewBy(u).Format(dateLayout); got != tt.want {
				t.Errorf("DefaultReviewBy(%s) = %s, want %s", tt.updated, got, tt.want)
			}
			// An entry without review_by gets the same date, flagged as a
			// default, and is reviewed against it.
			e, ps := ParseEntry("x.md", reviewEntry("x", tt.updated, ""), testProfile(t), u)
			if e == nil || len(ps) != 0 {
				t.Fatalf("entry %v, problems %v", e, ps)
			}
			if e.ReviewBy.Format(dateLayout) != tt.want || !e.ReviewByDefault {
				t.Errorf("ReviewBy = %s (default %v), want %s by default", e.ReviewBy.Format(dateLayout), e.ReviewByDefault, tt.want)
			}
			due, _ := time.Parse(dateLayout, tt.want)
			_, ps = ParseEntry("x.md", reviewEntry("x", tt.updated, ""), testProfile(t), due.AddDate(0, 0, 1))
			if len(ps) != 1 || !ps[0].Overdue || ps[0].Line != 7 || !strings.Contains(ps[0].Msg, "no review_by: 6 months after updated") {
				t.Errorf("day after the default date: problems %v, want one overdue at the updated line", ps)
			}
			// Format leaves the default out, so it keeps following updated.
			data, err := Format(e)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), "review_by") {
				t.Errorf("Format wrote the default review date:\n%s", data)
			}
		})
	}
}

func TestReviewByChecks(t *testing.T) {
	tests := []struct {
		name, updated, reviewBy, wantErr string
	}{
		{"explicit date kept", "2026-11-26", "2027-02-01", ""},
		{"same day as updated", "2026-11-26", "2026-11-26", ""},
		{"before updated", "2026-11-26", "2026-11-25", "review_by 2026-11-25 is before updated 2026-11-26"},
		{"not a date", "2026-11-26", "31/05/2027", `review_by "31/05/2027" is not a date`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 11, 1, 9, 0, 0, 0, ict)
			e, ps := ParseEntry("x.md", reviewEntry("x", tt.updated, tt.reviewBy), testProfile(t), now)
			if tt.wantErr == "" {
				if e == nil || e.ReviewBy.Format(dateLayout) != tt.reviewBy || e.ReviewByDefault {
					t.Fatalf("entry %+v, problems %v", e, ps)
				}
				return
			}
			if e != nil || len(ps) != 1 || ps[0].Warning || ps[0].Line != 8 || !strings.Contains(ps[0].Msg, tt.wantErr) {
				t.Errorf("entry %v, problems %v; want the error %q at line 8", e, ps, tt.wantErr)
			}
		})
	}
}

func TestNeedsReviewOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"fresh.md":   {Data: reviewEntry("fresh", "2026-11-26", "2027-12-31")},
		"soon.md":    {Data: reviewEntry("soon", "2026-11-26", "2027-06-20")},
		"today.md":   {Data: reviewEntry("today", "2026-11-26", "2027-06-01")},
		"late-b.md":  {Data: reviewEntry("late-b", "2026-11-26", "2027-05-01")},
		"late-a.md":  {Data: reviewEntry("late-a", "2026-11-26", "2027-05-01")},
		"latest.md":  {Data: reviewEntry("latest", "2026-11-26", "2027-01-15")},
		"default.md": {Data: reviewEntry("default", "2026-11-20", "")}, // 2027-05-20
	}
	now := time.Date(2027, 6, 1, 10, 0, 0, 0, ict)
	b, err := Load(fsys, testProfile(t), now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range b.NeedsReview(now) {
		got = append(got, r.Entry.ID)
	}
	want := "latest late-a late-b default today soon"
	if strings.Join(got, " ") != want {
		t.Errorf("NeedsReview = %v, want %s", got, want)
	}
	if n := len(b.Warnings); n != 6 {
		t.Errorf("%d warnings, want 6: %v", n, b.Warnings)
	}
}
