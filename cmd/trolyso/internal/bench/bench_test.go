package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

var benchNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func TestSynthesizeLoadsAndIsDeterministic(t *testing.T) {
	shipped, err := Shipped(benchNow)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Synthesize(shipped, 120, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Synthesize(shipped, 120, 1)
	if len(a) != 120 {
		t.Fatalf("%d files, want 120", len(a))
	}
	for name, f := range a {
		if string(b[name].Data) != string(f.Data) {
			t.Fatalf("%s differs between two runs with the same seed", name)
		}
	}
	base, ix, st, err := MeasureStartup(a, benchNow)
	if err != nil {
		t.Fatalf("synthetic base does not load: %v", err)
	}
	if st.Entries != 120 || len(base.Entries) != 120 {
		t.Fatalf("loaded %d entries", st.Entries)
	}
	qs := Queries(base, 200, 2)
	r := MeasureRetrieval(ix, qs, len(qs), 10*time.Second)
	if r.N != len(qs) || r.Bands[knowledge.BandAnswer] == 0 || r.Bands[knowledge.BandDecline] == 0 {
		t.Fatalf("retrieval = %+v", r)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := Summarize(ds)
	if l.P50 != 50*time.Millisecond || l.P99 != 99*time.Millisecond || l.Max != 100*time.Millisecond || l.N != 100 {
		t.Fatalf("Summarize = %+v", l)
	}
	if (Summarize(nil) != Latencies{}) {
		t.Fatal("empty input")
	}
}

// BenchmarkDecide measures one retrieval decision on the shipped base and
// on synthetic bases of 500 and 5,000 entries:
//
//	go test -run='^$' -bench=Decide -benchmem ./bench/
func BenchmarkDecide(b *testing.B) {
	shipped, err := Shipped(benchNow)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{0, 500, 5000} {
		name := "shipped"
		base := shipped
		ix := knowledge.NewIndex(shipped)
		if n > 0 {
			name = fmt.Sprint(n)
			fsys, err := Synthesize(shipped, n, 1)
			if err != nil {
				b.Fatal(err)
			}
			if base, ix, _, err = MeasureStartup(fsys, benchNow); err != nil {
				b.Fatal(err)
			}
		}
		qs := Queries(base, 1000, 2)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ix.Decide(qs[i%len(qs)])
				i++
			}
		})
	}
}

// BenchmarkStartup measures loading and indexing a base of 5,000 entries.
func BenchmarkStartup(b *testing.B) {
	shipped, err := Shipped(benchNow)
	if err != nil {
		b.Fatal(err)
	}
	fsys, err := Synthesize(shipped, 5000, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := MeasureStartup(fsys, benchNow); err != nil {
			b.Fatal(err)
		}
	}
}
