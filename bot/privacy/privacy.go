// Package privacy removes personal data from residents' text before it is
// stored, logged or sent to a language model: identity-card numbers (9 and
// 12 digits), phone numbers and e-mail addresses, and, for model calls,
// OTP-like codes.
//
// Numbers are recognised by their digits, whatever separates them: spaces
// (one or several), dots, dashes, slashes, underscores and brackets, as in
// "0912  345  678", "(091) 234-5678", "0912_345_678" or "+84 912/345/678",
// and when they are written out in words ("không chín một hai …"). What only
// looks like such a number is left as written: dates ("01/07/2025"), amounts
// ("150.000.000 đồng"), years and lists of years, document numbers
// ("226/2016/TT-BTC"), procedure codes ("1.001612") and web addresses.
package privacy

import (
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Placeholders that replace redacted data.
const (
	IDMask    = "[số định danh]"
	PhoneMask = "[số điện thoại]"
	EmailMask = "[email]"
	DigitMask = "[dãy số]"
	OTPMask   = "[mã số]"
)

var (
	emailRe = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}`)
	// urlRe finds web addresses, whose long digit runs are article or
	// document ids, not personal numbers.
	urlRe = regexp.MustCompile(`(?i)(?:https?://|www\.)[^\s<>"'()\[\]{}]+`)
	masks = strings.NewReplacer(IDMask, " ", PhoneMask, " ", EmailMask, " ", DigitMask, " ", OTPMask, " ")
)

// Redact replaces identity numbers, phone numbers and e-mail addresses in s.
// It is idempotent: Redact(Redact(s)) == Redact(s).
func Redact(s string) string {
	return redact(s, false)
}

// RedactForModel is Redact plus OTP-like codes (4–8 digits standing alone),
// for text sent to a language model.
func RedactForModel(s string) string {
	return redact(s, true)
}

func redact(s string, otp bool) string {
	if s == "" {
		return s
	}
	// Look-alike digits and invisible separators must not smuggle a number
	// past the ASCII rules: redact the folded text, and return it only
	// when something was masked (otherwise the text stays as written).
	f := fold(s)
	if r := redactFolded(f, otp); r != f {
		return r
	}
	return s
}

// fold maps text that reads like digits, spaces and dashes to ASCII:
// NFKC (fullwidth "０９８" → "098", "＠" → "@", "（" → "("), decimal digits
// of any script → ASCII, format characters (zero-width spaces and joiners,
// BOM, soft hyphen) dropped, any space → ' ', any dash → '-'. ASCII input
// is returned unchanged.
func fold(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r < utf8.RuneSelf:
			return r
		case unicode.Is(unicode.Nd, r):
			return '0' + digitValue(r)
		case unicode.Is(unicode.Cf, r):
			return -1
		case unicode.Is(unicode.Zs, r):
			return ' '
		case unicode.Is(unicode.Pd, r):
			return '-'
		}
		return r
	}, norm.NFKC.String(s))
}

// digitValue returns the value of a decimal digit: Unicode encodes every
// script's decimal digits as contiguous runs of ten, 0 to 9.
func digitValue(r rune) rune {
	start := r
	for n := 0; n < 100 && unicode.Is(unicode.Nd, start-1); n++ {
		start--
	}
	return (r - start) % 10
}

// span is a part of the text to replace by mask.
type span struct {
	start, end int
	mask       string
}

// redactFolded redacts text already folded to ASCII digits and separators.
func redactFolded(s string, otp bool) string {
	if strings.IndexByte(s, '@') >= 0 {
		s = emailRe.ReplaceAllString(s, EmailMask)
	}
	if !hasDigitOrWord(s) {
		return s
	}
	var urls [][]int
	if strings.Contains(s, "://") || strings.Contains(s, "www.") || strings.Contains(s, "WWW.") {
		urls = urlRe.FindAllStringIndex(s, -1)
	}
	spans := wordNumbers(s)
	spans = append(spans, numbers(s, urls, otp)...)
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		if sp.start < last { // overlaps a span already masked
			continue
		}
		b.WriteString(s[last:sp.start])
		b.WriteString(sp.mask)
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// hasDigitOrWord is a cheap test that the text may hold a number: a digit,
// or enough words for a number written out.
func hasDigitOrWord(s string) bool {
	spaces := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			return true
		case c == ' ':
			spaces++
		}
	}
	return spaces >= minWordDigits-1
}

// Strip removes identity numbers, phone numbers and e-mail addresses from
// s instead of masking them, for matching text against the knowledge base
// (a mask such as "[số điện thoại]" would itself look like a question about
// phone numbers). Masks already in s (text redacted before it was stored)
// are removed too, so Strip(Redact(s)) == Strip(s).
func Strip(s string) string {
	r := Redact(s)
	if strings.IndexByte(r, '[') < 0 {
		return r
	}
	return masks.Replace(r)
}

// Contains reports whether s holds anything Redact would remove.
func Contains(s string) bool { return Redact(s) != s }

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that redacts every string
// attribute, so personal data never reaches the logs. Other values logged
// with slog.Any (errors, Stringers, slices, structs) are redacted in their
// printed form, which then replaces them.
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if v := a.Value.String(); mayHoldData(v) {
			a.Value = slog.StringValue(Redact(v))
		}
	case slog.KindAny:
		var v string
		switch x := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(Redact(x.Error()))
			return a
		case fmt.Stringer:
			v = x.String()
		default:
			v = fmt.Sprintf("%+v", x)
		}
		if mayHoldData(v) {
			a.Value = slog.StringValue(Redact(v))
		}
	}
	return a
}

// mayHoldData is a cheap test for text Redact could change.
func mayHoldData(s string) bool {
	return strings.IndexFunc(s, unicode.IsDigit) >= 0 || strings.ContainsAny(s, "@＠") ||
		strings.Count(s, " ") >= minWordDigits-1
}
