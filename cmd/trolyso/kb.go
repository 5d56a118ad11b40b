package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/knowledge/linkcheck"
)

// runKB implements "trolyso kb check [--links] [DIR]", "trolyso kb
// export --json" and "trolyso kb export --dir DIR".
func runKB(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: kb check [--links] [DIR] | kb export --json | kb export --dir DIR", errUsage)
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

// kbCheck validates a base. A review date within knowledge.ReviewWarnDays
// is a warning; a passed one fails the check (the running server only
// warns). With --links every source URL is requested too.
func (a *app) kbCheck(ctx context.Context, args []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("kb check")
	fs.StringVar(&cfg.CommunePath, "commune", cfg.CommunePath, "commune profile YAML file (TROLYSO_COMMUNE)")
	links := fs.Bool("links", false, "also check that every source URL answers (needs network)")
	timeout := fs.Duration("timeout", linkcheck.DefaultTimeout, "with --links: longest wait for one URL")
	parallel := fs.Int("parallel", linkcheck.DefaultParallel, "with --links: URLs checked at a time")
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
	if *timeout <= 0 || *parallel <= 0 {
		return fmt.Errorf("%w: --timeout and --parallel must be positive", errUsage)
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
	entries, problems := knowledge.CheckEntries(fsys, profile, a.now().In(stats.Location()))
	problems = problems.Strict()
	errs, warns := 0, 0
	for _, p := range problems {
		fmt.Fprintln(a.stdout, p.String())
		if p.Warning {
			warns++
		} else {
			errs++
		}
	}
	broken := 0
	if *links {
		broken = a.checkLinks(ctx, entries, linkcheck.Options{Timeout: *timeout, Parallel: *parallel})
	}
	if errs > 0 || broken > 0 {
		return fmt.Errorf("%s: %d error(s), %d warning(s), %d broken link(s)", where, errs, warns, broken)
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
	if warns > 0 {
		fmt.Fprintf(a.stdout, "%s: ok, %d warning(s)\n", where, warns)
		return nil
	}
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
	ratio := ""
	if b.OOSRatio > 0 {
		ratio = fmt.Sprintf(" and ≥ %.2f × the best entry's", b.OOSRatio)
	}
	fmt.Fprintf(w, "  bands: decline when out-of-scope ≥ %.3f%s, or best < %.3f; answer when best ≥ %.3f, or ≥ %.3f when the model and the lexical ranking agree; lexical weight %.2f; a wrong answer costs %g (wrong_answer_cost in %s)\n",
		b.Decline, ratio, b.Floor, b.Answer, b.Agree, b.Beta, i.WrongAnswerCost, knowledge.MetaFile)
	if cv.Folds > 0 {
		fmt.Fprintf(w, "  %d-fold cross-validation on %d of the base's questions (as written and typed carelessly): hit@1 %.3f, hit@3 %.3f, wrong %.3f, ranked first %.3f, in-scope declined %.3f, out-of-scope declined %.3f\n",
			cv.Folds, cv.Questions, cv.HitAt1, cv.HitAt3, cv.Wrong, cv.RankedAt1, cv.InDeclined, cv.OOSDeclined)
		if cv.KeptPrevious {
			fmt.Fprintln(w, "  these are the bands of the model this one replaced, kept: the best found on the folds were not clearly better, or the model was regenerated with its bands kept")
		}
		if len(cv.Confused) > 0 {
			fmt.Fprintln(w, "  entries most often mixed up in cross-validation (held-out questions of the first ranked the second first); questions that tell them apart help most:")
			for _, c := range cv.Confused {
				fmt.Fprintf(w, "    %s → %s: %d\n", c.Asked, c.Ranked, c.Count)
			}
		}
	} else {
		fmt.Fprintln(w, "  too few questions to cross-validate: default bands")
	}
}

// checkLinks requests every distinct source URL of entries, prints the
// broken ones with the files citing them, and returns how many are broken.
func (a *app) checkLinks(ctx context.Context, entries []*knowledge.Entry, opts linkcheck.Options) int {
	var urls []string
	citedBy := map[string][]string{}
	for _, e := range entries {
		for _, u := range e.Sources {
			if _, seen := citedBy[u]; !seen {
				urls = append(urls, u)
			}
			if c := citedBy[u]; len(c) == 0 || c[len(c)-1] != e.File {
				citedBy[u] = append(c, e.File)
			}
		}
	}
	fmt.Fprintf(a.stdout, "links: checking %d source URL(s) of %d entries (%s each at most, %d at a time)\n",
		len(urls), len(entries), opts.Timeout, opts.Parallel)
	results := linkcheck.Check(ctx, urls, opts)
	broken, moved := 0, 0
	for _, r := range results {
		switch {
		case !r.OK():
			broken++
			fmt.Fprintf(a.stdout, "BROKEN %s: %s; cited by %s\n", r.URL, r.Problem(), strings.Join(citedBy[r.URL], ", "))
		case r.Final != "":
			moved++
			fmt.Fprintf(a.stdout, "moved  %s -> %s (answers; consider citing the new address)\n", r.URL, r.Final)
		}
	}
	fmt.Fprintf(a.stdout, "links: %d ok (%d redirected), %d broken\n", len(results)-broken, moved, broken)
	if broken > 1 && broken == len(results) {
		fmt.Fprintln(a.stdout, "note: no source answered at all; check that this machine can reach the Internet")
	}
	return broken
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
	dir := fs.String("dir", "", "write the base's files (the embedded base, or --kb) into this new or empty folder, to use as TROLYSO_KB")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *asJSON == (*dir != "") {
		return errors.Join(errUsage, errors.New("kb export needs --json or --dir DIR"))
	}
	if *dir != "" {
		return a.kbExportDir(cfg, *dir)
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

// kbExportDir writes the base's files — entries, _base.yaml and every
// other file, as they are — into dir, which must be new or empty, then
// checks the copy like `kb check`. The dashboard can publish new entries
// into such a folder (TROLYSO_KB); the embedded base cannot be written.
func (a *app) kbExportDir(cfg *Config, dir string) error {
	src := knowledge.EmbeddedBase()
	// TROLYSO_KB already naming the new folder (set ahead of the export)
	// means: start it from the embedded base.
	if cfg.KBDir != "" && filepath.Clean(cfg.KBDir) != filepath.Clean(dir) {
		var err error
		if src, err = knowledge.DirBase(cfg.KBDir); err != nil {
			return err
		}
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("kb export: %s is not empty; choose a new folder (nothing was written)", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("kb export: %w", err)
	}
	n := 0
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		n++
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		return fmt.Errorf("kb export: %w", err)
	}
	profile, err := knowledge.LoadProfile(cfg.CommunePath)
	if err != nil {
		return err
	}
	if ps := knowledge.Check(os.DirFS(dir), profile, a.now()); ps.Errors() {
		return fmt.Errorf("kb export: the copy in %s does not pass the check: %w", dir, ps)
	}
	fmt.Fprintf(a.stdout, "%d files written to %s; run the server with TROLYSO_KB=%s\n", n, dir, dir)
	return nil
}
