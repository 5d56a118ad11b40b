package eval

import (
	"bytes"
	"os"
	"testing"

	"github.com/colecommune/trolyso/knowledge"
)

// TestAnotherDomain loads a base of another domain (the commune's
// agricultural extension service, written for this test with its own
// questions) through the same engine, with no change to the code, and
// checks that it answers at least as well as plain BM25 on questions
// written independently from the base. The first measurement of that
// question set, before anything was changed for it, is in
// knowledge/testdata/README.md.
func TestAnotherDomain(t *testing.T) {
	prof, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := knowledge.Load(os.DirFS("../testdata/agri/base"), prof, testNow)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/agri/questions.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	ix := knowledge.NewIndex(b)
	if ix.Info().Cached || !ix.Info().GenericOOS {
		t.Errorf("info %+v: want trained now, with the generic out-of-scope set", ix.Info())
	}
	got := Run(ix, cases)
	base := Run(NewBM25(b.Entries), cases)
	var buf bytes.Buffer
	got.WriteText(&buf, true)
	t.Logf("engine: hit@1 %.3f hit@3 %.3f wrong %.3f oos_declined %.3f; BM25 hit@1 %.3f",
		got.HitAt1, got.HitAt3, got.Wrong, got.OOSDeclined, base.HitAt1)
	if got.HitAt1 < base.HitAt1 {
		t.Errorf("hit@1 %.3f is below plain BM25's %.3f:\n%s", got.HitAt1, base.HitAt1, buf.String())
	}
	if got.Wrong > 0.06 || got.InScopeDeclined > 0.05 {
		t.Errorf("wrong %.3f (≤ 0.06), in-scope declined %.3f (≤ 0.05):\n%s", got.Wrong, got.InScopeDeclined, buf.String())
	}
}
