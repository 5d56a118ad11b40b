package knowledge

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// refTerms adds the features of a knowledge-base text to tf with string
// keys: the plain map-of-strings form the packed index must agree with.
func refTerms(ix *Index, toks []vi.Token, tf map[string]float64) {
	accented := vi.AccentedRatio(toks, countsForRatio) >= ix.p.accentedRatio
	for i, t := range toks {
		tf["u:"+t.Fold]++
		if i+1 < len(toks) {
			tf["b:"+t.Fold+" "+toks[i+1].Fold]++
		}
		if accented && toneEligible(t) {
			tf["t:"+t.Tone]++
		}
	}
}

// refFields returns the documents of the question, bag and body fields as
// term-frequency maps, and the entry of each question-field document.
func refFields(ix *Index) (q, bag, body []map[string]float64, qEntry []int32) {
	for ei, e := range ix.entries {
		bagTF := map[string]float64{}
		addDoc := func(toks []vi.Token, tf map[string]float64) {
			if len(toks) == 0 {
				return
			}
			q = append(q, tf)
			qEntry = append(qEntry, int32(ei))
			for k, v := range tf {
				bagTF[k] += v
			}
		}
		for _, s := range append([]string{e.Title}, e.Questions...) {
			toks := vi.Canonical(vi.Tokenize(s))
			tf := map[string]float64{}
			refTerms(ix, toks, tf)
			addDoc(toks, tf)
		}
		var tagToks []vi.Token
		tagTF := map[string]float64{}
		for _, tag := range e.Tags {
			toks := vi.Canonical(vi.Tokenize(tag))
			tagToks = append(tagToks, toks...)
			refTerms(ix, toks, tagTF)
		}
		addDoc(tagToks, tagTF)
		bag = append(bag, bagTF)
		text := e.Answer
		if text == "" {
			text = e.Body
		}
		tf := map[string]float64{}
		refTerms(ix, vi.Canonical(vi.Tokenize(stripMarkup(text))), tf)
		body = append(body, tf)
	}
	return q, bag, body, qEntry
}

// checkPostings unpacks every field of ix and compares it with the
// documents rebuilt from the entries, and the IDFs with a direct count.
func checkPostings(t *testing.T, ix *Index) {
	t.Helper()
	names := make([]string, len(ix.terms))
	for f, id := range ix.terms {
		names[id] = ix.featureName(f)
	}
	refQ, refBag, refBody, qEntry := refFields(ix)
	for _, c := range []struct {
		name string
		f    *field
		docs []map[string]float64
	}{{"q", &ix.q, refQ}, {"bag", &ix.bag, refBag}, {"body", &ix.body, refBody}} {
		if len(c.f.norm) != len(c.docs) {
			t.Fatalf("%s: %d documents, want %d", c.name, len(c.f.norm), len(c.docs))
		}
		got := make([]map[string]float64, len(c.docs))
		for d := range got {
			got[d] = map[string]float64{}
		}
		for term := range c.f.nTerms() {
			lo, hi := c.f.postings(term)
			prev := -1
			entries := map[int32]bool{}
			for i := lo; i < hi; i++ {
				d := int(c.f.post[i] >> tfBits)
				if d <= prev {
					t.Fatalf("%s: postings of %s out of document order", c.name, names[term])
				}
				prev = d
				got[d][names[term]] = c.f.tf(i)
				e := int32(d)
				if c.f.docEntry != nil {
					e = c.f.docEntry[d]
				}
				entries[e] = true
			}
			if want := idf(len(ix.entries), len(entries)); ix.idf(c.f, term) != want {
				t.Errorf("%s: idf(%s) = %v, want %v", c.name, names[term], ix.idf(c.f, term), want)
			}
		}
		for d := range got {
			if !maps.Equal(got[d], c.docs[d]) {
				t.Errorf("%s: document %d = %v, want %v", c.name, d, got[d], c.docs[d])
			}
		}
	}
	for d, e := range qEntry {
		if ix.q.docEntry[d] != e {
			t.Fatalf("q: document %d belongs to entry %d, want %d", d, ix.q.docEntry[d], e)
		}
	}
}

// TestPackedPostings: the interned, packed index holds exactly the
// documents of the base.
func TestPackedPostings(t *testing.T) {
	checkPostings(t, shipped(t))
}

// TestLargeTermFrequency: a term frequency too large for its packed
// posting is kept aside and still scores.
func TestLargeTermFrequency(t *testing.T) {
	entries := []*Entry{
		{ID: "thue-dat", Title: "Nộp thuế đất ở đâu", Questions: []string{"đóng thuế nhà đất"},
			Tags: []string{"thuế"}, Body: strings.Repeat("thuế đất ", 300)},
		{ID: "ho-khau", Title: "Cách nhập hộ khẩu", Questions: []string{"nhập khẩu cho con"},
			Body: "Mang giấy khai sinh và căn cước đến công an xã."},
	}
	ix := NewIndex(entries)
	if len(ix.body.bigTF) == 0 {
		t.Fatal("no term frequency needed the overflow table")
	}
	checkPostings(t, ix)
	if ms := ix.Search("thuế đất", 2); len(ms) == 0 || ms[0].Entry.ID != "thue-dat" {
		t.Errorf("Search = %v, want thue-dat first", ms)
	}
}

// TestRankTopK: keeping the best k entries gives the first k of the full
// ranking (score descending, then id), whichever way they are selected.
func TestRankTopK(t *testing.T) {
	ix := shipped(t)
	for _, q := range benchQuestions {
		all := ix.Search(q, 1000) // sorted path
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			if a.Score < b.Score || (a.Score == b.Score && a.Entry.ID > b.Entry.ID) {
				t.Fatalf("Search(%q): %s %v before %s %v", q, a.Entry.ID, a.Score, b.Entry.ID, b.Score)
			}
		}
		for _, k := range []int{1, 3, 10} {
			top := ix.Search(q, k) // insertion path
			if want := all[:min(k, len(all))]; !slices.Equal(top, want) {
				t.Errorf("Search(%q, %d) = %v, want %v", q, k, top, want)
			}
		}
	}
}
