package eval

import (
	"os"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

// TestDevSet prints the report for the question file in TROLYSO_EVAL
// against the shipped base (a calibration aid; skipped by default).
func TestDevSet(t *testing.T) {
	path := os.Getenv("TROLYSO_EVAL")
	if path == "" {
		t.Skip("set TROLYSO_EVAL to a question file")
	}
	prof, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := knowledge.Load(knowledge.EmbeddedBase(), prof, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(knowledge.NewIndex(b), cases)
	rep.WriteText(os.Stdout, os.Getenv("TROLYSO_EVAL_V") != "")
}
