package main

import (
	"context"
	"fmt"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/bot/telegram"
	"github.com/colecommune/trolyso/bot/web"
)

// configureHandoff sets up the handoff to commune staff when someone can
// answer: the dashboard (TROLYSO_ADMIN_PASSWORD…) or a Telegram staff group
// (TROLYSO_STAFF_TELEGRAM_CHAT). It registers the resident side on the
// engine and the web chat's GET /api/staff; channels connect as they
// start, the outbox runs in startHandoff. In a province deployment every
// commune has a desk of its own (configureProvinceHandoff).
func configureHandoff(ctx context.Context, s *server) error {
	if s.province() {
		return configureProvinceHandoff(ctx, s)
	}
	admin := s.cfg.AdminPassword != "" || s.cfg.AdminPasswordHash != ""
	if !admin && s.cfg.StaffChat == 0 {
		s.log.Info("handoff to staff off: set TROLYSO_ADMIN_PASSWORD (dashboard) or TROLYSO_STAFF_TELEGRAM_CHAT (Telegram group) to let residents ask commune staff")
		return nil
	}
	c := s.communes[0]
	d, err := s.newDesk(ctx, c)
	if err != nil {
		return err
	}
	web.MountStaff(s.mux, web.StaffConfig{Store: s.db, Inbox: d, Logger: s.log, TrustedProxies: s.cfg.TrustedProxies, Now: s.a.now})
	c.desk, c.staffChat = d, s.cfg.StaffChat
	s.desk = d
	return nil
}

// configureProvinceHandoff gives every commune of a province its own
// desk on its own store: its residents are offered it, its tickets stay in
// its store, its working hours come from its profile, and its staff answer
// in the province dashboard (always on: accounts are in the database) and,
// when its profile sets staff_telegram_chat, in that Telegram group.
func configureProvinceHandoff(ctx context.Context, s *server) error {
	if s.cfg.StaffChat != 0 {
		return errProvinceStaffChat
	}
	owner := map[int64]string{}
	groups := 0
	for _, c := range s.communes {
		chat := c.eng.Base().Profile.StaffTelegramChat
		if chat != 0 {
			if !s.cfg.Telegram.Enabled() {
				return fmt.Errorf("commune %s: its profile sets staff_telegram_chat but TELEGRAM_BOT_TOKEN is not set (the bot posts requests to the group)", c.slug)
			}
			if other, dup := owner[chat]; dup {
				return fmt.Errorf("communes %s and %s: the same staff_telegram_chat %d (each commune's staff group must be its own: replies there go to that commune's residents)", other, c.slug, chat)
			}
			owner[chat] = c.slug
			groups++
		}
		d, err := s.newDesk(ctx, c)
		if err != nil {
			return fmt.Errorf("commune %s: %w", c.slug, err)
		}
		web.MountStaff(c.mux, web.StaffConfig{Store: c.db, Inbox: d, Logger: s.log.With("commune", c.slug), TrustedProxies: s.cfg.TrustedProxies, Now: s.a.now})
		c.desk, c.staffChat = d, chat
	}
	s.log.Info("handoff to staff: one desk per commune", "communes", len(s.communes), "staff_groups", groups)
	return nil
}

// newDesk builds commune c's desk on its store and registers the resident
// side on its engine.
func (s *server) newDesk(ctx context.Context, c *communeRT) (*handoff.Desk, error) {
	log := s.log
	if c.slug != "" {
		log = log.With("commune", c.slug)
	}
	d, err := handoff.New(ctx, handoff.Config{
		Store:  c.db,
		Base:   c.eng.Base,
		Logger: log,
		Now:    s.a.now,
		Web:    true,
		Idle:   s.cfg.HandoffIdle,
		Repost: s.cfg.HandoffRepost,
		Shared: s.db.Backend() == "postgres",
	})
	if err != nil {
		return nil, err
	}
	d.Register(c.eng)
	return d, nil
}

// handoffChannel lets staff answers reach residents of a channel.
func (s *server) handoffChannel(channel string, sender bot.Sender) {
	for _, c := range s.communes {
		if c.desk != nil {
			c.desk.AddSender(channel, sender)
		}
	}
}

// handoffTelegram connects the Telegram channel: residents' answers, and
// every staff group (TROLYSO_STAFF_TELEGRAM_CHAT, or each commune's
// staff_telegram_chat) before the adapter receives updates, so that none
// from a group reaches the engine and each group's go to its commune's
// desk.
func (s *server) handoffTelegram(tg *telegram.Adapter) {
	s.handoffChannel(bot.ChannelTelegram, tg)
	for _, c := range s.communes {
		if c.desk == nil || c.staffChat == 0 {
			continue
		}
		c.desk.SetStaffChat(tg.AddStaff(c.staffChat, c.desk))
		if c.slug == "" {
			s.log.Info("handoff: requests are posted to the staff group")
		} else {
			s.log.Info("handoff: the commune's requests are posted to its staff group", "commune", c.slug)
		}
	}
}

// startHandoff runs every desk's outbox and sweeps, each in the one
// instance holding its commune's lease (the others take over if it dies).
func startHandoff(ctx context.Context, s *server) error {
	for _, c := range s.communes {
		if c.desk == nil {
			continue
		}
		c := c
		s.background(ctx, "handoff "+c.slug, func(ctx context.Context) error { return s.leased(ctx, c.db, "handoff", c.desk.Run) })
	}
	return nil
}

// reloadNow checks the knowledge base with a file just published from the
// dashboard, returning why it cannot be loaded (the dashboard then takes
// the file out again), and puts it in service in the background: training
// takes seconds to minutes with the base's size and the machine's load,
// longer than a request may wait, and the previous index answers
// meanwhile. A folder watcher's reload of the same change is not trained
// twice (reload).
func (s *server) reloadNow() error {
	if _, err := s.a.loadBase(s.cfg.KBDir, s.cfg.CommunePath); err != nil {
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.reload(s.ctx, "entry published", false)
	}()
	return nil
}
