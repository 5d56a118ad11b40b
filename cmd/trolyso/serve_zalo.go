package main

import (
	"context"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/zalo"
)

// startZalo starts the Zalo OA channel when it is configured: the webhook
// at /zalo/webhook, the proactive token refresh, and the reminder sender.
func startZalo(ctx context.Context, s *server) error {
	z := s.cfg.Zalo
	if !z.Enabled() {
		return nil
	}
	ch, err := zalo.New(ctx, zalo.Config{
		Engine:        s.eng,
		Store:         s.db,
		Logger:        s.log,
		Now:           s.a.now,
		AppID:         z.AppID,
		AppSecret:     z.AppSecret,
		OASecretKey:   z.OASecretKey,
		AccessToken:   z.AccessToken,
		RefreshToken:  z.RefreshToken,
		APIURL:        z.APIURL,
		OAuthURL:      z.OAuthURL,
		MaxEventAge:   z.MaxEventAge,
		Window:        z.Window,
		AdminIDs:      z.AdminIDs,
		InboxCapacity: s.cfg.InboxCapacity,
	})
	if err != nil {
		return err
	}
	s.handoffChannel(bot.ChannelZalo, ch)
	s.mux.Handle("POST /zalo/webhook", ch)
	s.background(ctx, "zalo", ch.Run)
	s.senders[bot.ChannelZalo] = ch
	s.log.Info("zalo OA channel enabled", "webhook", "/zalo/webhook")
	return nil
}
