package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

// runKB implements "trolyso kb check [DIR]" and "trolyso kb export --json".
func runKB(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: kb check [DIR] | kb export --json", errUsage)
	}
	switch args[0] {
	case "check":
		return a.kbCheck(ctx, args[1:])
	case "export":
		return a.kbExport(args[1:])
	default:
		return fmt.Errorf("%w: unknown kb command %q (want check or export)", errUsage, args[0])
	}
}

func (a *app) kbCheck(ctx context.Context, args []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("kb check")
	fs.StringVar(&cfg.CommunePath, "commune", cfg.CommunePath, "commune profile YAML file (TROLYSO_COMMUNE)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := cfg.KBDir
	if fs.NArg() > 1 {
		return fmt.Errorf("%w: kb check takes at most one folder", errUsage)
	}
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	profile, err := knowledge.LoadProfile(cfg.CommunePath)
	if err != nil {
		return err
	}
	fsys := knowledge.EmbeddedBase()
	where := "embedded knowledge base"
	if dir != "" {
		if fsys, err = knowledge.DirBase(dir); err != nil {
			return err
		}
		where = dir
	}
	problems := knowledge.Check(fsys, profile, a.now())
	for _, p := range problems {
		fmt.Fprintln(a.stdout, p.String())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %d problem(s)", where, len(problems))
	}
	if n := len(profile.Missing); n > 0 {
		fmt.Fprintf(a.stdout, "note: the commune profile lacks %d detail(s); see `trolyso commune check`\n", n)
	}
	base, err := knowledge.Load(fsys, profile, a.now())
	if err != nil {
		return err
	}
	ix, err := knowledge.NewIndexContext(ctx, base, knowledge.IndexOptions{})
	if err != nil {
		return err
	}
	writeIndexInfo(a.stdout, ix.Info())
	fmt.Fprintf(a.stdout, "%s: ok\n", where)
	return nil
}

// writeIndexInfo prints how the answer engine was built for a base: its
// training data, the calibrated bands and their cross-validated figures.
func writeIndexInfo(w io.Writer, i knowledge.IndexInfo) {
	src := "trained now"
	if i.Cached {
		src = "trained model stored in the binary"
	}
	oos := "the base's _out_of_scope.txt"
	if i.GenericOOS {
		oos = "the built-in generic set (the base has no _out_of_scope.txt)"
	}
	b, cv := i.Bands, i.CV
	fmt.Fprintf(w, "answer engine: %d entries, %d training examples, %d features, %d weights (%s, %s)\n",
		i.Entries, i.Examples, i.Features, i.Weights, src, i.BuildTime.Round(time.Millisecond))
	fmt.Fprintf(w, "  out-of-scope examples: %d from %s\n", i.OutOfScope, oos)
	fmt.Fprintf(w, "  bands: decline when out-of-scope ≥ %.3f or best < %.3f; answer when best ≥ %.3f, or ≥ %.3f when the model and the lexical ranking agree; lexical weight %.2f\n",
		b.Decline, b.Floor, b.Answer, b.Agree, b.Beta)
	if cv.Folds > 0 {
		fmt.Fprintf(w, "  %d-fold cross-validation on %d of the base's questions (as written and typed carelessly): hit@1 %.3f, hit@3 %.3f, wrong %.3f, ranked first %.3f, in-scope declined %.3f, out-of-scope declined %.3f\n",
			cv.Folds, cv.Questions, cv.HitAt1, cv.HitAt3, cv.Wrong, cv.RankedAt1, cv.InDeclined, cv.OOSDeclined)
	} else {
		fmt.Fprintln(w, "  too few questions to cross-validate: default bands")
	}
}

// exported is one entry in "kb export --json".
type exported struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Category  string   `json:"category"`
	Questions []string `json:"questions"`
	Body      string   `json:"body"`
	Tags      []string `json:"tags"`
	Sources   []string `json:"sources"`
}

func (a *app) kbExport(args []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("kb export")
	cfg.storageFlags(fs)
	asJSON := fs.Bool("json", false, "print every entry as one JSON array")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*asJSON {
		return errors.Join(errUsage, errors.New("kb export needs --json (the only format)"))
	}
	b, err := a.loadBase(cfg.KBDir, cfg.CommunePath)
	if err != nil {
		return err
	}
	out := make([]exported, 0, len(b.Entries))
	for _, e := range b.Entries {
		out = append(out, exported{
			ID: e.ID, Title: e.Title, Category: e.Category, Questions: nonNil(e.Questions),
			Body: e.Body, Tags: nonNil(e.Tags), Sources: nonNil(e.Sources),
		})
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
