package compose

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/knowledge/vi"
)

// DefaultMaxQuestion is the longest question (in characters) sent to the
// model; longer text is cut.
const DefaultMaxQuestion = 500

// IsInjection reports whether text looks like an attempt to make the model
// ignore its rules, play a role or reveal its instructions. It is the same
// check retrieval uses to decline such messages (knowledge.IsInjection).
func IsInjection(text string) bool { return knowledge.IsInjection(text) }

// Sanitize prepares a resident's question for the model: invalid UTF-8,
// invisible and control characters removed, identity numbers, phone
// numbers, e-mail addresses and OTP-like codes redacted, angle brackets
// neutralised (the question is wrapped in a <cau_hoi> tag), white space
// collapsed and the text cut to max characters.
func Sanitize(s string, max int) string {
	if max <= 0 {
		max = DefaultMaxQuestion
	}
	s = strings.ToValidUTF8(s, "")
	s = vi.StripInvisible(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '<':
			return '‹'
		case r == '>':
			return '›'
		case r == '\n' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	s = privacy.RedactForModel(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
		// Do not leave half a placeholder or a digit run cut in two: redact
		// again after cutting.
		s = privacy.RedactForModel(strings.TrimSpace(s)) + "…"
	}
	return s
}
