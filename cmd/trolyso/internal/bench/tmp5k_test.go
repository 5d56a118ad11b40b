package bench

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

func TestTmp5k(t *testing.T) {
	if os.Getenv("TMP5K") == "" {
		t.Skip()
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	shipped, err := Shipped(now)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Synthesize(shipped, n5k(), 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteDir(m, dir); err != nil {
		t.Fatal(err)
	}
	fsys, _ := knowledge.DirBase(dir)
	base, ix, st, err := MeasureStartup(fsys, now)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("load %v index %v heap %d MiB info %+v\n", st.Load, st.Index, st.HeapInUse>>20, ix.Info())
	qs := Queries(base, 2000, 2)
	r := MeasureRetrieval(ix, qs, 5000, 15*time.Second)
	fmt.Printf("p50 %v p99 %v max %v allocs %.0f\n", r.P50, r.P99, r.Max, r.AllocsPerQ)
}

func n5k() int {
	if v := os.Getenv("TMPN"); v != "" {
		n := 0
		fmt.Sscan(v, &n)
		return n
	}
	return 5000
}
