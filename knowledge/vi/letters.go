// Package vi normalises Vietnamese text for retrieval: Unicode
// normalisation, case, look-alike letters, invisible characters and emoji,
// repeated letters, syllable tokenisation, a placement-invariant tone key, a
// diacritic fold (with đ→d and the i/y spelling fold), syllable bigrams, the
// accented ratio, teencode/abbreviation expansion and greeting stripping.
//
// Every function is safe for concurrent use: the package only holds
// read-only tables built at initialisation.
package vi

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tone numbers used in tone keys (thanh ngang has no digit).
const (
	toneNone  = 0
	toneSac   = 1 // U+0301
	toneHuyen = 2 // U+0300
	toneHoi   = 3 // U+0309
	toneNga   = 4 // U+0303
	toneNang  = 5 // U+0323
)

// letter describes one lower-case Latin letter after NFD decomposition.
type letter struct {
	base  rune // lower-case letter keeping the vowel marks (â ă ê ô ơ ư đ)
	fold  byte // ASCII letter (đ→d)
	tone  int8 // tone number, 0 when none
	marks bool // any diacritic (tone, vowel mark or đ)
}

// letters maps precomposed lower-case Latin letters to their parts. It is
// built during package variable initialisation (before any init function,
// since the phrase tables of other files tokenise in their init) and never
// written afterwards.
var letters = buildLetters()

// toneOfMark maps a combining tone mark to its tone number.
func toneOfMark(r rune) int8 {
	switch r {
	case '\u0301', '\u0341':
		return toneSac
	case '\u0300', '\u0340':
		return toneHuyen
	case '\u0309':
		return toneHoi
	case '\u0303':
		return toneNga
	case '\u0323':
		return toneNang
	}
	return toneNone
}

// isVowelMark reports whether r is a combining mark that belongs to the
// letter rather than the tone (circumflex, breve, horn).
func isVowelMark(r rune) bool {
	return r == '\u0302' || r == '\u0306' || r == '\u031B'
}

func buildLetters() map[rune]letter {
	letters := make(map[rune]letter, 256)
	add := func(r rune) {
		lr := unicode.ToLower(r)
		if _, ok := letters[lr]; ok {
			return
		}
		d := norm.NFD.String(string(lr))
		first, size := utf8.DecodeRuneInString(d)
		if first >= 0x80 || !('a' <= first && first <= 'z') {
			return
		}
		l := letter{fold: byte(first)}
		vowel := []rune{first}
		for _, m := range d[size:] {
			if t := toneOfMark(m); t != toneNone {
				l.tone = t
				l.marks = true
				continue
			}
			if isVowelMark(m) {
				vowel = append(vowel, m)
				l.marks = true
				continue
			}
			// Other marks (e.g. cedilla) are folded away.
			l.marks = true
		}
		b, _ := utf8.DecodeRuneInString(norm.NFC.String(string(vowel)))
		l.base = b
		letters[lr] = l
	}
	for r := rune('a'); r <= 'z'; r++ {
		letters[r] = letter{base: r, fold: byte(r)}
	}
	for r := rune(0x00C0); r <= 0x024F; r++ {
		add(r)
	}
	for r := rune(0x1E00); r <= 0x1EFF; r++ {
		add(r)
	}
	letters['đ'] = letter{base: 'đ', fold: 'd', marks: true}
	return letters
}

// lookalikes maps letters that look like Vietnamese/Latin letters to the
// intended one (applied after lower-casing).
var lookalikes = map[rune]rune{
	'ð': 'đ', // U+00F0 eth (lower-case of U+00D0 Ð)
	'ɗ': 'đ', // U+0257 African d with hook
	'đ': 'đ',
	'ı': 'i', // dotless i
	// Cyrillic look-alikes.
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x',
	'і': 'i', 'ј': 'j', 'ԁ': 'd', 'ѕ': 's', 'һ': 'h', 'к': 'k', 'м': 'm',
	'т': 't', 'в': 'b', 'н': 'h',
	// Greek look-alikes.
	'α': 'a', 'ο': 'o', 'ν': 'v', 'ι': 'i', 'κ': 'k', 'τ': 't', 'υ': 'u',
}

// isInvisible reports characters that must vanish without splitting a word:
// zero-width characters, joiners, soft hyphen, BOM, variation selectors.
func isInvisible(r rune) bool {
	switch r {
	case '\u00AD', '\u034F', '\u061C', '\u115F', '\u1160', '\u17B4', '\u17B5',
		'\u180E', '\u200B', '\u200C', '\u200D', '\u200E', '\u200F', '\u2060',
		'\u2061', '\u2062', '\u2063', '\u2064', '\uFEFF', '\u3164', '\uFFA0':
		return true
	}
	if r >= '\uFE00' && r <= '\uFE0F' { // variation selectors
		return true
	}
	if r >= 0xE0100 && r <= 0xE01EF {
		return true
	}
	if r >= 0xE0000 && r <= 0xE007F { // tag characters (emoji flags)
		return true
	}
	if r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 { // bidi controls
		return true
	}
	return false
}

// isWordRune reports whether r belongs to a syllable token.
func isWordRune(r rune) bool {
	if r < 0x80 {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}
