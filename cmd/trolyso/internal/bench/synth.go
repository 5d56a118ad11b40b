// Package bench measures trolyso: retrieval latency and allocations on the
// shipped knowledge base and on larger synthetic ones, start-up cost, and
// end-to-end throughput through the web chat API and the Telegram webhook.
// The trolyso bench subcommand and the Go benchmarks use it; every loop in
// it is bounded by a count and a time.
package bench

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing/fstest"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

// Shipped returns the embedded knowledge base rendered with the embedded
// commune profile.
func Shipped(now time.Time) (*knowledge.Base, error) {
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		return nil, err
	}
	return knowledge.Load(knowledge.EmbeddedBase(), profile, now)
}

// vocabulary is the syllables of the shipped base's questions and titles.
type vocabulary struct {
	words []string
}

func newVocabulary(shipped *knowledge.Base) *vocabulary {
	seen := map[string]bool{}
	v := &vocabulary{}
	add := func(s string) {
		for _, w := range strings.Fields(s) {
			w = strings.Trim(w, "?!.,:;()\"'")
			if w == "" || seen[w] {
				continue
			}
			seen[w] = true
			v.words = append(v.words, w)
		}
	}
	for _, e := range shipped.Entries {
		add(e.Title)
		for _, q := range e.Questions {
			add(q)
		}
	}
	sort.Strings(v.words) // deterministic whatever the map order
	return v
}

func (v *vocabulary) pick(r *rand.Rand) string { return v.words[r.IntN(len(v.words))] }

// recombine keeps the shape of a real question and replaces about half of
// its words with other words of the base.
func (v *vocabulary) recombine(r *rand.Rand, q string) string {
	ws := strings.Fields(q)
	for i := range ws {
		if r.IntN(2) == 0 {
			ws[i] = v.pick(r)
		}
	}
	return strings.Join(ws, " ")
}

func (v *vocabulary) phrase(r *rand.Rand, min, max int) string {
	n := min + r.IntN(max-min+1)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = v.pick(r)
	}
	return strings.Join(ws, " ")
}

// Synthesize returns a knowledge base of n entries as Markdown files: the
// shipped entries, then synthetic ones recombining the shipped vocabulary
// (titles, paraphrases, tags) with shipped answer bodies, so that their
// size and word statistics resemble real entries. The same seed gives the
// same files.
func Synthesize(shipped *knowledge.Base, n int, seed uint64) (fstest.MapFS, error) {
	fsys := fstest.MapFS{}
	r := rand.New(rand.NewPCG(seed, 0x7472_6f6c_7973_6f))
	v := newVocabulary(shipped)
	write := func(e *knowledge.Entry) error {
		data, err := knowledge.Format(e)
		if err != nil {
			return fmt.Errorf("synthesize: %w", err)
		}
		fsys[e.ID+".md"] = &fstest.MapFile{Data: data, Mode: 0o644}
		return nil
	}
	for _, e := range shipped.Entries {
		if err := write(e); err != nil {
			return nil, err
		}
	}
	updated := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := len(shipped.Entries); i < n; i++ {
		model := shipped.Entries[r.IntN(len(shipped.Entries))]
		fm := &knowledge.Entry{
			ID:       fmt.Sprintf("synth-%05d", i),
			Title:    v.phrase(r, 5, 10),
			Category: shipped.Categories[r.IntN(len(shipped.Categories))].ID,
			Tags:     []string{v.pick(r), v.phrase(r, 2, 3)},
			Sources:  []string{fmt.Sprintf("https://dichvucong.gov.vn/p/synth/%d", i)},
			Updated:  updated,
		}
		nq := knowledge.MinQuestions + r.IntN(6)
		for j := 0; j < nq; j++ {
			fm.Questions = append(fm.Questions, v.recombine(r, model.Questions[r.IntN(len(model.Questions))]))
		}
		fm.Body = v.phrase(r, 8, 16) + ".\n\n" + shipped.Entries[r.IntN(len(shipped.Entries))].Body
		if err := write(fm); err != nil {
			return nil, err
		}
	}
	return fsys, nil
}

// WriteDir writes a synthesized base into dir (created if needed).
func WriteDir(fsys fstest.MapFS, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write base: %w", err)
	}
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, p), fsys[p].Data, 0o644); err != nil {
			return fmt.Errorf("write base: %w", err)
		}
		return nil
	})
}

// Queries returns n deterministic test questions for base: real
// paraphrases as written, the same without diacritics, recombined ones and
// a share of out-of-scope questions, so that every band is exercised.
func Queries(base *knowledge.Base, n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 0x7175_6572_79))
	v := newVocabulary(base)
	outOfScope := []string{
		"giá vàng hôm nay bao nhiêu", "thời tiết ninh bình ngày mai", "cho tôi số đề hôm nay",
		"bóng đá tối nay ai đá", "cách nấu phở bò ngon", "mua xe máy trả góp ở đâu",
	}
	out := make([]string, 0, n)
	for len(out) < n {
		e := base.Entries[r.IntN(len(base.Entries))]
		q := e.Questions[r.IntN(len(e.Questions))]
		switch r.IntN(10) {
		case 0, 1, 2, 3:
			out = append(out, q)
		case 4, 5, 6:
			out = append(out, stripMarks(q))
		case 7, 8:
			out = append(out, v.recombine(r, q))
		default:
			out = append(out, outOfScope[r.IntN(len(outOfScope))])
		}
	}
	return out
}
