package knowledge_test

import (
	"io/fs"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/colecommune/trolyso/knowledge"
)

var fuzzNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// FuzzParseEntry feeds arbitrary files to the entry parser (seeds: every
// shipped entry, the broken examples under testdata/broken and
// testdata/fuzz/FuzzParseEntry). It must never panic, and an entry it
// accepts must have an id, enough paraphrases, sources, a body and a
// rendered answer.
func FuzzParseEntry(f *testing.F) {
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		f.Fatal(err)
	}
	for _, fsys := range []fs.FS{knowledge.EmbeddedBase()} {
		names, _ := fs.Glob(fsys, "*.md")
		for _, n := range names {
			b, err := fs.ReadFile(fsys, n)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, ps := knowledge.ParseEntry("fuzz.md", data, profile, fuzzNow)
		for _, p := range ps {
			if p.File != "fuzz.md" || p.Msg == "" || p.Line < 0 {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if e == nil {
			if !ps.Errors() {
				t.Fatalf("entry refused without an error: %v", ps)
			}
			return
		}
		if ps.Errors() {
			t.Fatalf("entry accepted with errors: %v", ps)
		}
		switch {
		case e.ID == "":
			t.Fatal("accepted entry has no id")
		case len(e.Questions) < knowledge.MinQuestions:
			t.Fatalf("accepted entry has %d questions", len(e.Questions))
		case len(e.Sources) == 0:
			t.Fatal("accepted entry has no sources")
		case strings.TrimSpace(e.Body) == "":
			t.Fatal("accepted entry has an empty body")
		case !utf8.ValidString(e.Answer) || !utf8.ValidString(e.Title):
			t.Fatal("accepted entry holds invalid UTF-8")
		}
		for _, s := range e.Sources {
			if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
				t.Fatalf("accepted source %q is not an http(s) URL", s)
			}
		}
	})
}

// FuzzDecide asks the shipped base arbitrary questions: the decision must
// never panic, must be one of the four bands, and must have an answer
// entry when the band is answer.
func FuzzDecide(f *testing.F) {
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		f.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, fuzzNow)
	if err != nil {
		f.Fatal(err)
	}
	ix := knowledge.NewIndex(base)
	for _, s := range []string{"", "quên mật khẩu vneid", "cks la gi", "xin chào", "cảm ơn", "?", "vneid vneid vneid",
		"<script>alert(1)</script>", "' OR 1=1 --", strings.Repeat("😀", 100), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 4000 {
			return // the engine refuses longer messages before retrieval
		}
		d := ix.Decide(q)
		switch d.Band {
		case knowledge.BandAnswer:
			if len(d.Matches) == 0 || d.Matches[0].Entry == nil {
				t.Fatalf("Decide(%q): answer without an entry", q)
			}
		case knowledge.BandClarify:
			if len(d.Matches) < 2 {
				t.Fatalf("Decide(%q): clarify with %d candidates", q, len(d.Matches))
			}
		case knowledge.BandDecline, knowledge.BandSmallTalk:
		default:
			t.Fatalf("Decide(%q): unknown band %q", q, d.Band)
		}
		if !utf8.ValidString(d.Normalized) {
			t.Fatalf("Decide(%q): normalized %q is invalid UTF-8", q, d.Normalized)
		}
	})
}
