package knowledge

import (
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// injectionPatterns match attempts to steer the model, on text folded by
// vi.Fold (lower case, no diacritics, đ→d, punctuation removed) with every
// "y" turned into "i", so "Bỏ qua mọi quy tắc!" and "bo qua moi qui tac"
// look the same. The patterns get the same y→i mapping.
var injectionPatterns = compilePatterns(
	// "bỏ qua (mọi/tất cả…) hướng dẫn/chỉ dẫn/quy tắc…": with a sweeping
	// quantifier, or pointing at earlier instructions ("… trước đó", "… ở
	// trên", "… của bạn"), or ending the message. "Bỏ qua hướng dẫn xác thực
	// khuôn mặt" or "bỏ qua lệnh gọi video" are ordinary questions.
	pattern{re: `\bbo qua (?:di )?(?:het|moi|tat ca|toan bo|nhung gi) (?:cac |nhung )?(?:huong dan|chi dan|chi thi|cau lenh|quy tac|quy dinh|nguyen tac|luat le|rang buoc|loi nhac|nhac lenh|prompt)\b`},
	pattern{re: `\bbo qua (?:di |cac |nhung )*(?:huong dan|chi dan|chi thi|cau lenh|quy tac|quy dinh|nguyen tac|luat le|rang buoc|loi nhac|nhac lenh|prompt) (?:o |da |duoc )?(?:truoc|tren|ban dau|cu|cua ban|he thong|da cho|do|nay|kia|khac)\b`},
	pattern{re: `\bbo qua (?:di |cac |nhung )*(?:huong dan|chi dan|chi thi|cau lenh|quy tac|quy dinh|nguyen tac|luat le|rang buoc|loi nhac|nhac lenh|prompt)(?: di)?\s*$`},
	// "quên/phớt lờ … hướng dẫn trước đó", unless the resident says they
	// forgot ("tôi quên hướng dẫn trên trang dịch vụ công").
	pattern{re: `\b(?:quen|phot lo|khong can tuan theo|dung tuan theo|khong tuan theo) (?:di |het |moi |tat ca |cac |nhung )*(?:huong dan|chi dan|chi thi|quy tac|quy dinh|nguyen tac|luat le|rang buoc) (?:truoc|tren|ban dau|cu|cua ban|he thong|da cho)\b`, notFirstPerson: true},
	// role play
	pattern{re: `\bha[iy] dong vai\b`},
	pattern{re: `\bdong vai (?:la|lam|mot|nhu|nguoi|nhan vat)\b`},
	pattern{re: `\b(?:gia vo|tuong tuong|tu gio|tu ba[iy] gio) ban (?:la|dang la|se la|tro thanh)\b`},
	// "giả sử bạn là …", "bây giờ bạn là …" only with a persona: "giả sử bạn
	// là người không có điện thoại thông minh" is an ordinary question.
	pattern{re: `\b(?:gia su|coi nhu|ba[iy] gio) ban (?:la|dang la|se la|tro thanh) (?:mot )?(?:hacker|tin tac|chatgpt|gpt|ai|dan|tro l[iy]|chatbot|bot|mo hinh|nhan vat|nguoi yeu|admin|quan tri vien|lap trinh vien|ke gian|ke lua dao)\b`},
	pattern{re: `\bban (?:khong con|khong phai) la (?:tro l[iy]|chatbot|bot)\b`},
	// revealing the instructions; "hướng dẫn" only with words that point
	// at the bot's own ("cho tôi xem hướng dẫn gốc" is ordinary).
	pattern{re: `\b(?:in ra|hien thi|cho (?:toi |tui |minh )?xem|tiet lo|nhac lai|doc lai|chep lai|viet ra) (?:toan bo |nguyen van |cac |nhung )*(?:loi nhac|cau lenh|chi dan|quy tac|nhac lenh|prompt) (?:he thong|ban dau|goc|an|cua ban|duoc cai dat|duoc giao)\b`},
	pattern{re: `\b(?:in ra|hien thi|cho (?:toi |tui |minh )?xem|tiet lo|nhac lai|doc lai|chep lai|viet ra) (?:toan bo |nguyen van |cac |nhung )*huong dan (?:he thong|an|duoc cai dat|duoc giao)\b`},
	pattern{re: `\bin ra (?:cac |nhung )?(?:loi nhac|nhac lenh|prompt)\b`},
	pattern{re: `\b(?:loi nhac|nhac lenh|cau lenh) he thong\b`},
	pattern{re: `\bsystem (?:prompt|message|instruction|instructions)\b`},
	pattern{re: `\bprompt (?:cua ban|he thong|goc|ban dau|an)\b`},
	// English
	pattern{re: `\b(?:ignore|disregard|forget|override|bypass) (?:all |any |the |your |my |of |these |those |every )*(?:previous |prior |above |earlier |preceding |initial |original |system |safety )*(?:instructions?|prompts?|rules|directions|guidelines|context)\b`},
	pattern{re: `\b(?:act as|pretend to be|pretend you are|you are now|from now on you are|roleplay as|role play as|jailbreak|developer mode|dan mode|do anything now)\b`},
	pattern{re: `\b(?:reveal|print|show|repeat|output) (?:me )?(?:your |the )*(?:system |hidden |initial |original )*(?:prompt|instructions)\b`},
)

// pattern is one injection pattern; notFirstPerson patterns do not count
// when the words before them are a first-person subject ("tôi quên …").
type pattern struct {
	re             string
	notFirstPerson bool
}

type injectionPattern struct {
	re             *regexp.Regexp
	notFirstPerson bool
	// needs: every match contains one of these strings (nil: no such
	// set is known); a text with none of them is not tried, which spares
	// almost every message the regular expressions.
	needs []string
}

// firstPersonTail matches folded text ending with a first-person subject,
// optionally followed by adverbs ("toi da ", "em lo ").
var firstPersonTail = regexp.MustCompile(`(?:^|\s)(?:toi|tui|minh|em|con|chau|chung toi|nha toi)(?: (?:da|lo|bi|hai|moi|vua|cung|lai|that|mat|hoi))* $`)

func compilePatterns(ps ...pattern) []injectionPattern {
	out := make([]injectionPattern, len(ps))
	for i, p := range ps {
		expr := strings.ReplaceAll(p.re, "y", "i")
		out[i] = injectionPattern{re: regexp.MustCompile(expr), notFirstPerson: p.notFirstPerson, needs: requiredLiterals(expr)}
	}
	return out
}

// requiredLiterals returns strings one of which occurs in every match of
// expr, or nil when it finds none (then every text must be tried).
func requiredLiterals(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	return literalsOf(re.Simplify())
}

// literalsOf is requiredLiterals on a parsed expression: a literal is
// itself; an alternation needs one of its branches' sets; a concatenation
// or a repetition of at least once needs what any one part needs (the
// part with the longest shortest string is kept, as the most selective).
func literalsOf(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return literalsOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literalsOf(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l := literalsOf(sub)
			if l == nil {
				return nil
			}
			out = append(out, l...)
		}
		return out
	case syntax.OpConcat:
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			l := literalsOf(sub)
			if l == nil {
				continue
			}
			shortest := len(l[0])
			for _, s := range l[1:] {
				shortest = min(shortest, len(s))
			}
			if shortest > bestLen {
				best, bestLen = l, shortest
			}
		}
		return best
	}
	return nil
}

// mayMatch reports whether text contains one of the strings p needs.
func (p injectionPattern) mayMatch(text string) bool {
	if p.needs == nil {
		return true
	}
	for _, s := range p.needs {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// IsInjection reports whether text looks like an attempt to make the bot
// ignore its rules, play a role or reveal its instructions. Invisible
// characters are tried both as nothing and as spaces, so that they cannot
// split or join the words of a pattern.
func IsInjection(text string) bool {
	variants := []string{vi.StripInvisible(text, "")}
	if spaced := vi.StripInvisible(text, " "); spaced != variants[0] {
		variants = append(variants, spaced)
	}
	for _, variant := range variants {
		f := strings.ReplaceAll(vi.Fold(variant), "y", "i")
		for _, p := range injectionPatterns {
			if !p.mayMatch(f) {
				continue
			}
			for _, m := range p.re.FindAllStringIndex(f, -1) {
				if !p.notFirstPerson || !firstPersonTail.MatchString(f[:m[0]]) {
					return true
				}
			}
		}
	}
	return false
}
