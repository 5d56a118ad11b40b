package main

import (
	"context"
	"fmt"

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
	cm := s.communes[0]
	if s.province() {
		var err error
		if cm, err = s.communeBySlug(s.cfg.ZaloCommune); err != nil {
			return fmt.Errorf("TROLYSO_ZALO_COMMUNE: %w", err)
		}
	}
	ch, err := zalo.New(ctx, zalo.Config{
		Engine:        cm.eng,
		Store:         cm.db,
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
		InboxOwner:    s.instance(),
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
