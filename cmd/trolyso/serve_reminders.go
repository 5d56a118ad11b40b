package main

import (
	"context"
	"time"

	"github.com/colecommune/trolyso/bot/remind"
	"github.com/colecommune/trolyso/bot/remind/spec"
)

// startReminders starts the reminder scheduler. It runs whatever channels
// are configured: deliveries to a channel that is not running are recorded
// as failed and shown by "trolyso remind status". Channels register their
// senders in s.senders before this step runs.
func startReminders(ctx context.Context, s *server) error {
	sch, err := remind.New(remind.Config{
		Store:      s.db,
		Senders:    s.senders,
		Logger:     s.log,
		Clock:      appClock{now: s.a.now},
		Grace:      s.cfg.ReminderGrace,
		NudgeAfter: s.cfg.ReminderNudge,
		StaleEntries: func(at time.Time) int {
			return len(s.eng.Base().NeedsReview(at.In(spec.Location())))
		},
	})
	if err != nil {
		return err
	}
	s.background(ctx, "reminders", sch.Run)
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
