package vi

import "strings"

// Clause is one clause of a message, with where it sits.
type Clause struct {
	Text     string
	Sentence int  // index of the sentence it belongs to
	Asked    bool // its sentence ends with a question mark
}

// MessageClauses splits cleaned text into sentences (see Sentences) and
// each sentence into clauses (see Clauses), remembering which sentences
// ended with a question mark.
func MessageClauses(clean string) []Clause {
	var out []Clause
	sent := 0
	start := 0
	flush := func(end int, asked bool) {
		s := strings.TrimSpace(clean[start:end])
		if s != "" {
			for _, c := range Clauses(s) {
				out = append(out, Clause{Text: c, Sentence: sent, Asked: asked})
			}
			sent++
		}
	}
	for i, r := range clean {
		switch r {
		case '.', '?', '!', ';', '\n', '…', '\r':
			flush(i, r == '?')
			start = i + len(string(r))
		}
	}
	flush(len(clean), false)
	return out
}

// questionCues are wordings that ask something: question words, "được
// không", requests for guidance. They are matched anywhere in a clause.
var questionCues = phraseSet(`thế nào|như thế nào|làm sao|ra sao|sao|tại sao|vì sao|ở đâu|đâu|chỗ nào|nơi nào|
	bao nhiêu|bao lâu|bao giờ|khi nào|lúc nào|mấy ngày|mấy tiền|mất mấy|gì|nào|ai|
	được không|được ko|có được không|hay không|hay chưa|phải không|đúng không|có phải|
	có cần|có mất|có bị|có nên|nên làm|có thể|hướng dẫn|chỉ giúp|chỉ cho|chỉ tôi|chỉ em|chỉ bác|
	chỉ cháu|chỉ mình|chỉ con|nhờ|cách|tư vấn|giải thích|xin hỏi|hỏi`)

// endCues ask a yes/no question when they end a clause ("có mất tiền
// không", "đã xong chưa").
var endCues = phraseSet(`không|chưa|ko|k|hông|hok|khum|hả|à|chứ|nhỉ|sao`)

// trailingParticles may follow an end cue ("được không ạ", "chưa vậy").
var trailingParticles = phraseSet(`ạ|vậy|thế|nhỉ|nhé|nha|ạ ạ|em|anh|chị|bạn|ad|admin|cô|chú|bác|cháu|với|hả|à|ơi|em ơi|ad ơi`)

// IsQuestion reports whether a clause asks something: it has a question
// word or a request for guidance, or ends with a yes/no particle.
func IsQuestion(toks []Token) bool {
	if questionCues.Contains(toks) {
		return true
	}
	end := len(toks)
	for end > 0 {
		n := 0
		for k := 1; k <= 2 && k <= end; k++ {
			if trailingParticles.exactAt(toks, end-k, k) {
				n = k
			}
		}
		if n == 0 {
			break
		}
		end -= n
	}
	for k := 1; k <= 1 && k <= end; k++ {
		if endCues.exactAt(toks, end-k, k) {
			return true
		}
	}
	return false
}

func phraseSet(list string) *PhraseSet[struct{}] {
	m := map[string]struct{}{}
	for _, p := range strings.Split(list, "|") {
		if p = strings.TrimSpace(p); p != "" {
			m[p] = struct{}{}
		}
	}
	return NewPhraseSet(m)
}
