package knowledge

import (
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// params are the retrieval parameters. BM25 runs over short
// pseudo-documents (the title, each paraphrase, the tags) with document
// frequency counted per entry and the entry scored by its best
// pseudo-document; a "bag" field (all of an entry's paraphrases together)
// and the answer body add smaller contributions.
type params struct {
	k1, b         float64 // question pseudo-documents
	bagK1, bagB   float64 // all paraphrases of an entry together
	bodyK1, bodyB float64 // answer body

	wUni, wBi, wTone float64 // feature weights
	wBag, wBody      float64 // field weights relative to the best paraphrase

	// docCov blends in how much of a paraphrase the query explains: a
	// paraphrase's score is multiplied by 1 − docCov + docCov·c, where c is
	// the IDF share of its syllables found in the query.
	docCov float64

	// accentedRatio is the share of accented syllables from which a query
	// is treated as written with diacritics (tone-key features on for every
	// syllable).
	accentedRatio float64

	// wNarrative is the weight of the clauses of a message that do not
	// ask the question (1: every clause weighs the same).
	wNarrative float64

	// An out-of-scope cue in the question is background when its IDF
	// share of the message is at most cueShare, the top score at least
	// cueTop and the coverage at least cueCov of what the cue leaves
	// (cueShare 0: every cue declines).
	cueShare, cueTop, cueCov float64

	// covRerank is γ of rerank: the weight of coverage in the order of
	// the best entries (0: BM25 order).
	covRerank float64
}

var defaultParams = params{
	k1: 1.2, b: 0.5,
	bagK1: 1.2, bagB: 0.3,
	bodyK1: 1.2, bodyB: 0.75,
	wUni: 1.0, wBi: 0.5, wTone: 0.5,
	wBag: 0.5, wBody: 0.15,
	docCov:        0,
	accentedRatio: 0.5,
	wNarrative:    0.5,
	cueShare:      0.25, cueTop: 0.5, cueCov: 0.8,
	covRerank: 0.5,
}

// Feature kinds of a term (see feature).
const (
	kindUni  = 1 // a folded syllable
	kindBi   = 2 // two adjacent folded syllables
	kindTone = 3 // a tone key
)

// feature identifies a term: its kind in the top two bits and up to two
// word ids (see Index.words) of 31 bits each.
type feature uint64

const wordBits = 31

func mkFeature(kind, a, b uint32) feature {
	return feature(uint64(kind)<<62 | uint64(a)<<wordBits | uint64(b))
}

func (f feature) kind() uint32 { return uint32(f >> 62) }

func (f feature) words() (a, b uint32) {
	const mask = 1<<wordBits - 1
	return uint32(f>>wordBits) & mask, uint32(f) & mask
}

// noTerm is the term id of a feature the base does not have.
const noTerm = ^uint32(0)

// Match is one retrieved entry with its score.
type Match struct {
	Entry *Entry
	Score float64
}

// Index is the retrieval index of a loaded base. It is read-only after
// NewIndex and safe for concurrent use.
//
// Words (folded syllables and tone keys) are interned to ids, terms
// (features over word ids) to term ids, and each field keeps its postings
// in one array with an offset per term, so the index holds no per-term
// strings, maps or slices.
type Index struct {
	entries []*Entry
	p       params

	q    field // title, each paraphrase and the tags: one pseudo-document each
	bag  field // all of an entry's title, paraphrases and tags: one document per entry
	body field // the answer: one document per entry

	// idfs[df] is the IDF of a term found in df of the entries.
	idfs   []float64
	maxIDF float64

	// words interns the folded syllables and tone keys of the base;
	// wordList is its inverse.
	words    map[string]uint32
	wordList []string
	// wordCount counts each word as a folded syllable over the whole base,
	// answers included (0 for a word seen only as a tone key); used for
	// typo snapping and out-of-vocabulary detection.
	wordCount []uint32
	// uniTerm is the term id of each word's unigram when the question
	// field has it, else noTerm.
	uniTerm []uint32
	// terms gives each feature of the base its term id. The terms of the
	// question field come first, [0, nQ); the bag field has the same
	// terms; terms found only in answers follow.
	terms map[feature]uint32

	// entryWords[entryWordOff[e]:entryWordOff[e+1]] are the sorted ids of
	// the folded syllables of entry e's title, paraphrases and tags; used
	// for coverage.
	entryWordOff []uint32
	entryWords   []uint32
	// texts[textOff[e]:textOff[e+1]] is entry e's folded title,
	// paraphrases and tags, space-delimited, for phrase checks (see
	// entryText).
	texts   string
	textOff []uint32
	// deletes maps every string obtained by deleting up to snapMaxD
	// letters from a vocabulary word to the words it came from (indices
	// into snapWords): the symmetric-delete neighbourhood used by snap.
	deletes   map[string][]int32
	snapWords []string

	accPool sync.Pool
}

// Postings are packed into a uint32: the document in the high bits, the
// term frequency in the low tfBits (tfMax there means "look it up in
// bigTF").
const (
	tfBits  = 8
	tfMax   = 1<<tfBits - 1
	maxDocs = 1 << (32 - tfBits)
)

// field is an inverted index over documents that belong to entries, in
// compressed sparse row form: the postings of term t are
// post[off[t]:off[t+1]], in document order; terms from len(off)-1 on have
// none.
type field struct {
	off   []uint32
	post  []uint32          // doc<<tfBits | tf
	bigTF map[uint32]uint32 // term frequencies ≥ tfMax, by position in post
	// df is the number of entries each term occurs in; nil when every
	// document is an entry (df is then the length of the term's postings).
	df []uint32
	// docEntry is the entry of each document (nil when documents are
	// entries).
	docEntry []int32
	// norm is k1·(1 − b + b·len/avgdl) of each document.
	norm  []float64
	avgdl float64
	// docMass is the summed IDF of each document's distinct syllables
	// (question field, only when params.docCov > 0).
	docMass []float64
}

// nTerms is the number of term ids the field has postings arrays for.
func (f *field) nTerms() uint32 { return uint32(len(f.off) - 1) }

// postings returns the range of term t's postings in f.post.
func (f *field) postings(t uint32) (lo, hi uint32) {
	if t >= f.nTerms() {
		return 0, 0
	}
	return f.off[t], f.off[t+1]
}

// tf is the term frequency of the posting at position i.
func (f *field) tf(i uint32) float64 {
	if v := f.post[i] & tfMax; v != tfMax {
		return float64(v)
	}
	return float64(f.bigTF[i])
}

// fieldBuilder collects a field's documents before they are packed.
type fieldBuilder struct {
	perEntry bool     // one document per entry
	start    []uint32 // first pair of each document
	terms    []uint32 // term of each (term, tf) pair, sorted within a document
	tfs      []uint32
	docLen   []float64
	docEntry []int32
}

// add adds a document given the term ids of its features, one per
// occurrence; ids is sorted in place.
func (b *fieldBuilder) add(entry int32, ids []uint32, length int) {
	if len(b.docLen) >= maxDocs {
		panic("knowledge: too many documents to index")
	}
	b.start = append(b.start, uint32(len(b.terms)))
	b.docLen = append(b.docLen, float64(length))
	b.docEntry = append(b.docEntry, entry)
	slices.Sort(ids)
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		b.terms = append(b.terms, ids[i])
		b.tfs = append(b.tfs, uint32(j-i))
		i = j
	}
}

// build packs the documents into a field with postings for term ids
// below nTerms, BM25 parameters k1 and b and IDFs over nEntries entries.
func (b *fieldBuilder) build(nTerms int, k1, bb float64) field {
	f := field{off: make([]uint32, nTerms+1), post: make([]uint32, len(b.terms))}
	for _, t := range b.terms {
		f.off[t+1]++
	}
	for t := 1; t <= nTerms; t++ {
		f.off[t] += f.off[t-1]
	}
	next := slices.Clone(f.off[:nTerms])
	b.start = append(b.start, uint32(len(b.terms)))
	for d := range b.docLen {
		for i := b.start[d]; i < b.start[d+1]; i++ {
			t, tf := b.terms[i], b.tfs[i]
			pos := next[t]
			next[t]++
			if tf >= tfMax {
				if f.bigTF == nil {
					f.bigTF = make(map[uint32]uint32)
				}
				f.bigTF[pos] = tf
				tf = tfMax
			}
			f.post[pos] = uint32(d)<<tfBits | tf
		}
	}
	total := 0.0
	for _, l := range b.docLen {
		total += l
	}
	f.avgdl = 1
	if len(b.docLen) > 0 {
		f.avgdl = math.Max(total/float64(len(b.docLen)), 1)
	}
	f.norm = make([]float64, len(b.docLen))
	for d, dl := range b.docLen {
		f.norm[d] = k1 * (1 - bb + bb*dl/f.avgdl)
	}
	if !b.perEntry {
		f.docEntry = slices.Clip(b.docEntry)
		// Documents of an entry are consecutive, so a term's entries
		// change along its postings once per entry it occurs in.
		f.df = make([]uint32, nTerms)
		for t := range nTerms {
			last := int32(-1)
			for _, p := range f.post[f.off[t]:f.off[t+1]] {
				if e := f.docEntry[p>>tfBits]; e != last {
					last = e
					f.df[t]++
				}
			}
		}
	}
	return f
}

// idf is the IDF of term t in field f.
func (ix *Index) idf(f *field, t uint32) float64 {
	if f.df != nil {
		return ix.idfs[f.df[t]]
	}
	return ix.idfs[f.off[t+1]-f.off[t]]
}

// idf is the BM25 inverse document frequency with df counted over entries.
func idf(n, df int) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// foreign lists ASCII words that are not Vietnamese syllables; they do not
// count in the accented ratio and get no tone-key feature.
var foreign = map[string]bool{
	"vneid": true, "otp": true, "app": true, "online": true, "pdf": true, "qr": true,
	"nfc": true, "cccd": true, "sim": true, "email": true, "zalo": true, "facebook": true,
	"passcode": true, "ok": true, "pin": true, "wifi": true, "id": true, "code": true,
	"link": true, "file": true, "web": true, "website": true, "iphone": true,
	"android": true, "play": true, "store": true, "login": true, "smartphone": true,
	"usb": true, "token": true, "sms": true, "vssid": true, "gov": true, "vn": true,
	"ios": true, "ch": true, "face": true, "pass": true, "ad": true, "admin": true,
}

// NewIndex builds the index of entries.
func NewIndex(entries []*Entry) *Index {
	return newIndex(entries, defaultParams)
}

func newIndex(entries []*Entry, p params) *Index {
	ix := &Index{
		entries: entries,
		p:       p,
		words:   make(map[string]uint32),
		terms:   make(map[feature]uint32),
	}
	n := len(entries)
	ix.idfs = make([]float64, n+1)
	for df := range ix.idfs {
		ix.idfs[df] = idf(n, df)
	}
	ix.maxIDF = ix.idfs[0]

	// Titles, paraphrases and tags first, so that the terms of the
	// question field get the lowest ids.
	q, bag := fieldBuilder{}, fieldBuilder{perEntry: true}
	ix.entryWordOff = make([]uint32, 1, n+1)
	ix.textOff = make([]uint32, 1, n+1)
	var text strings.Builder
	var docIDs, bagIDs, ev []uint32
	for ei, e := range entries {
		entry := int32(ei)
		bagIDs, ev = bagIDs[:0], ev[:0]
		bagLen := 0
		text.WriteByte(' ')
		addDoc := func(toks []vi.Token, ids []uint32) {
			if len(toks) == 0 {
				return
			}
			for _, t := range toks {
				text.WriteString(t.Fold)
				text.WriteByte(' ')
			}
			text.WriteString("| ")
			bagIDs = append(bagIDs, ids...)
			q.add(entry, ids, len(toks))
			bagLen += len(toks)
			for _, t := range toks {
				w := ix.countWord(t.Fold)
				ev = append(ev, w)
			}
		}
		for i := -1; i < len(e.Questions); i++ {
			s := e.Title
			if i >= 0 {
				s = e.Questions[i]
			}
			toks := vi.Canonical(vi.Tokenize(s))
			docIDs = ix.docTerms(docIDs[:0], toks)
			addDoc(toks, docIDs)
		}
		// Tags form one pseudo-document; bigrams stay inside a tag.
		var tagToks []vi.Token
		docIDs = docIDs[:0]
		for _, tag := range e.Tags {
			toks := vi.Canonical(vi.Tokenize(tag))
			tagToks = append(tagToks, toks...)
			docIDs = ix.docTerms(docIDs, toks)
		}
		addDoc(tagToks, docIDs)
		bag.add(entry, bagIDs, bagLen)
		slices.Sort(ev)
		ix.entryWords = append(ix.entryWords, slices.Compact(ev)...)
		ix.entryWordOff = append(ix.entryWordOff, uint32(len(ix.entryWords)))
		ix.textOff = append(ix.textOff, uint32(text.Len()))
	}
	ix.texts = strings.Clone(text.String())
	nQ := len(ix.terms)

	body := fieldBuilder{perEntry: true}
	for ei, e := range entries {
		text := e.Answer
		if text == "" {
			text = e.Body
		}
		btoks := vi.Canonical(vi.Tokenize(stripMarkup(text)))
		for _, t := range btoks {
			ix.countWord(t.Fold)
		}
		docIDs = ix.docTerms(docIDs[:0], btoks)
		body.add(int32(ei), docIDs, len(btoks))
	}

	ix.q = q.build(nQ, p.k1, p.b)
	ix.bag = bag.build(nQ, p.bagK1, p.bagB)
	ix.body = body.build(len(ix.terms), p.bodyK1, p.bodyB)
	ix.entryWords = slices.Clip(ix.entryWords)
	ix.uniTerm = make([]uint32, len(ix.wordList))
	for w := range ix.uniTerm {
		ix.uniTerm[w] = noTerm
		if t, ok := ix.terms[mkFeature(kindUni, uint32(w), 0)]; ok && t < uint32(nQ) {
			ix.uniTerm[w] = t
		}
	}
	if p.docCov > 0 {
		ix.q.docMass = make([]float64, len(ix.q.norm))
		for f, t := range ix.terms {
			if f.kind() != kindUni || t >= uint32(nQ) {
				continue
			}
			v := ix.idf(&ix.q, t)
			for _, pp := range ix.q.post[ix.q.off[t]:ix.q.off[t+1]] {
				ix.q.docMass[pp>>tfBits] += v
			}
		}
	}
	ix.buildDeletes()
	return ix
}

// entryText is entry e's folded title, paraphrases and tags, each
// followed by " | ", with a leading space.
func (ix *Index) entryText(e int) string {
	return ix.texts[ix.textOff[e]:ix.textOff[e+1]]
}

// word returns the id of word w, adding it when new.
func (ix *Index) word(w string) uint32 {
	if id, ok := ix.words[w]; ok {
		return id
	}
	id := uint32(len(ix.wordList))
	if id >= 1<<wordBits {
		panic("knowledge: too many distinct words to index")
	}
	w = strings.Clone(w) // do not keep the text it was cut from
	ix.words[w] = id
	ix.wordList = append(ix.wordList, w)
	ix.wordCount = append(ix.wordCount, 0)
	return id
}

// countWord counts one occurrence of the folded syllable w.
func (ix *Index) countWord(w string) uint32 {
	id := ix.word(w)
	ix.wordCount[id]++
	return id
}

// vocabCount is the number of occurrences of folded syllable w in the
// base, answers included.
func (ix *Index) vocabCount(w string) uint32 {
	if id, ok := ix.words[w]; ok {
		return ix.wordCount[id]
	}
	return 0
}

// term returns the id of feature f, adding it when new.
func (ix *Index) term(f feature) uint32 {
	if id, ok := ix.terms[f]; ok {
		return id
	}
	id := uint32(len(ix.terms))
	ix.terms[f] = id
	return id
}

// stripMarkup removes the Markdown and template syntax of an answer body.
func stripMarkup(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			break
		}
		b.WriteByte(' ')
		s = s[i+j+2:]
	}
	out := b.String()
	// Drop link targets: [text](url) → text.
	var c strings.Builder
	for {
		i := strings.Index(out, "](")
		if i < 0 {
			c.WriteString(out)
			break
		}
		c.WriteString(out[:i])
		j := strings.IndexByte(out[i:], ')')
		if j < 0 {
			break
		}
		out = out[i+j+1:]
	}
	return c.String()
}

// docTerms appends the term ids of the features of a knowledge-base text
// to ids, one per occurrence, adding terms as needed.
func (ix *Index) docTerms(ids []uint32, toks []vi.Token) []uint32 {
	accented := vi.AccentedRatio(toks, countsForRatio) >= ix.p.accentedRatio
	for i, t := range toks {
		w := ix.word(t.Fold)
		ids = append(ids, ix.term(mkFeature(kindUni, w, 0)))
		if i+1 < len(toks) {
			ids = append(ids, ix.term(mkFeature(kindBi, w, ix.word(toks[i+1].Fold))))
		}
		if accented && toneEligible(t) {
			ids = append(ids, ix.term(mkFeature(kindTone, ix.word(t.Tone), 0)))
		}
	}
	return ids
}

func countsForRatio(t vi.Token) bool { return !foreign[t.Fold] }

func toneEligible(t vi.Token) bool { return t.IsSyllable() && !foreign[t.Fold] }

// Entries returns the indexed entries.
func (ix *Index) Entries() []*Entry { return ix.entries }

// featureName spells out feature f, for debugging ("u:hoa", "b:hoa don",
// "t:hoa2"); words the base does not have print as "?".
func (ix *Index) featureName(f feature) string {
	word := func(w uint32) string {
		if int(w) < len(ix.wordList) {
			return ix.wordList[w]
		}
		return "?"
	}
	a, b := f.words()
	switch f.kind() {
	case kindBi:
		return "b:" + word(a) + " " + word(b)
	case kindTone:
		return "t:" + word(a)
	}
	return "u:" + word(a)
}
