package main

import (
	"context"
	"fmt"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/alert"
	"github.com/colecommune/trolyso/bot/remind"
)

// startAlerts serves /canhbao (recent alerts, and the web chat's pin of
// current disaster warnings), gives the engine the Telegram and Zalo links
// offered on the web chat, and starts the alert sender over the channels'
// senders. The sender takes the sender lease: while this server runs, the
// CLI records jobs and leaves the sending to it.
func startAlerts(ctx context.Context, s *server) error {
	if !s.province() {
		(&alert.Public{Store: s.db, Base: s.eng.Base, Now: s.a.now, Log: s.log}).Routes(s.mux)
	}
	for _, c := range s.communes {
		if err := s.startCommuneAlerts(ctx, c); err != nil {
			return fmt.Errorf("commune %q: %w", c.slug, err)
		}
	}
	return nil
}

// startCommuneAlerts runs one commune's alert sender on its store.
func (s *server) startCommuneAlerts(ctx context.Context, c *communeRT) error {
	c.eng.SetAlertLinks(bot.AlertLinks{Telegram: s.cfg.Alerts.TelegramLink, Zalo: s.cfg.Alerts.ZaloLink})
	log := s.log
	if c.slug != "" {
		log = log.With("commune", c.slug)
	}
	snd, err := alert.NewSender(alert.SenderConfig{
		Store:   c.db,
		Senders: s.senders,
		Logger:  log,
		Clock:   appClock{now: s.a.now},
		Limits:  s.cfg.Alerts.limits(),
		Owner:   "serve",
	})
	if err != nil {
		return err
	}
	s.background(ctx, "alerts", snd.Run)
	return nil
}

// limits are the alert sender's rates: Telegram's default, Zalo's from
// TROLYSO_ALERT_ZALO_RATE (the default when unset).
func (c AlertsConfig) limits() map[string]remind.Limits {
	if c.ZaloRate <= 0 {
		return nil
	}
	return map[string]remind.Limits{bot.ChannelZalo: alert.ZaloLimits(c.ZaloRate)}
}
