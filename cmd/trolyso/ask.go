package main

import (
	"context"
	"fmt"
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
	noStore := fs.Bool("no-store", false, "do not record the exchange in the database")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(q) == "" {
		return fmt.Errorf("%w: ask \"câu hỏi\"", errUsage)
	}
	eng, closeFn, err := a.newEngine(ctx, cfg, !*noStore)
	if err != nil {
		return err
	}
	defer closeFn()
	r := eng.Handle(ctx, bot.Message{Channel: bot.ChannelCLI, UserKey: "cli:local", Text: q})
	fmt.Fprintf(a.stdout, "band: %s\nentry: %s\nscore: %.3f\n\n%s\n", r.Band, orDash(r.EntryID), r.Score, markup.Plain(r.Text))
	printButtons(a, r)
	return nil
}

// newEngine builds an engine over the configured base, with storage when
// store is true.
func (a *app) newEngine(ctx context.Context, cfg *Config, store bool) (*bot.Engine, func(), error) {
	base, err := a.loadBase(cfg.KBDir, cfg.CommunePath)
	if err != nil {
		return nil, nil, err
	}
	var db *storage.DB
	closeFn := func() {}
	if store {
		if db, err = storage.Open(ctx, cfg.DB, storage.Options{Now: a.now}); err != nil {
			return nil, nil, err
		}
		closeFn = func() { db.Close() }
	}
	return bot.New(bot.Config{Store: db, Logger: a.log, Now: a.now, MaxLen: cfg.MaxLen}, base), closeFn, nil
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
