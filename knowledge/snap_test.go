package knowledge

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// vocabWords returns the folded syllables of the base, sorted.
func vocabWords(ix *Index) []string {
	var words []string
	for id, w := range ix.wordList {
		if ix.wordCount[id] > 0 {
			words = append(words, w)
		}
	}
	sort.Strings(words)
	return words
}

// snapScan is the reference for snap: a scan of the whole vocabulary for
// the unique word at the smallest edit distance.
func snapScan(ix *Index, w string) (string, bool) {
	maxD := 1
	if len(w) >= 7 {
		maxD = 2
	}
	words := vocabWords(ix)
	for d := 1; d <= maxD; d++ {
		found, count := "", 0
		for _, c := range words {
			if osaDistance(w, c, d) == d {
				found = c
				count++
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

// TestSnapMatchesScan checks the deletion-neighbourhood lookup against a
// scan of the vocabulary on typo'd vocabulary words and random strings.
func TestSnapMatchesScan(t *testing.T) {
	ix := shipped(t)
	rng := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdefghiklmnopqrstuvxyz"
	mutate := func(w string) string {
		b := []byte(w)
		for n := 1 + rng.IntN(2); n > 0 && len(b) > 1; n-- {
			i := rng.IntN(len(b))
			switch rng.IntN(4) {
			case 0: // substitute
				b[i] = letters[rng.IntN(len(letters))]
			case 1: // delete
				b = append(b[:i], b[i+1:]...)
			case 2: // insert
				b = append(b[:i], append([]byte{letters[rng.IntN(len(letters))]}, b[i:]...)...)
			default: // transpose
				if i+1 < len(b) {
					b[i], b[i+1] = b[i+1], b[i]
				}
			}
		}
		return string(b)
	}
	words := vocabWords(ix)
	checked, snapped := 0, 0
	for i := 0; i < 3000; i++ {
		var q string
		if i%5 == 0 {
			b := make([]byte, 4+rng.IntN(8))
			for j := range b {
				b[j] = letters[rng.IntN(len(letters))]
			}
			q = string(b)
		} else {
			q = mutate(words[rng.IntN(len(words))])
		}
		if len(q) < 4 || ix.vocabCount(q) > 0 {
			continue
		}
		got, gok := ix.snap(q)
		want, wok := snapScan(ix, q)
		if got != want || gok != wok {
			t.Errorf("snap(%q) = %q %v, scan = %q %v", q, got, gok, want, wok)
		}
		checked++
		if gok {
			snapped++
		}
	}
	if checked < 1000 || snapped < 100 {
		t.Errorf("too few cases: %d checked, %d snapped", checked, snapped)
	}
}

func BenchmarkSnap(b *testing.B) {
	ix := shipped(b)
	words := []string{"kichhoat", "htuoc", "torng", "nnhiem", "dinhh", "khaaiu", "passcoed", "xyzzyq"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ix.snap(words[i%len(words)])
	}
}
