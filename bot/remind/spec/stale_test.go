package spec

import (
	"strings"
	"testing"
	"time"
)

// TestStaleEntriesField: {{.StaleEntries}} is checked like every other
// field: accepted, rendered, and a misspelling refused with the list of
// available fields.
func TestStaleEntriesField(t *testing.T) {
	tests := []struct {
		name, text string
		data       Data
		want       string // rendered text, or the error's substring
		bad        bool
	}{
		{"count", "Cần rà soát: {{.StaleEntries}} mục", Data{StaleEntries: 4}, "Cần rà soát: 4 mục", false},
		{"line only when due", "Tin tuần.{{if .StaleEntries}} Có {{.StaleEntries}} mục cần rà soát.{{end}}", Data{}, "Tin tuần.", false},
		{"line when due", "Tin tuần.{{if .StaleEntries}} Có {{.StaleEntries}} mục cần rà soát.{{end}}", Data{StaleEntries: 1}, "Tin tuần. Có 1 mục cần rà soát.", false},
		{"misspelt", "{{.StaleEntry}} mục", Data{}, "unknown field .StaleEntry; available: " + strings.Join(Fields, ", "), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := ParseTemplate(tt.text)
			if tt.bad {
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), ".StaleEntries") {
					t.Fatalf("error = %v, want it to mention %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out, err := tp.Execute(tt.data); err != nil || out != tt.want {
				t.Errorf("Execute = %q, %v; want %q", out, err, tt.want)
			}
		})
	}
	if d := SampleData(time.Date(2026, 3, 15, 1, 0, 0, 0, time.UTC)); d.StaleEntries == 0 {
		t.Error("sample data has no stale entries: previews would hide a conditional line")
	}
}
