package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/storage"
)

// runAsk answers one question and shows how it was decided.
func runAsk(ctx context.Context, a *app, args []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("ask")
	cfg.storageFlags(fs)
	record := fs.Bool("record", false, "record the exchange in the database (counted in stats and the unanswered list like a resident's)")
	fs.Bool("no-store", true, "(default; kept for old scripts) do not record the exchange")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(q) == "" {
		return fmt.Errorf("%w: ask \"câu hỏi\"", errUsage)
	}
	eng, closeFn, err := a.newEngine(ctx, cfg, *record, a.log)
	if err != nil {
		return err
	}
	defer closeFn()
	r := eng.Handle(ctx, bot.Message{Channel: bot.ChannelCLI, UserKey: "cli:local", Text: q})
	fmt.Fprintf(a.stdout, "band: %s\nentry: %s\nscore: %.3f\n\n%s\n", r.Band, orDash(r.EntryID), r.Score, markup.Plain(r.Text))
	printButtons(a, r)
	return nil
}

// newEngine builds an engine over the configured base for staff trying
// questions. With record it stores into the configured database like a
// resident's exchange; otherwise into a throwaway database in a temporary
// folder (ratings, surveys and comments still work), so that staff tests
// never reach the figures or the unanswered list.
func (a *app) newEngine(ctx context.Context, cfg *Config, record bool, log *slog.Logger) (*bot.Engine, func(), error) {
	base, err := a.loadBase(cfg.KBDir, cfg.CommunePath)
	if err != nil {
		return nil, nil, err
	}
	path, cleanup := cfg.DB, func() {}
	if !record {
		dir, err := os.MkdirTemp("", "trolyso-try-")
		if err != nil {
			return nil, nil, fmt.Errorf("create a throwaway database: %w", err)
		}
		path, cleanup = filepath.Join(dir, "try.db"), func() { os.RemoveAll(dir) }
	}
	db, err := storage.Open(ctx, path, storage.Options{Now: a.now})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	closeFn := func() { db.Close(); cleanup() }
	return bot.New(bot.Config{Store: db, Logger: log, Now: a.now, MaxLen: cfg.MaxLen}, base), closeFn, nil
}

func printButtons(a *app, r bot.Reply) {
	n := 0
	for _, row := range r.Buttons {
		for _, b := range row {
			n++
			if b.URL != "" {
				fmt.Fprintf(a.stdout, "  [%d] %s (%s)\n", n, b.Label, b.URL)
			} else {
				fmt.Fprintf(a.stdout, "  [%d] %s\n", n, b.Label)
			}
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
