package main

import (
	"context"
	"fmt"
	"os"

	"github.com/colecommune/trolyso/storage"
)

// runBackup implements "trolyso backup FILE": a consistent copy of the
// database made with SQLite's online backup API, safe while the server is
// running (no sqlite3 tool needed).
func runBackup(ctx context.Context, a *app, args []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("backup")
	fs.StringVar(&cfg.DB, "db", cfg.DB, "SQLite database file (TROLYSO_DB)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: backup FILE", errUsage)
	}
	if _, err := os.Stat(cfg.DB); err != nil {
		return fmt.Errorf("back up %s: %w", cfg.DB, err)
	}
	db, err := storage.Open(ctx, cfg.DB, storage.Options{Now: a.now})
	if err != nil {
		return err
	}
	defer db.Close()
	dest := fs.Arg(0)
	if err := db.Backup(ctx, dest); err != nil {
		return err
	}
	info, err := os.Stat(dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s backed up to %s (%d bytes, checked)\n", cfg.DB, dest, info.Size())
	return nil
}
