package remind

import (
	"strings"
	"testing"
	"time"
)

// TestDigestCountsStaleEntries: each run asks for the entries due for
// review on its slot, and the weekly digest shows the count only when
// there are some.
func TestDigestCountsStaleEntries(t *testing.T) {
	var digest string
	for _, r := range Defaults {
		if r.SeedKey == "weekly-digest" {
			digest = r.Template
		}
	}
	tests := []struct {
		name  string
		stale func(time.Time) int
		want  string // in the message; "" for no stale-entry line
	}{
		{"some due", func(time.Time) int { return 3 }, "Bộ câu hỏi thường gặp có **3** mục đã quá hạn hoặc sắp đến hạn rà soát"},
		{"none due", func(time.Time) int { return 0 }, ""},
		{"not configured", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Monday 2026-03-16 07:30 in Vietnam is 00:30 UTC.
			e := newEnv(t, time.Date(2026, 3, 16, 0, 29, 0, 0, time.UTC))
			e.team("Thôn Đông", "", 1, "10")
			e.reminder("30 7 * * 1", "all", digest)
			var asked []time.Time
			s := e.scheduler(func(c *Config) {
				if tt.stale != nil {
					c.StaleEntries = func(at time.Time) int { asked = append(asked, at); return tt.stale(at) }
				}
			})
			e.tick(s)
			e.clk.Set(time.Date(2026, 3, 16, 0, 30, 5, 0, time.UTC))
			e.tick(s)
			msgs := e.sender.messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages sent, want 1", len(msgs))
			}
			text := msgs[0].reply.Text
			if tt.want != "" && !strings.Contains(text, tt.want) {
				t.Errorf("digest lacks %q:\n%s", tt.want, text)
			}
			if tt.want == "" && strings.Contains(text, "rà soát") {
				t.Errorf("digest has a stale-entry line with nothing due:\n%s", text)
			}
			if tt.stale != nil && (len(asked) != 1 || !asked[0].Equal(time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC))) {
				t.Errorf("asked for stale entries at %v, want once at the run's slot", asked)
			}
		})
	}
}
