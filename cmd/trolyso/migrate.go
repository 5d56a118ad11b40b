package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/colecommune/trolyso/storage"
)

// runMigrate implements "trolyso migrate sqlite-to-postgres --from FILE
// [--commune SLUG] [--json]": it copies a commune's SQLite database into
// the PostgreSQL database of TROLYSO_DATABASE_URL (into the commune's
// schema with --commune, else the default one) and prints what it copied
// per table. Running it again copies only what is new.
func runMigrate(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "sqlite-to-postgres" {
		return fmt.Errorf("%w: migrate sqlite-to-postgres --from FILE [--commune SLUG] [--json]", errUsage)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("migrate sqlite-to-postgres")
	from := fs.String("from", "", "the commune's SQLite database file")
	slug := fs.String("commune", "", "the commune (its profile's file name) whose data this is; empty: the default commune of a one-commune deployment")
	asJSON := fs.Bool("json", false, "print the counts as JSON")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL database URL (TROLYSO_DATABASE_URL)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *from == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: migrate sqlite-to-postgres --from FILE [--commune SLUG] [--json]", errUsage)
	}
	if cfg.DatabaseURL == "" {
		return errors.New("set TROLYSO_DATABASE_URL (or --database-url) to the province's PostgreSQL database")
	}
	if *slug != "" && !storage.ValidSlug(*slug) {
		return fmt.Errorf("--commune %q: %w", *slug, storage.ErrBadSlug)
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	src, err := storage.Open(ctx, *from, storage.Options{Now: a.now})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := storage.OpenURL(ctx, cfg.DatabaseURL, storage.Options{Now: a.now})
	if err != nil {
		return err
	}
	defer dst.Close()
	target, err := dst.Commune(ctx, *slug)
	if err != nil {
		return err
	}
	rep, err := target.CopyFrom(ctx, src)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	where := "the default commune"
	if *slug != "" {
		where = "commune " + *slug
	}
	fmt.Fprintf(a.stdout, "copied %s into %s of %s\n\n", *from, where, target.Path())
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tin the file\tcopied now\tcopied before\tmatched existing\tnot copied\t")
	var total storage.CopyCount
	for _, c := range rep.Tables {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", c.Table, c.Source, c.Copied, c.Had, c.Merged, c.Skipped)
		total.Source += c.Source
		total.Copied += c.Copied
		total.Had += c.Had
		total.Merged += c.Merged
		total.Skipped += c.Skipped
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%d\t\n", total.Source, total.Copied, total.Had, total.Merged, total.Skipped)
	tw.Flush()
	fmt.Fprintf(a.stdout, "\nresidents: %d keep their identity (Telegram/Zalo, re-keyed for the province), %d web chat sessions start afresh\n", rep.Rekeyed, rep.Kept)
	if total.Skipped > 0 {
		fmt.Fprintln(a.stdout, "rows not copied belong to a row that could not be (see the table); nothing was lost from the file")
	}
	return nil
}
