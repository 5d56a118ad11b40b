package vi

import (
	"strings"
)

// Greeting and politeness wording that carries no intent. Leading phrases
// are removed from the start of a query, trailing ones from its end, and
// "anywhere" phrases wherever they occur.
var (
	leadingPoliteness = []string{
		"xin chào", "chào", "chào bạn", "chào ad", "chào admin", "chào anh", "chào chị",
		"chào em", "chào cô", "chào chú", "chào bác", "chào cán bộ", "chào trợ lý",
		"hello", "helo", "hi", "hí", "hey", "alo", "a lô", "dạ", "vâng", "ừ", "à",
		"ad ơi", "admin ơi", "ad", "admin", "bạn ơi", "em ơi", "anh ơi", "chị ơi",
		"cô ơi", "chú ơi", "bác ơi", "bot ơi", "trợ lý ơi", "ơi", "ạ",
		"cho em hỏi", "cho mình hỏi", "cho tôi hỏi", "cho cháu hỏi", "cho con hỏi",
		"cho tớ hỏi", "cho hỏi", "cho em hỏi chút", "cho em hỏi với", "cho mình hỏi chút",
		"cho tôi hỏi chút", "cho hỏi chút", "xin hỏi", "em muốn hỏi", "tôi muốn hỏi",
		"mình muốn hỏi", "cháu muốn hỏi", "con muốn hỏi", "em hỏi chút", "hỏi chút",
		"cho em hỏi là", "cho mình hỏi là", "cho tôi hỏi là", "làm ơn", "ok", "oke",
		"em chào", "cháu chào", "tôi chào", "chào buổi sáng", "chào buổi tối",
		"xin lỗi", "cho em hỏi cái", "em hỏi", "cho hỏi là", "cho e hỏi", "cho mik hỏi",
		"cho mk hỏi", "cho t hỏi", "cho m hỏi", "cho mh hỏi", "cho e hỏi chút", "e hỏi",
		"e muốn hỏi", "mik muốn hỏi", "ad ơi cho em hỏi", "em xin hỏi", "cháu xin hỏi",
	}
	trailingPoliteness = []string{
		"ạ", "à", "nhé", "nhe", "nha", "nhá", "nhỉ", "với", "với ạ", "giúp", "giùm",
		"giúp em", "giúp em với", "giúp mình với", "giúp tôi với", "giúp cháu với",
		"giúp với", "giúp em với ạ", "hộ em", "hộ em với", "hộ với", "cảm ơn",
		"cám ơn", "cảm ơn ad", "cảm ơn nhiều", "cảm ơn ạ", "thanks", "thank",
		"tks", "thank you", "ad", "admin", "ơi", "vậy", "hả", "ạ ạ",
		"với nhé", "nhé ạ", "nha ad", "ad ơi", "admin ơi", "giúp em nhé", "giúp mình",
		"giúp tôi", "giùm em", "giùm với", "em cảm ơn", "cháu cảm ơn", "mình cảm ơn",
		"tôi cảm ơn", "xin cảm ơn", "em cám ơn", "vậy ạ",
	}
	anywherePoliteness = []string{
		"cho em hỏi", "cho mình hỏi", "cho tôi hỏi", "cho cháu hỏi", "cho con hỏi",
		"cho hỏi", "xin chào", "cảm ơn", "cám ơn", "làm ơn", "giúp em với",
		"giúp tôi với", "giúp mình với", "giúp cháu với", "với ạ", "ad ơi",
		"admin ơi", "bạn ơi", "em cảm ơn", "xin cảm ơn", "ạ",
	}
)

// contentBefore lists words after which a trailing "nha" is the noun
// "nhà" (tận nhà, ở nhà), not the particle.
var contentBefore = map[string]bool{
	"tan": true, "tai": true, "o": true, "ve": true, "den": true, "toi": true,
	"cua": true, "chu": true, "ca": true, "trong": true, "xa": true, "nha": true,
	"sang": true, "qua": true, "lai": true,
}

var leadingSet, trailingSet, anywhereSet *PhraseSet[struct{}]

func init() {
	mk := func(list []string) *PhraseSet[struct{}] {
		m := make(map[string]struct{}, len(list))
		for _, p := range list {
			m[p] = struct{}{}
		}
		return NewPhraseSet(m)
	}
	leadingSet = mk(leadingPoliteness)
	trailingSet = mk(trailingPoliteness)
	anywhereSet = mk(anywherePoliteness)
}

// StripPoliteness removes greetings and politeness words from query tokens
// (query side only). It returns the remaining tokens and whether anything
// was removed. When everything would be removed, it returns no tokens.
func StripPoliteness(toks []Token) ([]Token, bool) {
	start, end := 0, len(toks)
	// Leading phrases, repeatedly.
	for start < end {
		_, n := leadingSet.Longest(toks[:end], start)
		if n == 0 {
			break
		}
		start += n
	}
	// Trailing phrases, repeatedly: try every phrase ending at end.
	for end > start {
		n := trailingMatch(toks[start:end])
		if n == 0 {
			break
		}
		if last := toks[end-1]; n == 1 && last.Fold == "nha" && !last.Accented &&
			end-2 >= start && contentBefore[toks[end-2].Fold] {
			break // "tan nha" = tận nhà
		}
		end -= n
	}
	out := make([]Token, 0, end-start)
	stripped := start > 0 || end < len(toks)
	for i := start; i < end; {
		if _, n := anywhereSet.Longest(toks[:end], i); n > 0 {
			i += n
			stripped = true
			continue
		}
		out = append(out, toks[i])
		i++
	}
	return out, stripped
}

// trailingMatch returns the length of the longest trailing phrase that
// ends exactly at the end of toks.
func trailingMatch(toks []Token) int {
	best := 0
	for k := 1; k <= 4 && k <= len(toks); k++ {
		i := len(toks) - k
		if _, n := trailingSet.Longest(toks, i); n > 0 && i+n == len(toks) && n > best {
			best = n
		}
		// Longest may prefer a longer phrase running past the end; check
		// exact-length items too.
		if best < k && trailingSet.exactAt(toks, i, k) {
			best = k
		}
	}
	return best
}

// exactAt reports whether a phrase of exactly n tokens matches toks at i.
func (ps *PhraseSet[V]) exactAt(toks []Token, i, n int) bool {
	for _, it := range ps.byFirst[toks[i].Fold] {
		if len(it.p.Toks) == n && it.p.MatchAt(toks, i) {
			return true
		}
	}
	return false
}

// Sentences splits cleaned text into sentences on . ? ! ; … and line
// breaks. Empty pieces are dropped.
func Sentences(clean string) []string {
	f := func(r rune) bool {
		switch r {
		case '.', '?', '!', ';', '\n', '…', '\r':
			return true
		}
		return false
	}
	return splitTrim(clean, f)
}

// splitTrim splits s at the runes sep reports and drops empty pieces.
func splitTrim(s string, sep func(rune) bool) []string {
	parts := strings.FieldsFunc(s, sep)
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Clauses splits a cleaned sentence into clauses on commas, colons and
// dashes, and before the conjunction "nhưng" (typed with its accents:
// unaccented "nhung" is also "những"). Empty pieces are dropped.
func Clauses(sentence string) []string {
	sentence = strings.ReplaceAll(sentence, " nhưng ", ", nhưng ")
	f := func(r rune) bool {
		switch r {
		case ',', ':', '–', '—':
			return true
		}
		return false
	}
	return splitTrim(sentence, f)
}

// functionWords are folded grammatical words (pronouns, particles,
// auxiliaries, question words) that carry little topic information. They
// count little in coverage and never make a query "unknown".
var functionWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`toi em minh ban anh chi co chu bac ong ba chau con no ho chung ta
		roi thi la co khong duoc a nhe nha cua cho voi va hay hoac nay do kia oi vay the nao sao gi ai dau
		bao gio luc khi neu ma nhung vi nen de da dang se van cung rat qua lam cac mot nhieu it
		phai can muon biet hoi xin giup o tai tu den len xuong ra vao trong ngoai tren duoi
		hom nay mai qua luon chua moi nua thoi day kia day ne ha hả u nhi kieu chang hen`) {
		functionWords[w] = true
	}
}

// IsFunctionWord reports whether a folded syllable is a grammatical word
// (tôi, thì, là, được, không...).
func IsFunctionWord(fold string) bool { return functionWords[fold] }
