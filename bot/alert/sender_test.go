package alert

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/remind"
	"github.com/colecommune/trolyso/storage"
)

// fakeSender is a channel: it records every message that "arrives" with
// its time, and fails addresses as told.
type fakeSender struct {
	mu    sync.Mutex
	got   []arrival
	fail  func(addr string) error // nil error: delivered
	after func(n int)             // called after the n-th arrival
}

type arrival struct {
	addr, text string
	at         time.Time
}

func (f *fakeSender) SendTo(ctx context.Context, addr string, r bot.Reply) error {
	var err error
	if f.fail != nil {
		err = f.fail(addr)
	}
	// A refused message never arrives; an ambiguous failure may have.
	if err != nil && !errors.Is(err, bot.ErrMaybeSent) {
		return err
	}
	f.mu.Lock()
	f.got = append(f.got, arrival{addr, r.Text, time.Now()})
	n := len(f.got)
	f.mu.Unlock()
	if f.after != nil {
		f.after(n)
	}
	return err
}

func (f *fakeSender) arrivals() []arrival {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]arrival(nil), f.got...)
}

// perAddr counts arrivals by address.
func (f *fakeSender) perAddr() map[string]int {
	m := map[string]int{}
	for _, a := range f.arrivals() {
		m[a.addr]++
	}
	return m
}

type harness struct {
	t    *testing.T
	db   *storage.DB
	tg   *fakeSender
	zalo *fakeSender
	ctx  context.Context
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	db, err := storage.Open(context.Background(), t.TempDir()+"/alerts.db", storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &harness{t: t, db: db, tg: &fakeSender{}, zalo: &fakeSender{}, ctx: context.Background()}
}

// subscribers adds n subscribers on channel with addresses prefix+i.
func (h *harness) subscribers(channel, prefix string, n int, village string) []string {
	h.t.Helper()
	var addrs []string
	for i := range n {
		addr := fmt.Sprintf("%s%d", prefix, i)
		key := h.db.UserKey(channel, addr)
		if err := h.db.SetAddress(h.ctx, channel, key, addr); err != nil {
			h.t.Fatal(err)
		}
		if _, _, err := h.db.Subscribe(h.ctx, channel, key); err != nil {
			h.t.Fatal(err)
		}
		if village != "" {
			h.db.SetSubscriberVillage(h.ctx, key, village)
		}
		addrs = append(addrs, addr)
	}
	return addrs
}

func (h *harness) job(s Spec) storage.AlertJob {
	h.t.Helper()
	j, err := Build(s, testBase(h.t), time.Now(), "kiểm thử")
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.db.CreateAlertJob(h.ctx, &j); err != nil {
		h.t.Fatal(err)
	}
	return j
}

// fast are limits that do not slow unit tests down.
var fast = remind.Limits{Overall: 2000, PerChat: 1000, PerGroup: 1000}

func (h *harness) sender(workers int, limits remind.Limits) *Sender {
	h.t.Helper()
	s, err := NewSender(SenderConfig{Store: h.db, Senders: map[string]bot.Sender{bot.ChannelTelegram: h.tg, bot.ChannelZalo: h.zalo},
		Workers: workers, Limits: map[string]remind.Limits{bot.ChannelTelegram: limits, bot.ChannelZalo: limits},
		LeaseTTL: 600 * time.Millisecond, Poll: 20 * time.Millisecond, Owner: "test"})
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// finished reports whether every listed job is done or cancelled.
func (h *harness) finished(ids ...int64) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		for _, id := range ids {
			j, err := h.db.AlertJob(ctx, id)
			if err != nil {
				return false, err
			}
			if j.Status != storage.JobDone && j.Status != storage.JobCancelled {
				return false, nil
			}
		}
		return true, nil
	}
}

func (h *harness) run(s *Sender, timeout time.Duration, ids ...int64) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, timeout)
	defer cancel()
	if err := s.RunUntil(ctx, h.finished(ids...)); err != nil {
		h.t.Fatal(err)
	}
	if ok, _ := h.finished(ids...)(h.ctx); !ok {
		h.t.Fatalf("jobs %v not finished within %v", ids, timeout)
	}
}

func (h *harness) states(id int64) map[string]int {
	p, err := h.db.AlertJobProgress(h.ctx, id, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return p.States
}

func TestEveryRecipientOnceWithOutcomes(t *testing.T) {
	h := newHarness(t)
	tg := h.subscribers(bot.ChannelTelegram, "", 40, "")
	za := h.subscribers(bot.ChannelZalo, "z", 10, "")
	blocked := map[string]bool{tg[3]: true, za[1]: true}
	h.tg.fail = func(addr string) error {
		switch {
		case blocked[addr]:
			return fmt.Errorf("telegram: %w", bot.ErrBlocked)
		case addr == tg[5]:
			return fmt.Errorf("telegram: timeout: %w", bot.ErrMaybeSent)
		case addr == tg[6]:
			return errors.New("telegram: 400 Bad Request")
		}
		return nil
	}
	h.zalo.fail = func(addr string) error {
		switch {
		case blocked[addr]:
			return fmt.Errorf("zalo: unfollowed: %w", bot.ErrBlocked)
		case addr == za[2]:
			return fmt.Errorf("zalo: outside the window: %w", bot.ErrUndeliverable)
		}
		return nil
	}
	j := h.job(Spec{Kind: "scam", Title: "Giả danh công an", Body: "Không đọc mã OTP cho ai."})
	h.run(h.sender(4, fast), 20*time.Second, j.ID)

	for addr, n := range h.tg.perAddr() {
		if n != 1 {
			t.Errorf("telegram %s got %d messages", addr, n)
		}
	}
	if got := len(h.tg.arrivals()) + len(h.zalo.arrivals()); got != 50-3-1 { // blocked ×2, 400, outside the window never arrive
		t.Errorf("%d messages arrived, want 46", got)
	}
	st := h.states(j.ID)
	want := map[string]int{storage.DeliverySent: 45, storage.DeliveryBlocked: 2, storage.DeliveryUnknown: 1, storage.DeliveryFailed: 1, storage.DeliveryUndeliverable: 1}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("states = %v, want %v", st, want)
	}
	r, err := BuildReport(h.ctx, h.db, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != storage.JobDone || r.Recipients != 50 || r.Delivered != 45 || r.Unsubscribed != 2 || r.UnsubscribedBy[storage.UnsubBlocked] != 2 ||
		r.Failed[storage.DeliveryUnknown] != 1 || len(r.Reasons) != 5 || r.DurationSeconds < 0 {
		t.Errorf("report = %+v", r)
	}
	for _, a := range []string{tg[3], za[1]} {
		ch := bot.ChannelTelegram
		if strings.HasPrefix(a, "z") {
			ch = bot.ChannelZalo
		}
		if s, _ := h.db.Subscriber(h.ctx, h.db.UserKey(ch, a)); s.Active || s.UnsubReason != storage.UnsubBlocked {
			t.Errorf("%s still subscribed: %+v", a, s)
		}
	}
	// The next alert skips the blocked residents and no one gets the first
	// one again.
	h.tg.fail, h.zalo.fail = nil, nil
	before := len(h.tg.arrivals()) + len(h.zalo.arrivals())
	j2 := h.job(Spec{Kind: "notice", Title: "Lịch tiếp dân", Body: "Thứ Bảy làm việc."})
	h.run(h.sender(4, fast), 20*time.Second, j2.ID)
	if n := len(h.tg.arrivals()) + len(h.zalo.arrivals()) - before; n != 48 {
		t.Errorf("second alert reached %d, want 48", n)
	}
}

func TestInterruptedDeliveryIsUnknownAndNotResent(t *testing.T) {
	h := newHarness(t)
	addrs := h.subscribers(bot.ChannelTelegram, "", 12, "")
	j := h.job(Spec{Kind: "scam", Title: "x", Body: "y"})
	// A sender started the job, claimed row 4 and was killed before
	// recording it; its lease has lapsed.
	if _, err := h.db.StartDueAlertJobs(h.ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	ds, _ := h.db.AlertDeliveries(h.ctx, j.ID, "")
	if ok, _ := h.db.ClaimAlertDelivery(h.ctx, ds[4].ID); !ok {
		t.Fatal("claim failed")
	}
	if held, _, _ := h.db.AcquireAlertSender(h.ctx, "killed", time.Now().Add(-time.Hour), time.Minute); !held {
		t.Fatal("lease")
	}
	h.run(h.sender(2, fast), 20*time.Second, j.ID)
	got := h.tg.perAddr()
	if got[ds[4].Address] != 0 {
		t.Error("the interrupted row was sent again")
	}
	for i, a := range addrs {
		if a != ds[4].Address && got[a] != 1 {
			t.Errorf("recipient %d got %d messages", i, got[a])
		}
	}
	if st := h.states(j.ID); st[storage.DeliveryUnknown] != 1 || st[storage.DeliverySent] != 11 {
		t.Errorf("states = %v", st)
	}
}

func TestOnlyTheLeaseHolderSends(t *testing.T) {
	h := newHarness(t)
	h.subscribers(bot.ChannelTelegram, "", 5, "")
	j := h.job(Spec{Kind: "notice", Title: "x", Body: "y"})
	if held, _, _ := h.db.AcquireAlertSender(h.ctx, "server", time.Now(), 800*time.Millisecond); !held {
		t.Fatal("lease")
	}
	ctx, cancel := context.WithTimeout(h.ctx, 500*time.Millisecond)
	h.sender(2, fast).RunUntil(ctx, h.finished(j.ID))
	cancel()
	if n := len(h.tg.arrivals()); n != 0 {
		t.Fatalf("%d messages sent while another process held the lease", n)
	}
	// The holder stops renewing: after its lease lapses another takes over.
	h.run(h.sender(2, fast), 10*time.Second, j.ID)
	if n := len(h.tg.arrivals()); n != 5 {
		t.Errorf("%d messages after the takeover, want 5", n)
	}
	if _, err := h.db.CurrentAlertSender(h.ctx, time.Now()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the lease was not released: %v", err)
	}
}

func TestDisasterGoesFirstToEveryoneAndGroups(t *testing.T) {
	h := newHarness(t)
	h.subscribers(bot.ChannelTelegram, "", 10, "Thôn Đông")
	h.subscribers(bot.ChannelTelegram, "t", 10, "")
	if _, err := h.db.AddTeam(h.ctx, "Thôn Đông", "-1001"); err != nil {
		t.Fatal(err)
	}
	notice := h.job(Spec{Kind: "notice", Title: "Họp thôn", Body: "Tối nay.", Villages: []string{"Thôn Đông"}})
	disaster := h.job(Spec{Kind: "disaster", Title: "Lũ sông Hồng", Body: "Sơ tán.", Villages: []string{"Thôn Đông"}})
	h.run(h.sender(1, fast), 20*time.Second, notice.ID, disaster.ID)
	got := h.tg.arrivals()
	if len(got) != 10+21 {
		t.Fatalf("%d messages, want 21 disaster (20 residents + 1 group) and 10 notice", len(got))
	}
	for i, a := range got {
		isDisaster := strings.Contains(a.text, "THIÊN TAI")
		if isDisaster != (i < 21) {
			t.Fatalf("message %d (%q…) out of order: the disaster warning must all go first", i, a.text[:30])
		}
		if a.addr == "-1001" && strings.Contains(a.text, "/huytheodoi") {
			t.Error("the group got the residents' unsubscribe line")
		}
	}
	if st := h.states(notice.ID); st[storage.DeliverySent] != 10 {
		t.Errorf("the village notice reached %v, want the 10 of Thôn Đông", st)
	}
}

func TestPauseResumeAndCancel(t *testing.T) {
	h := newHarness(t)
	h.subscribers(bot.ChannelTelegram, "", 20, "")
	j := h.job(Spec{Kind: "notice", Title: "x", Body: "y"})
	h.tg.after = func(n int) {
		if n == 5 {
			if _, err := h.db.SetAlertJobStatus(h.ctx, j.ID, storage.JobPaused); err != nil {
				t.Error(err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(h.ctx, 700*time.Millisecond)
	h.sender(1, fast).RunUntil(ctx, h.finished(j.ID))
	cancel()
	if n := len(h.tg.arrivals()); n != 5 {
		t.Fatalf("%d sent after pausing at 5", n)
	}
	h.tg.after = func(n int) {
		if n == 12 {
			if _, err := h.db.SetAlertJobStatus(h.ctx, j.ID, storage.JobCancelled); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := h.db.SetAlertJobStatus(h.ctx, j.ID, storage.JobRunning); err != nil {
		t.Fatal(err)
	}
	h.run(h.sender(1, fast), 10*time.Second, j.ID)
	if n := len(h.tg.arrivals()); n != 12 {
		t.Errorf("%d sent after cancelling at 12", n)
	}
	if st := h.states(j.ID); st[storage.DeliverySent] != 12 || st[storage.DeliveryCancelled] != 8 {
		t.Errorf("states = %v", st)
	}
	for a, n := range h.tg.perAddr() {
		if n != 1 {
			t.Errorf("%s got %d", a, n)
		}
	}
}

func TestScheduledJobWaitsForItsTime(t *testing.T) {
	h := newHarness(t)
	h.subscribers(bot.ChannelZalo, "z", 3, "")
	at := time.Now().Add(700 * time.Millisecond)
	j := h.job(Spec{Kind: "notice", Title: "x", Body: "y", At: at})
	h.run(h.sender(1, fast), 10*time.Second, j.ID)
	got := h.zalo.arrivals()
	if len(got) != 3 {
		t.Fatalf("%d sent", len(got))
	}
	if early := at.Sub(got[0].at); early > time.Millisecond {
		t.Errorf("sent %v before its time", early)
	}
}

func TestChannelWithoutSenderOrAddress(t *testing.T) {
	h := newHarness(t)
	h.subscribers(bot.ChannelTelegram, "", 2, "")
	if _, err := h.db.AddTeam(h.ctx, "Thôn Tây", "-77"); err != nil {
		t.Fatal(err)
	}
	j := h.job(Spec{Kind: "disaster", Title: "x", Body: "y"})
	s, err := NewSender(SenderConfig{Store: h.db, Senders: map[string]bot.Sender{}, LeaseTTL: time.Second, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.run(s, 10*time.Second, j.ID)
	fails, _ := h.db.AlertJobFailures(h.ctx, j.ID)
	if len(fails) != 1 || fails[0].Count != 3 || fails[0].State != storage.DeliveryFailed || !strings.Contains(fails[0].Error, "not running") {
		t.Errorf("failures = %+v", fails)
	}
}

// TestPacedUnderTelegramLimit sends at the real Telegram limits and checks
// that no one-second window holds more than 30 messages.
func TestPacedUnderTelegramLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("paced at the real rate")
	}
	h := newHarness(t)
	h.subscribers(bot.ChannelTelegram, "", 45, "")
	j := h.job(Spec{Kind: "notice", Title: "x", Body: "y"})
	h.run(h.sender(4, TelegramLimits), 20*time.Second, j.ID)
	got := h.tg.arrivals()
	if len(got) != 45 {
		t.Fatalf("%d sent", len(got))
	}
	if w := maxInWindow(got, time.Second); w > 30 {
		t.Errorf("%d messages in one second", w)
	}
	t.Logf("45 messages in %v, closest two %v apart", got[len(got)-1].at.Sub(got[0].at), minGap(got))
}

func maxInWindow(as []arrival, w time.Duration) int {
	best, j := 0, 0
	for i := range as {
		for as[i].at.Sub(as[j].at) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func minGap(as []arrival) time.Duration {
	gap := time.Hour
	for i := 1; i < len(as); i++ {
		gap = min(gap, as[i].at.Sub(as[i-1].at))
	}
	return gap
}

func TestTakesOverFromADeadProcessAtOnce(t *testing.T) {
	h := newHarness(t)
	h.subscribers(bot.ChannelTelegram, "", 3, "")
	j := h.job(Spec{Kind: "notice", Title: "x", Body: "y"})
	host, _ := os.Hostname()
	// A process on this machine held the lease for an hour and is gone.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	owner := fmt.Sprintf("serve pid %d on %s (dead)", dead.Process.Pid, host)
	if held, _, _ := h.db.AcquireAlertSender(h.ctx, owner, time.Now(), time.Hour); !held {
		t.Fatal("lease")
	}
	start := time.Now()
	h.run(h.sender(1, fast), 5*time.Second, j.ID)
	if len(h.tg.arrivals()) != 3 || time.Since(start) > 3*time.Second {
		t.Errorf("%d sent in %v", len(h.tg.arrivals()), time.Since(start))
	}
	// A live holder (this very process, under another name) is waited for.
	j2 := h.job(Spec{Kind: "notice", Title: "x", Body: "y"})
	parent := fmt.Sprintf("serve pid %d on %s (alive)", os.Getppid(), host)
	if held, _, _ := h.db.AcquireAlertSender(h.ctx, parent, time.Now(), time.Hour); !held {
		t.Fatal("lease")
	}
	ctx, cancel := context.WithTimeout(h.ctx, 500*time.Millisecond)
	h.sender(1, fast).RunUntil(ctx, h.finished(j2.ID))
	cancel()
	if n := len(h.tg.arrivals()); n != 3 {
		t.Errorf("sent %d while a live process held the lease", n-3)
	}
}
