package compose

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/knowledge/vi"
)

// DefaultMaxQuestion is the longest question (in characters) sent to the
// model; longer text is cut.
const DefaultMaxQuestion = 500

// injectionPatterns match attempts to steer the model, on text folded by
// vi.Fold (lower case, no diacritics, đ→d, punctuation removed) with every
// "y" turned into "i", so "Bỏ qua mọi quy tắc!" and "bo qua moi qui tac"
// look the same. The patterns get the same y→i mapping.
var injectionPatterns = compilePatterns(
	// "bỏ qua (mọi/tất cả/các) hướng dẫn/chỉ dẫn/quy tắc…"
	`\bbo qua (?:het |moi |tat ca |toan bo |cac |nhung |nhung gi |di )*(?:huong dan|chi dan|chi thi|cau lenh|lenh|quy tac|rang buoc|loi nhac|nhac lenh|prompt)\b`,
	`\b(?:quen|phot lo|khong can tuan theo|dung tuan theo|khong tuan theo) (?:di |het |moi |tat ca |cac |nhung )*(?:huong dan|chi dan|chi thi|quy tac|rang buoc) (?:truoc|tren|ban dau|cu|cua ban|he thong|da cho)\b`,
	// role play
	`\bha[iy] dong vai\b`,
	`\bdong vai (?:la|lam|mot|nhu|nguoi|nhan vat)\b`,
	`\b(?:gia su|gia vo|coi nhu|tuong tuong|tu gio|tu ba[iy] gio|ba[iy] gio) ban (?:la|dang la|se la|tro thanh)\b`,
	`\bban (?:khong con|khong phai) la (?:tro l[iy]|chatbot|bot)\b`,
	// revealing the instructions
	`\b(?:in ra|hien thi|cho (?:toi |tui |minh )?xem|tiet lo|nhac lai|doc lai|chep lai|viet ra) (?:toan bo |nguyen van |cac |nhung )*(?:loi nhac|cau lenh|chi dan|huong dan|quy tac|nhac lenh|prompt) (?:he thong|ban dau|goc|an|cua ban|duoc cai dat|duoc giao)\b`,
	`\bin ra (?:cac |nhung )?(?:loi nhac|nhac lenh|prompt)\b`,
	`\b(?:loi nhac|nhac lenh|chi dan|cau lenh) he thong\b`,
	`\bsystem (?:prompt|message|instruction|instructions)\b`,
	`\bprompt (?:cua ban|he thong|goc|ban dau|an)\b`,
	// English
	`\b(?:ignore|disregard|forget|override|bypass) (?:all |any |the |your |my |of |these |those |every )*(?:previous |prior |above |earlier |preceding |initial |original |system |safety )*(?:instructions?|prompts?|rules|directions|guidelines|context)\b`,
	`\b(?:act as|pretend to be|pretend you are|you are now|from now on you are|roleplay as|role play as|jailbreak|developer mode|dan mode|do anything now)\b`,
	`\b(?:reveal|print|show|repeat|output) (?:me )?(?:your |the )*(?:system |hidden |initial |original )*(?:prompt|instructions)\b`,
)

func compilePatterns(ps ...string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(ps))
	for i, p := range ps {
		out[i] = regexp.MustCompile(strings.ReplaceAll(p, "y", "i"))
	}
	return out
}

// IsInjection reports whether text looks like an attempt to make the model
// ignore its rules, play a role or reveal its instructions. Invisible
// characters are tried both as nothing and as spaces, so that they cannot
// split or join the words of a pattern.
func IsInjection(text string) bool {
	for _, variant := range []string{stripInvisible(text, ""), stripInvisible(text, " ")} {
		f := strings.ReplaceAll(vi.Fold(variant), "y", "i")
		for _, re := range injectionPatterns {
			if re.MatchString(f) {
				return true
			}
		}
	}
	return false
}

// invisible reports characters that change nothing visible: format
// characters (zero-width spaces and joiners, bidi controls, tag
// characters, soft hyphen, BOM) and variation selectors.
func invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF || r == '\u034F' || r == '\u115F' || r == '\u1160' || r == '\u3164' || r == '\uFFA0'
}

// stripInvisible replaces invisible characters with repl.
func stripInvisible(s, repl string) string {
	if strings.IndexFunc(s, invisible) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if invisible(r) {
			b.WriteString(repl)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

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
	s = stripInvisible(s, "")
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
