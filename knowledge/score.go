package knowledge

import (
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// query is an analysed query segment. Its features are grouped: one group
// per slot (the slot's syllables, tone keys and inner bigrams) and one per
// pair of adjacent slots (the bigrams across them). Each alternative
// reading of a group is scored separately and a group contributes only its
// best reading, so synonyms and ambiguous abbreviations never add up.
type query struct {
	slots    []vi.Slot
	slotW    []float64 // weight of each slot's part
	groups   []group
	unis     []uint32 // distinct syllable term ids (question field), any reading
	self     float64  // score of the preferred reading against itself
	accented bool
	norm     string // folded text of the preferred reading
}

type group struct {
	alts   [][]qterm
	weight float64 // weight of the part the group comes from
}

type qterm struct {
	f  feature
	w  float64
	id uint32 // term id, noTerm if the base does not have it
}

// scored is an entry's retrieval score.
type scored struct {
	entry int
	score float64
}

// queryWords gives the words of a query their ids: the base's ids, and
// further ids for words the base does not have.
type queryWords struct {
	ix    *Index
	extra []string
}

func (qw *queryWords) id(w string) uint32 {
	if id, ok := qw.ix.words[w]; ok {
		return id
	}
	n := uint32(len(qw.ix.wordList))
	for i, x := range qw.extra {
		if x == w {
			return n + uint32(i)
		}
	}
	qw.extra = append(qw.extra, w)
	return n + uint32(len(qw.extra)-1)
}

// part is a piece of a message (a clause) with the weight its words get
// in the query: narrative clauses around the question weigh less than the
// clause that asks it.
type part struct {
	toks   []vi.Token
	weight float64
}

// analyse turns the tokens of one segment (politeness already stripped)
// into a query: typo repair, abbreviation and synonym expansion, features.
func (ix *Index) analyse(toks []vi.Token) *query {
	return ix.analyseParts([]part{{toks: toks, weight: 1}})
}

// analyseParts analyses the parts of a message into one query. Each part
// is expanded on its own (no bigram crosses two parts) and its terms and
// coverage weight are scaled by its weight; a word repeated in several
// parts counts once, at its largest weight.
func (ix *Index) analyseParts(parts []part) *query {
	q := &query{}
	p := &ix.p
	qw := queryWords{ix: ix}
	var all []vi.Token
	for _, pt := range parts {
		all = append(all, pt.toks...)
	}
	q.accented = vi.AccentedRatio(all, countsForRatio) >= ix.p.accentedRatio
	child := hasChildCue(vi.Canonical(all))

	isOrig := func(s vi.Slot, t vi.Token) bool {
		for _, o := range s.Orig {
			if o.Text == t.Text {
				return true
			}
		}
		return false
	}
	var seen []uint64 // signatures of the groups added so far
	addGroup := func(g group, pw float64) {
		if len(g.alts) == 0 || len(g.alts[0]) == 0 {
			return
		}
		g.alts = dedupeAlts(g.alts)
		// Skip a group identical to an earlier one (a repeated word),
		// keeping the larger weight.
		sig := groupSig(g)
		if i := slices.Index(seen, sig); i >= 0 {
			if old := q.groups[i]; old.weight < pw {
				scaleGroup(old, pw/old.weight)
				q.groups[i].weight = pw
			}
			return
		}
		seen = append(seen, sig)
		for _, a := range g.alts {
			for i := range a {
				a[i].id = ix.termID(a[i].f)
				a[i].w *= pw
			}
		}
		g.weight = pw
		q.groups = append(q.groups, g)
	}
	n := 0
	var normParts []string
	for _, pt := range parts {
		if len(pt.toks) == 0 || pt.weight <= 0 {
			continue
		}
		toks := ix.repair(pt.toks)
		slots := vi.Expand(toks)
		factors := slotFactors(slots, child)
		for si, s := range slots {
			sw := pt.weight * factors[si]
			q.slots = append(q.slots, s)
			q.slotW = append(q.slotW, sw)
			var g group
			for _, a := range s.Alts {
				var terms []qterm
				for j, t := range a.Toks {
					w := p.wUni * a.Weight
					if _, known := ix.uniIDF(t.Fold); !known && isDigits(t.Fold) {
						w *= functionWeight // a stray number (age, year, amount)
					}
					wid := qw.id(t.Fold)
					terms = append(terms, qterm{f: mkFeature(kindUni, wid, 0), w: w})
					if j+1 < len(a.Toks) {
						terms = append(terms, qterm{f: mkFeature(kindBi, wid, qw.id(a.Toks[j+1].Fold)), w: p.wBi * a.Weight})
					}
					if toneEligible(t) && (q.accented || (t.Accented && isOrig(s, t))) {
						terms = append(terms, qterm{f: mkFeature(kindTone, qw.id(t.Tone), 0), w: p.wTone * a.Weight})
					}
				}
				if len(terms) > 0 {
					g.alts = append(g.alts, terms)
				}
			}
			addGroup(g, sw)
			if si+1 < len(slots) {
				var bg group
				for _, a := range s.Alts {
					if len(a.Toks) == 0 {
						continue
					}
					last := a.Toks[len(a.Toks)-1]
					for _, b := range slots[si+1].Alts {
						if len(b.Toks) == 0 {
							continue
						}
						bg.alts = append(bg.alts, []qterm{{f: mkFeature(kindBi, qw.id(last.Fold), qw.id(b.Toks[0].Fold)), w: p.wBi * math.Min(a.Weight, b.Weight)}})
					}
				}
				addGroup(bg, pt.weight*min(factors[si], factors[si+1]))
			}
		}
		for _, s := range slots {
			if len(s.Alts) > 0 {
				for _, t := range s.Alts[0].Toks {
					normParts = append(normParts, t.Fold)
				}
				n += len(s.Alts[0].Toks)
			}
		}
	}
	for _, g := range q.groups {
		for _, a := range g.alts {
			for _, t := range a {
				if t.id < ix.q.nTerms() && t.f.kind() == kindUni && !slices.Contains(q.unis, t.id) {
					q.unis = append(q.unis, t.id)
				}
			}
		}
	}
	// Self score: the preferred reading of every group against itself.
	q.norm = strings.Join(normParts, " ")
	sat := (p.k1 + 1) / (1 + p.k1*(1-p.b+p.b*float64(n)/ix.q.avgdl))
	for _, g := range q.groups {
		for _, t := range g.alts[0] {
			q.self += t.w * ix.termIDF(t) * sat
		}
	}
	q.self *= 1 + p.wBag
	return q
}

// scaleGroup multiplies the weights of a group's terms by f.
func scaleGroup(g group, f float64) {
	for _, a := range g.alts {
		for i := range a {
			a[i].w *= f
		}
	}
}

// dedupeAlts drops readings whose terms repeat an earlier reading's (two
// synonyms starting with the same syllable give the same cross-slot
// bigram), keeping the larger weight; a group scores only its best reading,
// so the result is the same with less work.
func dedupeAlts(alts [][]qterm) [][]qterm {
	out := alts[:0]
next:
	for _, a := range alts {
		for j, b := range out {
			if sameKeys(a, b) {
				if a[0].w > b[0].w {
					out[j] = a
				}
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

func sameKeys(a, b []qterm) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].f != b[i].f {
			return false
		}
	}
	return true
}

// groupSig is an FNV-1a hash of a group's features.
func groupSig(g group) uint64 {
	h := uint64(14695981039346656037)
	mix := func(b byte) {
		h ^= uint64(b)
		h *= 1099511628211
	}
	for _, a := range g.alts {
		for _, t := range a {
			for i := 0; i < 64; i += 8 {
				mix(byte(t.f >> i))
			}
			mix('|')
		}
		mix('/')
	}
	return h
}

// termID returns the term id of feature f, or noTerm.
func (ix *Index) termID(f feature) uint32 {
	if id, ok := ix.terms[f]; ok {
		return id
	}
	return noTerm
}

// termIDF is the question-field IDF of a term; unknown unigrams get the
// largest IDF, unknown bigrams the mean IDF of their syllables.
func (ix *Index) termIDF(t qterm) float64 {
	if t.id < ix.q.nTerms() {
		return ix.idf(&ix.q, t.id)
	}
	if t.f.kind() == kindBi {
		a, b := t.f.words()
		return (ix.wordIDF(a) + ix.wordIDF(b)) / 2
	}
	return ix.maxIDF
}

// uniIDF is the entry-level IDF of folded syllable f in the question
// field; ok is false when no question of the base has it.
func (ix *Index) uniIDF(f string) (v float64, ok bool) {
	if w, found := ix.words[f]; found {
		if t := ix.uniTerm[w]; t != noTerm {
			return ix.idf(&ix.q, t), true
		}
	}
	return 0, false
}

// wordIDF is the question-field IDF of a word id's syllable, or the
// largest IDF.
func (ix *Index) wordIDF(w uint32) float64 {
	if int(w) < len(ix.uniTerm) {
		if t := ix.uniTerm[w]; t != noTerm {
			return ix.idf(&ix.q, t)
		}
	}
	return ix.maxIDF
}

func (ix *Index) foldIDF(f string) float64 {
	if v, ok := ix.uniIDF(f); ok {
		return v
	}
	return ix.maxIDF
}

// scratch holds per-call buffers for rank.
type scratch struct {
	acc, alt, grp, cov []float64
	touchA             []int32
	touchG             []int32
}

// rank scores every entry for q and returns the best k (at least one),
// best first.
func (ix *Index) rank(q *query, k int) []scored {
	nd, ne := len(ix.q.norm), len(ix.entries)
	sc, _ := ix.accPool.Get().(*scratch)
	if sc == nil || len(sc.alt) != nd {
		sc = &scratch{acc: make([]float64, nd+3*ne), alt: make([]float64, nd), grp: make([]float64, nd)}
	}
	acc := sc.acc
	clear(acc)
	docAcc := acc[:nd]
	bagAcc := acc[nd : nd+ne]
	bodyAcc := acc[nd+ne : nd+2*ne]
	best := acc[nd+2*ne:]
	p := &ix.p
	ix.scoreGroups(&ix.q, q, docAcc, p.k1, sc)
	if p.wBag > 0 {
		ix.scoreGroups(&ix.bag, q, bagAcc, p.bagK1, sc)
	}
	if p.wBody > 0 {
		ix.scoreGroups(&ix.body, q, bodyAcc, p.bodyK1, sc)
	}
	if p.docCov > 0 {
		if len(sc.cov) != nd {
			sc.cov = make([]float64, nd)
		}
		cov := sc.cov
		clear(cov)
		for _, id := range q.unis {
			idf := ix.idf(&ix.q, id)
			lo, hi := ix.q.postings(id)
			for _, pp := range ix.q.post[lo:hi] {
				cov[pp>>tfBits] += idf
			}
		}
		for d := range docAcc {
			if docAcc[d] > 0 {
				c := math.Min(cov[d]/ix.q.docMass[d], 1)
				docAcc[d] *= 1 - p.docCov + p.docCov*c
			}
		}
	}
	for d, s := range docAcc {
		if e := ix.q.docEntry[d]; s > best[e] {
			best[e] = s
		}
	}
	// Keep the best k in order: score descending, then entry id.
	before := func(a, b scored) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return ix.entries[a.entry].ID < ix.entries[b.entry].ID
	}
	k = max(k, 1)
	if k > 64 {
		// Many wanted: sort them all rather than insert one by one.
		var all []scored
		for e, s := range best {
			if s += p.wBag*bagAcc[e] + p.wBody*bodyAcc[e]; s > 0 {
				all = append(all, scored{entry: e, score: s})
			}
		}
		ix.accPool.Put(sc)
		slices.SortFunc(all, func(a, b scored) int {
			if before(a, b) {
				return -1
			}
			if before(b, a) {
				return 1
			}
			return 0
		})
		return all[:min(k, len(all))]
	}
	out := make([]scored, 0, min(k, ne))
	for e, s := range best {
		s += p.wBag*bagAcc[e] + p.wBody*bodyAcc[e]
		if s <= 0 {
			continue
		}
		c := scored{entry: e, score: s}
		if len(out) == k {
			if !before(c, out[k-1]) {
				continue
			}
			out = out[:k-1]
		}
		i := len(out)
		out = append(out, c)
		for i > 0 && before(c, out[i-1]) {
			out[i] = out[i-1]
			i--
		}
		out[i] = c
	}
	ix.accPool.Put(sc)
	return out
}

// scoreGroups adds the BM25 score in field f of q's groups to acc
// (indexed by the field's documents), each group contributing its best
// reading.
func (ix *Index) scoreGroups(f *field, q *query, acc []float64, k1 float64, sc *scratch) {
	alt, grp := sc.alt[:len(f.norm)], sc.grp[:len(f.norm)]
	k1p := k1 + 1
	for _, g := range q.groups {
		sc.touchG = sc.touchG[:0]
		for _, a := range g.alts {
			sc.touchA = sc.touchA[:0]
			for _, t := range a {
				lo, hi := f.postings(t.id)
				if lo == hi {
					continue
				}
				wi := t.w * ix.idf(f, t.id)
				for i := lo; i < hi; i++ {
					pp := f.post[i]
					d := int32(pp >> tfBits)
					tf := float64(pp & tfMax)
					if tf == tfMax {
						tf = f.tf(i)
					}
					if alt[d] == 0 {
						sc.touchA = append(sc.touchA, d)
					}
					alt[d] += wi * tf * k1p / (tf + f.norm[d])
				}
			}
			for _, d := range sc.touchA {
				if alt[d] > grp[d] {
					if grp[d] == 0 {
						sc.touchG = append(sc.touchG, d)
					}
					grp[d] = alt[d]
				}
				alt[d] = 0
			}
		}
		for _, d := range sc.touchG {
			acc[d] += grp[d]
			grp[d] = 0
		}
	}
}

// functionWeight scales the coverage weight of grammatical words.
const functionWeight = 0.2

// slotIDF is the weight of a slot in coverage: the largest mean IDF over
// its readings; grammatical words weigh little.
func (ix *Index) slotIDF(s vi.Slot) float64 {
	if isFunctionSlot(s) || ix.isStrayNumber(s) {
		return functionWeight * ix.slotIDFRaw(s)
	}
	return ix.slotIDFRaw(s)
}

// isFunctionSlot reports whether a slot is a single grammatical word.
func isFunctionSlot(s vi.Slot) bool {
	return len(s.Alts) > 0 && len(s.Alts[0].Toks) == 1 && vi.IsFunctionWord(s.Alts[0].Toks[0].Fold)
}

// isStrayNumber reports whether a slot is a number the base's questions
// never use (an age, a year, an amount): it carries little about the
// topic, unlike "mức 2" or "dưới 14 tuổi".
func (ix *Index) isStrayNumber(s vi.Slot) bool {
	if len(s.Alts) != 1 || len(s.Alts[0].Toks) != 1 {
		return false
	}
	f := s.Alts[0].Toks[0].Fold
	if !isDigits(f) {
		return false
	}
	_, ok := ix.uniIDF(f)
	return !ok
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (ix *Index) slotIDFRaw(s vi.Slot) float64 {
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
	ev := ix.entryWords[ix.entryWordOff[e]:ix.entryWordOff[e+1]]
	var num, den float64
	for si, s := range q.slots {
		w := ix.slotIDF(s) * q.slotW[si]
		den += w
		num += w * ix.slotHit(s, ev)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// coverageWithout is coverage's numerator and denominator over the slots
// of q that are not made only of the syllables skip.
func (ix *Index) coverageWithout(q *query, e int, skip []string) (hit, total float64) {
	ev := ix.entryWords[ix.entryWordOff[e]:ix.entryWordOff[e+1]]
	for si, s := range q.slots {
		if len(s.Alts) == 0 {
			continue
		}
		inSkip := true
		for _, t := range s.Alts[0].Toks {
			if !slices.Contains(skip, t.Fold) {
				inSkip = false
			}
		}
		if inSkip {
			continue
		}
		w := ix.slotIDF(s) * q.slotW[si]
		total += w
		hit += w * ix.slotHit(s, ev)
	}
	return hit, total
}

// slotHit is the largest share of a reading's syllables found in ev.
func (ix *Index) slotHit(s vi.Slot, ev []uint32) float64 {
	frac := 0.0
	for _, a := range s.Alts {
		if len(a.Toks) == 0 {
			continue
		}
		hit := 0
		for _, t := range a.Toks {
			if w, ok := ix.words[t.Fold]; ok {
				if _, found := slices.BinarySearch(ev, w); found {
					hit++
				}
			}
		}
		if f := float64(hit) / float64(len(a.Toks)); f > frac {
			frac = f
		}
	}
	return frac
}

// unknownShare is the IDF-weighted share of query slots none of whose
// readings occur anywhere in the base (answers included).
func (ix *Index) unknownShare(q *query) float64 {
	var num, den float64
	for si, s := range q.slots {
		w := ix.slotIDF(s) * q.slotW[si]
		den += w
		known := isFunctionSlot(s) || ix.isStrayNumber(s)
		for _, a := range s.Alts {
			for _, t := range a.Toks {
				if _, ok := ix.uniIDF(t.Fold); ok {
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
		if ix.vocabCount(t.Fold) > 0 || foreign[t.Fold] {
			out = append(out, t)
			continue
		}
		if !t.IsSyllable() {
			// "muc2", "lop3": a known word glued to a number.
			if w, num, ok := splitTrailingNumber(t.Fold); ok && ix.vocabCount(w) > 0 {
				out = append(out, vi.NewToken(w), vi.NewToken(num))
				continue
			}
			out = append(out, t)
			continue
		}
		if w, ok := ix.respell(t.Fold); ok {
			out = append(out, vi.NewToken(w))
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

// splitTrailingNumber splits "muc2" into "muc" and "2".
func splitTrailingNumber(w string) (word, num string, ok bool) {
	i := len(w)
	for i > 0 && w[i-1] >= '0' && w[i-1] <= '9' {
		i--
	}
	if i == 0 || i == len(w) {
		return "", "", false
	}
	for j := 0; j < i; j++ {
		if w[j] < 'a' || w[j] > 'z' {
			return "", "", false
		}
	}
	return w[:i], w[i:], true
}

// teenOnsets are teencode spellings of initial consonants, tried on
// unknown words: "wen" → "quen", "qen" → "quen", "fai" → "phai", "jup" →
// "giup".
var teenOnsets = [][2]string{{"w", "qu"}, {"q", "qu"}, {"f", "ph"}, {"j", "gi"}, {"z", "d"}}

// respell rewrites a teencode initial consonant of an unknown folded word
// when the result is a known syllable.
func (ix *Index) respell(w string) (string, bool) {
	for _, r := range teenOnsets {
		if !strings.HasPrefix(w, r[0]) || len(w) < 2 {
			continue
		}
		if r[0] == "q" && w[1] == 'u' {
			continue
		}
		c := r[1] + w[len(r[0]):]
		if ix.vocabCount(c) > 0 {
			return c, true
		}
	}
	return "", false
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
			if ix.vocabCount(w[j:i]) < 2 {
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

// snapMaxD is the largest edit distance snap corrects.
const snapMaxD = 2

// buildDeletes builds the symmetric-delete neighbourhood of the
// vocabulary: two words within edit distance d (optimal string alignment)
// share a string reachable from each by at most d deletions.
func (ix *Index) buildDeletes() {
	ix.snapWords = make([]string, 0, len(ix.wordList))
	for id, w := range ix.wordList {
		if ix.wordCount[id] > 0 && len(w) >= 2 && len(w) < 32 {
			ix.snapWords = append(ix.snapWords, w)
		}
	}
	sort.Strings(ix.snapWords)
	ix.deletes = make(map[string][]int32, 16*len(ix.snapWords))
	for i, w := range ix.snapWords {
		forDeletes(w, snapMaxD, func(d string) {
			list := ix.deletes[d]
			if n := len(list); n > 0 && list[n-1] == int32(i) {
				return // the same deletion reached twice
			}
			ix.deletes[d] = append(list, int32(i))
		})
	}
}

// forDeletes calls f with w and every distinct-position deletion of 1 to
// maxD letters from w (a string may be passed more than once).
func forDeletes(w string, maxD int, f func(string)) {
	f(w)
	var rec func(s string, from, left int)
	rec = func(s string, from, left int) {
		for i := from; i < len(s); i++ {
			d := s[:i] + s[i+1:]
			f(d)
			if left > 1 && len(d) > 1 {
				rec(d, i, left-1)
			}
		}
	}
	if maxD > 0 && len(w) > 1 {
		rec(w, 0, maxD)
	}
}

// snap returns the unique vocabulary word closest to w within the allowed
// edit distance (1, or 2 for words of 7 or more letters): candidates come
// from the deletion neighbourhood, so no scan of the vocabulary is needed.
func (ix *Index) snap(w string) (string, bool) {
	if len(w) >= 32 {
		return "", false
	}
	maxD := 1
	if len(w) >= 7 {
		maxD = 2
	}
	var buf [64]int32
	cands := buf[:0]
	forDeletes(w, maxD, func(d string) { cands = append(cands, ix.deletes[d]...) })
	slices.Sort(cands)
	cands = slices.Compact(cands)
	var (
		best  [snapMaxD + 1]int32 // a word found at each distance
		count [snapMaxD + 1]int   // distinct words found at each distance
	)
	for _, c := range cands {
		if d := osaDistance(w, ix.snapWords[c], maxD); d >= 1 && d <= maxD {
			count[d]++
			best[d] = c
		}
	}
	for d := 1; d <= maxD; d++ {
		switch {
		case count[d] == 1:
			return ix.snapWords[best[d]], true
		case count[d] > 1:
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
