package vi

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Lexicon knows the short forms people type (teencode, abbreviations) and
// groups of interchangeable wordings. The general Vietnamese ones are
// built in; a knowledge base adds its own domain terms (see NewLexicon).
//
// Canonical replaces short forms by their expansion on both sides of a
// match; the synonym groups and the reverse of the abbreviations generate
// variants of training questions.
type Lexicon struct {
	abbr *PhraseSet[[]Phrase] // short form → expansions (the first is canonical)
	// short lists, for each canonical expansion (folded), the short forms
	// that expand to it.
	short    map[string][]Phrase
	shortSet *PhraseSet[string]
	syn      *PhraseSet[[]Phrase] // member → the other members
}

// generalAbbreviations are chat shorthand any Vietnamese resident may type:
// short forms separated by "|", then the expansion (several, separated by
// "|", when the short form is ambiguous; the first is used when matching).
var generalAbbreviations = [][2]string{
	{"k|ko|kô|kg|kh|khg|hk|hok|hôk|khum|khôg|khog|hem|hum|hổng|hông|k0|kog|kođ|khôngg", "không"},
	{"hong", "không"},
	{"dc|đc|đươc|dươc", "được"},
	{"dk|đk", "được|đăng ký"},
	{"đky|dky|đki|đkí|dki|đăngký|dangky", "đăng ký"},
	{"j|gj|zì|dì", "gì"},
	{"ntn|ntnao|ntnào|nthenao", "như thế nào"},
	{"lsao|lmsao|lms", "làm sao"},
	// Colloquial question endings ask the same as "thế nào", "làm sao",
	// "được không".
	{"kiểu gì|kiểu j|kiểu nào|kiểu chi|kiểu sao|kiểu gì giờ|kiểu gì đây", "như thế nào"},
	{"sao giờ|sao đây|làm sao giờ|làm sao đây|giờ làm sao|thế nào giờ|thế nào đây|tính sao|tính sao giờ|tính sao đây", "làm sao"},
	{"được hong|đc hong|dc hong|được hem|đc hem|dc hem|được hok|dc hok|đc hok|được khum|dc khum", "được không"},
	{"mk|mậtkhẩu|matkhau", "mật khẩu"},
	{"pass|password|passwork|passwd|pw|pass word", "mật khẩu"},
	{"tk|acc|account|tàikhoản|taikhoan", "tài khoản"},
	{"sdt|sđt|sdth|sđth", "số điện thoại"},
	{"dt|đt|dth|đth|dthoai|đthoại|đthoai|dienthoai", "điện thoại"},
	{"ubnd", "ủy ban nhân dân"},
	{"cmnd|cmt", "chứng minh nhân dân"},
	{"vs", "với"},
	{"bn", "bao nhiêu|bạn"},
	{"bnhieu|bnh", "bao nhiêu"},
	{"ng", "người"},
	{"mn|mng", "mọi người"},
	{"cx|cg", "cũng"},
	{"r", "rồi"},
	{"trc|trk", "trước"},
	{"ms", "mới"},
	{"lm", "làm"},
	{"bít|bik|bit", "biết"},
	{"bt", "biết"},
	{"kb|kbiet|kbt", "không biết"},
	{"e", "em"},
	{"mik|mjk|mh|mìk|mềnh", "mình"},
	{"b", "bạn"},
	{"v|z|zậy|dzậy|zay|dzay", "vậy"},
	{"onl", "online"},
	{"ud|apps", "ứng dụng"},
	{"hs", "hồ sơ"},
	{"sd|sdung", "sử dụng"},
	{"thui", "thôi"},
	{"mun|mún|mốn", "muốn"},
	{"lun|luon", "luôn"},
	{"kq", "kết quả"},
	{"h", "giờ"},
	{"kd", "kinh doanh"},
	{"gcn", "giấy chứng nhận"},
	{"xog|xg", "xong"},
	{"stk", "số tài khoản"},
	{"ck", "chuyển khoản|chồng"},
	{"vk", "vợ"},
	{"cj", "chị"},
	{"rùi|ròi|roài", "rồi"},
	{"thik", "thích"},
	{"ngta", "người ta"},
	{"wa|qá", "quá"},
	{"nhìu|nhiu", "nhiều"},
	{"đag|dag|đg", "đang"},
	{"bh|bjo|bgio|bjờ|bgiờ", "bao giờ"},
	{"ntin", "nhắn tin"},
	{"tgian|tg", "thời gian"},
	{"qr", "qr"},
}

// generalSynonyms are interchangeable everyday wordings (used to vary
// training questions).
var generalSynonyms = []string{
	"cài|tải|cài đặt|tải về",
	"đổi|thay|thay đổi",
	"online|trực tuyến|qua mạng|trên mạng",
	"quên|không nhớ",
	"ở đâu|chỗ nào|nơi nào",
	"làm sao|thế nào|như thế nào|ra sao|làm thế nào|bằng cách nào",
	"bao lâu|mấy ngày|bao nhiêu ngày|mất bao lâu",
	"không nhận được|không thấy|chưa nhận được|chưa thấy",
	"làm mất|bị mất|đánh rơi|đánh mất|thất lạc",
	"điện thoại mới|máy mới|máy khác|điện thoại khác",
	"người mất|người chết|qua đời",
	"muốn|cần",
	"được không|có được không",
}

// General is the lexicon of built-in general Vietnamese shorthand.
var General = mustLexicon(nil, nil)

func mustLexicon(abbr [][2]string, syn []string) *Lexicon {
	l, err := NewLexicon(abbr, syn)
	if err != nil {
		panic(err)
	}
	return l
}

// NewLexicon returns the general lexicon extended with domain
// abbreviations (short forms "a|b|c" → expansions "x|y") and synonym
// groups ("a|b|c"). A domain entry for a short form replaces the general
// one.
func NewLexicon(abbr [][2]string, syn []string) (*Lexicon, error) {
	am := map[string][]Phrase{}
	l := &Lexicon{short: map[string][]Phrase{}}
	add := func(rows [][2]string) error {
		for _, row := range rows {
			var exps []Phrase
			for _, e := range strings.Split(row[1], "|") {
				if e = strings.TrimSpace(e); e != "" {
					exps = append(exps, ParsePhrase(e))
				}
			}
			if len(exps) == 0 {
				return fmt.Errorf("abbreviation %q has no expansion", row[0])
			}
			for _, k := range strings.Split(row[0], "|") {
				if k = strings.TrimSpace(k); k != "" {
					if len(Tokenize(k)) == 0 {
						return fmt.Errorf("abbreviation %q has no letters", k)
					}
					am[k] = exps
				}
			}
		}
		return nil
	}
	if err := add(generalAbbreviations); err != nil {
		return nil, err
	}
	if err := add(abbr); err != nil {
		return nil, err
	}
	l.abbr = NewPhraseSet(am)
	for k, exps := range am {
		key := foldPhrase(exps[0])
		kp := ParsePhrase(k)
		if len(kp.Toks) == 1 && foldPhrase(kp) != key {
			l.short[key] = append(l.short[key], kp)
		}
	}
	for key := range l.short {
		sortPhrases(l.short[key])
	}
	exp := map[string]string{}
	for key := range l.short {
		exp[key] = key
	}
	l.shortSet = NewPhraseSet(exp)
	synm := map[string][]Phrase{}
	for _, g := range append(append([]string(nil), generalSynonyms...), syn...) {
		var members []Phrase
		for _, m := range strings.Split(g, "|") {
			if m = strings.TrimSpace(m); m != "" {
				members = append(members, ParsePhrase(m))
			}
		}
		if len(members) < 2 {
			return nil, fmt.Errorf("synonym group %q has fewer than two members", g)
		}
		for i, m := range members {
			others := make([]Phrase, 0, len(members)-1)
			others = append(others, members[:i]...)
			others = append(others, members[i+1:]...)
			synm[foldPhrase(m)] = append(synm[foldPhrase(m)], others...)
		}
	}
	l.syn = NewPhraseSet(synm)
	return l, nil
}

func foldPhrase(p Phrase) string {
	parts := make([]string, len(p.Toks))
	for i, t := range p.Toks {
		parts[i] = t.Fold
	}
	return strings.Join(parts, " ")
}

func sortPhrases(ps []Phrase) {
	// deterministic order: by folded text
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && foldPhrase(ps[j]) < foldPhrase(ps[j-1]); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// Canonical replaces short forms by their first expansion ("mk" → "mật
// khẩu", "ko" → "không").
func (l *Lexicon) Canonical(toks []Token) []Token {
	out := make([]Token, 0, len(toks)+4)
	for i := 0; i < len(toks); {
		exps, n := l.abbr.Longest(toks, i)
		if n == 0 {
			out = append(out, toks[i])
			i++
			continue
		}
		out = append(out, exps[0].Toks...)
		i += n
	}
	return out
}

// IsAbbreviation reports whether a known short form starts at toks[i], and
// how many tokens it spans.
func (l *Lexicon) IsAbbreviation(toks []Token, i int) int {
	_, n := l.abbr.Longest(toks, i)
	return n
}

// Abbreviate replaces each wording that has a short form by one of its
// short forms with probability p ("mật khẩu" → "mk").
func (l *Lexicon) Abbreviate(toks []Token, p float64, rng *rand.Rand) []Token {
	out := make([]Token, 0, len(toks))
	for i := 0; i < len(toks); {
		key, n := l.shortSet.Longest(toks, i)
		if n == 0 || rng.Float64() >= p {
			out = append(out, toks[i])
			i++
			continue
		}
		forms := l.short[key]
		out = append(out, forms[rng.IntN(len(forms))].Toks...)
		i += n
	}
	return out
}

// Synonym replaces one wording of a synonym group, chosen at random, by
// another member; ok is false when toks has none.
func (l *Lexicon) Synonym(toks []Token, rng *rand.Rand) (out []Token, ok bool) {
	type at struct {
		i, n   int
		others []Phrase
	}
	var found []at
	for i := 0; i < len(toks); {
		others, n := l.syn.Longest(toks, i)
		if n == 0 {
			i++
			continue
		}
		found = append(found, at{i, n, others})
		i += n
	}
	if len(found) == 0 {
		return toks, false
	}
	f := found[rng.IntN(len(found))]
	o := f.others[rng.IntN(len(f.others))]
	out = make([]Token, 0, len(toks)+2)
	out = append(out, toks[:f.i]...)
	out = append(out, o.Toks...)
	out = append(out, toks[f.i+f.n:]...)
	return out, true
}

// Canonical replaces general short forms by their expansion (see
// Lexicon.Canonical).
func Canonical(toks []Token) []Token { return General.Canonical(toks) }
