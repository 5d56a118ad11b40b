package knowledge

import (
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// Variants of a training question are generated at load time, the way
// residents really type it — never stored in the base files: without
// diacritics, in chat shorthand, with a synonym, with one or two typos.

// variantKinds selects the variants generated for a question.
type variantKinds struct {
	noDiacritics, shorthand, synonym, typos, typosNoDiacritics bool
}

var allVariants = variantKinds{noDiacritics: true, shorthand: true, synonym: true, typos: true, typosNoDiacritics: true}

// variants returns toks (as typed, not yet canonical) and its variants,
// each canonicalised with lex, without duplicates.
func variants(toks []vi.Token, lex *vi.Lexicon, kinds variantKinds, rng *rand.Rand) [][]vi.Token {
	out := [][]vi.Token{lex.Canonical(toks)}
	seen := map[string]bool{toneJoin(out[0]): true}
	add := func(ts []vi.Token) {
		c := lex.Canonical(ts)
		if k := toneJoin(c); len(c) > 0 && !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	if kinds.noDiacritics {
		add(unaccent(toks))
	}
	if kinds.shorthand {
		add(unaccent(lex.Abbreviate(toks, 0.7, rng)))
	}
	if kinds.synonym {
		if s, ok := lex.Synonym(toks, rng); ok {
			add(s)
		}
	}
	if kinds.typos {
		add(typos(toks, 1+rng.IntN(2), rng))
	}
	if kinds.typosNoDiacritics {
		add(typos(unaccent(toks), 1, rng))
	}
	return out
}

// toneJoin is toks' syllables with their tones, each followed by a space.
func toneJoin(toks []vi.Token) string {
	return joinField(toks, func(t vi.Token) string { return t.Tone })
}

// joinField joins one field of each token, each followed by a space.
func joinField(toks []vi.Token, field func(vi.Token) string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(field(t))
		b.WriteByte(' ')
	}
	return b.String()
}

// unaccent drops every diacritic, as people type without a Vietnamese
// keyboard.
func unaccent(toks []vi.Token) []vi.Token {
	out := make([]vi.Token, len(toks))
	for i, t := range toks {
		if t.Accented {
			out[i] = vi.NewToken(vi.StripDiacritics(t.Text))
		} else {
			out[i] = t
		}
	}
	return out
}

// typos makes n typing mistakes in syllables of three or more letters: a
// letter dropped, doubled or swapped with the next, or the tone mark
// changed or dropped.
func typos(toks []vi.Token, n int, rng *rand.Rand) []vi.Token {
	var cand []int
	for i, t := range toks {
		if utf8.RuneCountInString(t.Text) >= 3 && t.IsSyllable() {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return toks
	}
	out := append([]vi.Token(nil), toks...)
	for k := 0; k < n; k++ {
		i := cand[rng.IntN(len(cand))]
		rs := []rune(out[i].Text)
		switch op := rng.IntN(5); {
		case op == 0 && len(rs) > 3: // drop a letter
			j := rng.IntN(len(rs))
			rs = append(rs[:j], rs[j+1:]...)
		case op == 1: // double a letter
			j := rng.IntN(len(rs))
			rs = append(rs[:j+1], rs[j:]...)
		case op == 2 && len(rs) > 1: // swap two letters
			j := rng.IntN(len(rs) - 1)
			rs[j], rs[j+1] = rs[j+1], rs[j]
		default: // another tone, or none
			rs = []rune(retone(string(rs), rng))
		}
		if len(rs) > 0 {
			out[i] = vi.NewToken(string(rs))
		}
	}
	return out
}

// toneMarks are the combining tone marks: huyền, sắc, ngã, hỏi, nặng.
var toneMarks = []rune{'\u0300', '\u0301', '\u0303', '\u0309', '\u0323'}

// retone replaces the tone mark of a syllable by another one (or none),
// keeping the vowel marks (â, ơ, ư…).
func retone(s string, rng *rand.Rand) string {
	d := []rune(norm.NFD.String(s))
	pos := -1
	out := d[:0]
	for _, r := range d {
		isTone := false
		for _, m := range toneMarks {
			if r == m {
				isTone = true
			}
		}
		if isTone {
			pos = len(out)
			continue
		}
		out = append(out, r)
	}
	k := rng.IntN(len(toneMarks) + 1)
	if k == len(toneMarks) {
		return norm.NFC.String(string(out))
	}
	if pos < 0 {
		// no tone before: put one after the first vowel
		for j, r := range out {
			if strings.ContainsRune("aeiouy", r) {
				pos = j + 1
				for pos < len(out) && out[pos] >= 0x300 && out[pos] <= 0x36f {
					pos++
				}
				break
			}
		}
		if pos < 0 {
			return s
		}
	}
	res := make([]rune, 0, len(out)+1)
	res = append(res, out[:pos]...)
	res = append(res, toneMarks[k])
	res = append(res, out[pos:]...)
	return norm.NFC.String(string(res))
}
