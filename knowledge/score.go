package knowledge

import (
	"math"
	"sort"
	"strings"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// query is an analysed query segment.
type query struct {
	slots    []vi.Slot
	terms    map[string]float64 // term key → query weight
	self     float64            // score of the query against itself
	accented bool
	norm     string // folded text of the preferred reading
}

// scored is an entry's retrieval score.
type scored struct {
	entry int
	score float64
}

// analyse turns the tokens of one segment (politeness already stripped)
// into a query: typo repair, abbreviation and synonym expansion, features.
func (ix *Index) analyse(toks []vi.Token) *query {
	toks = ix.repair(toks)
	slots := vi.Expand(toks)
	q := &query{slots: slots, terms: make(map[string]float64, 8*len(slots))}
	q.accented = vi.AccentedRatio(toks, countsForRatio) >= ix.p.accentedRatio
	p := &ix.p

	add := func(key string, w float64) {
		if w > q.terms[key] {
			q.terms[key] = w
		}
	}
	isOrig := func(s vi.Slot, t vi.Token) bool {
		for _, o := range s.Orig {
			if o.Text == t.Text {
				return true
			}
		}
		return false
	}
	for si, s := range slots {
		for _, a := range s.Alts {
			for j, t := range a.Toks {
				add(kindUni+t.Fold, p.wUni*a.Weight)
				if j+1 < len(a.Toks) {
					add(kindBi+t.Fold+" "+a.Toks[j+1].Fold, p.wBi*a.Weight)
				}
				if toneEligible(t) && (q.accented || (t.Accented && isOrig(s, t))) {
					add(kindTone+t.Tone, p.wTone*a.Weight)
				}
			}
			if si+1 < len(slots) && len(a.Toks) > 0 {
				last := a.Toks[len(a.Toks)-1]
				for _, b := range slots[si+1].Alts {
					if len(b.Toks) == 0 {
						continue
					}
					add(kindBi+last.Fold+" "+b.Toks[0].Fold, p.wBi*math.Min(a.Weight, b.Weight))
				}
			}
		}
	}
	// Self score: the preferred reading scored against itself.
	var prim []vi.Token
	for _, s := range slots {
		if len(s.Alts) > 0 {
			prim = append(prim, s.Alts[0].Toks...)
		}
	}
	parts := make([]string, len(prim))
	for i, t := range prim {
		parts[i] = t.Fold
	}
	q.norm = strings.Join(parts, " ")
	sat := (p.k1 + 1) / (1 + p.k1*(1-p.b+p.b*float64(len(prim))/ix.q.avgdl))
	selfTerms := map[string]float64{}
	for i, t := range prim {
		selfTerms[kindUni+t.Fold] = p.wUni
		if i+1 < len(prim) {
			selfTerms[kindBi+t.Fold+" "+prim[i+1].Fold] = p.wBi
		}
		if toneEligible(t) && (q.accented || t.Accented) {
			selfTerms[kindTone+t.Tone] = p.wTone
		}
	}
	for key, w := range selfTerms {
		q.self += w * ix.termIDF(key) * sat
	}
	q.self *= 1 + p.wBag
	return q
}

// termIDF is the question-field IDF of a term; unknown unigrams get the
// largest IDF, unknown bigrams the mean IDF of their syllables.
func (ix *Index) termIDF(key string) float64 {
	if id, ok := ix.q.terms[key]; ok {
		return ix.q.idf[id]
	}
	switch {
	case strings.HasPrefix(key, kindBi):
		a, b, _ := strings.Cut(key[len(kindBi):], " ")
		return (ix.foldIDF(a) + ix.foldIDF(b)) / 2
	case strings.HasPrefix(key, kindTone):
		return ix.maxIDF
	}
	return ix.maxIDF
}

func (ix *Index) foldIDF(f string) float64 {
	if v, ok := ix.uniIDF[f]; ok {
		return v
	}
	return ix.maxIDF
}

// rank scores every entry for q, best first.
func (ix *Index) rank(q *query) []scored {
	nd, ne := len(ix.q.docEntry), len(ix.entries)
	accp, _ := ix.accPool.Get().(*[]float64)
	if accp == nil || len(*accp) != nd+3*ne {
		s := make([]float64, nd+3*ne)
		accp = &s
	}
	acc := *accp
	clear(acc)
	docAcc := acc[:nd]
	bagAcc := acc[nd : nd+ne]
	bodyAcc := acc[nd+ne : nd+2*ne]
	best := acc[nd+2*ne:]
	p := &ix.p
	for key, w := range q.terms {
		ix.q.accumulate(docAcc, key, w, p.k1, p.b)
		if p.wBag > 0 {
			ix.bag.accumulate(bagAcc, key, w, p.bagK1, p.bagB)
		}
		if p.wBody > 0 {
			ix.body.accumulate(bodyAcc, key, w, p.bodyK1, p.bodyB)
		}
	}
	for d, s := range docAcc {
		if e := ix.q.docEntry[d]; s > best[e] {
			best[e] = s
		}
	}
	out := make([]scored, 0, ne)
	for e, s := range best {
		s += p.wBag*bagAcc[e] + p.wBody*bodyAcc[e]
		if s > 0 {
			out = append(out, scored{entry: e, score: s})
		}
	}
	ix.accPool.Put(accp)
	sort.Slice(out, func(a, b int) bool {
		if out[a].score != out[b].score {
			return out[a].score > out[b].score
		}
		return ix.entries[out[a].entry].ID < ix.entries[out[b].entry].ID
	})
	return out
}

// accumulate adds the BM25 contribution of one query term to acc, indexed
// by document. Bag and body documents are numbered like entries.
func (f *field) accumulate(acc []float64, key string, w, k1, b float64) {
	id, ok := f.terms[key]
	if !ok {
		return
	}
	idf := f.idf[id]
	for _, p := range f.postings[id] {
		tf := float64(p.tf)
		dl := f.docLen[p.doc]
		acc[p.doc] += w * idf * tf * (k1 + 1) / (tf + k1*(1-b+b*dl/f.avgdl))
	}
}

// slotIDF is the weight of a slot in coverage: the largest mean IDF over
// its readings.
func (ix *Index) slotIDF(s vi.Slot) float64 {
	best := 0.0
	for _, a := range s.Alts {
		if len(a.Toks) == 0 {
			continue
		}
		sum := 0.0
		for _, t := range a.Toks {
			sum += ix.foldIDF(t.Fold)
		}
		if m := sum / float64(len(a.Toks)); m > best {
			best = m
		}
	}
	return best
}

// coverage is the IDF-weighted share of query slots whose words occur in
// entry e's title, paraphrases or tags.
func (ix *Index) coverage(q *query, e int) float64 {
	ev := ix.entryVocab[e]
	var num, den float64
	for _, s := range q.slots {
		w := ix.slotIDF(s)
		den += w
		frac := 0.0
		for _, a := range s.Alts {
			if len(a.Toks) == 0 {
				continue
			}
			hit := 0
			for _, t := range a.Toks {
				if _, ok := ev[t.Fold]; ok {
					hit++
				}
			}
			f := float64(hit) / float64(len(a.Toks))
			if f > frac {
				frac = f
			}
		}
		num += w * frac
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// unknownShare is the IDF-weighted share of query slots none of whose
// readings occur anywhere in the base (answers included).
func (ix *Index) unknownShare(q *query) float64 {
	var num, den float64
	for _, s := range q.slots {
		w := ix.slotIDF(s)
		den += w
		known := false
		for _, a := range s.Alts {
			for _, t := range a.Toks {
				if ix.vocab[t.Fold] > 0 {
					known = true
				}
			}
		}
		if !known {
			num += w
		}
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// repair fixes out-of-vocabulary query tokens: sticky words are split into
// known syllables ("dichvucong" → "dich vu cong") and typos of 4 or more
// letters are snapped to the unique known syllable at edit distance 1 (2
// for 7 or more letters).
func (ix *Index) repair(toks []vi.Token) []vi.Token {
	var out []vi.Token
	for i := 0; i < len(toks); {
		if n := vi.IsAbbreviation(toks, i); n > 0 {
			out = append(out, toks[i:i+n]...)
			i += n
			continue
		}
		t := toks[i]
		i++
		if !t.IsSyllable() || ix.vocab[t.Fold] > 0 || foreign[t.Fold] {
			out = append(out, t)
			continue
		}
		if parts := ix.split(t.Fold); parts != nil {
			for _, p := range parts {
				out = append(out, vi.NewToken(p))
			}
			continue
		}
		if len(t.Fold) >= 4 {
			if w, ok := ix.snap(t.Fold); ok {
				nt := vi.NewToken(w)
				out = append(out, nt)
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// split splits an unknown folded word of 6 or more letters into at most 4
// known syllables of 2 or more letters, preferring the fewest pieces.
func (ix *Index) split(w string) []string {
	if len(w) < 6 {
		return nil
	}
	n := len(w)
	const inf = 1 << 30
	cost := make([]int, n+1)
	prev := make([]int, n+1)
	for i := 1; i <= n; i++ {
		cost[i] = inf
		for j := max(0, i-7); j <= i-2; j++ {
			if cost[j] == inf {
				continue
			}
			if ix.vocab[w[j:i]] < 2 {
				continue
			}
			if c := cost[j] + 1; c < cost[i] {
				cost[i], prev[i] = c, j
			}
		}
	}
	if cost[n] == inf || cost[n] > 4 || cost[n] < 2 {
		return nil
	}
	var parts []string
	for i := n; i > 0; i = prev[i] {
		parts = append(parts, w[prev[i]:i])
	}
	for a, b := 0, len(parts)-1; a < b; a, b = a+1, b-1 {
		parts[a], parts[b] = parts[b], parts[a]
	}
	return parts
}

// snap returns the unique vocabulary word closest to w within the allowed
// edit distance.
func (ix *Index) snap(w string) (string, bool) {
	maxD := 1
	if len(w) >= 7 {
		maxD = 2
	}
	for d := 1; d <= maxD; d++ {
		found, count := "", 0
		for l := len(w) - d; l <= len(w)+d; l++ {
			for _, c := range ix.vocabLen[l] {
				if osaDistance(w, c, d) <= d {
					if count == 0 || c != found {
						count++
						found = c
					}
				}
			}
		}
		if count == 1 {
			return found, true
		}
		if count > 1 {
			return "", false
		}
	}
	return "", false
}

// osaDistance is the optimal-string-alignment (restricted
// Damerau–Levenshtein) distance between ASCII strings a and b, or limit+1
// when it exceeds limit.
func osaDistance(a, b string, limit int) int {
	la, lb := len(a), len(b)
	if la-lb > limit || lb-la > limit {
		return limit + 1
	}
	var buf [3][32]int
	if lb+1 > 32 {
		return limit + 1
	}
	p2, p1, cur := buf[0][:lb+1], buf[1][:lb+1], buf[2][:lb+1]
	for j := 0; j <= lb; j++ {
		p1[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(p1[j]+1, cur[j-1]+1, p1[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, p2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		p2, p1, cur = p1, cur, p2
	}
	return p1[lb]
}
