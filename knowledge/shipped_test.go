package knowledge

import (
	"sync"
	"testing"
)

var shippedOnce struct {
	sync.Once
	ix  *Index
	err error
}

// shipped returns the index of the embedded base (built once per test
// binary: training takes a second).
func shipped(t testing.TB) *Index {
	t.Helper()
	shippedOnce.Do(func() {
		p, err := LoadProfile("")
		if err != nil {
			shippedOnce.err = err
			return
		}
		b, err := Load(EmbeddedBase(), p, testNow)
		if err != nil {
			shippedOnce.err = err
			return
		}
		shippedOnce.ix = NewIndex(b)
	})
	if shippedOnce.err != nil {
		t.Fatal(shippedOnce.err)
	}
	return shippedOnce.ix
}

// ids lists the entry ids of matches.
func ids(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Entry.ID)
	}
	return out
}
