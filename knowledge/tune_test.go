package knowledge

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// loadShipped loads the embedded base with the embedded profile.
func loadShipped(tb testing.TB) *Base {
	tb.Helper()
	prof, err := LoadProfile("")
	if err != nil {
		tb.Fatal(err)
	}
	b, err := Load(EmbeddedBase(), prof, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

type devCase struct{ q, want string }

func readDev(tb testing.TB, path string) []devCase {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Skip("no dev set:", err)
	}
	defer f.Close()
	var out []devCase
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) >= 2 {
			out = append(out, devCase{cols[0], cols[1]})
		}
	}
	return out
}

// TestTune prints ranking quality and decision features on a question file
// (TROLYSO_TUNE=path). It is a calibration aid, skipped by default.
func TestTune(t *testing.T) {
	path := os.Getenv("TROLYSO_TUNE")
	if path == "" {
		t.Skip("set TROLYSO_TUNE to a question file")
	}
	b := loadShipped(t)
	cases := readDev(t, path)
	variants := map[string]params{"default": defaultParams}
	if os.Getenv("TROLYSO_GRID") != "" {
		for _, wb := range []float64{0.3, 0.5, 0.7} {
			for _, dc := range []float64{0, 0.3, 0.5, 0.7, 0.9} {
				for _, bq := range []float64{0.3, 0.5, 0.75} {
					for _, wt := range []float64{0.3, 0.5} {
						p := defaultParams
						p.wBag, p.docCov, p.b, p.wTone = wb, dc, bq, wt
						variants[fmt.Sprintf("bag%.1f doccov%.2f b%.2f tone%.2f", wb, dc, bq, wt)] = p
					}
				}
			}
		}
	}
	type res struct {
		name       string
		r1, r3, mr float64
	}
	var all []res
	for name, p := range variants {
		ix := newIndex(b.Entries, p)
		var r1, r3, mrr float64
		n := 0
		for _, c := range cases {
			if c.want == "-" {
				continue
			}
			n++
			ms := ix.Search(c.q, 10)
			for i, m := range ms {
				if m.Entry.ID == c.want {
					if i == 0 {
						r1++
					}
					if i < 3 {
						r3++
					}
					mrr += 1 / float64(i+1)
					break
				}
			}
		}
		all = append(all, res{name, r1 / float64(n), r3 / float64(n), mrr / float64(n)})
		if os.Getenv("TROLYSO_MISSES") != "" && name == "default" {
			for _, c := range cases {
				if c.want == "-" {
					continue
				}
				ms := ix.Search(c.q, 3)
				if len(ms) == 0 || ms[0].Entry.ID != c.want {
					var ids []string
					for _, m := range ms {
						ids = append(ids, fmt.Sprintf("%s(%.1f)", m.Entry.ID, m.Score))
					}
					fmt.Printf("MISS %-28s %q -> %v\n", c.want, c.q, ids)
				}
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].r1 != all[j].r1 {
			return all[i].r1 > all[j].r1
		}
		return all[i].mr > all[j].mr
	})
	for i, r := range all {
		if i < 15 || r.name == "default" {
			fmt.Printf("%-36s rank@1 %.3f rank@3 %.3f mrr %.3f\n", r.name, r.r1, r.r3, r.mr)
		}
	}
	if os.Getenv("TROLYSO_FEATURES") != "" {
		ix := NewIndex(b.Entries)
		for _, c := range cases {
			d := ix.Decide(c.q)
			top := ""
			if len(d.Matches) > 0 {
				top = d.Matches[0].Entry.ID
			}
			ok := "  "
			if top == c.want || (c.want == "-" && (d.Band == BandDecline || d.Band == BandSmallTalk)) {
				ok = "ok"
			}
			f := d.Features
			fmt.Printf("%s %-9s top %.2f 2nd %.2f r %.2f cov %.2f unk %.2f  %-28s %-28s %s\n", ok, d.Band, f.Top, f.Second, f.Second/max(f.Top, 1e-9), f.Coverage, f.Unknown, c.want, top, c.q)
		}
	}
}

// TestExplain prints the top entries and their best paraphrase for the
// queries in TROLYSO_Q (separated by "|").
func TestExplain(t *testing.T) {
	qs := os.Getenv("TROLYSO_Q")
	if qs == "" {
		t.Skip("set TROLYSO_Q")
	}
	b := loadShipped(t)
	ix := NewIndex(b.Entries)
	for _, qtext := range strings.Split(qs, "|") {
		d := ix.Decide(qtext)
		fmt.Printf("== %q band=%s reason=%s norm=%q feat=%+v\n", qtext, d.Band, d.Reason, d.Normalized, d.Features)
		toks, _ := stripForExplain(qtext)
		q := ix.analyse(toks)
		var keys []string
		for _, g := range q.groups {
			var alts []string
			for _, a := range g.alts {
				var ks []string
				for _, t := range a {
					ks = append(ks, fmt.Sprintf("%s*%.1f", ix.featureName(t.f), t.w))
				}
				alts = append(alts, strings.Join(ks, " "))
			}
			keys = append(keys, "{"+strings.Join(alts, " / ")+"}")
		}
		fmt.Printf("   self %.2f terms %v\n", q.self, keys)
		for i, m := range ix.Search(qtext, 5) {
			fmt.Printf("   %d %-28s %.2f cov %.2f\n", i+1, m.Entry.ID, m.Score, ix.coverage(q, indexOf(ix, m.Entry)))
		}
	}
}

func indexOf(ix *Index, e *Entry) int {
	for i, x := range ix.entries {
		if x == e {
			return i
		}
	}
	return -1
}

func stripForExplain(s string) ([]vi.Token, bool) { return vi.StripPoliteness(vi.Tokenize(s)) }
