package remind

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// Clock tells the time and waits; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// After delivers the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// After waits on a real timer.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Limits are the sending rates the scheduler keeps to (Telegram's: about 30
// messages a second overall, 1 a second per chat, 20 a minute per group).
type Limits struct {
	Overall  rate.Limit
	PerChat  rate.Limit
	PerGroup rate.Limit
}

// DefaultLimits are Telegram's published limits.
var DefaultLimits = Limits{Overall: 30, PerChat: 1, PerGroup: rate.Every(3 * time.Second)}

// Pacer spaces sends out with token buckets of burst 1 (no bursts at all),
// waiting on the injected clock: with Overall at r per second, no window of
// one second holds more than r+1 sends. It is used by one goroutine at a
// time (the reminder scheduler, the alert sender's feeder).
type Pacer struct {
	clk     Clock
	lim     Limits
	overall *rate.Limiter
	chats   map[string]*rate.Limiter
	groups  map[string]*rate.Limiter
}

// NewPacer returns a pacer keeping to lim on clk.
func NewPacer(clk Clock, lim Limits) *Pacer {
	return &Pacer{
		clk:     clk,
		lim:     lim,
		overall: rate.NewLimiter(lim.Overall, 1),
		chats:   map[string]*rate.Limiter{},
		groups:  map[string]*rate.Limiter{},
	}
}

// maxIdleLimiters bounds the per-chat maps; full (idle) buckets are dropped
// beyond it, which loses nothing since a new bucket starts full too.
const maxIdleLimiters = 4096

func (p *Pacer) limiter(m map[string]*rate.Limiter, key string, l rate.Limit, now time.Time) *rate.Limiter {
	if lim, ok := m[key]; ok {
		return lim
	}
	if len(m) >= maxIdleLimiters {
		for k, lim := range m {
			if lim.TokensAt(now) >= 1 {
				delete(m, k)
			}
		}
	}
	lim := rate.NewLimiter(l, 1)
	m[key] = lim
	return lim
}

// Wait blocks until a message to chat (a group chat when group is set) may
// be sent now without exceeding any limit, and takes the tokens. Tokens are
// only kept when every limiter allows the send at the same instant, so a
// send held back by one limiter never spends another's token early.
func (p *Pacer) Wait(ctx context.Context, chat string, group bool) error {
	for {
		now := p.clk.Now()
		lims := []*rate.Limiter{p.overall, p.limiter(p.chats, chat, p.lim.PerChat, now)}
		if group {
			lims = append(lims, p.limiter(p.groups, chat, p.lim.PerGroup, now))
		}
		var delay time.Duration
		rs := make([]*rate.Reservation, 0, len(lims))
		ok := true
		for _, l := range lims {
			r := l.ReserveN(now, 1)
			if !r.OK() {
				ok = false
				break
			}
			rs = append(rs, r)
			delay = max(delay, r.DelayFrom(now))
		}
		if ok && delay <= 0 {
			return nil
		}
		for _, r := range rs {
			r.CancelAt(now)
		}
		if !ok {
			return fmt.Errorf("rate limit: a limit does not allow any send")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.clk.After(delay):
		}
	}
}
