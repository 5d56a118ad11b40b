package knowledge

import (
	"github.com/colecommune/trolyso/knowledge/vi"
)

// speller corrects one-letter typos against the base's own words
// ("kết hôm" → "kết hôn", "phảm ánh" → "phản ánh"): a syllable that forms
// no known pair with its neighbours is replaced by a syllable one edit
// away (a letter inserted, dropped, changed or two letters swapped) that
// does. It learns everything from the base's questions and answers.
type speller struct {
	count   map[string]int    // folded syllable → occurrences
	surface map[string]string // folded syllable → its most frequent written form
	pairs   map[uint64]bool   // two folded syllables seen side by side (hashed)
	words   []string
	deletes map[uint64][]int32 // a syllable with one letter deleted (hashed) → words
}

func pairKey(a, b string) uint64 {
	var h fnv
	h.str(a)
	h.byte(' ')
	h.str(b)
	return uint64(h)
}

func delKey(s string) uint64 {
	var h fnv
	h.byte('d')
	h.str(s)
	return uint64(h)
}

func newSpeller(texts [][]vi.Token) *speller {
	s := &speller{count: map[string]int{}, surface: map[string]string{}, pairs: map[uint64]bool{}, deletes: map[uint64][]int32{}}
	forms := map[string]map[string]int{}
	for _, ts := range texts {
		for i, t := range ts {
			if !t.IsSyllable() {
				continue
			}
			s.count[t.Fold]++
			if forms[t.Fold] == nil {
				forms[t.Fold] = map[string]int{}
			}
			forms[t.Fold][t.Text]++
			if i > 0 && ts[i-1].IsSyllable() {
				s.pairs[pairKey(ts[i-1].Fold, t.Fold)] = true
			}
		}
	}
	for w, fs := range forms {
		best, n := w, 0
		for f, c := range fs {
			if c > n || c == n && f < best {
				best, n = f, c
			}
		}
		s.surface[w] = best
		s.words = append(s.words, w)
		for _, d := range deletes1(w) {
			k := delKey(d)
			s.deletes[k] = append(s.deletes[k], int32(len(s.words)-1))
		}
	}
	return s
}

// deletes1 returns w with each one of its letters deleted.
func deletes1(w string) []string {
	if len(w) < 2 {
		return nil
	}
	out := make([]string, 0, len(w))
	for i := range len(w) {
		out = append(out, w[:i]+w[i+1:])
	}
	return out
}

// neighbours returns the base's syllables one edit from w.
func (s *speller) neighbours(w string) []string {
	seen := map[string]bool{w: true}
	var out []string
	add := func(c string) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, i := range s.deletes[delKey(w)] { // a letter was dropped from c
		if c := s.words[i]; len(c) == len(w)+1 {
			add(c)
		}
	}
	for _, d := range deletes1(w) {
		if s.count[d] > 0 { // a letter was added to d
			add(d)
		}
		for _, i := range s.deletes[delKey(d)] { // a letter changed, or two swapped
			if c := s.words[i]; len(c) == len(w) && (oneSubstitution(c, w) || oneSwap(c, w)) {
				add(c)
			}
		}
	}
	return out
}

func oneSubstitution(a, b string) bool {
	n := 0
	for i := range len(a) {
		if a[i] != b[i] {
			n++
		}
	}
	return n == 1
}

func oneSwap(a, b string) bool {
	for i := 0; i+1 < len(a); i++ {
		if a[i] != b[i] {
			return a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
		}
	}
	return false
}

// correct returns toks with its typos corrected, and whether it changed
// anything.
func (s *speller) correct(toks []vi.Token) ([]vi.Token, bool) {
	var out []vi.Token
	known := func(a, b string) bool { return s.pairs[pairKey(a, b)] }
	for i, t := range toks {
		if !t.IsSyllable() || len(t.Fold) < 3 || len(toks) < 2 {
			continue
		}
		prev, next := "", ""
		if i > 0 {
			prev = toks[i-1].Fold
		}
		if i+1 < len(toks) {
			next = toks[i+1].Fold
		}
		if prev != "" && known(prev, t.Fold) || next != "" && known(t.Fold, next) {
			continue
		}
		best, bestPairs, bestCount := "", 0, 0
		for _, c := range s.neighbours(t.Fold) {
			pairs := 0
			if prev != "" && known(prev, c) {
				pairs++
			}
			if next != "" && known(c, next) {
				pairs++
			}
			if pairs > bestPairs || pairs == bestPairs && pairs > 0 && s.count[c] > bestCount {
				best, bestPairs, bestCount = c, pairs, s.count[c]
			}
		}
		if best == "" {
			continue
		}
		if out == nil {
			out = append([]vi.Token(nil), toks...)
		}
		out[i] = vi.NewToken(s.surface[best])
	}
	if out == nil {
		return toks, false
	}
	return out, true
}
