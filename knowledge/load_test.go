package knowledge

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var testNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func testProfile(t *testing.T) *Profile {
	t.Helper()
	p, err := LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckBrokenFixtures(t *testing.T) {
	problems := Check(os.DirFS("testdata/broken"), testProfile(t), testNow)
	tests := []struct {
		file, line, contains string
		warning              bool
	}{
		{"no-front.md", ":1:", "missing front matter", false},
		{"bad-yaml.md", ":3:", "broken front matter", false},
		{"few-questions.md", ":5:", "at least 4 paraphrases", false},
		{"no-sources.md", ":2:", "no sources", false},
		{"empty-body.md", ":15:", "empty answer", false},
		{"dup-b.md", ":2:", `duplicate id "same-id"`, false},
		{"missing-id.md", ":2:", "missing id", false},
		{"review-passed.md", ":14:", "review date 2025-06-30 has passed", true},
		{"bad-template.md", ":15:", "answer template", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			for _, p := range problems {
				s := p.String()
				if p.File == tt.file && strings.Contains(s, tt.file+tt.line) && strings.Contains(s, tt.contains) {
					if p.Warning != tt.warning {
						t.Errorf("%s: warning = %v, want %v", s, p.Warning, tt.warning)
					}
					return
				}
			}
			t.Errorf("no problem %q at %s%s; got:\n%v", tt.contains, tt.file, tt.line, problems)
		})
	}
	if _, err := Load(os.DirFS("testdata/broken"), testProfile(t), testNow); err == nil {
		t.Fatal("Load accepted a broken base")
	}
}

func TestLoadGoodRendersProfile(t *testing.T) {
	b, err := Load(os.DirFS("testdata/good"), testProfile(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := b.Entry("vneid-a")
	if !ok {
		t.Fatal("entry vneid-a missing")
	}
	if !strings.Contains(e.Answer, "Trung tâm Phục vụ hành chính công") || strings.Contains(e.Answer, "{{") {
		t.Errorf("answer not rendered: %q", e.Answer)
	}
	if len(e.Questions) != 4 || e.Sources[0] != "https://vneid.gov.vn" || e.Updated.Format("2006-01-02") != "2026-11-01" {
		t.Errorf("fields: %+v", e)
	}
}

func TestParseEntryInputs(t *testing.T) {
	good, err := os.ReadFile("testdata/good/vneid-a.md")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"good", good, true},
		{"crlf", []byte(strings.ReplaceAll(string(good), "\n", "\r\n")), true},
		{"bom", append([]byte("\ufeff"), good...), true},
		{"invalid utf8", append(good, 0xff, 0xfe), false},
		{"empty", nil, false},
		{"unclosed", []byte("---\nid: x\n"), false},
		{"not a mapping", []byte("---\n- a\n- b\n---\nbody"), false},
		{"unknown key", []byte(strings.Replace(string(good), "tags:", "tagz:", 1)), false},
		{"id too long", []byte(strings.Replace(string(good), "id: vneid-a", "id: "+strings.Repeat("a", MaxIDLen+1), 1)), false},
		{"id at the limit", []byte(strings.Replace(string(good), "id: vneid-a", "id: "+strings.Repeat("a", MaxIDLen), 1)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ps := ParseEntry("x.md", tt.data, testProfile(t), testNow)
			if (e != nil) != tt.ok {
				t.Errorf("ok = %v, want %v; problems: %v", e != nil, tt.ok, ps)
			}
		})
	}
}

func TestEmbeddedBaseCoversTopics(t *testing.T) {
	b, err := Load(EmbeddedBase(), testProfile(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	// Every id of the commune's topic list must exist (shared/eval/topics.tsv).
	data, err := os.ReadFile("testdata/topics.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range strings.Fields(string(data)) {
		if _, ok := b.Entry(id); !ok {
			t.Errorf("topic %s has no entry", id)
		}
	}
	for _, e := range b.Entries {
		if len(e.Questions) < MinQuestions || len(e.Sources) == 0 || strings.Contains(e.Answer, "{{") {
			t.Errorf("%s: incomplete entry", e.ID)
		}
	}
}

func TestEmptyBase(t *testing.T) {
	if _, err := Load(fstest.MapFS{}, testProfile(t), testNow); err == nil {
		t.Fatal("empty base loaded")
	}
}

func TestProfileRejectsUnknownKeys(t *testing.T) {
	if _, err := ParseProfile([]byte("name: x\ncentre:\n  name: y\n  fax: z\n")); err == nil {
		t.Fatal("unknown key accepted")
	}
	if _, err := ParseProfile([]byte("placeholder: true\n")); err == nil {
		t.Fatal("profile without name accepted")
	}
}

// Every shipped entry written by Format parses back to the same entry.
func TestFormatRoundTrip(t *testing.T) {
	b, err := Load(EmbeddedBase(), testProfile(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Entries {
		data, err := Format(e)
		if err != nil {
			t.Fatal(err)
		}
		got, ps := ParseEntry(e.ID+".md", data, testProfile(t), testNow)
		if got == nil {
			t.Fatalf("%s: %v", e.ID, ps)
		}
		if got.ID != e.ID || got.Title != e.Title || got.Body != e.Body || got.Answer != e.Answer ||
			!slices.Equal(got.Questions, e.Questions) || !slices.Equal(got.Sources, e.Sources) ||
			!got.Updated.Equal(e.Updated) || !got.ReviewBy.Equal(e.ReviewBy) {
			t.Errorf("%s: round trip changed the entry", e.ID)
		}
	}
}

func TestBaseMetaCategories(t *testing.T) {
	entry := func(id, cat string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("---\nid: " + id + "\ntitle: T " + id + "\ncategory: " + cat +
			"\nquestions: [a b c, d e f, g h i, j k l]\nsources: [https://example.org/]\nupdated: 2026-01-01\n---\nNội dung.\n")}
	}
	tests := []struct {
		name    string
		meta    string // "" for no _base.yaml
		cats    []string
		wantErr string
	}{
		{"no meta file: categories from entries", "", []string{"a", "b"}, ""},
		{"declared order kept", "categories:\n  - {id: b, label: Bê}\n  - {id: a, label: A}\n  - {id: c, label: Xê}\n", []string{"b", "a", "c"}, ""},
		{"entry outside the declared ones", "categories:\n  - {id: a, label: A}\n", nil, `x-b.md:4: error: unknown category "b"`},
		{"broken yaml", "categories: [\n", nil, "_base.yaml"},
		{"unknown key", "categoriez: []\n", nil, "_base.yaml"},
		{"label missing", "categories:\n  - {id: a}\n  - {id: b, label: B}\n", nil, `category "a" has no label`},
		{"empty file", "# nothing\n", []string{"a", "b"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := loadWithMeta(t, fstest.MapFS{"x-a.md": entry("x-a", "a"), "x-b.md": entry("x-b", "b")}, tt.meta, tt.wantErr)
			if b == nil {
				return
			}
			var got []string
			for _, c := range b.Categories {
				got = append(got, c.ID)
			}
			if !slices.Equal(got, tt.cats) {
				t.Errorf("categories = %v, want %v", got, tt.cats)
			}
		})
	}
}

func TestShippedCategoriesAndServices(t *testing.T) {
	b, err := Load(EmbeddedBase(), testProfile(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := b.Category("vneid"); !ok || c.Label != "VNeID" {
		t.Errorf("category vneid = %+v, %v", c, ok)
	}
	svc := b.Services()
	if len(svc) < 5 {
		t.Fatalf("only %d service entries", len(svc))
	}
	for _, e := range svc {
		if e.Service == e.ID || strings.ContainsAny(e.Service, "\n") {
			t.Errorf("%s: service name %q", e.ID, e.Service)
		}
	}
}

func TestBaseMetaWrongAnswerCost(t *testing.T) {
	entry := &fstest.MapFile{Data: []byte("---\nid: x-a\ntitle: T\ncategory: a\nquestions: [a b c, d e f, g h i, j k l]\nsources: [https://example.org/]\nupdated: 2026-01-01\n---\nNội dung.\n")}
	tests := []struct {
		name    string
		meta    string
		want    float64
		wantErr string
	}{
		{"left out", "", 1, ""},
		{"set", "wrong_answer_cost: 2.5\n", 2.5, ""},
		{"too low", "wrong_answer_cost: 0.1\n", 0, "wrong_answer_cost 0.1 must be between 0.5 and 5"},
		{"too high", "wrong_answer_cost: 9\n", 0, "wrong_answer_cost 9 must be between 0.5 and 5"},
		{"not a number", "wrong_answer_cost: cao\n", 0, "_base.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := loadWithMeta(t, fstest.MapFS{"x-a.md": entry}, tt.meta, tt.wantErr)
			if b == nil {
				return
			}
			if b.WrongAnswerCost != tt.want {
				t.Errorf("WrongAnswerCost = %g, want %g", b.WrongAnswerCost, tt.want)
			}
		})
	}
	// The cost is part of what a cached model depends on: a base whose
	// cost changes is calibrated again, not served its old bands.
	b := loadWithMeta(t, fstest.MapFS{"x-a.md": entry}, "", "")
	fp, tp := paramsFor(len(b.Entries))
	before := fingerprintOf(b, nil, fp, tp)
	b.WrongAnswerCost = 2
	if fingerprintOf(b, nil, fp, tp) == before {
		t.Error("the fingerprint ignores the wrong-answer cost")
	}
}

// loadWithMeta loads the entries of fsys with meta as _base.yaml ("" for
// none). With wantErr set it checks that loading fails with it and
// returns nil; otherwise loading must succeed.
func loadWithMeta(t *testing.T, fsys fstest.MapFS, meta, wantErr string) *Base {
	t.Helper()
	if meta != "" {
		fsys[MetaFile] = &fstest.MapFile{Data: []byte(meta)}
	}
	b, err := Load(fsys, testProfile(t), testNow)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want it to contain %q", err, wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}
