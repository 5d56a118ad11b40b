package vi_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// fuzzSeeds are typical and hostile inputs; more live in
// testdata/fuzz/FuzzNormalize (run by every go test).
var fuzzSeeds = []string{
	"",
	"Quên mật khẩu VNeID thì làm sao ạ?",
	"quen mat khau vneid",
	"Ðăng kí chữ kí số 😭😭 đượcccc khônggg",
	"hoà hòa thuý thúy QUY quý ký ky",
	"ct01 cccd 0912345678 012345678901",
	"e muốn hỏi\nlàm căn cước cho con\tở đâu",
	"\u200bv\u200dn\ufeffeid",
	"ｖｎｅｉｄ ＣＣＣＤ",
	"a\u0301\u0301\u0301 o\u0323\u0302",
	"\xff\xfe\xfd invalid",
	"<script>alert(1)</script>'; DROP TABLE exchanges;--",
}

// FuzzNormalize checks the normaliser on arbitrary input: it never
// panics, always returns valid UTF-8, and cleaning is idempotent.
func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := vi.Clean(s)
		if !utf8.ValidString(c) {
			t.Fatalf("Clean(%q) = %q: invalid UTF-8", s, c)
		}
		if c != strings.TrimSpace(c) || strings.Contains(c, "  ") {
			t.Fatalf("Clean(%q) = %q: untrimmed or doubled spaces", s, c)
		}
		if cc := vi.Clean(c); cc != c {
			t.Fatalf("Clean not idempotent: Clean(%q) = %q, Clean of that = %q", s, c, cc)
		}
		fo := vi.Fold(s)
		if !utf8.ValidString(fo) {
			t.Fatalf("Fold(%q) = %q: invalid UTF-8", s, fo)
		}
		// Fold is not idempotent by design (folding "ậẩa" gives "aaa", which
		// the letter-run rule of Clean then collapses), but folding must
		// not depend on whether the text was cleaned first.
		if fc := vi.Fold(c); fc != fo {
			t.Fatalf("Fold(%q) = %q but Fold(Clean(…)) = %q", s, fo, fc)
		}
		if strings.ContainsAny(fo, "\n\t") {
			t.Fatalf("Fold(%q) = %q: holds a newline or tab", s, fo)
		}
		for _, tok := range vi.Tokenize(s) {
			if tok.Text == "" || !utf8.ValidString(tok.Text) || !utf8.ValidString(tok.Fold) || !utf8.ValidString(tok.Tone) {
				t.Fatalf("Tokenize(%q): bad token %+v", s, tok)
			}
			if strings.ContainsAny(tok.Text, " \n\t") {
				t.Fatalf("Tokenize(%q): token %q holds white space", s, tok.Text)
			}
		}
		sd := vi.StripDiacritics(s)
		if utf8.ValidString(s) && !utf8.ValidString(sd) {
			t.Fatalf("StripDiacritics(%q) = %q: invalid UTF-8", s, sd)
		}
		toks := vi.Tokenize(s)
		toks, _ = vi.StripPoliteness(toks)
		vi.General.Canonical(toks)
		vi.Sentences(c)
	})
}
