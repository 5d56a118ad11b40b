package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/knowledge/eval"
)

// runEval measures answer quality on a question file:
//
//	trolyso eval [--kb DIR] [--commune FILE] [--json] [-v] [--baseline] FILE
func runEval(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("eval")
	kbDir := fs.String("kb", "", "knowledge-base folder (default: the embedded base)")
	commune := fs.String("commune", "", "commune profile YAML (default: the embedded placeholder profile)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	verbose := fs.Bool("v", false, "list every question that was not handled correctly")
	baseline := fs.Bool("baseline", false, "measure plain BM25 (SQLite FTS5's settings, always answering its best entry) instead of the answer engine")
	fs.Usage = func() {
		fmt.Fprint(a.stderr, "Usage: trolyso eval [--kb DIR] [--commune FILE] [--json] [-v] [--baseline] FILE\n\n"+
			"FILE is tab-separated with a header line: question<TAB>expected_id[<TAB>style];\n"+
			"expected_id \"-\" marks questions that must be declined or handled as small talk.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want exactly one question file", errUsage)
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	cases, err := eval.Parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	base, err := a.loadBase(*kbDir, *commune)
	if err != nil {
		return err
	}
	if err := checkExpectedIDs(base.Entries, cases); err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	var d eval.Decider
	if *baseline {
		d = eval.NewBM25(base.Entries)
	} else {
		ix, err := knowledge.NewIndexContext(ctx, base, knowledge.IndexOptions{})
		if err != nil {
			return err
		}
		d = ix
	}
	rep := eval.Run(d, cases)
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(a.stdout, *verbose)
}

// checkExpectedIDs reports expected ids that are not in the base, which
// would otherwise silently count as misses.
func checkExpectedIDs(entries []*knowledge.Entry, cases []eval.Case) error {
	ids := make(map[string]bool, len(entries))
	for _, e := range entries {
		ids[e.ID] = true
	}
	for _, c := range cases {
		if c.Expected != eval.OutOfScope && !ids[c.Expected] {
			return fmt.Errorf("line %d: expected id %q is not in the knowledge base", c.Line, c.Expected)
		}
	}
	return nil
}
