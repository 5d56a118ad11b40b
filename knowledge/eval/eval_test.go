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

// testNow is the fixed date the fixture bases are loaded at.
var testNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func loadFixture(t *testing.T) *knowledge.Index {
	t.Helper()
	prof, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := knowledge.Load(os.DirFS("testdata/base"), prof, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return knowledge.NewIndex(b)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// scripted decides from a table: question → band and entry ids (the
// ranking is the same ids; an answer offers the ids after its first under
// it).
type scripted map[string]struct {
	band knowledge.Band
	ids  []string
}

func (s scripted) Decide(q string) knowledge.Decision {
	r, ok := s[q]
	if !ok {
		return knowledge.Decision{Band: knowledge.BandDecline}
	}
	d := knowledge.Decision{Band: r.band}
	for i, id := range r.ids {
		m := knowledge.Match{Entry: &knowledge.Entry{ID: id}}
		switch {
		case r.band == knowledge.BandAnswer && i > 0:
			d.Also = append(d.Also, m) // offered under the answer
		default:
			d.Matches = append(d.Matches, m)
		}
		d.Ranked = append(d.Ranked, m)
	}
	return d
}

func TestRunCountsEveryOutcome(t *testing.T) {
	f, err := os.Open("testdata/questions.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	ans, cla, dec := knowledge.BandAnswer, knowledge.BandClarify, knowledge.BandDecline
	d := scripted{
		"Tôi quên mật khẩu VNeID rồi":         {ans, []string{"quen-mat-khau"}},                  // hit
		"quen mk vneid":                       {ans, []string{"quen-passcode", "quen-mat-khau"}}, // wrong answer, right one offered
		"quên passcode vneid thì sao":         {ans, []string{"quen-passcode"}},                  // hit
		"Đăng ký khai sinh online cho con":    {cla, []string{"khai-tu", "khai-sinh"}},           // clarified, rank 2
		"lam khai tu truc tuyen":              {dec, []string{"khai-tu"}},                        // declined, ranked first
		"Chữ ký số có giá trị pháp lý không?": {ans, []string{"chu-ky-so"}},                      // hit
		"VNeID":                       {cla, []string{"quen-mat-khau", "khai-tu"}}, // clarified, rank 1
		"Giá vàng hôm nay bao nhiêu?": {dec, nil},
		"Xin chào":                    {knowledge.BandSmallTalk, nil},
		"mai troi co mua khong":       {ans, []string{"khai-tu", "khai-sinh"}}, // out of scope answered
	}
	rep := Run(d, cases)
	var buf bytes.Buffer
	rep.WriteText(&buf, true)
	t.Log("\n" + buf.String())
	// 7 in scope: hits 3; clarified 2 (ranks 2 and 1); declined 1; wrong 1;
	// ranked first: 3 hits + the decline + the rank-1 clarification;
	// offered: hit@3's 5 + the wrong answer with the right entry under it.
	want := Report{Questions: 10, HitAt1: 3.0 / 7, HitAt3: 5.0 / 7, MRR: (3 + 0.5 + 1) / 7,
		Clarified: 2.0 / 7, OOSDeclined: 2.0 / 3, InScopeDeclined: 1.0 / 7, RankedAt1: 5.0 / 7, Wrong: 1.0 / 7, Offered: 6.0 / 7}
	got := *rep
	if got.Questions != want.Questions || !near(got.HitAt1, want.HitAt1) || !near(got.HitAt3, want.HitAt3) ||
		!near(got.MRR, want.MRR) || !near(got.Clarified, want.Clarified) || !near(got.OOSDeclined, want.OOSDeclined) ||
		!near(got.InScopeDeclined, want.InScopeDeclined) || !near(got.RankedAt1, want.RankedAt1) || !near(got.Wrong, want.Wrong) ||
		!near(got.Offered, want.Offered) {
		t.Errorf("report = %+v\nwant     %+v", got, want)
	}
	if len(rep.ByStyle) != 4 {
		t.Fatalf("by_style has %d styles, want 4", len(rep.ByStyle))
	}
	if s := rep.ByStyle["teen"]; s.Questions != 2 || !near(s.HitAt1, 0) || !near(s.HitAt3, 0.5) || !near(s.Wrong, 0.5) || !near(s.RankedAt1, 0.5) {
		t.Errorf("teen = %+v", *s)
	}
	if s := rep.ByStyle["oos"]; s.Questions != 3 || !near(s.OOSDeclined, 2.0/3) || s.HitAt1 != 0 {
		t.Errorf("oos = %+v", *s)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	if m["ranked_at_1"] == nil || m["wrong"] == nil || m["offered"] == nil || len(m) != 11 {
		t.Errorf("JSON keys: %s", js)
	}
	style := m["by_style"].(map[string]any)["formal"].(map[string]any)
	if _, ok := style["by_style"]; ok {
		t.Errorf("nested by_style should be omitted: %v", style)
	}
}

// TestRealIndexOnFixture runs the real engine on a small base: a paraphrase
// of an entry's question is answered with it and an everyday question far
// from the base is declined.
func TestRealIndexOnFixture(t *testing.T) {
	ix := loadFixture(t)
	cases, err := Parse(strings.NewReader("question\texpected_slug\nquen mat khau vneid\tquen-mat-khau\nket qua xo so mien bac\t-\n"))
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
	if rep.RankedAt1 != 1 || rep.OOSDeclined != 1 || rep.Questions != 2 {
		var buf bytes.Buffer
		rep.WriteText(&buf, true)
		t.Errorf("report:\n%s", buf.String())
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
	want := []string{"by_style", "clarified", "hit_at_1", "hit_at_3", "in_scope_declined", "mrr", "offered", "oos_declined", "questions", "ranked_at_1", "wrong"}
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
