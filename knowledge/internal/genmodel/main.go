// Command genmodel trains the model of the embedded knowledge base and
// writes it to knowledge/model.gob, which the binary embeds so that the
// shipped base needs no training at start-up. Run it with
// `go generate ./knowledge` after changing knowledge/base.
package main

import (
	"bytes"
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
	ix := knowledge.NewIndex(b)
	var buf bytes.Buffer
	if err := ix.WriteModel(&buf); err != nil {
		return err
	}
	if err := os.WriteFile("model.gob", buf.Bytes(), 0o644); err != nil {
		return err
	}
	i := ix.Info()
	fmt.Printf("model.gob: %d entries, %d examples, %d features, %d weights, %d bytes; bands %+v\n",
		i.Entries, i.Examples, i.Features, i.Weights, buf.Len(), i.Bands)
	return nil
}
