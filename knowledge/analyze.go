package knowledge

import (
	"strings"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// part is one piece of a message to score: its canonical tokens (see
// vi.Canonical), politeness removed, and whether it asks something.
type part struct {
	toks     []vi.Token
	asks     bool
	sentence int // the sentence it belongs to
}

// analysis is a message prepared for matching.
type analysis struct {
	whole part
	// clauses are the message's clauses when it has more than one.
	clauses []part
	// norm is the folded message without greetings, used to group
	// unanswered questions.
	norm string
}

// analyze cleans, tokenises and canonicalises a message, and splits it
// into clauses.

// windows are the pieces of a long message that may hold its question:
// each clause that asks something, alone and with the clause before it in
// its sentence (a question often refers back: "giờ bác quên mật khẩu, chỉ
// bác cách lấy lại"), and each sentence with such a clause. The second
// result tells which clause (1-based) ends each window.
func (a analysis) windows() ([][]vi.Token, []int) {
	var out [][]vi.Token
	var at []int
	seenSentence := map[int]bool{}
	for i, c := range a.clauses {
		if !c.asks {
			continue
		}
		out, at = append(out, c.toks), append(at, i+1)
		if i > 0 && a.clauses[i-1].sentence == c.sentence {
			out, at = append(out, concat(a.clauses[i-1].toks, c.toks)), append(at, i+1)
		}
		if !seenSentence[c.sentence] {
			seenSentence[c.sentence] = true
			var s []vi.Token
			n := 0
			for _, o := range a.clauses {
				if o.sentence == c.sentence {
					s = append(s, o.toks...)
					n++
				}
			}
			if n > 2 && len(s) < len(a.whole.toks) {
				out, at = append(out, s), append(at, i+1)
			}
		}
	}
	return out, at
}

func concat(a, b []vi.Token) []vi.Token {
	out := make([]vi.Token, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}
func (ix *Index) analyze(text string) analysis {
	clean := vi.Clean(stripMarkup(text))
	toks, _ := vi.StripPoliteness(vi.TokenizeClean(clean))
	a := analysis{whole: part{toks: ix.canon.Canonical(toks), asks: true}}
	a.norm = foldJoin(toks)
	cls := vi.MessageClauses(clean)
	if len(cls) < 2 {
		return a
	}
	for i, c := range cls {
		ts, _ := vi.StripPoliteness(vi.TokenizeClean(c.Text))
		if len(ts) == 0 {
			continue
		}
		ct := ix.canon.Canonical(ts)
		q := vi.IsQuestion(ct)
		if !q && c.Asked && (i+1 == len(cls) || cls[i+1].Sentence != c.Sentence) {
			q = true // the last clause of a sentence ending with "?"
		}
		a.clauses = append(a.clauses, part{toks: ct, asks: q, sentence: c.Sentence})
	}
	if len(a.clauses) < 2 {
		a.clauses = nil
	}
	return a
}

// stripMarkup removes HTML-like tags pasted into a message ("<b>quên mật
// khẩu</b>"), keeping the text between them.
func stripMarkup(s string) string {
	if !strings.ContainsRune(s, '<') {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 || !looksLikeTag(s[i+1:i+j]) {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		s = s[i+j+1:]
	}
	return b.String()
}

// looksLikeTag reports whether the text between < and > is a tag name
// with optional attributes ("b", "/b", "a href=…", "br/").
func looksLikeTag(in string) bool {
	in = strings.TrimPrefix(in, "/")
	if in == "" || len(in) > 200 {
		return false
	}
	c := in[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func foldJoin(toks []vi.Token) string {
	b := make([]byte, 0, 8*len(toks))
	for i, t := range toks {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, t.Fold...)
	}
	return string(b)
}
