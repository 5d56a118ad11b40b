package knowledge

import (
	"math"
	"slices"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// lexical is a BM25 index over an entry's questions (each paraphrase and
// the title is a short document; an entry scores by its best one) and the
// passages of its answer (weighed less). Terms are folded syllables and
// syllable pairs; document frequency is counted per entry. It is the
// second opinion beside the learned model.
type lexical struct {
	k1, b    float64
	wPassage float64
	nEntries int
	// postings of each term; a posting is a document and its term
	// frequency.
	post map[uint64][]lexPosting
	idf  map[uint64]float64
	// skipIDF: in a large base, terms with an IDF below it (found in more
	// than a quarter of the entries) count in the query's mass but their
	// long postings are not scored: they cost most and decide little.
	skipIDF float64
	// docs: entry, field (question or passage), and the BM25 length norm
	docEntry []int32
	docPass  []bool
	docNorm  []float64
}

type lexPosting struct {
	doc int32
	tf  uint16
}

// lexDoc is one document to index.
type lexDoc struct {
	entry   int32
	passage bool
	toks    []vi.Token
}

func lexTerms(toks []vi.Token, dst []uint64) []uint64 {
	for i, t := range toks {
		dst = append(dst, hashFeature(kindFold1, t.Fold))
		if i > 0 {
			var h fnv
			h.byte(kindFold2)
			h.str(toks[i-1].Fold)
			h.byte(' ')
			h.str(t.Fold)
			dst = append(dst, uint64(h))
		}
	}
	return dst
}

func newLexical(docs []lexDoc, nEntries int) *lexical {
	lx := &lexical{k1: 1.2, b: 0.5, wPassage: 0.35, nEntries: nEntries,
		post: map[uint64][]lexPosting{}, idf: map[uint64]float64{}}
	df := map[uint64]int{}
	lastEntry := map[uint64]int32{}
	var lens [2]float64
	var counts [2]int
	var terms []uint64
	docLen := make([]int, len(docs))
	for d, doc := range docs {
		terms = lexTerms(doc.toks, terms[:0])
		docLen[d] = len(doc.toks)
		f := 0
		if doc.passage {
			f = 1
		}
		lens[f] += float64(len(doc.toks))
		counts[f]++
		slices.Sort(terms)
		for i := 0; i < len(terms); {
			j := i
			for j < len(terms) && terms[j] == terms[i] {
				j++
			}
			t := terms[i]
			lx.post[t] = append(lx.post[t], lexPosting{doc: int32(d), tf: uint16(min(j-i, math.MaxUint16))})
			if le, ok := lastEntry[t]; !ok || le != doc.entry {
				lastEntry[t] = doc.entry
				df[t]++
			}
			i = j
		}
		lx.docEntry = append(lx.docEntry, doc.entry)
		lx.docPass = append(lx.docPass, doc.passage)
	}
	var avg [2]float64
	for f := range avg {
		if counts[f] > 0 {
			avg[f] = lens[f] / float64(counts[f])
		}
	}
	lx.docNorm = make([]float64, len(docs))
	for d := range docs {
		f := 0
		if lx.docPass[d] {
			f = 1
		}
		l := float64(docLen[d])
		lx.docNorm[d] = lx.k1 * (1 - lx.b + lx.b*l/max(avg[f], 1))
	}
	n := float64(nEntries)
	for t, c := range df {
		lx.idf[t] = math.Log(1 + (n-float64(c)+0.5)/(float64(c)+0.5))
	}
	if nEntries >= largeBase {
		q := 0.25 * n
		lx.skipIDF = math.Log(1 + (n-q+0.5)/(q+0.5))
	}
	return lx
}

// lexScore is one entry's lexical score, normalised by the query's mass
// (the score of a document that is the query itself, roughly): 1 means
// every query term matched in one question.
type lexScore struct {
	entry int32
	score float64
}

// rank scores every entry for the query tokens and returns the best k,
// best first. buf is scratch space of len(docs) (nil to allocate).
func (lx *lexical) rank(toks []vi.Token, k int, sc *lexScratch) []lexScore {
	terms := lexTerms(toks, sc.terms[:0])
	slices.Sort(terms)
	terms = slices.Compact(terms)
	sc.terms = terms
	mass := 0.0
	for _, t := range terms {
		idf, ok := lx.idf[t]
		if !ok {
			// a term the base lacks still counts in the query's mass
			idf = math.Log(1 + (float64(lx.nEntries)+0.5)/0.5)
		}
		mass += idf
		if idf < lx.skipIDF {
			continue
		}
		for _, p := range lx.post[t] {
			tf := float64(p.tf)
			s := idf * tf * (lx.k1 + 1) / (tf + lx.docNorm[p.doc])
			if sc.doc[p.doc] == 0 {
				sc.touched = append(sc.touched, p.doc)
			}
			sc.doc[p.doc] += s
		}
	}
	if mass == 0 {
		return nil
	}
	// best question and best passage of each entry
	for _, d := range sc.touched {
		e := lx.docEntry[d]
		s := sc.doc[d]
		sc.doc[d] = 0
		if lx.docPass[d] {
			if s > sc.pass[e] {
				if sc.pass[e] == 0 && sc.ques[e] == 0 {
					sc.entries = append(sc.entries, e)
				}
				sc.pass[e] = s
			}
		} else if s > sc.ques[e] {
			if sc.pass[e] == 0 && sc.ques[e] == 0 {
				sc.entries = append(sc.entries, e)
			}
			sc.ques[e] = s
		}
	}
	out := make([]lexScore, 0, len(sc.entries))
	for _, e := range sc.entries {
		out = append(out, lexScore{entry: e, score: (sc.ques[e] + lx.wPassage*sc.pass[e]) / mass})
		sc.ques[e], sc.pass[e] = 0, 0
	}
	sc.touched, sc.entries = sc.touched[:0], sc.entries[:0]
	better := func(a, b lexScore) bool { return a.score > b.score || a.score == b.score && a.entry < b.entry }
	// the k best to the front, in order (k is small)
	for i := 0; i < k && i < len(out); i++ {
		b := i
		for j := i + 1; j < len(out); j++ {
			if better(out[j], out[b]) {
				b = j
			}
		}
		out[i], out[b] = out[b], out[i]
	}
	return out[:min(k, len(out))]
}

// lexScratch is the working memory of one ranking.
type lexScratch struct {
	terms      []uint64
	doc        []float64
	touched    []int32
	ques, pass []float64
	entries    []int32
}

func (lx *lexical) scratch() *lexScratch {
	return &lexScratch{doc: make([]float64, len(lx.docEntry)), ques: make([]float64, lx.nEntries), pass: make([]float64, lx.nEntries)}
}
