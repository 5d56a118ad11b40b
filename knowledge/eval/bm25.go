package eval

import (
	"math"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/colecommune/trolyso/knowledge"
)

// BM25 is the plain baseline an answer engine must beat: one document per
// entry (title, questions and answer body), tokenised like SQLite FTS5's
// unicode61 tokenizer with remove_diacritics 2 (lower case, diacritics
// removed, "đ" kept), the question's words OR-ed, and the best entry by
// Okapi BM25 (k1 1.2, b 0.75, FTS5's defaults) always answered.
type BM25 struct {
	entries []*knowledge.Entry
	tf      []map[string]int
	dl      []float64
	avgdl   float64
	df      map[string]int
}

// NewBM25 indexes the entries.
func NewBM25(entries []*knowledge.Entry) *BM25 {
	b := &BM25{entries: entries, df: map[string]int{}}
	total := 0.0
	for _, e := range entries {
		text := e.Title + "\n" + strings.Join(e.Questions, "\n") + "\n" + e.Body
		tf := map[string]int{}
		toks := fts5Tokens(text)
		for _, t := range toks {
			tf[t]++
		}
		for t := range tf {
			b.df[t]++
		}
		b.tf = append(b.tf, tf)
		b.dl = append(b.dl, float64(len(toks)))
		total += float64(len(toks))
	}
	b.avgdl = total / math.Max(float64(len(entries)), 1)
	return b
}

// fts5Tokens splits like unicode61 with remove_diacritics 2: runs of
// letters and digits, lower-cased, with combining marks removed after
// canonical decomposition.
func fts5Tokens(s string) []string {
	s = norm.NFD.String(strings.ToLower(s))
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// Decide answers the best entry, or declines when no word matches.
func (b *BM25) Decide(q string) knowledge.Decision {
	const k1, bb = 1.2, 0.75
	n := float64(len(b.entries))
	type sc struct {
		i int
		s float64
	}
	var scores []sc
	terms := map[string]bool{}
	for _, t := range fts5Tokens(q) {
		terms[t] = true
	}
	for i, tf := range b.tf {
		s := 0.0
		for t := range terms {
			f := float64(tf[t])
			if f == 0 {
				continue
			}
			df := float64(b.df[t])
			idf := math.Log((n - df + 0.5) / (df + 0.5))
			if idf < 1e-6 {
				idf = 1e-6 // FTS5 clamps negative IDF
			}
			s += idf * f * (k1 + 1) / (f + k1*(1-bb+bb*b.dl[i]/b.avgdl))
		}
		if s > 0 {
			scores = append(scores, sc{i, s})
		}
	}
	if len(scores) == 0 {
		return knowledge.Decision{Band: knowledge.BandDecline}
	}
	sort.SliceStable(scores, func(x, y int) bool { return scores[x].s > scores[y].s })
	d := knowledge.Decision{Band: knowledge.BandAnswer}
	for _, s := range scores[:min(3, len(scores))] {
		m := knowledge.Match{Entry: b.entries[s.i], Score: s.s}
		d.Ranked = append(d.Ranked, m)
	}
	d.Matches = d.Ranked[:1]
	return d
}
