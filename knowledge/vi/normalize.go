package vi

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Token is one syllable (or mixed letter/digit token such as "vneid",
// "cccd", "ct01") of normalised text.
type Token struct {
	Text     string // lower-case NFC surface form, e.g. "hoà"
	Tone     string // placement-invariant tone key, e.g. "hoa2"
	Fold     string // diacritic fold with đ→d and the i/y fold, e.g. "hoa"
	Accented bool   // the surface form carries any diacritic
}

// Clean returns s in NFC, lower-cased, with look-alike letters mapped,
// invisible characters removed, emoji and other symbols replaced by a space,
// runs of three or more identical letters collapsed to one, and runs of
// white space collapsed to one space. Punctuation is kept so that the text
// can still be split into sentences.
func Clean(s string) string {
	if s == "" {
		return ""
	}
	s = norm.NFKC.String(s)
	out := make([]rune, 0, len(s))
	space := true // suppress leading space
	for _, r := range s {
		if isInvisible(r) {
			continue
		}
		r = unicode.ToLower(r)
		if m, ok := lookalikes[r]; ok {
			r = m
		}
		switch {
		case r == '\n':
		case unicode.IsSpace(r):
			r = ' '
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
		case unicode.IsPunct(r):
		default: // emoji, symbols, controls
			r = ' '
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
			out = append(out, r)
			continue
		}
		space = r == '\n'
		out = append(out, r)
	}
	out = collapseRuns(out)
	res := strings.TrimSpace(string(out))
	// Look-alike mapping may have produced base letters followed by
	// combining marks; compose again.
	return norm.NFC.String(res)
}

// collapseRuns collapses runs of three or more identical letters to one
// letter ("đượccccc" → "được", "ơiiii" → "ơi"), except at the start of a
// word, where such runs are abbreviations ("cccd").
func collapseRuns(rs []rune) []rune {
	out := rs[:0]
	for i := 0; i < len(rs); {
		r := rs[i]
		j := i + 1
		for j < len(rs) && rs[j] == r {
			j++
		}
		n := j - i
		wordStart := i == 0 || !isWordRune(rs[i-1])
		if n >= 3 && unicode.IsLetter(r) && !wordStart {
			n = 1
		}
		for k := 0; k < n; k++ {
			out = append(out, r)
		}
		i = j
	}
	return out
}

// Tokenize cleans s and splits it into syllable tokens: maximal runs of
// letters, digits and combining marks.
func Tokenize(s string) []Token {
	s = Clean(s)
	return tokenizeClean(s, nil)
}

// TokenizeClean splits text already returned by Clean (or a piece of it)
// into tokens without cleaning it again.
func TokenizeClean(s string) []Token { return tokenizeClean(s, nil) }

func tokenizeClean(s string, dst []Token) []Token {
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			dst = append(dst, NewToken(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		dst = append(dst, NewToken(s[start:]))
	}
	return dst
}

// NewToken analyses one already cleaned (lower-case NFC) syllable.
func NewToken(text string) Token {
	var base, fold strings.Builder
	base.Grow(len(text))
	fold.Grow(len(text))
	var tone int8
	accented := false
	alpha := true
	for _, r := range text {
		if l, ok := letters[r]; ok {
			base.WriteRune(l.base)
			fold.WriteByte(l.fold)
			if l.tone != toneNone && tone == toneNone {
				tone = l.tone
			}
			accented = accented || l.marks
			continue
		}
		if t := toneOfMark(r); t != toneNone {
			if tone == toneNone {
				tone = t
			}
			accented = true
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			accented = true
			continue
		}
		if unicode.IsDigit(r) {
			alpha = false
		}
		base.WriteRune(r)
		fold.WriteRune(r)
	}
	bs, fs := base.String(), fold.String()
	if alpha {
		bs, fs = foldIY(bs, fs)
	}
	if tone != toneNone {
		bs += strconv.Itoa(int(tone))
	}
	return Token{Text: text, Tone: bs, Fold: fs, Accented: accented}
}

// foldIY applies the i/y spelling fold to the tone base and the fold: a
// final "y" directly after a consonant becomes "i" (ký→kí, lý→lí, mỹ→mĩ)
// and "quy" becomes "qui"; a "y" after a vowel (tay, thuy, huy) stays.
func foldIY(base, fold string) (string, string) {
	n := len(fold)
	if n < 2 || fold[n-1] != 'y' {
		return base, fold
	}
	prev := fold[n-2]
	consonant := !isASCIIVowel(prev)
	if !consonant && prev == 'u' && n == 3 && fold[0] == 'q' {
		consonant = true
	}
	if !consonant {
		return base, fold
	}
	// base ends with y (ASCII; y has no vowel marks in Vietnamese).
	if strings.HasSuffix(base, "y") {
		base = base[:len(base)-1] + "i"
	}
	return base, fold[:n-1] + "i"
}

func isASCIIVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// Fold returns the folded form of s: cleaned, tokenised, each syllable
// folded, joined by single spaces. "Đăng ký chữ ký số" → "dang ki chu ki so".
func Fold(s string) string {
	toks := Tokenize(s)
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.Fold
	}
	return strings.Join(parts, " ")
}

// StripDiacritics removes every diacritic and maps đ→d, keeping case,
// punctuation and spacing (no i/y fold). Useful for display and logging.
func StripDiacritics(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		lr := unicode.ToLower(r)
		if l, ok := letters[lr]; ok {
			c := rune(l.fold)
			if lr != r {
				c = unicode.ToUpper(c)
			}
			b.WriteRune(c)
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ToneKey returns the placement-invariant tone key of one syllable:
// "hoà" and "hòa" → "hoa2", "thuý"/"thúy" → "thuy1".
func ToneKey(syllable string) string {
	toks := Tokenize(syllable)
	if len(toks) == 0 {
		return ""
	}
	return toks[0].Tone
}

// Bigrams joins adjacent strings with a space: [a b c] → ["a b", "b c"].
func Bigrams(parts []string) []string {
	if len(parts) < 2 {
		return nil
	}
	out := make([]string, 0, len(parts)-1)
	for i := 0; i+1 < len(parts); i++ {
		out = append(out, parts[i]+" "+parts[i+1])
	}
	return out
}

// IsSyllable reports whether t looks like a Vietnamese syllable (letters
// only, no digits) rather than a code such as "ct01".
func (t Token) IsSyllable() bool {
	for _, r := range t.Fold {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return t.Fold != ""
}

// AccentedRatio is the share of syllables that carry a diacritic, counting
// only tokens for which counts returns true (nil counts every syllable).
// Tokens that are not syllables (digits) are ignored. It returns 0 for no
// syllables.
func AccentedRatio(toks []Token, counts func(Token) bool) float64 {
	n, acc := 0, 0
	for _, t := range toks {
		if !t.IsSyllable() {
			continue
		}
		if counts != nil && !counts(t) {
			continue
		}
		n++
		if t.Accented {
			acc++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(acc) / float64(n)
}
