package bench

import (
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/knowledge/vi"
)

func stripMarks(s string) string { return strings.ToLower(vi.StripDiacritics(s)) }

// Latencies summarises a set of durations.
type Latencies struct {
	N                   int
	P50, P99, P999, Max time.Duration
	Mean                time.Duration
}

// Summarize computes percentiles (nearest rank) of ds, sorting it.
func Summarize(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(ds) {
			i = len(ds) - 1
		}
		return ds[i]
	}
	return Latencies{N: len(ds), P50: rank(0.50), P99: rank(0.99), P999: rank(0.999), Max: ds[len(ds)-1], Mean: sum / time.Duration(len(ds))}
}

// Retrieval is the cost of answering questions from one index.
type Retrieval struct {
	Latencies
	AllocsPerQ float64
	BytesPerQ  float64
	// Bands counts the decisions by band.
	Bands map[knowledge.Band]int
}

// MeasureRetrieval runs ix.Decide over queries (in order, repeating) until
// n questions were asked or maxTime passed, timing each one, and counts the
// heap allocations per question. Run it on an otherwise idle goroutine.
func MeasureRetrieval(ix *knowledge.Index, queries []string, n int, maxTime time.Duration) Retrieval {
	// Warm up: the first calls fill caches (and lazily built tables).
	for i := 0; i < len(queries) && i < 50; i++ {
		ix.Decide(queries[i])
	}
	ds := make([]time.Duration, 0, n)
	bands := map[knowledge.Band]int{}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	deadline := time.Now().Add(maxTime)
	for i := 0; i < n; i++ {
		if i%64 == 0 && time.Now().After(deadline) {
			break
		}
		t0 := time.Now()
		d := ix.Decide(queries[i%len(queries)])
		ds = append(ds, time.Since(t0))
		bands[d.Band]++
	}
	runtime.ReadMemStats(&after)
	r := Retrieval{Latencies: Summarize(ds), Bands: bands}
	if r.N > 0 {
		r.AllocsPerQ = float64(after.Mallocs-before.Mallocs) / float64(r.N)
		r.BytesPerQ = float64(after.TotalAlloc-before.TotalAlloc) / float64(r.N)
	}
	return r
}

// Startup is the in-process cost of loading a base and indexing it.
type Startup struct {
	Entries   int
	Load      time.Duration // parse, validate and render every file
	Index     time.Duration // build the retrieval index
	HeapInUse uint64        // live heap after both, after a GC (bytes)
}

// MeasureStartup loads fsys with the embedded profile and indexes it.
func MeasureStartup(fsys fs.FS, now time.Time) (*knowledge.Base, *knowledge.Index, Startup, error) {
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		return nil, nil, Startup{}, err
	}
	t0 := time.Now()
	base, err := knowledge.Load(fsys, profile, now)
	if err != nil {
		return nil, nil, Startup{}, fmt.Errorf("load base: %w", err)
	}
	t1 := time.Now()
	ix := knowledge.NewIndex(base)
	t2 := time.Now()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return base, ix, Startup{Entries: len(base.Entries), Load: t1.Sub(t0), Index: t2.Sub(t1), HeapInUse: ms.HeapInuse}, nil
}
