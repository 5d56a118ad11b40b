package knowledge

import (
	"math"
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
}

var defaultParams = params{
	k1: 1.2, b: 0.5,
	bagK1: 1.2, bagB: 0.3,
	bodyK1: 1.2, bodyB: 0.75,
	wUni: 1.0, wBi: 0.5, wTone: 0.5,
	wBag: 0.5, wBody: 0.15,
	docCov:        0,
	accentedRatio: 0.5,
}

// Feature kinds prefixed to term keys.
const (
	kindUni  = "u:"
	kindBi   = "b:"
	kindTone = "t:"
)

// Match is one retrieved entry with its score.
type Match struct {
	Entry *Entry
	Score float64
}

// Index is the retrieval index of a loaded base. It is read-only after
// NewIndex and safe for concurrent use.
type Index struct {
	entries []*Entry
	p       params

	q    field // title, each paraphrase and the tags: one pseudo-document each
	bag  field // all of an entry's title, paraphrases and tags: one document per entry
	body field // the answer: one document per entry

	maxIDF float64

	// termIDMap gives a term's id in the q, bag and body fields (-1 when
	// absent) with one lookup.
	termIDMap map[string][3]int32

	// entryVocab holds the folded syllables of each entry's title,
	// paraphrases and tags; used for coverage.
	entryVocab []map[string]struct{}
	// entryText is each entry's folded title, paraphrases and tags,
	// space-delimited, for phrase checks.
	entryText []string
	// uniIDF is the entry-level IDF of folded syllables in the question
	// field.
	uniIDF map[string]float64
	// vocab counts folded syllables over the whole base, answers included;
	// used for typo snapping and out-of-vocabulary detection.
	vocab map[string]int
	// deletes maps every string obtained by deleting up to snapMaxD
	// letters from a vocabulary word to the words it came from (indices
	// into snapWords): the symmetric-delete neighbourhood used by snap.
	deletes   map[string][]int32
	snapWords []string

	accPool sync.Pool
}

// field is an inverted index over documents that belong to entries.
type field struct {
	terms    map[string]int32
	postings [][]posting
	idf      []float64
	df       []int
	lastSeen []int32 // last entry counted in df, per term
	docEntry []int32
	docLen   []float64
	avgdl    float64
	// docMass is the summed IDF of each document's distinct syllables
	// (question field only).
	docMass []float64
}

type posting struct {
	doc int32
	tf  float32
}

func newField() field { return field{terms: make(map[string]int32)} }

func (f *field) add(entry int32, tf map[string]float64, length float64) {
	d := int32(len(f.docEntry))
	f.docEntry = append(f.docEntry, entry)
	f.docLen = append(f.docLen, length)
	for key, n := range tf {
		id, ok := f.terms[key]
		if !ok {
			id = int32(len(f.postings))
			f.terms[key] = id
			f.postings = append(f.postings, nil)
			f.df = append(f.df, 0)
			f.lastSeen = append(f.lastSeen, -1)
		}
		f.postings[id] = append(f.postings[id], posting{doc: d, tf: float32(n)})
		if f.lastSeen[id] != entry {
			f.lastSeen[id] = entry
			f.df[id]++
		}
	}
}

func (f *field) finish(nEntries int) {
	f.idf = make([]float64, len(f.postings))
	for id := range f.postings {
		f.idf[id] = idf(nEntries, f.df[id])
	}
	total := 0.0
	for _, l := range f.docLen {
		total += l
	}
	f.avgdl = 1
	if len(f.docLen) > 0 {
		f.avgdl = math.Max(total/float64(len(f.docLen)), 1)
	}
	f.df, f.lastSeen = nil, nil
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
		q:       newField(),
		bag:     newField(),
		body:    newField(),
		uniIDF:  make(map[string]float64),
		vocab:   make(map[string]int),
	}
	for ei, e := range entries {
		entry := int32(ei)
		ev := make(map[string]struct{})
		bagTF := map[string]float64{}
		bagLen := 0
		var text strings.Builder
		text.WriteByte(' ')
		addDoc := func(toks []vi.Token, tf map[string]float64) {
			if len(toks) == 0 {
				return
			}
			for _, t := range toks {
				text.WriteString(t.Fold)
				text.WriteByte(' ')
			}
			text.WriteString("| ")
			ix.q.add(entry, tf, float64(len(toks)))
			for k, v := range tf {
				bagTF[k] += v
			}
			bagLen += len(toks)
			for _, t := range toks {
				ev[t.Fold] = struct{}{}
				ix.vocab[t.Fold]++
			}
		}
		for _, s := range append([]string{e.Title}, e.Questions...) {
			toks := vi.Canonical(vi.Tokenize(s))
			addDoc(toks, ix.docTerms(toks))
		}
		// Tags form one pseudo-document; bigrams stay inside a tag.
		var tagToks []vi.Token
		tagTF := map[string]float64{}
		for _, tag := range e.Tags {
			toks := vi.Canonical(vi.Tokenize(tag))
			tagToks = append(tagToks, toks...)
			for k, v := range ix.docTerms(toks) {
				tagTF[k] += v
			}
		}
		addDoc(tagToks, tagTF)
		ix.bag.add(entry, bagTF, float64(bagLen))
		ix.entryVocab = append(ix.entryVocab, ev)
		ix.entryText = append(ix.entryText, text.String())

		body := e.Answer
		if body == "" {
			body = e.Body
		}
		btoks := vi.Canonical(vi.Tokenize(stripMarkup(body)))
		for _, t := range btoks {
			ix.vocab[t.Fold]++
		}
		ix.body.add(entry, ix.docTerms(btoks), float64(len(btoks)))
	}
	n := len(entries)
	ix.maxIDF = idf(n, 0)
	ix.q.finish(n)
	ix.bag.finish(n)
	ix.body.finish(n)
	ix.q.docMass = make([]float64, len(ix.q.docLen))
	for key, id := range ix.q.terms {
		if strings.HasPrefix(key, kindUni) {
			ix.uniIDF[key[len(kindUni):]] = ix.q.idf[id]
			for _, p := range ix.q.postings[id] {
				ix.q.docMass[p.doc] += ix.q.idf[id]
			}
		}
	}
	ix.termIDMap = make(map[string][3]int32, len(ix.body.terms)+len(ix.q.terms))
	for i, f := range []*field{&ix.q, &ix.bag, &ix.body} {
		for key, id := range f.terms {
			ids, ok := ix.termIDMap[key]
			if !ok {
				ids = [3]int32{-1, -1, -1}
			}
			ids[i] = id
			ix.termIDMap[key] = ids
		}
	}
	ix.buildDeletes()
	return ix
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

// docTerms returns the term frequencies of a knowledge-base text.
func (ix *Index) docTerms(toks []vi.Token) map[string]float64 {
	tf := make(map[string]float64, 3*len(toks))
	accented := vi.AccentedRatio(toks, countsForRatio) >= ix.p.accentedRatio
	for i, t := range toks {
		tf[kindUni+t.Fold]++
		if i+1 < len(toks) {
			tf[kindBi+t.Fold+" "+toks[i+1].Fold]++
		}
		if accented && toneEligible(t) {
			tf[kindTone+t.Tone]++
		}
	}
	return tf
}

func countsForRatio(t vi.Token) bool { return !foreign[t.Fold] }

func toneEligible(t vi.Token) bool { return t.IsSyllable() && !foreign[t.Fold] }

// Entries returns the indexed entries.
func (ix *Index) Entries() []*Entry { return ix.entries }
