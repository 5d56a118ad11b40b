package privacy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// minWordDigits is the fewest digits of a number written out in words that
// is masked: fewer words in a row ("sau ba năm") are ordinary speech.
const minWordDigits = 9

// digitWords are the Vietnamese names of the digits as they are read out
// one by one, with and without diacritics.
var digitWords = map[string]byte{
	"không": '0', "khong": '0',
	"một": '1', "mot": '1',
	"hai": '2',
	"ba":  '3',
	"bốn": '4', "bon": '4', "tư": '4',
	"năm": '5', "nam": '5',
	"sáu": '6', "sau": '6',
	"bảy": '7', "bẩy": '7', "bay": '7',
	"tám": '8', "tam": '8',
	"chín": '9', "chin": '9',
}

// token is a digit word or a group of digits.
type token struct {
	start, end int
	digits     string // the digits it stands for
	// after is set when another word came between the previous token and
	// this one.
	after bool
}

// wordNumbers returns the spans of phone and identity numbers written out,
// wholly or partly, in words: "không chín một hai ba bốn năm sáu bảy tám",
// "09 một hai, 345 678". A run needs at least two digit words (numbers in
// digits only are the business of numbers; "năm 2024" is a year), holds no
// year, and must read as a phone or identity number.
func wordNumbers(s string) []span {
	toks := tokens(s)
	var out []span
	for a := 0; a < len(toks); {
		b, words, n := a, 0, 0
		for ; b < len(toks); b++ {
			if b > a && (toks[b].after || !wordGap(s[toks[b-1].end:toks[b].start])) {
				break
			}
			if isYear(toks[b].digits) { // "năm 2024 2025": a year, not digits read out
				break
			}
			if !isDigit(s[toks[b].start]) {
				words++
			}
			n += len(toks[b].digits)
		}
		// toks[a:b] is a run of digit tokens.
		if words >= 2 && n >= minWordDigits {
			out = append(out, wordRun(toks[a:b])...)
		}
		a = max(b, a+1)
	}
	return out
}

// wordRun masks the longest sub-runs of run that read as a phone or
// identity number.
func wordRun(run []token) []span {
	var out []span
	for i := 0; i < len(run); {
		found := false
		for k := min(len(run)-1, i+13); k > i; k-- {
			var b strings.Builder
			for _, t := range run[i : k+1] {
				b.WriteString(t.digits)
			}
			if m := strictMask(b.String()); m != "" {
				out = append(out, span{run[i].start, run[k].end, m})
				i, found = k+1, true
				break
			}
		}
		if !found {
			i++
		}
	}
	return out
}

// wordGap reports a separator between two tokens of one number: up to
// three spaces, commas, dots or dashes.
func wordGap(g string) bool {
	if g == "" || len(g) > maxJoin {
		return g == "" // digits glued to a word: "09một"
	}
	for i := 0; i < len(g); i++ {
		if strings.IndexByte(" ,.-", g[i]) < 0 {
			return false
		}
	}
	return true
}

// tokens finds the digit words and digit groups of s, with their offsets.
// It returns nil when s has fewer than two digit words.
func tokens(s string) []token {
	var out []token
	words, after := 0, false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= '0' && r <= '9':
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			out = append(out, token{i, j, s[i:j], after})
			i, after = j, false
		case unicode.IsLetter(r):
			j := i + n
			for j < len(s) {
				r, m := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
					break
				}
				j += m
			}
			d, ok := byte(0), false
			if w := s[i:j]; len(w) <= 8 {
				d, ok = digitWords[strings.ToLower(w)]
			}
			if ok {
				out = append(out, token{i, j, digitText[d-'0' : d-'0'+1], after})
				words++
				after = false
			} else {
				after = true
			}
			i = j
		default:
			i += n
		}
	}
	if words < 2 {
		return nil
	}
	return out
}

const digitText = "0123456789"
