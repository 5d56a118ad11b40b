package vi

import (
	"sort"
	"strings"
)

// Phrase is a sequence of syllables written in its accented form, e.g.
// "mật khẩu". It matches query tokens loosely: an unaccented token matches
// by fold ("mat" matches "mật"), an accented token must have the same tone
// key ("mất" does not match "mật"), and an unaccented phrase syllable
// matches by fold whatever the token's accents.
type Phrase struct {
	Text string
	Toks []Token
}

// ParsePhrase tokenises a dictionary phrase.
func ParsePhrase(s string) Phrase {
	return Phrase{Text: strings.TrimSpace(s), Toks: Tokenize(s)}
}

// TokenMatches reports whether query token t matches phrase syllable p.
func TokenMatches(t, p Token) bool {
	if t.Fold != p.Fold {
		return false
	}
	if !t.Accented || !p.Accented {
		return true
	}
	return t.Tone == p.Tone
}

// MatchAt reports whether the phrase matches toks starting at i.
func (p Phrase) MatchAt(toks []Token, i int) bool {
	if len(p.Toks) == 0 || i+len(p.Toks) > len(toks) {
		return false
	}
	for j, pt := range p.Toks {
		if !TokenMatches(toks[i+j], pt) {
			return false
		}
	}
	return true
}

// PhraseSet is a read-only dictionary of phrases, each carrying a value.
// Lookups find the longest phrase starting at a position.
type PhraseSet[V any] struct {
	byFirst map[string][]phraseItem[V] // key: fold of the first syllable; longest first
}

type phraseItem[V any] struct {
	p Phrase
	v V
}

// NewPhraseSet builds a set from phrases and values. Empty phrases are
// skipped. Later duplicates of the same text replace earlier ones.
func NewPhraseSet[V any](items map[string]V) *PhraseSet[V] {
	ps := &PhraseSet[V]{byFirst: make(map[string][]phraseItem[V])}
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic order
	for _, k := range keys {
		p := ParsePhrase(k)
		if len(p.Toks) == 0 {
			continue
		}
		f := p.Toks[0].Fold
		ps.byFirst[f] = append(ps.byFirst[f], phraseItem[V]{p: p, v: items[k]})
	}
	for f, list := range ps.byFirst {
		sort.SliceStable(list, func(a, b int) bool {
			if len(list[a].p.Toks) != len(list[b].p.Toks) {
				return len(list[a].p.Toks) > len(list[b].p.Toks)
			}
			// accented (more specific) phrases first
			return accentCount(list[a].p) > accentCount(list[b].p)
		})
		ps.byFirst[f] = list
	}
	return ps
}

func accentCount(p Phrase) int {
	n := 0
	for _, t := range p.Toks {
		if t.Accented {
			n++
		}
	}
	return n
}

// Longest returns the value and length of the longest phrase matching toks
// at i; n is 0 when none matches.
func (ps *PhraseSet[V]) Longest(toks []Token, i int) (v V, n int) {
	if it := ps.longest(toks, i); it != nil {
		return it.v, len(it.p.Toks)
	}
	return v, 0
}

func (ps *PhraseSet[V]) longest(toks []Token, i int) *phraseItem[V] {
	if ps == nil || i >= len(toks) {
		return nil
	}
	list := ps.byFirst[toks[i].Fold]
	for k := range list {
		if list[k].p.MatchAt(toks, i) {
			return &list[k]
		}
	}
	return nil
}

// Match is one phrase occurrence found by FindAll.
type Match[V any] struct {
	Start, End int    // token positions [Start, End)
	Phrase     Phrase // the dictionary phrase
	Value      V
}

// FindAll scans toks left to right and returns non-overlapping longest
// matches.
func (ps *PhraseSet[V]) FindAll(toks []Token) []Match[V] {
	var out []Match[V]
	for i := 0; i < len(toks); {
		it := ps.longest(toks, i)
		if it == nil {
			i++
			continue
		}
		n := len(it.p.Toks)
		out = append(out, Match[V]{Start: i, End: i + n, Phrase: it.p, Value: it.v})
		i += n
	}
	return out
}

// Contains reports whether any phrase of the set occurs in toks.
func (ps *PhraseSet[V]) Contains(toks []Token) bool {
	for i := range toks {
		if _, n := ps.Longest(toks, i); n > 0 {
			return true
		}
	}
	return false
}
