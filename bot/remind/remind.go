// Package remind sends the scheduled reminders to the community digital
// technology teams: it finds due cron slots (Vietnamese time), catches up
// on slots missed while the server was down within a grace window, renders
// each team's message with live figures, and delivers it at most once per
// (run, recipient) through the channels' bot.Sender, within the platforms'
// rate limits. Acknowledgements arrive as "ack:<delivery id>" button taps
// handled by package bot; unacknowledged deliveries may be nudged once.
//
// At most once: every recipient of a run is recorded as pending when the
// run starts; each delivery is then claimed ('sending', committed) before
// the message is sent and recorded after. A delivery found in 'sending' at
// start-up (the process stopped between send and record) is reported as
// possibly sent and never sent again; pending ones are sent.
//
// One scheduler per database: run a single "trolyso serve" per data file.
package remind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/bot/remind/spec"
	"github.com/colecommune/trolyso/storage"
)

// Defaults of Config.
const (
	DefaultGrace = 6 * time.Hour
	// OnTime is how late a run may start and still count as on time (and
	// be sent even with no grace window).
	OnTime = time.Minute
	// DefaultPoll is the longest the loop sleeps before re-reading the
	// reminders (changes made by the CLI in another process).
	DefaultPoll = time.Minute
	// maxSlotScan bounds the slots walked when looking for missed ones.
	maxSlotScan = 100000
)

// Config holds the scheduler's dependencies.
type Config struct {
	Store *storage.DB
	// Senders deliver messages, by channel name (bot.ChannelTelegram, …);
	// group chats go through the Telegram sender.
	Senders map[string]bot.Sender
	Logger  *slog.Logger
	Clock   Clock // default SystemClock
	// Grace is how old a missed slot may be and still be sent (late) at
	// start-up; older ones are skipped and logged. 0 disables catch-up.
	Grace time.Duration
	// NudgeAfter, when positive, re-sends once to recipients who have not
	// tapped "✅ Đã nhận" that long after delivery.
	NudgeAfter time.Duration
	// Limits default to DefaultLimits.
	Limits Limits
	// Poll defaults to DefaultPoll.
	Poll time.Duration
	// StaleEntries, when set, counts the knowledge-base entries due for
	// review on a run's day (the templates' {{.StaleEntries}}; 0 without).
	StaleEntries func(at time.Time) int
}

// Scheduler runs the reminders. Use Run (the loop) or Tick (one pass).
type Scheduler struct {
	cfg   Config
	store *storage.DB
	log   *slog.Logger
	clk   Clock
	pace  *Pacer
}

// New checks cfg and returns a scheduler.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil {
		return nil, errors.New("reminders: no store")
	}
	if cfg.Grace < 0 || cfg.NudgeAfter < 0 {
		return nil, errors.New("reminders: grace and nudge delay must not be negative")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.Limits.Overall <= 0 || cfg.Limits.PerChat <= 0 || cfg.Limits.PerGroup <= 0 {
		return nil, errors.New("reminders: rate limits must be positive")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	return &Scheduler{cfg: cfg, store: cfg.Store, log: cfg.Logger, clk: cfg.Clock, pace: NewPacer(cfg.Clock, cfg.Limits)}, nil
}

// Run seeds the default reminders (once per database), then sends due
// reminders until ctx ends, sleeping until the next due slot.
func (s *Scheduler) Run(ctx context.Context) error {
	if n, err := SeedDefaults(ctx, s.store); err != nil {
		return err
	} else if n > 0 {
		s.log.Info("reminders: default reminders added", "count", n)
	}
	s.log.Info("reminders: scheduler started", "zone", spec.Zone, "grace", s.cfg.Grace.String(), "nudge_after", s.cfg.NudgeAfter.String())
	for {
		next, err := s.Tick(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.Error("reminders: pass failed; retrying", "err", err)
		}
		now := s.clk.Now()
		wait := min(next.Sub(now), s.cfg.Poll)
		if wait < 0 {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.clk.After(wait):
		}
	}
}

// Tick does one pass: finishes interrupted runs, sends every due slot of
// every enabled reminder (catching up within the grace window), sends due
// nudges, and returns when the next slot or nudge is due.
func (s *Scheduler) Tick(ctx context.Context) (next time.Time, err error) {
	now := s.clk.Now()
	next = now.Add(s.cfg.Poll)
	var errs []error
	if err := s.finishInterrupted(ctx); err != nil {
		errs = append(errs, err)
	}
	rems, err := s.store.Reminders(ctx)
	if err != nil {
		return next, err
	}
	for _, r := range rems {
		if ctx.Err() != nil {
			return next, ctx.Err()
		}
		if !r.Enabled {
			continue
		}
		sched, err := spec.ParseCron(r.Cron)
		if err != nil {
			errs = append(errs, fmt.Errorf("reminder %d: %w", r.ID, err))
			continue
		}
		due, skipped, lastSkipped := s.dueSlots(sched, r.Anchor, now)
		if skipped > 0 {
			s.log.Warn("reminders: missed slots older than the grace window skipped",
				"reminder", r.ID, "name", r.Name, "skipped", skipped, "last_skipped", lastSkipped.In(spec.Location()).Format(time.RFC3339))
			if err := s.store.AdvanceAnchor(ctx, r.ID, lastSkipped); err != nil {
				errs = append(errs, err)
			}
		}
		for _, slot := range due {
			late := now.Sub(slot) > OnTime
			if err := s.fire(ctx, r, slot, late); err != nil {
				errs = append(errs, fmt.Errorf("reminder %d at %s: %w", r.ID, slot.Format(time.RFC3339), err))
				break
			}
		}
		if ts := spec.NextTimes(sched, s.clk.Now(), 1); len(ts) == 1 && ts[0].Before(next) {
			next = ts[0]
		}
	}
	if s.cfg.NudgeAfter > 0 {
		nn, err := s.nudge(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		if !nn.IsZero() && nn.Before(next) {
			next = nn
		}
	}
	return next, errors.Join(errs...)
}

// window is how old a slot may be and still be sent.
func (s *Scheduler) window() time.Duration { return max(s.cfg.Grace, OnTime) }

// dueSlots walks the slots after anchor up to now: those within the window
// are due (oldest first), older ones are counted as skipped.
func (s *Scheduler) dueSlots(sched interface{ Next(time.Time) time.Time }, anchor, now time.Time) (due []time.Time, skipped int, lastSkipped time.Time) {
	t := anchor.In(spec.Location())
	for i := 0; i < maxSlotScan; i++ {
		t = sched.Next(t)
		if t.IsZero() || t.After(now) { // Next gives the zero time when nothing matches
			return due, skipped, lastSkipped
		}
		if now.Sub(t) <= s.window() {
			due = append(due, t)
		} else {
			skipped++
			lastSkipped = t
		}
	}
	// Too many slots to walk (a frequent schedule, long down): skip to the
	// window's start.
	lastSkipped = now.Add(-s.window() - time.Second)
	for t := sched.Next(lastSkipped.In(spec.Location())); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		due = append(due, t)
	}
	return due, skipped, lastSkipped
}

// fire starts the run of reminder r for slot and delivers it.
func (s *Scheduler) fire(ctx context.Context, r storage.Reminder, slot time.Time, late bool) error {
	ds, err := s.plan(ctx, r, slot)
	if err != nil {
		// A reminder that cannot be rendered would fail every pass: log,
		// move on.
		s.log.Error("reminders: cannot prepare run; slot skipped", "reminder", r.ID, "slot", slot.Format(time.RFC3339), "err", err)
		return s.store.AdvanceAnchor(ctx, r.ID, slot)
	}
	run, created, err := s.store.StartRun(ctx, r.ID, slot, late, ds)
	if err != nil {
		return err
	}
	if !created {
		return nil // already started; finishInterrupted handles it
	}
	run.ReminderName = r.Name
	s.log.Info("reminders: run started", "run", run.ID, "reminder", r.ID, "name", r.Name,
		"slot", slot.In(spec.Location()).Format(time.RFC3339), "late", late, "recipients", len(ds))
	return s.deliver(ctx, run)
}

// plan lists the run's recipients with their rendered texts.
func (s *Scheduler) plan(ctx context.Context, r storage.Reminder, slot time.Time) ([]storage.NewDelivery, error) {
	target, err := spec.ParseTarget(r.Target)
	if err != nil {
		return nil, err
	}
	tmpl, err := spec.ParseTemplate(r.Template)
	if err != nil {
		return nil, err
	}
	data, err := Figures(ctx, s.store, slot)
	if err != nil {
		return nil, err
	}
	if s.cfg.StaleEntries != nil {
		data.StaleEntries = s.cfg.StaleEntries(slot)
	}
	texts := map[string]string{}
	render := func(village string) (string, error) {
		if t, ok := texts[village]; ok {
			return t, nil
		}
		d := data
		d.Team = village
		t, err := tmpl.Execute(d)
		texts[village] = t
		return t, err
	}
	var out []storage.NewDelivery
	if target.Kind == "groups" {
		teams, err := s.store.Teams(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range teams {
			if t.GroupChat == "" {
				continue
			}
			text, err := render(t.Village)
			if err != nil {
				return nil, err
			}
			out = append(out, storage.NewDelivery{Recipient: "group:" + strconv.FormatInt(t.ID, 10), TeamID: t.ID, Text: text})
		}
		return out, nil
	}
	members, err := s.store.ActiveMembers(ctx, target.Teams)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		text, err := render(m.Village)
		if err != nil {
			return nil, err
		}
		out = append(out, storage.NewDelivery{Recipient: "user:" + m.UserKey, UserID: m.UserID, TeamID: m.TeamID, Text: text})
	}
	return out, nil
}

// Figures computes the live figures of a run at slot (everything but Team).
func Figures(ctx context.Context, db *storage.DB, slot time.Time) (spec.Data, error) {
	var d spec.Data
	d.FillDates(slot)
	from, to := spec.WeekBefore(slot)
	st, err := db.Stats(ctx, from, to)
	if err != nil {
		return d, err
	}
	d.Questions, d.Unanswered = st.Questions, st.Unanswered
	d.SatisfactionRate = spec.FormatRate(st.Rated, st.Positive)
	if d.OpenHandoffs, err = db.CountOpenTickets(ctx); err != nil {
		return d, err
	}
	return d, nil
}

// finishInterrupted completes runs left running (the process stopped, or a
// pass failed, during them): deliveries caught in 'sending' become
// 'unknown' and are never re-sent; pending ones are sent if the run is
// still within the window, skipped otherwise.
func (s *Scheduler) finishInterrupted(ctx context.Context) error {
	runs, err := s.store.UnfinishedRuns(ctx)
	if err != nil {
		return err
	}
	for _, run := range runs {
		n, err := s.store.MarkInterrupted(ctx, run.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			s.log.Warn("reminders: deliveries interrupted while sending are reported as possibly sent, not re-sent", "run", run.ID, "count", n)
		}
		if age := s.clk.Now().Sub(run.ScheduledFor); age > s.window() {
			k, err := s.store.SkipPending(ctx, run.ID, "run resumed after the grace window")
			if err != nil {
				return err
			}
			if k > 0 {
				s.log.Warn("reminders: unfinished run too old; pending deliveries skipped", "run", run.ID, "skipped", k, "age", age.String())
			}
			if err := s.store.FinishRun(ctx, run.ID); err != nil {
				return err
			}
			continue
		}
		s.log.Info("reminders: resuming unfinished run", "run", run.ID, "reminder", run.ReminderID)
		if err := s.deliver(ctx, run); err != nil {
			return err
		}
	}
	return nil
}

// deliver sends the run's pending deliveries one after the other, paced,
// then marks the run done. If ctx ends or the store fails, the run stays
// unfinished and is resumed by the next pass or start.
func (s *Scheduler) deliver(ctx context.Context, run storage.Run) error {
	ds, err := s.store.PendingDeliveries(ctx, run.ID)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, d := range ds {
		state, err := s.deliverOne(ctx, d, bot.Reply{Band: bot.BandCommand, Text: d.Text, Buttons: bot.AckButton(d.ID)}, true)
		if err != nil {
			return err
		}
		counts[state]++
	}
	if err := s.store.FinishRun(ctx, run.ID); err != nil {
		return err
	}
	s.log.Info("reminders: run finished", "run", run.ID, "reminder", run.ReminderID,
		"sent", counts[storage.DeliverySent], "blocked", counts[storage.DeliveryBlocked],
		"undeliverable", counts[storage.DeliveryUndeliverable], "failed", counts[storage.DeliveryFailed],
		"unknown", counts[storage.DeliveryUnknown], "not_claimed", counts[""])
	return nil
}

// address resolves where a delivery goes: the channel, its sender and the
// address, or the reason it cannot be sent.
func (s *Scheduler) address(ctx context.Context, d storage.Delivery) (channel, addr string, sender bot.Sender, why string, err error) {
	if d.Group() {
		channel = bot.ChannelTelegram
		t, err := s.store.Team(ctx, strconv.FormatInt(d.TeamID, 10))
		if errors.Is(err, storage.ErrNotFound) || (err == nil && t.GroupChat == "") {
			return channel, "", nil, "team has no group chat", nil
		}
		if err != nil {
			return "", "", nil, "", err
		}
		addr = t.GroupChat
	} else {
		channel, addr, err = s.store.Address(ctx, d.UserKey)
		if errors.Is(err, storage.ErrNotFound) {
			return d.Channel, "", nil, "no delivery address on " + d.Channel, nil
		}
		if err != nil {
			return "", "", nil, "", err
		}
	}
	sender = s.cfg.Senders[channel]
	if sender == nil {
		return channel, addr, nil, "channel " + channel + " is not running", nil
	}
	return channel, addr, sender, "", nil
}

// deliverOne sends one reminder delivery (claim is true) or nudge (claim is
// false: the nudge was claimed by the caller). It returns the recorded
// state ("" if someone else had claimed it); an error means the store
// failed or ctx ended, and the caller should stop.
func (s *Scheduler) deliverOne(ctx context.Context, d storage.Delivery, reply bot.Reply, claim bool) (string, error) {
	channel, addr, sender, why, err := s.address(ctx, d)
	if err != nil {
		return "", err
	}
	if sender != nil {
		if err := s.pace.Wait(ctx, channel+":"+addr, d.Group()); err != nil {
			return "", err
		}
	}
	if claim {
		ok, err := s.store.ClaimDelivery(ctx, d.ID)
		if err != nil || !ok {
			return "", err
		}
	}
	var state, errText string
	if sender == nil {
		state, errText = storage.DeliveryUndeliverable, why
		if strings.HasPrefix(why, "channel ") {
			state = storage.DeliveryFailed
		}
	} else {
		err := sender.SendTo(ctx, addr, reply)
		state, errText = s.outcome(ctx, d, err)
	}
	if !claim {
		if state != storage.DeliverySent {
			s.log.Warn("reminders: nudge not delivered", "delivery", d.ID, "state", state, "err", errText)
		}
		return state, nil
	}
	// Record even if ctx ended during the send: the row must not stay in
	// 'sending' without need.
	if err := s.store.FinishDelivery(context.WithoutCancel(ctx), d.ID, state, errText); err != nil {
		return state, err
	}
	return state, ctx.Err()
}

// outcome classifies a send error, marking blocked users inactive.
func (s *Scheduler) outcome(ctx context.Context, d storage.Delivery, err error) (state, errText string) {
	state, errText = Classify(ctx, err)
	switch state {
	case storage.DeliveryBlocked:
		if !d.Group() && d.UserKey != "" {
			if err := s.store.SetActive(context.WithoutCancel(ctx), d.UserKey, false); err != nil {
				s.log.Error("reminders: mark blocked user inactive", "err", err)
			}
		}
		s.log.Warn("reminders: recipient blocked the bot; marked inactive", "delivery", d.ID, "team", d.TeamID)
	case storage.DeliveryUndeliverable:
		s.log.Warn("reminders: message cannot be delivered now", "delivery", d.ID, "team", d.TeamID, "err", errText)
	case storage.DeliveryFailed:
		s.log.Error("reminders: send failed", "delivery", d.ID, "team", d.TeamID, "err", errText)
	}
	return state, errText
}

// Classify turns the error of a bot.Sender into the state to record (sent,
// blocked, undeliverable, unknown or failed) and a redacted error text
// (platform errors may quote chat ids). A send that may have reached the
// platform (bot.ErrMaybeSent, or ctx ended during it) is "unknown": it
// must never be sent again.
func Classify(ctx context.Context, err error) (state, errText string) {
	if err == nil {
		return storage.DeliverySent, ""
	}
	text := privacy.Redact(err.Error())
	switch {
	case errors.Is(err, bot.ErrBlocked):
		return storage.DeliveryBlocked, text
	case errors.Is(err, bot.ErrUndeliverable):
		return storage.DeliveryUndeliverable, text
	case errors.Is(err, bot.ErrMaybeSent):
		return storage.DeliveryUnknown, text
	case ctx.Err() != nil:
		// Stopped mid-send: it may or may not have left.
		return storage.DeliveryUnknown, "stopped while sending: " + text
	default:
		return storage.DeliveryFailed, text
	}
}

// textNudge heads the one reminder re-sent to those who did not
// acknowledge.
const textNudge = "⏰ **Nhắc lại:** bạn chưa bấm **✅ Đã nhận** cho tin nhắc dưới đây.\n\n"

// nudge re-sends, once, deliveries sent NudgeAfter ago and not
// acknowledged (only those sent within the grace window before that, so
// turning nudges on does not nudge old runs). It returns when the next
// nudge is due (zero if none is waiting).
func (s *Scheduler) nudge(ctx context.Context) (time.Time, error) {
	now := s.clk.Now()
	from := now.Add(-s.cfg.NudgeAfter - s.window())
	ds, err := s.store.NudgeCandidates(ctx, from, now.Add(-s.cfg.NudgeAfter).Add(time.Microsecond))
	if err != nil {
		return time.Time{}, err
	}
	for _, d := range ds {
		ok, err := s.store.ClaimNudge(ctx, d.ID)
		if err != nil {
			return time.Time{}, err
		}
		if !ok {
			continue
		}
		reply := bot.Reply{Band: bot.BandCommand, Text: textNudge + d.Text, Buttons: bot.AckButton(d.ID)}
		if _, err := s.deliverOne(ctx, d, reply, false); err != nil {
			return time.Time{}, err
		}
		s.log.Info("reminders: nudged", "delivery", d.ID, "run", d.RunID)
	}
	oldest, err := s.store.OldestNudgeDue(ctx, from)
	if err != nil || oldest.IsZero() {
		return time.Time{}, err
	}
	return oldest.Add(s.cfg.NudgeAfter), nil
}
