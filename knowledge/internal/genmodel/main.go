// Command genmodel trains the model of the embedded knowledge base and
// writes it to knowledge/model.gob, which the binary embeds so that the
// shipped base needs no training at start-up. Run it with
// `go generate ./knowledge` after changing knowledge/base.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "genmodel:", err)
		os.Exit(1)
	}
}

func run() error {
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		return err
	}
	// The date only decides review warnings, which do not matter here.
	b, err := knowledge.Load(knowledge.EmbeddedBase(), profile, time.Time{})
	if err != nil {
		return err
	}
	// The bands of the model being replaced are kept unless calibration
	// finds clearly better ones (knowledge.IndexOptions.Previous): a few
	// more questions must not swing how the bot answers.
	// TROLYSO_KEEP_BANDS=1 keeps them whatever calibration finds: a pass
	// over the content only.
	opts := knowledge.IndexOptions{KeepPrevious: os.Getenv("TROLYSO_KEEP_BANDS") == "1"}
	if f, err := os.Open("model.gob"); err == nil {
		if prev, err := knowledge.ModelBands(f, opts.KeepPrevious); err == nil {
			opts.Previous = &prev
		} else {
			fmt.Fprintln(os.Stderr, "genmodel: previous bands not used:", err)
		}
		f.Close()
	}
	if opts.KeepPrevious && opts.Previous == nil {
		return fmt.Errorf("TROLYSO_KEEP_BANDS=1, but model.gob holds no readable bands to keep")
	}
	ix, err := knowledge.NewIndexContext(context.Background(), b, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := ix.WriteModel(&buf); err != nil {
		return err
	}
	if err := os.WriteFile("model.gob", buf.Bytes(), 0o644); err != nil {
		return err
	}
	i := ix.Info()
	fmt.Printf("model.gob: %d entries, %d examples, %d features, %d weights, %d bytes; bands %+v (previous bands kept: %v)\n",
		i.Entries, i.Examples, i.Features, i.Weights, buf.Len(), i.Bands, i.CV.KeptPrevious)
	return nil
}
