package knowledge

import (
	"strconv"
	"strings"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// Some words of a message say who is asking or wraps the question rather
// than what it is about: an adult's age ("mẹ tôi 65 tuổi"), a relative
// ("bố tôi", "vợ tôi"), or the generic words every procedure shares
// ("bao nhiêu tiền", "ở đâu", "online", "hồ sơ"). slotFactors scales
// their weight so that the entry with the question's topic words wins
// over one that happens to share the wrapping.

const (
	// contextWeight scales an adult's age and kinship words (as little
	// as a grammatical word).
	contextWeight = functionWeight
	// genericWeight scales generic procedure words.
	genericWeight = 0.5
	// adultAge is the age from which "N tuổi" describes an adult.
	adultAge = 15
)

var (
	// childCues mark a message about a child: kinship words and ages
	// then keep their weight (the base has an entry about children).
	childCues = phraseSetOf("trẻ|trẻ em|trẻ nhỏ|con nhỏ|em bé|bé|cháu bé|cháu nhỏ|học sinh|sơ sinh|" +
		"mới sinh|mới đẻ|đứa nhỏ|đứa bé|con dưới|cháu dưới|dưới 14|dưới 6|lớp")
	// kinWords are adult relatives. "con" and "cháu" are not among them:
	// alone they often mean a child ("đăng ký định danh cho con").
	kinWords = phraseSetOf("bố|mẹ|cha|má|ông|bà|vợ|chồng|cụ|bác|chú|cô|dì|cậu|mợ|thím|anh|chị|" +
		"ông bà|bố mẹ|cha mẹ|ông nội|bà nội|ông ngoại|bà ngoại|bố chồng|mẹ chồng|bố vợ|mẹ vợ|" +
		"anh trai|chị gái|em trai|em gái|ông già|bà già|bà cụ|ông cụ")
	// kinOwners follow an unaccented kinship word to make it one ("me
	// toi"): unaccented "co", "ba", "bo" are more often other words.
	kinOwners = map[string]bool{"toi": true, "em": true, "minh": true, "chau": true, "con": true, "tui": true, "tao": true, "nha": true}
	// genericWords are shared by the questions of most procedures.
	genericWords = phraseSetOf("tiền|phí|lệ phí|chi phí|mất phí|tốn|tốn tiền|hết|bao|nhiêu|bao nhiêu|" +
		"ở đâu|chỗ nào|nơi nào|đâu|online|trực tuyến|qua mạng|trên mạng|cần|cách")
	// requestPhrases ask for help or name the paperwork every procedure
	// has ("hướng dẫn mình với", "nhờ chỉ giúp", "cần chuẩn bị gì"):
	// they weigh like generic words. Matched over whole slots.
	requestPhrases = phraseSetOf("hướng dẫn|hướng dẫn giúp|chỉ dẫn|chỉ giúp|chỉ cho|chỉ dùm|chỉ hộ|chỉ mình|chỉ em|" +
		"chỉ tôi|chỉ bác|chỉ cháu|chỉ con|chỉ tui|giúp|giúp đỡ|giúp với|nhờ|nhờ ai|tư vấn|giải thích|" +
		"chuẩn bị|mang theo|thủ tục|cách làm|làm sao|làm thế nào|như thế nào|thế nào|ra sao")
	// hearsayPhrases say where the asker heard of something ("nghe nói",
	// "mọi người bảo") or when ("bây giờ"): the wrapping of a question,
	// weighed like a kinship word.
	hearsayPhrases = phraseSetOf("bây giờ|hiện giờ|giờ đây|dạo này|" +
		"nghe nói|nghe bảo|nghe đâu|nghe đồn|nghe kể|nghe người ta nói|nghe người ta bảo|" +
		"nghe mọi người nói|nghe mọi người bảo|người ta nói|người ta bảo|mọi người nói|mọi người bảo|" +
		"thấy bảo|thấy nói|thấy người ta nói|thấy người ta bảo|thấy mọi người|ai cũng bảo|ai cũng nói|" +
		"hàng xóm bảo|hàng xóm nói|bạn bè bảo|bạn bè nói")
	// ageKeepers before "N tuổi" make the age a rule of a procedure
	// ("đổi căn cước khi đủ 25 tuổi"), not a description of the asker.
	ageKeepers = map[string]bool{"du": true, "tron": true, "khi": true, "duoi": true, "tren": true, "tu": true, "qua": true}
)

// hasChildCue reports whether the tokens talk about a child: a child
// word or an age under adultAge.
func hasChildCue(toks []vi.Token) bool {
	if childCues.Contains(toks) {
		return true
	}
	for i := 0; i+1 < len(toks); i++ {
		if toks[i+1].Fold == "tuoi" && isDigits(toks[i].Fold) {
			if n, err := strconv.Atoi(toks[i].Fold); err == nil && n < adultAge {
				return true
			}
		}
	}
	return false
}

// slotFactors returns the weight factor of each slot: contextWeight for
// an adult's age and (when the message is not about a child) kinship
// words, genericWeight for generic procedure words, 1 otherwise.
func slotFactors(slots []vi.Slot, child bool) []float64 {
	out := make([]float64, len(slots))
	for i, s := range slots {
		out[i] = 1
		if len(s.Alts) == 0 || len(s.Alts[0].Toks) == 0 {
			continue
		}
		toks := s.Alts[0].Toks
		switch {
		case !child && isKin(slots, i):
			out[i] = contextWeight
		case wholeMatch(genericWords, toks):
			out[i] = genericWeight
		}
	}
	phraseFactors(slots, requestPhrases, genericWeight, out)
	phraseFactors(slots, hearsayPhrases, contextWeight, out)
	// "65 tuổi": an adult's age.
	for i := 0; i+1 < len(slots); i++ {
		n, ok := slotNumber(slots[i])
		if !ok || n < adultAge || slots[i+1].Fold() != "tuoi" {
			continue
		}
		if i > 0 && ageKeepers[slots[i-1].Fold()] {
			continue
		}
		out[i], out[i+1] = contextWeight, contextWeight
	}
	return out
}

// phraseFactors lowers to w the factor of the slots that a phrase of set
// spans exactly (whole slots, in their preferred reading).
func phraseFactors(slots []vi.Slot, set *vi.PhraseSet[struct{}], w float64, out []float64) {
	var buf [32]vi.Token
	var ownBuf [32]int
	toks, owner := buf[:0], ownBuf[:0]
	for i, s := range slots {
		if len(s.Alts) == 0 {
			continue
		}
		for _, t := range s.Alts[0].Toks {
			toks = append(toks, t)
			owner = append(owner, i)
		}
	}
	for i := 0; i < len(toks); {
		_, n := set.Longest(toks, i)
		if n == 0 {
			i++
			continue
		}
		first, last := owner[i], owner[i+n-1]
		whole := (i == 0 || owner[i-1] != first) && (i+n == len(toks) || owner[i+n] != last)
		if whole { // not a phrase cutting a slot
			for j := first; j <= last; j++ {
				out[j] = min(out[j], w)
			}
		}
		i += n
	}
}

// isKin reports whether slot i is an adult relative: typed with its
// accents, or unaccented and followed by an owner ("me toi").
func isKin(slots []vi.Slot, i int) bool {
	toks := slots[i].Alts[0].Toks
	if !wholeMatch(kinWords, toks) {
		return false
	}
	for _, t := range toks {
		if !t.Accented {
			if i+1 >= len(slots) {
				return false
			}
			return kinOwners[strings.SplitN(slots[i+1].Fold(), " ", 2)[0]]
		}
	}
	return true
}

// wholeMatch reports whether a phrase of set spans all of toks.
func wholeMatch(set *vi.PhraseSet[struct{}], toks []vi.Token) bool {
	_, n := set.Longest(toks, 0)
	return n == len(toks)
}

// slotNumber is the value of a slot made of one number.
func slotNumber(s vi.Slot) (int, bool) {
	if len(s.Alts) == 0 || len(s.Alts[0].Toks) != 1 || !isDigits(s.Alts[0].Toks[0].Fold) {
		return 0, false
	}
	n, err := strconv.Atoi(s.Alts[0].Toks[0].Fold)
	return n, err == nil
}
