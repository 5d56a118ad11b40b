package main

import (
	"context"

	"github.com/colecommune/trolyso/bot/telegram"
)

// startTelegram starts the Telegram channel when TELEGRAM_BOT_TOKEN is set:
// long polling by default, webhook mode (mounted on the server's mux) when
// TELEGRAM_WEBHOOK_URL is set. It also registers the channel's sender for
// reminders.
func startTelegram(ctx context.Context, s *server) error {
	c := s.cfg.Telegram
	if !c.Enabled() {
		return nil
	}
	tg, err := telegram.New(telegram.Config{
		Token:         c.Token,
		APIURL:        c.APIURL,
		WebhookURL:    c.WebhookURL,
		WebhookSecret: c.WebhookSecret,
		AdminIDs:      c.AdminIDs,
		Engine:        s.handler(),
		Store:         s.db,
		Logger:        s.log,
		Now:           s.a.now,
		Voice:         s.telegramVoice(),
		SharedPacing:  s.sharedPacing(),
		InboxCapacity: s.cfg.InboxCapacity,
		InboxOwner:    s.instance(),
	})
	if err != nil {
		return err
	}
	s.handoffTelegram(tg)
	if tg.Webhook() {
		path := telegram.WebhookPath(c.WebhookURL)
		s.mux.Handle("POST "+path, tg.WebhookHandler())
		s.log.Info("telegram webhook mounted", "path", path)
	}
	s.background(ctx, "telegram", tg.Run)
	s.senders["telegram"] = tg
	return nil
}

// sharedPacing spaces Telegram messages across every instance on a
// PostgreSQL database (one bot, one limit); a SQLite install is one
// process and paces itself.
func (s *server) sharedPacing() telegram.SharedPacing {
	if s.db.Backend() != "postgres" {
		return nil
	}
	return s.db
}
