package main

import (
	"context"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/bot/telegram"
	"github.com/colecommune/trolyso/bot/web"
)

// configureHandoff sets up the handoff to commune staff when someone can
// answer: the dashboard (TROLYSO_ADMIN_PASSWORD…) or a Telegram staff group
// (TROLYSO_STAFF_TELEGRAM_CHAT). It registers the resident side on the
// engine and the web chat's GET /api/staff; channels connect as they
// start, the outbox runs in startHandoff.
func configureHandoff(ctx context.Context, s *server) error {
	admin := s.cfg.AdminPassword != "" || s.cfg.AdminPasswordHash != ""
	if s.province() {
		if admin || s.cfg.StaffChat != 0 {
			s.log.Warn("handoff to staff is not available in a province deployment yet (TROLYSO_COMMUNES): residents are not offered it")
		}
		return nil
	}
	if !admin && s.cfg.StaffChat == 0 {
		s.log.Info("handoff to staff off: set TROLYSO_ADMIN_PASSWORD (dashboard) or TROLYSO_STAFF_TELEGRAM_CHAT (Telegram group) to let residents ask commune staff")
		return nil
	}
	d, err := handoff.New(ctx, handoff.Config{
		Store:  s.db,
		Base:   s.eng.Base,
		Logger: s.log,
		Now:    s.a.now,
		Web:    true,
		Idle:   s.cfg.HandoffIdle,
		Repost: s.cfg.HandoffRepost,
	})
	if err != nil {
		return err
	}
	d.Register(s.eng)
	web.MountStaff(s.mux, web.StaffConfig{Store: s.db, Inbox: d, Logger: s.log, TrustedProxies: s.cfg.TrustedProxies, Now: s.a.now})
	s.desk = d
	return nil
}

// handoffChannel lets staff answers reach residents of a channel.
func (s *server) handoffChannel(channel string, sender bot.Sender) {
	if s.desk != nil {
		s.desk.AddSender(channel, sender)
	}
}

// handoffTelegram connects the Telegram channel: residents' answers, and
// the staff group when TROLYSO_STAFF_TELEGRAM_CHAT is set (before the
// adapter receives updates, so that none from the group reaches the
// engine).
func (s *server) handoffTelegram(tg *telegram.Adapter) {
	s.handoffChannel(bot.ChannelTelegram, tg)
	if s.desk != nil && s.cfg.StaffChat != 0 {
		tg.SetStaff(s.cfg.StaffChat, s.desk)
		s.desk.SetStaffChat(tg)
		s.log.Info("handoff: requests are posted to the staff group")
	}
}

// startHandoff runs the handoff outbox and sweeps.
func startHandoff(ctx context.Context, s *server) error {
	if s.desk == nil {
		return nil
	}
	// One instance sends the outbox (the others take over if it dies).
	s.background(ctx, "handoff", func(ctx context.Context) error { return s.leased(ctx, s.db, "handoff", s.desk.Run) })
	return nil
}

// reloadNow loads the knowledge base again at once (after an entry was
// published from the dashboard), returning why it could not.
func (s *server) reloadNow() error {
	b, err := s.a.loadBase(s.cfg.KBDir, s.cfg.CommunePath)
	if err != nil {
		return err
	}
	if err := s.swapBase(s.ctx, b, "entry published"); err != nil {
		return err
	}
	s.log.Info("knowledge base reloaded", "why", "entry published", "entries", len(b.Entries))
	return nil
}
