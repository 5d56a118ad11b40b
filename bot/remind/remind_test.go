package remind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/remind/spec"
	"github.com/colecommune/trolyso/storage"
)

// fakeClock is a settable clock. In auto mode, After advances the clock by
// the wait at once (a paced run takes no real time); otherwise waits fire
// when the test calls Advance.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if c.auto && d > 0 {
		c.now = c.now.Add(d)
	}
	if c.auto || d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

// Set moves the clock to t, firing the waits that are due.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func (c *fakeClock) waiting() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, w := range c.waiters {
		out = append(out, w.at)
	}
	return out
}

type sentMsg struct {
	addr  string
	reply bot.Reply
	at    time.Time
}

// fakeSender records what it is asked to send, at the clock's time.
type fakeSender struct {
	mu   sync.Mutex
	clk  Clock
	sent []sentMsg
	errs map[string]error // by address
	// after, if set, runs after a message is recorded as sent.
	after func(addr string)
}

func (f *fakeSender) SendTo(ctx context.Context, addr string, r bot.Reply) error {
	f.mu.Lock()
	if err := f.errs[addr]; err != nil {
		f.mu.Unlock()
		return err
	}
	f.sent = append(f.sent, sentMsg{addr, r, f.clk.Now()})
	after := f.after
	f.mu.Unlock()
	if after != nil {
		after(addr)
	}
	return nil
}

func (f *fakeSender) messages() []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

func (f *fakeSender) countTo(addr string) int {
	n := 0
	for _, m := range f.messages() {
		if m.addr == addr {
			n++
		}
	}
	return n
}

var vn = spec.Location()

type env struct {
	t      *testing.T
	ctx    context.Context
	path   string
	db     *storage.DB
	clk    *fakeClock
	sender *fakeSender
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	t.Setenv("TZ", "UTC") // the server's zone must not matter
	e := &env{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "trolyso.db"), clk: &fakeClock{now: now, auto: true}, logs: &syncBuffer{}}
	e.sender = &fakeSender{clk: e.clk}
	e.open()
	return e
}

func (e *env) open() {
	e.t.Helper()
	db, err := storage.Open(e.ctx, e.path, storage.Options{Secret: "test-secret"})
	if err != nil {
		e.t.Fatal(err)
	}
	db.Now = e.clk.Now
	e.db = db
	e.t.Cleanup(func() { db.Close() })
}

func (e *env) scheduler(mod func(*Config)) *Scheduler {
	e.t.Helper()
	cfg := Config{
		Store:   e.db,
		Senders: map[string]bot.Sender{bot.ChannelTelegram: e.sender},
		Logger:  slog.New(slog.NewTextHandler(e.logs, nil)),
		Clock:   e.clk,
		Grace:   6 * time.Hour,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// team adds a team with n Telegram members whose chat ids are
// "<prefix>1".."<prefix>n"; it returns the team and the members' keys.
func (e *env) team(village, group string, n int, prefix string) (storage.Team, []string) {
	e.t.Helper()
	tm, err := e.db.AddTeam(e.ctx, village, group)
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	for i := 1; i <= n; i++ {
		chat := fmt.Sprintf("%s%d", prefix, i)
		key := e.db.UserKey(bot.ChannelTelegram, chat)
		if err := e.db.SetAddress(e.ctx, bot.ChannelTelegram, key, chat); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.db.JoinTeam(e.ctx, bot.ChannelTelegram, key, tm.JoinCode, ""); err != nil {
			e.t.Fatal(err)
		}
		keys = append(keys, key)
	}
	return tm, keys
}

func (e *env) reminder(cron, target, tmpl string) storage.Reminder {
	e.t.Helper()
	r := storage.Reminder{Name: "Thử", Cron: cron, Target: target, Template: tmpl, Enabled: true}
	if err := e.db.AddReminder(e.ctx, &r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) tick(s *Scheduler) time.Time {
	e.t.Helper()
	next, err := s.Tick(e.ctx)
	if err != nil {
		e.t.Fatalf("Tick: %v", err)
	}
	return next
}

func (e *env) runs(reminderID int64) []storage.Run {
	e.t.Helper()
	rs, err := e.db.RecentRuns(e.ctx, reminderID, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Reverse(rs)
	return rs
}

func TestQuarterlyReminderLandsAtVietnameseTime(t *testing.T) {
	// 2026-03-15 00:59 UTC is 07:59 in Vietnam.
	e := newEnv(t, time.Date(2026, 3, 15, 0, 59, 0, 0, time.UTC))
	e.team("Thôn Đông", "", 2, "10")
	r := e.reminder("0 8 15 3,6,9,12 *", "all", "Tổ {{.Team}}: hạn {{.Deadline}}, còn {{.DaysToDeadline}} ngày")
	s := e.scheduler(nil)

	next := e.tick(s)
	if len(e.sender.messages()) != 0 {
		t.Fatal("sent before the slot")
	}
	if want := time.Date(2026, 3, 15, 1, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Fatalf("next = %s, want %s (08:00 in Vietnam)", next.Format(time.RFC3339), want.Format(time.RFC3339))
	}
	e.clk.Set(next)
	e.tick(s)
	msgs := e.sender.messages()
	if len(msgs) != 2 {
		t.Fatalf("sent %d messages, want 2", len(msgs))
	}
	if got, want := msgs[0].reply.Text, "Tổ Thôn Đông: hạn 20/03/2026, còn 5 ngày"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if b := msgs[0].reply.Buttons; len(b) != 1 || b[0][0].Label != "✅ Đã nhận" || !strings.HasPrefix(b[0][0].Payload, "ack:") {
		t.Errorf("buttons = %+v", b)
	}
	runs := e.runs(r.ID)
	if len(runs) != 1 || runs[0].Late || runs[0].Status != storage.RunDone {
		t.Fatalf("runs = %+v", runs)
	}
	if got := runs[0].ScheduledFor.In(vn).Format(time.RFC3339); got != "2026-03-15T08:00:00+07:00" {
		t.Errorf("run scheduled for %s", got)
	}
	// Nothing more until June 15, 08:00 +07.
	next = e.tick(s)
	if len(e.sender.messages()) != 2 {
		t.Error("sent twice for one slot")
	}
	if next.Sub(e.clk.Now()) > DefaultPoll {
		t.Errorf("next wake %s is beyond the poll interval", next)
	}
}

func TestRunLoopSleepsUntilDueAndStops(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 16, 0, 29, 30, 0, time.UTC)) // Monday 07:29:30 in Vietnam
	e.clk.auto = false
	e.team("Thôn Bắc", "", 1, "20")
	s := e.scheduler(nil)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for start := time.Now(); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	// Run seeds the defaults, finds the weekly digest due at 07:30 and sleeps until then.
	waitFor("the loop to sleep", func() bool { return len(e.clk.waiting()) == 1 })
	if w := e.clk.waiting()[0]; !w.Equal(time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC)) {
		t.Fatalf("loop sleeps until %s, want 07:30 +07", w.In(vn).Format(time.RFC3339))
	}
	if n := len(e.sender.messages()); n != 0 {
		t.Fatalf("sent %d messages before 07:30", n)
	}
	e.clk.Set(time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC))
	waitFor("the weekly digest", func() bool { return len(e.sender.messages()) == 1 })
	if txt := e.sender.messages()[0].reply.Text; !strings.Contains(txt, "Điểm tin tuần") || !strings.Contains(txt, "Thôn Bắc") {
		t.Errorf("digest text = %q", txt)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
}

func TestCrashBetweenSendAndRecordDoesNotResend(t *testing.T) {
	start := time.Date(2026, 3, 16, 0, 29, 0, 0, time.UTC)
	e := newEnv(t, start)
	_, keys := e.team("Thôn Nam", "", 3, "30")
	r := e.reminder("30 7 * * 1", "all", "Điểm tin {{.Team}}")
	s := e.scheduler(nil)
	e.clk.Set(start.Add(time.Minute))

	// The first message leaves, then the process dies before recording it.
	e.sender.after = func(addr string) {
		e.sender.after = nil
		e.db.Close()
	}
	if _, err := s.Tick(e.ctx); err == nil {
		t.Fatal("Tick succeeded although the database went away")
	}
	if n := len(e.sender.messages()); n != 1 {
		t.Fatalf("sent %d before the crash, want 1", n)
	}

	// Restart on the same file, a few minutes later.
	e.clk.Set(start.Add(5 * time.Minute))
	e.open()
	s2 := e.scheduler(nil)
	e.tick(s2)
	e.tick(s2)
	for i := 1; i <= 3; i++ {
		if n := e.sender.countTo(fmt.Sprintf("30%d", i)); n != 1 {
			t.Errorf("member 30%d got %d messages, want exactly 1", i, n)
		}
	}
	runs := e.runs(r.ID)
	if len(runs) != 1 || runs[0].Status != storage.RunDone {
		t.Fatalf("runs = %+v", runs)
	}
	ds, err := e.db.RunDeliveries(e.ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, d := range ds {
		states[d.UserKey] = d.State
	}
	want := map[string]string{keys[0]: storage.DeliveryUnknown, keys[1]: storage.DeliverySent, keys[2]: storage.DeliverySent}
	for k, st := range want {
		if states[k] != st {
			t.Errorf("delivery of %s is %q, want %q", k, states[k], st)
		}
	}
	if !strings.Contains(e.logs.String(), "possibly sent") {
		t.Error("the interrupted delivery was not reported")
	}
	status := bot.RunStatusText(runs[0], ds)
	if !strings.Contains(status, "có thể đã gửi") {
		t.Errorf("status does not report the unknown delivery:\n%s", status)
	}
}

func TestCatchUp(t *testing.T) {
	created := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC) // Monday 07:00 +07
	for _, tc := range []struct {
		name     string
		cron     string
		down     time.Duration // from creation until the restart
		wantRuns int
		skipped  bool
	}{
		{"weekly slot 2h ago is sent late", "30 7 * * 1", 2*time.Hour + 30*time.Minute, 1, false},
		{"weekly slot 7h ago is skipped", "30 7 * * 1", 7*time.Hour + 30*time.Minute, 0, true},
		{"hourly slots: last 6h sent, older skipped", "0 * * * *", 10*time.Hour + 30*time.Minute, 6, true},
		{"slot just now is on time", "30 7 * * 1", 30*time.Minute + 10*time.Second, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, created)
			e.team("Thôn Tây", "", 2, "40")
			r := e.reminder(tc.cron, "all", "Nhắc {{.Team}}")
			e.clk.Set(created.Add(tc.down))
			s := e.scheduler(nil)
			e.tick(s)
			e.tick(s) // a second pass neither re-sends nor re-logs
			runs := e.runs(r.ID)
			if len(runs) != tc.wantRuns {
				t.Fatalf("%d runs, want %d", len(runs), tc.wantRuns)
			}
			if n := len(e.sender.messages()); n != 2*tc.wantRuns {
				t.Errorf("%d messages, want %d", n, 2*tc.wantRuns)
			}
			for _, run := range runs {
				if age := e.clk.Now().Sub(run.ScheduledFor); age > 6*time.Hour {
					t.Errorf("run for %s is older than the grace window", run.ScheduledFor)
				}
				if wantLate := tc.down > time.Hour; run.Late != wantLate {
					t.Errorf("run for %s: late = %v, want %v", run.ScheduledFor, run.Late, wantLate)
				}
			}
			logs := e.logs.String()
			if got := strings.Count(logs, "older than the grace window skipped"); got != map[bool]int{true: 1, false: 0}[tc.skipped] {
				t.Errorf("skip logged %d times:\n%s", got, logs)
			}
		})
	}
}

func TestOneThousandMembersWithinRateLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 deliveries")
	}
	start := time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC)
	e := newEnv(t, start.Add(-time.Minute))
	for i := 0; i < 10; i++ {
		e.team(fmt.Sprintf("Thôn %d", i+1), "", 100, fmt.Sprintf("5%02d", i))
	}
	e.reminder("30 7 * * 1", "all", "Nhắc {{.Team}}")
	s := e.scheduler(nil) // DefaultLimits: 30/s overall
	e.clk.Set(start)
	e.tick(s)
	msgs := e.sender.messages()
	if len(msgs) != 1000 {
		t.Fatalf("sent %d, want 1000", len(msgs))
	}
	seen := map[string]bool{}
	for i, m := range msgs {
		if seen[m.addr] {
			t.Fatalf("%s got two messages", m.addr)
		}
		seen[m.addr] = true
		// No window of one second holds more than 30 sends.
		if i >= 30 {
			if gap := m.at.Sub(msgs[i-30].at); gap < time.Second-time.Millisecond {
				t.Fatalf("sends %d..%d within %s: more than 30 a second", i-30, i, gap)
			}
		}
	}
	if span := msgs[999].at.Sub(msgs[0].at); span < 33*time.Second {
		t.Errorf("1000 sends took %s, want ≥ 33s at 30/s", span)
	}
}

func TestPacerPerChatAndPerGroup(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), auto: true}
	p := NewPacer(clk, DefaultLimits)
	ctx := context.Background()
	for _, tc := range []struct {
		chat  string
		group bool
		gap   time.Duration
	}{
		{"telegram:42", false, time.Second},
		{"telegram:-100123", true, 3 * time.Second},
	} {
		var times []time.Time
		for i := 0; i < 25; i++ {
			if err := p.Wait(ctx, tc.chat, tc.group); err != nil {
				t.Fatal(err)
			}
			times = append(times, clk.Now())
		}
		for i := 1; i < len(times); i++ {
			if g := times[i].Sub(times[i-1]); g < tc.gap-time.Millisecond {
				t.Errorf("%s: sends %d and %d only %s apart, want ≥ %s", tc.chat, i-1, i, g, tc.gap)
			}
		}
		// 20 a minute per group: 21 sends need at least a minute.
		if tc.group && times[20].Sub(times[0]) < time.Minute-time.Millisecond {
			t.Errorf("21 group sends within %s", times[20].Sub(times[0]))
		}
	}
	// Different chats are only held by the overall limit.
	t0 := clk.Now()
	for i := 0; i < 31; i++ {
		if err := p.Wait(ctx, fmt.Sprintf("telegram:%d", 1000+i), false); err != nil {
			t.Fatal(err)
		}
	}
	if d := clk.Now().Sub(t0); d < time.Second-time.Millisecond || d > 2*time.Second {
		t.Errorf("31 sends to different chats took %s, want about 1s", d)
	}
	// A cancelled wait returns at once.
	clk.auto = false
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Wait(cctx, "telegram:42", false); !errors.Is(err, context.Canceled) {
		t.Errorf("wait after cancel = %v", err)
	}
}

func TestBlockedUndeliverableAndNoAddress(t *testing.T) {
	start := time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC)
	e := newEnv(t, start.Add(-time.Minute))
	tm, keys := e.team("Thôn Trung", "", 3, "60")
	// A member who joined from the web chat has no delivery address.
	webKey := e.db.UserKey(bot.ChannelWeb, "browser-1")
	if _, err := e.db.JoinTeam(e.ctx, bot.ChannelWeb, webKey, tm.JoinCode, "Chị Hoa"); err != nil {
		t.Fatal(err)
	}
	e.sender.errs = map[string]error{
		"601": fmt.Errorf("telegram: 403 Forbidden: bot was blocked by the user: %w", bot.ErrBlocked),
		"602": fmt.Errorf("outside the messaging window: %w", bot.ErrUndeliverable),
	}
	r := e.reminder("30 7 * * 1", "all", "Nhắc {{.Team}}")
	s := e.scheduler(nil)
	e.clk.Set(start)
	e.tick(s)
	runs := e.runs(r.ID)
	if len(runs) != 1 {
		t.Fatalf("runs = %+v", runs)
	}
	ds, _ := e.db.RunDeliveries(e.ctx, runs[0].ID)
	got := map[string]string{}
	for _, d := range ds {
		got[d.UserKey] = d.State
	}
	want := map[string]string{
		keys[0]: storage.DeliveryBlocked,
		keys[1]: storage.DeliveryUndeliverable,
		keys[2]: storage.DeliverySent,
		webKey:  storage.DeliveryUndeliverable,
	}
	for k, st := range want {
		if got[k] != st {
			t.Errorf("%s: state %q, want %q", k, got[k], st)
		}
	}
	if u, _ := e.db.UserByKey(e.ctx, keys[0]); u.Active {
		t.Error("the member who blocked the bot is still active")
	}
	status := bot.RunStatusText(runs[0], ds)
	for _, w := range []string{"đã chặn trợ lý", "không gửi được lúc này", "Chị Hoa"} {
		if !strings.Contains(status, w) {
			t.Errorf("status lacks %q:\n%s", w, status)
		}
	}
	// The blocked member is left out of the next run.
	e.sender.errs = nil
	e.clk.Set(start.Add(7 * 24 * time.Hour))
	e.tick(s)
	if n := e.sender.countTo("601"); n != 0 {
		t.Errorf("blocked member got %d messages", n)
	}
	if n := e.sender.countTo("603"); n != 2 {
		t.Errorf("active member got %d messages over two weeks, want 2", n)
	}
}

func TestGroupTargetAndNoSender(t *testing.T) {
	start := time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC)
	e := newEnv(t, start.Add(-time.Minute))
	e.team("Thôn Có Nhóm", "-100777", 1, "70")
	e.team("Thôn Không Nhóm", "", 1, "71")
	r := e.reminder("30 7 * * 1", "groups", "Nhóm {{.Team}}")
	s := e.scheduler(nil)
	e.clk.Set(start)
	e.tick(s)
	msgs := e.sender.messages()
	if len(msgs) != 1 || msgs[0].addr != "-100777" || msgs[0].reply.Text != "Nhóm Thôn Có Nhóm" {
		t.Fatalf("messages = %+v", msgs)
	}
	// With no Telegram sender running, deliveries fail visibly.
	e2 := newEnv(t, start.Add(-time.Minute))
	e2.team("Thôn X", "", 1, "72")
	e2.reminder("30 7 * * 1", "all", "x")
	s2 := e2.scheduler(func(c *Config) { c.Senders = nil })
	e2.clk.Set(start)
	e2.tick(s2)
	runs := e2.runs(1)
	ds, _ := e2.db.RunDeliveries(e2.ctx, runs[0].ID)
	if len(ds) != 1 || ds[0].State != storage.DeliveryFailed || !strings.Contains(ds[0].Error, "not running") {
		t.Errorf("deliveries = %+v", ds)
	}
	_ = r
}

func TestAcknowledgementAndNudge(t *testing.T) {
	start := time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC)
	e := newEnv(t, start.Add(-time.Minute))
	_, keys := e.team("Thôn Hạ", "", 2, "80")
	r := e.reminder("30 7 * * 1", "all", "Nhắc {{.Team}}")
	s := e.scheduler(func(c *Config) { c.NudgeAfter = 2 * time.Hour })
	e.clk.Set(start)
	next := e.tick(s)
	msgs := e.sender.messages()
	if len(msgs) != 2 {
		t.Fatalf("sent %d", len(msgs))
	}
	sentAt := msgs[1].at
	if want := sentAt.Add(2 * time.Hour); next.After(want) {
		// the poll interval is shorter; the nudge time must not be later
		t.Errorf("next wake %s is after the nudge time %s", next, want)
	}
	run := e.runs(r.ID)[0]
	ds, _ := e.db.RunDeliveries(e.ctx, run.ID)
	byKey := map[string]storage.Delivery{}
	for _, d := range ds {
		byKey[d.UserKey] = d
	}
	// The first member acknowledges; the second may not acknowledge for them.
	if _, _, err := e.db.AckDelivery(e.ctx, byKey[keys[0]].ID, keys[1]); !errors.Is(err, storage.ErrNotRecipient) {
		t.Errorf("ack by another member = %v, want ErrNotRecipient", err)
	}
	if _, already, err := e.db.AckDelivery(e.ctx, byKey[keys[0]].ID, keys[0]); err != nil || already {
		t.Fatalf("ack = %v, already %v", err, already)
	}
	if _, already, _ := e.db.AckDelivery(e.ctx, byKey[keys[0]].ID, keys[0]); !already {
		t.Error("second ack not reported as already done")
	}

	// Not yet two hours: no nudge.
	e.clk.Set(sentAt.Add(time.Hour))
	e.tick(s)
	if n := len(e.sender.messages()); n != 2 {
		t.Fatalf("nudged too early: %d messages", n)
	}
	e.clk.Set(sentAt.Add(2 * time.Hour))
	e.tick(s)
	e.tick(s)
	msgs = e.sender.messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages after the nudge time, want 3 (one nudge)", len(msgs))
	}
	nudge := msgs[2]
	if nudge.addr != "802" || !strings.HasPrefix(nudge.reply.Text, "⏰ **Nhắc lại:**") || !strings.Contains(nudge.reply.Text, "Nhắc Thôn Hạ") {
		t.Errorf("nudge = %+v", nudge)
	}
	if b := nudge.reply.Buttons; len(b) != 1 || b[0][0].Payload != bot.AckPrefix+":"+bot.FormatID(byKey[keys[1]].ID) {
		t.Errorf("nudge buttons = %+v", b)
	}
	ds, _ = e.db.RunDeliveries(e.ctx, run.ID)
	status := bot.RunStatusText(run, ds)
	for _, w := range []string{"đã nhận: 1", "chưa nhận: 1", "(đã nhắc lại)"} {
		if !strings.Contains(status, w) {
			t.Errorf("status lacks %q:\n%s", w, status)
		}
	}
}

func TestDefaultsSeededOnceAndValid(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	for _, d := range Defaults {
		if _, err := spec.ParseCron(d.Cron); err != nil {
			t.Errorf("default %s: %v", d.SeedKey, err)
		}
		if _, err := spec.ParseTemplate(d.Template); err != nil {
			t.Errorf("default %s: %v", d.SeedKey, err)
		}
	}
	if n, err := SeedDefaults(e.ctx, e.db); err != nil || n != 2 {
		t.Fatalf("first seed: %d, %v", n, err)
	}
	rs, _ := e.db.Reminders(e.ctx)
	if err := e.db.DeleteReminder(e.ctx, rs[0].ID); err != nil {
		t.Fatal(err)
	}
	if n, err := SeedDefaults(e.ctx, e.db); err != nil || n != 0 {
		t.Fatalf("second seed: %d, %v", n, err)
	}
	if rs, _ := e.db.Reminders(e.ctx); len(rs) != 1 || rs[0].SeedKey != "weekly-digest" {
		t.Errorf("after deleting one default: %+v", rs)
	}
}

func TestFiguresFromExchangesAndRatings(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC))
	lastWeek := time.Date(2026, 3, 12, 3, 0, 0, 0, time.UTC)
	for i, band := range []string{"answer", "answer", "answer", "decline", "clarify"} {
		_, err := e.db.RecordExchange(e.ctx, &storage.Exchange{UserKey: fmt.Sprintf("web:u%d", i), Channel: "web", Question: "q", Band: band, CreatedAt: lastWeek})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Before the week: not counted.
	e.db.RecordExchange(e.ctx, &storage.Exchange{UserKey: "web:old", Channel: "web", Question: "q", Band: "decline", CreatedAt: lastWeek.AddDate(0, 0, -7)})
	slot := time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC)
	d, err := Figures(e.ctx, e.db, slot)
	if err != nil {
		t.Fatal(err)
	}
	if d.Questions != 5 || d.Unanswered != 1 || d.SatisfactionRate != "chưa có đánh giá" || d.Deadline != "20/03/2026" || d.DaysToDeadline != 4 {
		t.Errorf("figures = %+v", d)
	}
	// Ratings (migration 0002): 👍 on two of three answers.
	e.db.Now = func() time.Time { return lastWeek }
	for id, v := range map[int64]int{1: 1, 2: 1, 3: -1} {
		if _, err := e.db.Rate(e.ctx, fmt.Sprintf("web:u%d", id-1), id, v); err != nil {
			t.Fatal(err)
		}
	}
	if d, _ = Figures(e.ctx, e.db, slot); d.SatisfactionRate != "66,7%" {
		t.Errorf("satisfaction = %q, want 66,7%%", d.SatisfactionRate)
	}
}
