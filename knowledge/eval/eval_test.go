package eval

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

func loadFixture(t *testing.T) *knowledge.Index {
	t.Helper()
	prof, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := knowledge.Load(os.DirFS("testdata/base"), prof, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return knowledge.NewIndex(b.Entries)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRunFixture(t *testing.T) {
	ix := loadFixture(t)
	f, err := os.Open("testdata/questions.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(ix, cases)
	var buf bytes.Buffer
	rep.WriteText(&buf, true)
	t.Log("\n" + buf.String())

	// 7 in-scope questions: 6 answered correctly, "VNeID" alone is
	// ambiguous and clarified with the expected entry second.
	want := Report{Questions: 10, HitAt1: 6.0 / 7, HitAt3: 1, MRR: (6 + 0.5) / 7,
		Clarified: 1.0 / 7, OOSDeclined: 1, InScopeDeclined: 0}
	got := *rep
	if got.Questions != want.Questions || !near(got.HitAt1, want.HitAt1) || !near(got.HitAt3, want.HitAt3) ||
		!near(got.MRR, want.MRR) || !near(got.Clarified, want.Clarified) ||
		!near(got.OOSDeclined, want.OOSDeclined) || !near(got.InScopeDeclined, want.InScopeDeclined) {
		t.Errorf("report = %+v\nwant     %+v", got, want)
	}
	if len(rep.ByStyle) != 4 {
		t.Fatalf("by_style has %d styles, want 4", len(rep.ByStyle))
	}
	if s := rep.ByStyle["teen"]; s.Questions != 2 || !near(s.HitAt1, 0.5) || !near(s.HitAt3, 1) || !near(s.MRR, 0.75) {
		t.Errorf("teen = %+v", *s)
	}
	if s := rep.ByStyle["oos"]; s.Questions != 3 || !near(s.OOSDeclined, 1) || s.HitAt1 != 0 {
		t.Errorf("oos = %+v", *s)
	}

	// JSON keys are fixed.
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"questions", "hit_at_1", "hit_at_3", "mrr", "clarified", "oos_declined", "in_scope_declined", "by_style"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, js)
		}
	}
	if len(m) != 8 {
		t.Errorf("JSON has %d keys, want 8: %s", len(m), js)
	}
	style := m["by_style"].(map[string]any)["formal"].(map[string]any)
	if _, ok := style["by_style"]; ok {
		t.Errorf("nested by_style should be omitted: %v", style)
	}
}

func TestNoStyleColumn(t *testing.T) {
	ix := loadFixture(t)
	cases, err := Parse(strings.NewReader("question\texpected_slug\nquen mat khau vneid\tquen-mat-khau\nket qua xo so\t-\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(ix, cases)
	if rep.ByStyle != nil {
		t.Errorf("by_style = %v, want nil without a style column", rep.ByStyle)
	}
	js, _ := json.Marshal(rep)
	if !strings.Contains(string(js), `"by_style":{}`) {
		t.Errorf("by_style should be an empty object: %s", js)
	}
	if rep.HitAt1 != 1 || rep.OOSDeclined != 1 || rep.Questions != 2 {
		t.Errorf("report = %+v", *rep)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"question\texpected\nno tab here\n", "line 2: want question<TAB>expected_id"},
		{"question\texpected\n\n# comment\n\tquen-mat-khau\n", "line 4: empty question"},
		{"question\texpected\nhỏi gì đó\t\n", "line 2: empty expected id"},
		{"question\texpected\na\tb\tc\td\n", "line 2: want at most 3"},
		{"question\texpected\na\tb c\n", "line 2: expected id \"b c\" contains a space"},
		{"", "no header"},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want %q", tt.in, err, tt.want)
		}
	}
	cases, err := Parse(strings.NewReader("\ufeffquestion\texpected\r\nQuên mật khẩu\tquen-mat-khau\tformal\r\n"))
	if err != nil || len(cases) != 1 || cases[0].Style != "formal" || cases[0].Line != 2 {
		t.Errorf("Parse with BOM/CRLF = %+v, %v", cases, err)
	}
}

func TestJSONKeysExactly(t *testing.T) {
	want := []string{"by_style", "clarified", "hit_at_1", "hit_at_3", "in_scope_declined", "mrr", "oos_declined", "questions"}
	for _, r := range []*Report{
		{Questions: 2},
		{Questions: 2, ByStyle: map[string]*Report{"nodiac": {Questions: 1, HitAt1: 1}}},
	} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(b, &top); err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(top)); !slices.Equal(got, want) {
			t.Errorf("keys = %v, want %v", got, want)
		}
		var styles map[string]map[string]any
		if err := json.Unmarshal(top["by_style"], &styles); err != nil || styles == nil {
			t.Errorf("by_style = %s, want an object", top["by_style"])
		}
		for name, s := range styles {
			if len(s) != len(want)-1 || s["hit_at_1"] == nil {
				t.Errorf("style %s has keys %v", name, slices.Sorted(maps.Keys(s)))
			}
		}
	}
}
