package main

import (
	"context"
	"fmt"

	"github.com/colecommune/trolyso/knowledge"
)

// runCommune implements "trolyso commune check [FILE]": it lists every
// detail of the commune profile still to fill in and exits non-zero while
// any is missing.
func runCommune(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: commune check [FILE]", errUsage)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("commune check")
	fs.StringVar(&cfg.CommunePath, "commune", cfg.CommunePath, "commune profile YAML file (TROLYSO_COMMUNE)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 1:
		return fmt.Errorf("%w: commune check takes at most one file", errUsage)
	case fs.NArg() == 1:
		cfg.CommunePath = fs.Arg(0)
	}
	p, err := knowledge.LoadProfile(cfg.CommunePath)
	if err != nil {
		return err
	}
	where := cfg.CommunePath
	if where == "" {
		where = "embedded example profile (set TROLYSO_COMMUNE to your copy of knowledge/commune.yaml)"
	}
	if len(p.Missing) == 0 {
		fmt.Fprintf(a.stdout, "%s: ok\n", where)
		return nil
	}
	fmt.Fprintf(a.stdout, "%s: %d detail(s) still to fill in; residents are shown generic wording instead:\n", where, len(p.Missing))
	for _, m := range p.Missing {
		fmt.Fprintf(a.stdout, "  %s\n", m)
	}
	return fmt.Errorf("%s: commune profile unfinished (%d missing)", where, len(p.Missing))
}
