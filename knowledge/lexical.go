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
	// terms are the hashed terms of the base, sorted; the postings of
	// terms[i] are post[off[i]:off[i+1]] (a posting packs a document and
	// its term frequency, doc<<8 | tf), its IDF idf[i].
	terms []uint64
	off   []uint32
	post  []uint32
	idf   []float32
	// skipIDF: in a large base, terms with an IDF below it (found in more
	// than a quarter of the entries) count in the query's mass but their
	// long postings are not scored: they cost most and decide little.
	skipIDF float64
	// docs: entry, field (question or passage), and the BM25 length norm
	docEntry []int32
	docPass  []bool
	docNorm  []float64
}

// lexTF is the largest term frequency a posting records.
const lexTF = 255

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
	lx := &lexical{k1: 1.2, b: 0.5, wPassage: 0.35, nEntries: nEntries}
	type occ struct {
		term uint64
		doc  int32
		tf   uint16
	}
	var occs []occ
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
			occs = append(occs, occ{term: terms[i], doc: int32(d), tf: uint16(min(j-i, lexTF))})
			i = j
		}
		lx.docEntry = append(lx.docEntry, doc.entry)
		lx.docPass = append(lx.docPass, doc.passage)
	}
	slices.SortFunc(occs, func(a, b occ) int {
		switch {
		case a.term < b.term:
			return -1
		case a.term > b.term:
			return 1
		}
		return int(a.doc - b.doc)
	})
	n := float64(nEntries)
	lx.post = make([]uint32, len(occs))
	for i := 0; i < len(occs); {
		j := i
		df := 0
		last := int32(-1)
		for j < len(occs) && occs[j].term == occs[i].term {
			lx.post[j] = uint32(occs[j].doc)<<8 | uint32(occs[j].tf)
			if e := docs[occs[j].doc].entry; e != last {
				last = e
				df++
			}
			j++
		}
		lx.terms = append(lx.terms, occs[i].term)
		lx.off = append(lx.off, uint32(i))
		lx.idf = append(lx.idf, float32(math.Log(1+(n-float64(df)+0.5)/(float64(df)+0.5))))
		i = j
	}
	lx.off = append(lx.off, uint32(len(occs)))
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
		ti, ok := slices.BinarySearch(lx.terms, t)
		if !ok {
			// a term the base lacks still counts in the query's mass
			mass += math.Log(1 + (float64(lx.nEntries)+0.5)/0.5)
			continue
		}
		idf := float64(lx.idf[ti])
		mass += idf
		if idf < lx.skipIDF {
			continue
		}
		for _, p := range lx.post[lx.off[ti]:lx.off[ti+1]] {
			doc, tf := int32(p>>8), float64(p&lexTF)
			s := idf * tf * (lx.k1 + 1) / (tf + lx.docNorm[doc])
			if sc.doc[doc] == 0 {
				sc.touched = append(sc.touched, doc)
			}
			sc.doc[doc] += s
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
