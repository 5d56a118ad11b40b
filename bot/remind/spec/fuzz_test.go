package spec_test

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/colecommune/trolyso/bot/remind/spec"
)

var fuzzNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// FuzzParseCron: arbitrary expressions never panic; an accepted schedule
// fires, at strictly increasing times after the start.
func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"30 7 * * 1", "0 8 * * *", "*/15 * * * *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "59 23 31 12 *",
		"0 8 1-5/2 * MON-FRI", "CRON_TZ=UTC 0 8 * * *", "@daily", "* * * * * *", "", "61 25 32 13 8", "0 8 L * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := spec.ParseCron(expr)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		times := spec.NextTimes(s, fuzzNow, 3)
		if len(times) == 0 {
			t.Fatalf("accepted %q never fires", expr)
		}
		prev := fuzzNow
		for _, tm := range times {
			if !tm.After(prev) {
				t.Fatalf("%q: %v not after %v", expr, tm, prev)
			}
			prev = tm
		}
	})
}

// FuzzTemplate: arbitrary message templates never panic when parsed, and
// an accepted one renders the sample figures to valid UTF-8.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"Nhắc tổ {{.Team}}: hạn {{.Deadline}}", "{{.Nope}}", "{{range .}}{{end}}", "{{template \"x\"}}",
		"{{define \"x\"}}{{template \"x\"}}{{end}}{{template \"x\"}}", "{{printf \"%v\" .}}", "{{call .}}", "{{", "}}", "\xff",
		"{{/* */}}", "{{index . 1}}", "{{len .}}"} {
		f.Add(s)
	}
	data := spec.SampleData(fuzzNow)
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 2000 {
			return
		}
		if _, err := spec.ParseTemplate(text); err != nil {
			return
		}
		out, err := spec.Render(text, data)
		if err == nil && utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("Render(%q) = %q: invalid UTF-8", text, out)
		}
	})
}

// FuzzParseTarget: arbitrary targets never panic.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"all", "team:1", "team:", "team:-1", "group:-100123", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec.ParseTarget(s)
	})
}
