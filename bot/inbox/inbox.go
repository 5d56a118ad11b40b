// Package inbox answers a messaging channel's deliveries (Telegram
// updates, Zalo events) from a durable SQLite inbox (storage.InboxItem):
// a delivery is committed before the platform is told it arrived, workers
// answer the pending items one chat at a time in arrival order, and an item
// is marked done only once answered. Items still pending when the process
// stops (a crash, a deploy) are answered first at the next start. A resident
// may therefore, rarely, get the same answer twice; never none.
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
	"sync"
	"time"

	"github.com/colecommune/trolyso/storage"
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
)

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
	// Now is the clock of the prune cut-off (default time.Now).
	Now func() time.Time
	// Capacity bounds the pending items (default DefaultCapacity).
	Capacity int
	// Workers bounds the chats answered at once (default DefaultWorkers).
	Workers int
	// MaxAttempts is how many start-ups may find an item pending before it
	// is given up as failed (default DefaultMaxAttempts).
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

	mu       sync.Mutex
	reserved int // items pending or being committed
	chats    map[string][]storage.InboxItem
	closed   bool
	idle     *sync.Cond // signalled when reserved drops
	workers  chan struct{}
	wg       sync.WaitGroup
	base     context.Context
	stopBase context.CancelFunc
	started  bool
	gate     chan struct{} // closed by Open
	gateOnce sync.Once
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
	ib := &Inbox{
		cfg:     cfg,
		log:     cfg.Logger,
		chats:   map[string][]storage.InboxItem{},
		workers: make(chan struct{}, cfg.Workers),
		gate:    make(chan struct{}),
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

// Start queues the items left pending by the previous run, ahead of
// anything added later. Add refuses items until it has run.
func (ib *Inbox) Start(ctx context.Context) error {
	items, failed, err := ib.cfg.Store.RecoverInbox(ctx, ib.cfg.Channel, ib.cfg.MaxAttempts)
	if err != nil {
		return err
	}
	if failed > 0 {
		ib.log.Error("inbox: items given up after repeated start-ups", "channel", ib.cfg.Channel, "items", failed, "attempts", ib.cfg.MaxAttempts)
	}
	if len(items) > 0 {
		ib.log.Info("inbox: answering deliveries left pending by the previous run", "channel", ib.cfg.Channel, "items", len(items))
	}
	ib.mu.Lock()
	ib.started = true
	ib.reserved += len(items)
	for _, it := range items {
		ib.queueLocked(it)
	}
	ib.mu.Unlock()
	return nil
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
	fresh, err := ib.cfg.Store.AddInbox(ctx, items)
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if err != nil {
		ib.releaseLocked(len(items))
		return nil, err
	}
	for i, it := range items {
		if fresh[i] {
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
// most grace; then their contexts are cancelled, and what is not answered
// stays pending for the next start. It returns when no worker runs.
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
}

// queueLocked appends an item to its chat's queue, starting the chat's
// worker if it has none. Call with mu held.
func (ib *Inbox) queueLocked(it storage.InboxItem) {
	q, running := ib.chats[it.Chat]
	ib.chats[it.Chat] = append(q, it)
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
		q[0] = storage.InboxItem{}
		ib.chats[chat] = q[1:]
		ib.mu.Unlock()

		select {
		case <-ib.gate:
		case <-ib.base.Done():
			continue
		}
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
				ib.log.Error("inbox: mark item done; it may be answered again at the next start", "channel", ib.cfg.Channel, "err", err)
			}
			cancel()
		}
		ib.mu.Lock()
		ib.releaseLocked(1)
		ib.mu.Unlock()
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
