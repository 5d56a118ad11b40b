// Package privacy removes personal data from residents' text before it is
// stored, logged or sent to a language model: identity-card numbers (9 and
// 12 digits), phone numbers and e-mail addresses, and, for model calls,
// OTP-like codes.
package privacy

import (
	"fmt"
	"log/slog"
	"regexp"
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
	// digitRunRe finds runs of digits that may be broken up by single
	// spaces, dots or dashes ("0912 345 678", "001.234.567.890") and may
	// start with "+".
	digitRunRe = regexp.MustCompile(`\+?\d(?:[ .\-]?\d)*`)
)

// Redact replaces identity numbers, phone numbers and e-mail addresses in s.
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
	// past the ASCII patterns: redact the folded text, and return it only
	// when something was masked (otherwise the text stays as written).
	if f := fold(s); f != s {
		if r := redactASCII(f, otp); r != f {
			return r
		}
		return s
	}
	return redactASCII(s, otp)
}

// fold maps text that reads like digits, spaces and dashes to ASCII:
// NFKC (fullwidth "０９８" → "098", "＠" → "@"), decimal digits of any
// script → ASCII, format characters (zero-width spaces and joiners, BOM,
// soft hyphen) dropped, any space → ' ', any dash → '-'. ASCII input is
// returned unchanged.
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

func redactASCII(s string, otp bool) string {
	s = emailRe.ReplaceAllString(s, EmailMask)
	return digitRunRe.ReplaceAllStringFunc(s, func(run string) string {
		digits := 0
		for _, r := range run {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		plain := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r == '+' {
				return r
			}
			return -1
		}, run)
		switch {
		case isPhone(plain):
			return PhoneMask
		case digits == 9 || digits == 12:
			return IDMask
		case digits >= 9:
			return DigitMask
		case otp && digits >= 4 && digits <= 8 && !strings.ContainsAny(run, " .-") && !isYear(run):
			return OTPMask
		}
		return run
	})
}

// isPhone reports whether a digit string (with optional leading +) is a
// Vietnamese mobile or landline number: 0 + 9–10 digits, or 84/+84 + 9–10.
func isPhone(p string) bool {
	p = strings.TrimPrefix(p, "+")
	switch {
	case strings.HasPrefix(p, "84") && (len(p) == 11 || len(p) == 12):
		return true
	case strings.HasPrefix(p, "0") && (len(p) == 10 || len(p) == 11) && p[1] != '0':
		return true
	}
	return false
}

// isYear reports whether a 4-digit run looks like a year (1900–2099),
// which is kept: answers about dates need it.
func isYear(run string) bool {
	return len(run) == 4 && (strings.HasPrefix(run, "19") || strings.HasPrefix(run, "20"))
}

// Strip removes identity numbers, phone numbers and e-mail addresses from
// s instead of masking them, for matching text against the knowledge base
// (a mask such as "[số điện thoại]" would itself look like a question about
// phone numbers).
func Strip(s string) string {
	r := Redact(s)
	if r == s {
		return s
	}
	return strings.NewReplacer(IDMask, " ", PhoneMask, " ", EmailMask, " ", DigitMask, " ").Replace(r)
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
	return strings.IndexFunc(s, unicode.IsDigit) >= 0 || strings.ContainsAny(s, "@＠")
}
