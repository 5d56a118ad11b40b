// Package inbox answers a messaging channel's deliveries (Telegram
// updates, Zalo events) from a durable inbox in the store
// (storage.InboxItem): a delivery is committed before the platform is told
// it arrived, workers answer the pending items one chat at a time in
// arrival order, and an item is marked done only once answered. A resident
// may therefore, rarely, get the same answer twice; never none.
//
// Several instances may share one database. Each item is claimed by the
// instance that accepted it (Config.Owner) for ClaimTTL, and the claims of
// a live instance are renewed every ClaimTTL/3 in one statement. Every
// instance sweeps as often, and at Start: it takes over the items whose
// claim expired (their owner died) or whose owner is known to be gone (a
// process on this machine that no longer exists: a restart takes over at
// once), counting an attempt, and answers them. Two instances never take
// the same item, so an item is answered by one instance at a time; it may
// be answered twice only when its owner was cut off from the database for
// a whole TTL, or died between the answer and marking it done. A clean
// stop releases the claims on what it did not answer, for the next start
// or another instance to take at once. An item taken over more than
// MaxAttempts times is given up (it may be what kills its owners).
//
// Per-chat order: within one instance a chat's items are answered one at
// a time in arrival order. Across instances, before answering an item the
// worker waits (up to OrderWait) while an earlier pending item of the same
// chat is claimed by another instance. Arrival order is the order of the
// items' ids, assigned at insert: two items of one chat committed at the
// same moment by two instances may be answered in either order.
//
// The inbox is bounded: when Capacity items are pending, Add refuses with
// ErrFull and the channel answers the platform with an error status, so
// that it delivers again later instead of the message being dropped.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/colecommune/trolyso/storage"
	"github.com/colecommune/trolyso/storage/owner"
)

// Defaults.
const (
	DefaultCapacity    = 10000
	DefaultWorkers     = 8
	DefaultMaxAttempts = 3
	// DefaultRetention keeps the keys of handled items (to recognise a
	// platform's redelivery) longer than Telegram keeps unconfirmed updates
	// (24 h) and Zalo retries.
	DefaultRetention = 48 * time.Hour
	// DefaultClaimTTL is how long an instance's claim on its items lasts
	// without renewal (as the job leases).
	DefaultClaimTTL = 15 * time.Second
)

// takeBatch bounds the items taken over by one sweep.
const takeBatch = 500

// orderPoll is how often a worker looks whether an earlier item of its
// chat, held by another instance, was answered.
const orderPoll = 100 * time.Millisecond

var (
	// ErrFull is returned by Add when the items do not fit.
	ErrFull = errors.New("inbox full")
	// ErrClosed is returned by Add after Close.
	ErrClosed = errors.New("inbox closed")
)

// Handler answers one item. It runs with a context cancelled when the
// inbox is closed and its grace has passed; an item whose handler returns
// after that is left pending, to be answered at the next start.
type Handler func(ctx context.Context, it storage.InboxItem)

// Config configures an inbox.
type Config struct {
	Store   *storage.DB
	Channel string
	Handle  Handler
	Logger  *slog.Logger
	// Now is the clock of the claims and of the prune cut-off (default
	// time.Now).
	Now func() time.Time
	// Owner names this instance in the items' claims (default a fresh
	// storage/owner name); OwnerGone tells whether another owner is known
	// to be gone (default owner.Gone).
	Owner     string
	OwnerGone func(string) bool
	// ClaimTTL is how long a claim lasts without renewal (default
	// DefaultClaimTTL); renewals and sweeps run every ClaimTTL/3.
	ClaimTTL time.Duration
	// OrderWait bounds how long an item waits for an earlier item of its
	// chat held by another instance (default 2×ClaimTTL).
	OrderWait time.Duration
	// Capacity bounds the pending items (default DefaultCapacity).
	Capacity int
	// Workers bounds the chats answered at once (default DefaultWorkers).
	Workers int
	// MaxAttempts is how many times an item may be taken over (by a
	// start-up or another instance) before it is given up as failed
	// (default DefaultMaxAttempts).
	MaxAttempts int
	// Retention is how long handled items' keys are kept (see Prune).
	Retention time.Duration
	// Gated holds the workers until Open is called (a channel that must
	// learn something from its platform first).
	Gated bool
}

// Inbox is one channel's inbox. Start it before adding items.
type Inbox struct {
	cfg Config
	log *slog.Logger

	// addMu orders commits and queueing, so that one chat's items are
	// queued in the order they were committed.
	addMu sync.Mutex
	// takeMu makes a take-over one step for the workers: a sweep holds it
	// from claiming items in the store until they are queued, and a worker
	// holds it for reading while it makes sure its item is still its
	// chat's first. Otherwise a worker could see an earlier item of its
	// chat already claimed by this instance (so not "held elsewhere") but
	// not yet queued, and answer the later item first.
	takeMu sync.RWMutex
	// afterTake, when set (tests), runs between claiming items in the
	// store and queueing them.
	afterTake func()

	mu       sync.Mutex
	reserved int // items pending or being committed
	// chats queues each chat's items, in id (arrival) order.
	chats map[string][]storage.InboxItem
	// owned maps the items this instance claims and has not finished to
	// their chat.
	owned    map[int64]string
	closed   bool
	idle     *sync.Cond // signalled when reserved drops
	workers  chan struct{}
	wg       sync.WaitGroup
	base     context.Context
	stopBase context.CancelFunc
	started  bool
	gate     chan struct{} // closed by Open
	gateOnce sync.Once

	// The keeper renews the claims and sweeps (keep).
	keepStop chan struct{}
	keepDone chan struct{}
	keepOnce sync.Once
}

// New returns an inbox; call Start.
func New(cfg Config) (*Inbox, error) {
	if cfg.Store == nil || cfg.Handle == nil || cfg.Channel == "" {
		return nil, errors.New("inbox: store, channel and handler are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultCapacity
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Owner == "" {
		cfg.Owner = owner.New("inbox")
	}
	if cfg.OwnerGone == nil {
		cfg.OwnerGone = owner.Gone
	}
	if cfg.ClaimTTL <= 0 {
		cfg.ClaimTTL = DefaultClaimTTL
	}
	if cfg.OrderWait <= 0 {
		cfg.OrderWait = 2 * cfg.ClaimTTL
	}
	ib := &Inbox{
		cfg:      cfg,
		log:      cfg.Logger,
		chats:    map[string][]storage.InboxItem{},
		owned:    map[int64]string{},
		workers:  make(chan struct{}, cfg.Workers),
		gate:     make(chan struct{}),
		keepStop: make(chan struct{}),
		keepDone: make(chan struct{}),
	}
	ib.idle = sync.NewCond(&ib.mu)
	ib.base, ib.stopBase = context.WithCancel(context.Background())
	if !cfg.Gated {
		ib.Open()
	}
	return ib, nil
}

// Open lets the workers answer (see Config.Gated).
func (ib *Inbox) Open() { ib.gateOnce.Do(func() { close(ib.gate) }) }

// Start takes over the items left pending by a previous run (or by a
// dead instance), queued ahead of anything added later, and starts
// renewing this instance's claims and sweeping for more. Add refuses
// items until it has run.
func (ib *Inbox) Start(ctx context.Context) error {
	n, err := ib.sweepAll(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		ib.log.Info("inbox: answering deliveries left pending by a previous run or another instance", "channel", ib.cfg.Channel, "items", n)
	}
	ib.mu.Lock()
	ib.started = true
	ib.mu.Unlock()
	go ib.keep()
	return nil
}

// claim is this instance's claim from now on.
func (ib *Inbox) claim(now time.Time) storage.InboxClaim {
	return storage.InboxClaim{Owner: ib.cfg.Owner, Until: now.Add(ib.cfg.ClaimTTL)}
}

// sweepAll sweeps until a sweep takes less than a full batch.
func (ib *Inbox) sweepAll(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := ib.sweep(ctx)
		total += n
		if err != nil || n < takeBatch {
			return total, err
		}
	}
}

// sweep takes over pending items whose claim expired or whose owner is
// gone, as many as fit, queues them and returns how many.
func (ib *Inbox) sweep(ctx context.Context) (int, error) {
	// Room is not reserved meanwhile (an Add would be refused for it): an
	// Add at the same moment may take the inbox a little past Capacity.
	ib.mu.Lock()
	room := min(ib.cfg.Capacity-ib.reserved, takeBatch)
	closed := ib.closed
	ib.mu.Unlock()
	if closed || room <= 0 {
		return 0, nil
	}
	now := ib.cfg.Now()
	var items []storage.InboxItem
	var failed int
	owners, err := ib.cfg.Store.InboxOwners(ctx, ib.cfg.Channel, ib.cfg.Owner, now)
	if err == nil {
		var gone []string
		for _, o := range owners {
			if ib.cfg.OwnerGone(o) {
				gone = append(gone, o)
			}
		}
		// Held from the claim until the items are queued (see takeMu).
		ib.takeMu.Lock()
		defer ib.takeMu.Unlock()
		items, failed, err = ib.cfg.Store.TakeInbox(ctx, ib.cfg.Channel, ib.claim(now), now, gone, room, ib.cfg.MaxAttempts)
	}
	if err != nil {
		return 0, err
	}
	if ib.afterTake != nil {
		ib.afterTake()
	}
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if ib.closed {
		// Close releases them once the keeper has stopped.
		return 0, nil
	}
	ib.reserved += len(items)
	if failed > 0 {
		ib.log.Error("inbox: items given up after repeated take-overs", "channel", ib.cfg.Channel, "items", failed, "attempts", ib.cfg.MaxAttempts)
	}
	for _, it := range items {
		ib.owned[it.ID] = it.Chat
		ib.queueLocked(it)
	}
	return len(items), nil
}

// keep renews this instance's claims and sweeps every ClaimTTL/3 until
// Close stops it.
func (ib *Inbox) keep() {
	defer close(ib.keepDone)
	every := ib.cfg.ClaimTTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ib.keepStop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		ib.renew(ctx)
		select {
		case <-ib.gate: // a gated inbox takes no more before it answers
			if n, err := ib.sweepAll(ctx); err != nil {
				ib.log.Error("inbox: sweep for deliveries of dead instances", "channel", ib.cfg.Channel, "err", err)
			} else if n > 0 {
				ib.log.Warn("inbox: took over deliveries of an instance that stopped answering", "channel", ib.cfg.Channel, "items", n)
			}
		default:
		}
		cancel()
	}
}

// renew moves this instance's claims on; queued items whose claim was
// lost (another instance took them over while this one could not renew)
// are dropped: the other answers them.
func (ib *Inbox) renew(ctx context.Context) {
	ib.mu.Lock()
	before := make([]int64, 0, len(ib.owned))
	for id := range ib.owned {
		before = append(before, id)
	}
	ib.mu.Unlock()
	if len(before) == 0 {
		return // only the items in owned carry this instance's name
	}
	ids, err := ib.cfg.Store.RenewInbox(ctx, ib.cfg.Channel, ib.claim(ib.cfg.Now()))
	if err != nil {
		ib.log.Error("inbox: renew claims; another instance takes the items over if this lasts", "channel", ib.cfg.Channel, "err", err)
		return
	}
	held := make(map[int64]bool, len(ids))
	for _, id := range ids {
		held[id] = true
	}
	ib.mu.Lock()
	defer ib.mu.Unlock()
	dropped := 0
	for _, id := range before {
		chat, ok := ib.owned[id]
		if !ok || held[id] {
			continue
		}
		// Finished meanwhile, in flight (it ends its own way), or queued.
		q := ib.chats[chat]
		if k := slices.IndexFunc(q, func(it storage.InboxItem) bool { return it.ID == id }); k >= 0 {
			ib.chats[chat] = slices.Delete(q, k, k+1)
			delete(ib.owned, id)
			ib.releaseLocked(1)
			dropped++
		}
	}
	if dropped > 0 {
		ib.log.Warn("inbox: claims lost to another instance; it answers those items", "channel", ib.cfg.Channel, "items", dropped)
	}
}

// Add commits items in one transaction and queues the new ones. It returns,
// for each item, whether it was new (false: a redelivery of an item already
// stored, which is not answered again). ErrFull means none was stored
// because they do not all fit; ErrClosed that the inbox no longer accepts
// items.
func (ib *Inbox) Add(ctx context.Context, items ...storage.InboxItem) ([]bool, error) {
	ib.mu.Lock()
	switch {
	case ib.closed || !ib.started:
		ib.mu.Unlock()
		return nil, ErrClosed
	case ib.reserved+len(items) > ib.cfg.Capacity:
		ib.mu.Unlock()
		// A redelivery of items already stored takes no room.
		keys := make([]string, len(items))
		for i, it := range items {
			keys[i] = it.Key
		}
		if known, err := ib.cfg.Store.InboxHas(ctx, ib.cfg.Channel, keys); err == nil && known {
			return make([]bool, len(items)), nil
		}
		return nil, ErrFull
	}
	ib.reserved += len(items)
	ib.mu.Unlock()

	ib.addMu.Lock()
	defer ib.addMu.Unlock()
	for i := range items {
		items[i].Channel = ib.cfg.Channel
	}
	fresh, err := ib.cfg.Store.AddInbox(ctx, items, ib.claim(ib.cfg.Now()))
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if err != nil {
		ib.releaseLocked(len(items))
		return nil, err
	}
	for i, it := range items {
		if fresh[i] {
			ib.owned[it.ID] = it.Chat
			ib.queueLocked(it)
		} else {
			ib.releaseLocked(1)
		}
	}
	return fresh, nil
}

// Free returns how many more items fit.
func (ib *Inbox) Free() int {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	return ib.cfg.Capacity - ib.reserved
}

// Pending returns how many items are pending or being committed.
func (ib *Inbox) Pending() int {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	return ib.reserved
}

// Chats returns how many chats have a worker (idle chats have none).
func (ib *Inbox) Chats() int {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	return len(ib.chats)
}

// Wait blocks until every item queued so far is handled (tests).
func (ib *Inbox) Wait() {
	ib.mu.Lock()
	for ib.reserved > 0 && !ib.closed {
		ib.idle.Wait()
	}
	ib.mu.Unlock()
	ib.wg.Wait()
}

// Close stops accepting items and lets the workers go on answering for at
// most grace; then their contexts are cancelled, and the claims on what is
// not answered are released: it stays pending for the next start or
// another instance. It returns when no worker runs.
func (ib *Inbox) Close(grace time.Duration) {
	ib.mu.Lock()
	ib.closed = true
	ib.idle.Broadcast()
	ib.mu.Unlock()
	done := make(chan struct{})
	go func() {
		ib.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		ib.log.Warn("inbox: answers still in flight at shutdown; the rest is answered at the next start", "channel", ib.cfg.Channel)
		ib.stopBase()
		<-done
	}
	ib.stopBase()
	ib.keepOnce.Do(func() {
		ib.mu.Lock()
		started := ib.started
		ib.mu.Unlock()
		if !started {
			return
		}
		close(ib.keepStop)
		<-ib.keepDone
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ib.cfg.Store.ReleaseInbox(ctx, ib.cfg.Channel, ib.cfg.Owner); err != nil {
			ib.log.Error("inbox: release claims; the unanswered items are taken over when the claims expire", "channel", ib.cfg.Channel, "err", err)
		}
	})
}

// queueLocked puts an item in its chat's queue, in id order, starting the
// chat's worker if it has none. Call with mu held.
func (ib *Inbox) queueLocked(it storage.InboxItem) {
	q, running := ib.chats[it.Chat]
	k := len(q)
	for k > 0 && q[k-1].ID > it.ID {
		k--
	}
	ib.chats[it.Chat] = slices.Insert(q, k, it)
	if !running {
		ib.wg.Add(1)
		go ib.work(it.Chat)
	}
}

func (ib *Inbox) releaseLocked(n int) {
	ib.reserved -= n
	ib.idle.Broadcast()
}

// work answers a chat's items in order until its queue is empty, or the
// inbox is cancelled (the rest stays pending in the store).
func (ib *Inbox) work(chat string) {
	defer ib.wg.Done()
	for {
		ib.mu.Lock()
		q := ib.chats[chat]
		if len(q) == 0 || ib.base.Err() != nil {
			delete(ib.chats, chat)
			ib.mu.Unlock()
			return
		}
		it := q[0]
		ib.mu.Unlock()

		select {
		case <-ib.gate:
		case <-ib.base.Done():
			continue
		}
		ib.waitTurn(it)
		// The queue may have changed while waiting: an earlier item taken
		// over (a take-over under way is waited for: see takeMu), or this
		// one dropped (its claim lost).
		ib.takeMu.RLock()
		ib.mu.Lock()
		q = ib.chats[chat]
		if len(q) == 0 || q[0].ID != it.ID {
			ib.mu.Unlock()
			ib.takeMu.RUnlock()
			continue
		}
		q[0] = storage.InboxItem{}
		ib.chats[chat] = q[1:]
		ib.mu.Unlock()
		ib.takeMu.RUnlock()
		select {
		case ib.workers <- struct{}{}:
		case <-ib.base.Done():
			continue
		}
		answered := ib.handle(it)
		<-ib.workers
		if answered {
			// Marked done even when the base context has just ended: the
			// answer went out.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := ib.cfg.Store.FinishInbox(ctx, it.ID, storage.InboxDone); err != nil {
				ib.log.Error("inbox: mark item done; it may be answered again", "channel", ib.cfg.Channel, "err", err)
			}
			cancel()
		}
		ib.mu.Lock()
		delete(ib.owned, it.ID)
		ib.releaseLocked(1)
		ib.mu.Unlock()
	}
}

// waitTurn returns once no earlier item of it's chat is pending at
// another instance, or after OrderWait, or when the queue's head changed,
// or the inbox is cancelled.
func (ib *Inbox) waitTurn(it storage.InboxItem) {
	var bound <-chan time.Time
	for {
		ahead, err := ib.cfg.Store.InboxAhead(ib.base, ib.cfg.Channel, it.Chat, it.ID, ib.cfg.Owner)
		if err != nil {
			if ib.base.Err() == nil {
				ib.log.Error("inbox: look up earlier items of a chat; answering in this instance's order", "channel", ib.cfg.Channel, "err", err)
			}
			return
		}
		if !ahead {
			return
		}
		if bound == nil {
			t := time.NewTimer(ib.cfg.OrderWait)
			defer t.Stop()
			bound = t.C
		}
		select {
		case <-bound:
			ib.log.Warn("inbox: an earlier item of a chat is still pending at another instance; answering this one anyway", "channel", ib.cfg.Channel, "item", it.ID, "waited", ib.cfg.OrderWait)
			return
		case <-ib.base.Done():
			return
		case <-time.After(orderPoll):
		}
		ib.mu.Lock()
		q := ib.chats[it.Chat]
		moved := len(q) == 0 || q[0].ID != it.ID
		ib.mu.Unlock()
		if moved {
			return
		}
	}
}

// handle runs the handler on one item and reports whether it finished
// (false when the inbox was cancelled meanwhile). A panic is logged and
// counts as finished: the item would fail the same way again.
func (ib *Inbox) handle(it storage.InboxItem) (finished bool) {
	defer func() {
		if r := recover(); r != nil {
			ib.log.Error("inbox: panic while answering an item", "channel", ib.cfg.Channel, "item", it.ID, "panic", fmt.Sprint(r))
			finished = true
		}
	}()
	ib.cfg.Handle(ib.base, it)
	return ib.base.Err() == nil
}

// Prune deletes handled items older than the retention (their keys no
// longer need recognising) and returns how many. Channels call it now and
// then.
func (ib *Inbox) Prune(ctx context.Context) (int64, error) {
	return ib.cfg.Store.PruneInbox(ctx, ib.cfg.Channel, ib.cfg.Now().Add(-ib.cfg.Retention))
}
