package main

import (
	"context"
	"fmt"
	"time"

	"github.com/colecommune/trolyso/bot/remind"
	"github.com/colecommune/trolyso/bot/remind/spec"
)

// startReminders starts the reminder scheduler. It runs whatever channels
// are configured: deliveries to a channel that is not running are recorded
// as failed and shown by "trolyso remind status". Channels register their
// senders in s.senders before this step runs.
func startReminders(ctx context.Context, s *server) error {
	for _, c := range s.communes {
		if err := s.startCommuneReminders(ctx, c); err != nil {
			return fmt.Errorf("commune %q: %w", c.slug, err)
		}
	}
	return nil
}

// startCommuneReminders runs one commune's reminder scheduler on its store.
func (s *server) startCommuneReminders(ctx context.Context, c *communeRT) error {
	log := s.log
	if c.slug != "" {
		log = log.With("commune", c.slug)
	}
	sch, err := remind.New(remind.Config{
		Store:      c.db,
		Senders:    s.senders,
		Logger:     log,
		Clock:      appClock{now: s.a.now},
		Grace:      s.cfg.ReminderGrace,
		NudgeAfter: s.cfg.ReminderNudge,
		StaleEntries: func(at time.Time) int {
			return len(c.eng.Base().NeedsReview(at.In(spec.Location())))
		},
	})
	if err != nil {
		return err
	}
	// The defaults are there before the server says it is ready; the
	// scheduler itself runs in whichever instance holds the commune's
	// reminder lease.
	if n, err := remind.SeedDefaults(ctx, c.db); err != nil {
		return err
	} else if n > 0 {
		log.Info("reminders: default reminders added", "count", n)
	}
	s.background(ctx, "reminders", func(ctx context.Context) error { return s.leased(ctx, c.db, "reminders", sch.Run) })
	return nil
}

// appClock is the scheduler's clock over the app's time source.
type appClock struct{ now func() time.Time }

func (c appClock) Now() time.Time {
	if c.now == nil {
		return time.Now()
	}
	return c.now()
}

func (appClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
