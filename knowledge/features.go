package knowledge

import (
	"math"
	"slices"

	"github.com/colecommune/trolyso/knowledge/linear"
	"github.com/colecommune/trolyso/knowledge/vi"
)

// Feature groups. Every group is weighted by IDF, normalised to unit
// length and scaled by its weight, so that no group drowns the others.
const (
	groupChar = iota // character 2–5-grams of each folded syllable
	groupFold        // folded syllables and syllable pairs
	groupTone        // syllables and pairs with the tone kept apart (tone keys)
	nGroups
)

// featureParams are the feature settings.
type featureParams struct {
	charMin, charMax int
	weight           [nGroups]float64
	// maxShare prunes features found in more than this share of the
	// classes when there are at least pruneFrom classes: on a large base
	// they cost much and say little. A small base keeps them: there a
	// word shared by half the entries (the app's name, "đăng ký") still
	// tells the other half apart.
	maxShare  float64
	pruneFrom int
	// maxClasses prunes features found in more classes than this, however
	// large the base: they cost in every example that has them.
	maxClasses int
}

var defaultFeatureParams = featureParams{
	charMin: 2, charMax: 5,
	weight:   [nGroups]float64{groupChar: 1, groupFold: 1, groupTone: 0.7},
	maxShare: 0.5, pruneFrom: largeBase, maxClasses: 64,
}

// rawFeature is a hashed feature with its group.
type rawFeature struct {
	h     uint64
	group uint8
}

// vocab maps hashed features to dense ids, with their IDF.
type vocab struct {
	p     featureParams
	ids   map[uint64]int32
	group []uint8
	idf   []float32
}

// hashFeature hashes a feature's text with its kind. FNV-1a is stable
// across processes, so a cached model matches the features of a new one.
func hashFeature(kind byte, s string) uint64 {
	var h fnv
	h.byte(kind)
	h.str(s)
	return uint64(h)
}

// fnv is FNV-1a 64, stable across processes (unlike maphash).
type fnv uint64

const fnvOffset, fnvPrime = 14695981039346656037, 1099511628211

func (h *fnv) byte(b byte) {
	if *h == 0 {
		*h = fnvOffset
	}
	*h = (*h ^ fnv(b)) * fnvPrime
}

func (h *fnv) str(s string) {
	if *h == 0 {
		*h = fnvOffset
	}
	for i := 0; i < len(s); i++ {
		*h = (*h ^ fnv(s[i])) * fnvPrime
	}
}

// Feature kinds (hash prefixes).
const (
	kindChar   = 'c'
	kindFold1  = 'f'
	kindFold2  = 'F'
	kindTone1  = 't'
	kindTone2  = 'T'
	boundaryCh = ' '
)

// extract appends the raw features of canonical tokens to dst.
func (p *featureParams) extract(toks []vi.Token, dst []rawFeature) []rawFeature {
	var buf [64]byte
	for i, t := range toks {
		// character n-grams of " fold ", inside the syllable
		w := append(append(append(buf[:0], boundaryCh), t.Fold...), boundaryCh)
		for n := p.charMin; n <= p.charMax; n++ {
			for s := 0; s+n <= len(w); s++ {
				var h fnv
				h.byte(kindChar)
				for _, c := range w[s : s+n] {
					h.byte(c)
				}
				dst = append(dst, rawFeature{uint64(h), groupChar})
			}
		}
		dst = append(dst, rawFeature{hashFeature(kindFold1, t.Fold), groupFold})
		dst = append(dst, rawFeature{hashFeature(kindTone1, t.Tone), groupTone})
		if i > 0 {
			prev := toks[i-1]
			var h fnv
			h.byte(kindFold2)
			h.str(prev.Fold)
			h.byte(' ')
			h.str(t.Fold)
			dst = append(dst, rawFeature{uint64(h), groupFold})
			h = 0
			h.byte(kindTone2)
			h.str(prev.Tone)
			h.byte(' ')
			h.str(t.Tone)
			dst = append(dst, rawFeature{uint64(h), groupTone})
		}
	}
	return dst
}

// newVocab builds the vocabulary of the training texts: texts[i] are the
// raw features of text i, classOf[i] its class. Features found in more
// than p.maxShare of the classes are dropped.
func newVocab(p featureParams, texts [][]rawFeature, classOf []int32, nClasses int) *vocab {
	type stat struct {
		group uint8
		df    int32 // classes
		last  int32 // last class counted
	}
	stats := map[uint64]*stat{}
	for i, fs := range texts {
		c := classOf[i]
		for _, f := range fs {
			s := stats[f.h]
			if s == nil {
				s = &stat{group: f.group, last: -1}
				stats[f.h] = s
			}
			if s.last != c {
				// texts come grouped by class, so a class is counted once
				s.last = c
				s.df++
			}
		}
	}
	keys := make([]uint64, 0, len(stats))
	limit := int32(nClasses + 1)
	if nClasses >= p.pruneFrom {
		limit = int32(math.Ceil(p.maxShare * float64(nClasses)))
	}
	if p.maxClasses > 0 {
		limit = min(limit, int32(p.maxClasses))
	}
	for h, s := range stats {
		if s.df <= limit {
			keys = append(keys, h)
		}
	}
	slices.Sort(keys) // deterministic ids
	v := &vocab{p: p, ids: make(map[uint64]int32, len(keys)), group: make([]uint8, len(keys)), idf: make([]float32, len(keys))}
	for i, h := range keys {
		s := stats[h]
		v.ids[h] = int32(i)
		v.group[i] = s.group
		v.idf[i] = float32(math.Log(float64(nClasses+1)/float64(s.df+1)) + 1)
	}
	return v
}

// vector turns raw features into a model vector: each distinct known
// feature once, IDF-weighted, each group normalised and scaled.
func (v *vocab) vector(fs []rawFeature, dst linear.Vector) linear.Vector {
	idx := dst.Idx[:0]
	for _, f := range fs {
		if id, ok := v.ids[f.h]; ok {
			idx = append(idx, id)
		}
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	val := dst.Val[:0]
	var norm [nGroups]float64
	for _, id := range idx {
		x := float64(v.idf[id])
		val = append(val, float32(x))
		norm[v.group[id]] += x * x
	}
	for g := range norm {
		if norm[g] > 0 {
			norm[g] = v.p.weight[g] / math.Sqrt(norm[g])
		}
	}
	for i, id := range idx {
		val[i] *= float32(norm[v.group[id]])
	}
	return linear.Vector{Idx: idx, Val: val}
}
