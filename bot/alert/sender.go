package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/remind"
	"github.com/colecommune/trolyso/storage"
)

// Defaults of SenderConfig.
const (
	DefaultWorkers  = 6
	DefaultLeaseTTL = 15 * time.Second
	DefaultPoll     = time.Second
	DefaultZaloRate = 10.0
	// batch is how many pending rows are read at a time; a disaster warning
	// started meanwhile overtakes within one batch.
	batch = 32
	// stopGrace is how long sends in flight may finish after the sender is
	// told to stop; then they are cancelled (and recorded as unknown).
	stopGrace = 10 * time.Second
	// sendTimeout bounds one send, the adapters' own retries included.
	sendTimeout = 2 * time.Minute
)

// TelegramLimits are the alert sender's Telegram rates: 28 messages a
// second overall with no burst (so never more than 30 in any one-second
// window), one a second per chat, 20 a minute per group.
var TelegramLimits = remind.Limits{Overall: 28, PerChat: 1, PerGroup: rate.Every(3 * time.Second)}

// ZaloLimits are Zalo rates of perSecond messages a second overall and one
// a second per user. Zalo's OA quotas are not published where we could
// check them; keep the rate modest (TROLYSO_ALERT_ZALO_RATE).
func ZaloLimits(perSecond float64) remind.Limits {
	return remind.Limits{Overall: rate.Limit(perSecond), PerChat: 1, PerGroup: 1}
}

// SenderConfig holds a Sender's dependencies.
type SenderConfig struct {
	Store *storage.DB
	// Senders deliver messages, by channel name; team groups go through
	// the Telegram sender.
	Senders map[string]bot.Sender
	Logger  *slog.Logger
	Clock   remind.Clock // default remind.SystemClock
	// Limits are the sending rates by channel (default TelegramLimits and
	// ZaloLimits(DefaultZaloRate)).
	Limits map[string]remind.Limits
	// Workers is how many sends may be in flight at once (default
	// DefaultWorkers); the pacer spaces their starts.
	Workers int
	// Owner names this process in the sender lease ("serve", "cli"); a
	// unique suffix is added.
	Owner string
	// LeaseTTL is how long the lease lasts without renewal: a sender that
	// stopped without releasing it is replaced after that long.
	LeaseTTL time.Duration
	// Poll is how often an idle sender looks for work.
	Poll time.Duration
}

// Sender delivers alert jobs while it holds the sender lease.
type Sender struct {
	cfg    SenderConfig
	store  *storage.DB
	log    *slog.Logger
	clk    remind.Clock
	owner  string
	pacers map[string]*remind.Pacer
	slots  chan struct{}
	wg     sync.WaitGroup // sends in flight

	mu   sync.Mutex
	jobs map[int64]storage.AlertJob // messages by job (they never change)
}

// NewSender checks cfg and returns a sender.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.Store == nil {
		return nil, errors.New("alerts: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = remind.SystemClock{}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	limits := map[string]remind.Limits{bot.ChannelTelegram: TelegramLimits, bot.ChannelZalo: ZaloLimits(DefaultZaloRate)}
	for ch, l := range cfg.Limits {
		if l.Overall <= 0 || l.PerChat <= 0 || l.PerGroup <= 0 {
			return nil, fmt.Errorf("alerts: rate limits of %s must be positive", ch)
		}
		limits[ch] = l
	}
	if cfg.Owner == "" {
		cfg.Owner = "trolyso"
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	host, _ := os.Hostname()
	s := &Sender{
		cfg:    cfg,
		store:  cfg.Store,
		log:    cfg.Logger,
		clk:    cfg.Clock,
		owner:  fmt.Sprintf("%s pid %d on %s (%s)", cfg.Owner, os.Getpid(), host, hex.EncodeToString(suffix)),
		pacers: map[string]*remind.Pacer{},
		slots:  make(chan struct{}, cfg.Workers),
		jobs:   map[int64]storage.AlertJob{},
	}
	for ch, l := range limits {
		s.pacers[ch] = remind.NewPacer(cfg.Clock, l)
	}
	return s, nil
}

// Owner is the name this sender holds the lease under.
func (s *Sender) Owner() string { return s.owner }

// errFinished ends RunUntil.
var errFinished = errors.New("finished")

// Run sends alert jobs until ctx ends. While another process holds the
// sender lease it waits, retrying every LeaseTTL/3.
func (s *Sender) Run(ctx context.Context) error { return s.run(ctx, nil) }

// RunUntil is Run that returns as soon as done reports true, checked
// whenever there is nothing left to send (the CLI sending its own job).
func (s *Sender) RunUntil(ctx context.Context, done func(context.Context) (bool, error)) error {
	return s.run(ctx, done)
}

func (s *Sender) run(ctx context.Context, done func(context.Context) (bool, error)) error {
	defer func() {
		if err := s.store.ReleaseAlertSender(context.WithoutCancel(ctx), s.owner); err != nil {
			s.log.Error("alerts: release the sender lease", "err", err)
		}
	}()
	waiting := false
	for {
		held, recovered, err := s.store.AcquireAlertSender(ctx, s.owner, s.clk.Now(), s.cfg.LeaseTTL)
		if err != nil && ctx.Err() == nil {
			s.log.Error("alerts: take the sender lease", "err", err)
		}
		tookOver := false
		if !held && err == nil {
			held, recovered = s.takeOverDead(ctx)
			tookOver = held
		}
		if held {
			waiting = false
			if recovered > 0 {
				s.log.Warn("alerts: deliveries interrupted while sending are recorded as unknown (possibly sent) and not sent again", "count", recovered)
			}
			if tookOver || recovered > 0 {
				// The dead sender may have used up the platform's
				// current second: wait one out before the first send, so
				// that the two together never exceed the per-second limit.
				select {
				case <-ctx.Done():
					return nil
				case <-s.clk.After(time.Second):
				}
			}
			s.log.Info("alerts: sender started", "owner", s.owner)
			lctx, cancel := context.WithCancel(ctx)
			kept := make(chan struct{})
			go func() {
				defer close(kept)
				s.keep(lctx, cancel)
			}()
			werr := s.work(lctx, done)
			cancel()
			<-kept
			if errors.Is(werr, errFinished) || ctx.Err() != nil {
				return nil
			}
			s.log.Warn("alerts: sender lease lost; waiting to take it again")
		} else if !waiting && err == nil {
			waiting = true
			if cur, err := s.store.CurrentAlertSender(ctx, s.clk.Now()); err == nil {
				s.log.Info("alerts: another process is sending alerts; waiting", "sender", cur.Owner)
			}
		}
		if done != nil {
			if ok, err := done(ctx); err == nil && ok {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.clk.After(s.cfg.LeaseTTL / 3):
		}
	}
}

// ownerRe reads the process and host out of an owner name.
var ownerRe = regexp.MustCompile(` pid (\d+) on (\S*) \(`)

// takeOverDead takes the lease from a holder on this machine whose process
// no longer exists (it was killed, or the machine restarted), instead of
// waiting for its lease to expire. A holder on another machine, or one
// whose process may still be alive, is waited for.
func (s *Sender) takeOverDead(ctx context.Context) (bool, int) {
	cur, err := s.store.CurrentAlertSender(ctx, s.clk.Now())
	if err != nil {
		return false, 0
	}
	m := ownerRe.FindStringSubmatch(cur.Owner)
	host, _ := os.Hostname()
	if m == nil || m[2] != host || runtime.GOOS == "windows" {
		return false, 0
	}
	pid, err := strconv.Atoi(m[1])
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false, 0
	}
	if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.Signal(0)) == nil {
		return false, 0 // alive (or the pid was reused): wait for the lease
	}
	held, recovered, err := s.store.TakeOverAlertSender(ctx, s.owner, cur.Owner, s.clk.Now(), s.cfg.LeaseTTL)
	if err != nil {
		s.log.Error("alerts: take over the sender lease", "err", err)
		return false, 0
	}
	if held {
		s.log.Warn("alerts: the previous sender's process is gone; taking over", "previous", cur.Owner)
	}
	return held, recovered
}

// keep renews the lease every LeaseTTL/3 and cancels the work when it is
// lost (another process took it, or renewing failed for a whole TTL).
func (s *Sender) keep(ctx context.Context, lost context.CancelFunc) {
	last := s.clk.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.clk.After(s.cfg.LeaseTTL / 3):
		}
		now := s.clk.Now()
		held, _, err := s.store.AcquireAlertSender(ctx, s.owner, now, s.cfg.LeaseTTL)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("alerts: renew the sender lease", "err", err)
			if now.Sub(last) >= s.cfg.LeaseTTL {
				lost()
				return
			}
		case !held:
			lost()
			return
		default:
			last = now
		}
	}
}

// work sends while ctx lasts: it starts due jobs, takes pending rows in
// order and hands each to a worker once the pacer allows it.
func (s *Sender) work(ctx context.Context, done func(context.Context) (bool, error)) error {
	defer s.wg.Wait()
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		started, err := s.store.StartDueAlertJobs(ctx, s.clk.Now())
		for _, j := range started {
			s.log.Info("alerts: job started", "job", j.ID, "kind", j.Kind, "recipients", j.Recipients, "confirmed_by", j.CreatedBy)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("alerts: start due jobs", "err", err)
		}
		rows, err := s.store.NextAlertDeliveries(ctx, batch)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Error("alerts: read pending deliveries", "err", err)
			s.sleep(ctx, s.cfg.Poll)
			continue
		}
		if len(rows) == 0 {
			s.wg.Wait()
			s.finishJobs(ctx)
			if done != nil {
				if ok, err := done(ctx); err == nil && ok {
					return errFinished
				}
			}
			s.sleep(ctx, s.idleWait(ctx))
			continue
		}
		for _, d := range rows {
			if err := s.dispatch(ctx, d); err != nil {
				if ctx.Err() == nil {
					s.log.Error("alerts: hand out a delivery", "delivery", d.ID, "err", err)
					s.sleep(ctx, s.cfg.Poll)
				}
				break
			}
		}
	}
}

// idleWait is how long to sleep with nothing to send: Poll, or less when a
// scheduled job falls due sooner.
func (s *Sender) idleWait(ctx context.Context) time.Duration {
	wait := s.cfg.Poll
	if _, next, err := s.store.HasActiveAlertJobs(ctx); err == nil && !next.IsZero() {
		wait = min(wait, max(next.Sub(s.clk.Now()), 0))
	}
	return wait
}

func (s *Sender) sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-s.clk.After(d):
	}
}

// finishJobs marks done the jobs with nothing left to send and logs their
// outcome.
func (s *Sender) finishJobs(ctx context.Context) {
	running, err := s.store.AlertJobs(ctx, 50)
	if err != nil {
		return
	}
	n, err := s.store.FinishDrainedAlertJobs(ctx, s.clk.Now())
	if err != nil {
		s.log.Error("alerts: finish jobs", "err", err)
		return
	}
	if n == 0 {
		return
	}
	for _, j := range running {
		if j.Status != storage.JobRunning {
			continue
		}
		if r, err := BuildReport(ctx, s.store, j.ID); err == nil && r.Status == storage.JobDone {
			s.log.Info("alerts: job finished", "job", j.ID, "recipients", r.Recipients, "delivered", r.Delivered,
				"failed", r.Failed, "unsubscribed", r.Unsubscribed, "seconds", r.DurationSeconds, "per_second", r.RatePerSecond)
		}
	}
}

func (s *Sender) job(ctx context.Context, id int64) (storage.AlertJob, error) {
	s.mu.Lock()
	j, ok := s.jobs[id]
	s.mu.Unlock()
	if ok {
		return j, nil
	}
	j, err := s.store.AlertJob(ctx, id)
	if err != nil {
		return j, err
	}
	s.mu.Lock()
	s.jobs[id] = j
	s.mu.Unlock()
	return j, nil
}

// dispatch paces, claims and hands one delivery to a worker. It returns an
// error only when ctx ended or the store failed (stop and retry later).
func (s *Sender) dispatch(ctx context.Context, d storage.AlertDelivery) error {
	j, err := s.job(ctx, d.JobID)
	if err != nil {
		return err
	}
	snd := s.cfg.Senders[d.Channel]
	state, why := "", ""
	switch {
	case snd == nil:
		state, why = storage.DeliveryFailed, "channel "+d.Channel+" is not running"
	case d.Address == "" && d.Group():
		state, why = storage.DeliveryUndeliverable, "team has no group chat"
	case d.Address == "":
		state, why = storage.DeliveryUndeliverable, "no delivery address on "+d.Channel
	}
	if state != "" {
		ok, err := s.store.ClaimAlertDelivery(ctx, d.ID)
		if err != nil || !ok {
			return err
		}
		return s.store.FinishAlertDelivery(context.WithoutCancel(ctx), d, state, why)
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	release := func() { <-s.slots }
	if p := s.pacers[d.Channel]; p != nil {
		if err := p.Wait(ctx, d.Channel+":"+d.Address, d.Group()); err != nil {
			release()
			return err
		}
	}
	ok, err := s.store.ClaimAlertDelivery(ctx, d.ID)
	if err != nil || !ok {
		release()
		return err
	}
	text := j.Text
	if d.Group() {
		text = j.GroupText
	}
	reply := bot.Reply{Band: bot.BandCommand, Text: text, Buttons: bot.AlertButtons(j.Link, j.Image)}
	// The send outlives a lost lease or a stop request by stopGrace, so
	// that a claimed row is sent and recorded rather than left unknown.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	stop := context.AfterFunc(ctx, func() {
		select {
		case <-sctx.Done():
		case <-time.After(stopGrace):
			cancel()
		}
	})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer release()
		defer cancel()
		defer stop()
		s.deliver(sctx, d, snd, reply)
	}()
	return nil
}

// deliver sends one claimed delivery and records the outcome.
func (s *Sender) deliver(ctx context.Context, d storage.AlertDelivery, snd bot.Sender, reply bot.Reply) {
	err := snd.SendTo(ctx, d.Address, reply)
	state, errText := remind.Classify(ctx, err)
	switch state {
	case storage.DeliveryBlocked:
		if !d.Group() && d.UserKey != "" {
			if err := s.store.SetActive(context.WithoutCancel(ctx), d.UserKey, false); err != nil && !errors.Is(err, storage.ErrNotFound) {
				s.log.Error("alerts: mark blocked user inactive", "err", err)
			}
		}
		s.log.Info("alerts: recipient blocked the bot; unsubscribed", "job", d.JobID, "delivery", d.ID)
	case storage.DeliverySent:
	default:
		s.log.Warn("alerts: delivery failed", "job", d.JobID, "delivery", d.ID, "state", state, "err", errText)
	}
	if err := s.store.FinishAlertDelivery(context.WithoutCancel(ctx), d, state, errText); err != nil {
		s.log.Error("alerts: record delivery", "delivery", d.ID, "err", err)
	}
}
