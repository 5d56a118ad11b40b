// Package privacy removes personal data from residents' text before it is
// stored, logged or sent to a language model: identity-card numbers (9 and
// 12 digits), phone numbers and e-mail addresses, and, for model calls,
// OTP-like codes.
package privacy

import (
	"log/slog"
	"regexp"
	"strings"
	"unicode"
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
// attribute, so personal data never reaches the logs.
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if v := a.Value.String(); strings.IndexFunc(v, unicode.IsDigit) >= 0 || strings.Contains(v, "@") {
			a.Value = slog.StringValue(Redact(v))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(Redact(err.Error()))
		}
	}
	return a
}
