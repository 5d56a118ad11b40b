package inbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/colecommune/trolyso/storage"
)

var testNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func openDB(t *testing.T, path string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), path, storage.Options{Secret: "s", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// recorder is a handler that notes what it answered, per chat.
type recorder struct {
	mu    sync.Mutex
	order map[string][]string
	all   []string
	delay func() time.Duration
}

func (r *recorder) handle(ctx context.Context, it storage.InboxItem) {
	if r.delay != nil {
		select {
		case <-time.After(r.delay()):
		case <-ctx.Done():
			return
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.order == nil {
		r.order = map[string][]string{}
	}
	r.order[it.Chat] = append(r.order[it.Chat], string(it.Payload))
	r.all = append(r.all, string(it.Payload))
}

func newInbox(t *testing.T, db *storage.DB, h Handler, edit func(*Config)) *Inbox {
	t.Helper()
	cfg := Config{Store: db, Channel: "telegram", Handle: h, Now: func() time.Time { return testNow }}
	if edit != nil {
		edit(&cfg)
	}
	ib, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ib.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ib.Close(5 * time.Second) })
	return ib
}

func item(chat string, n int) storage.InboxItem {
	return storage.InboxItem{Key: fmt.Sprintf("%s-%d", chat, n), Chat: chat, Payload: []byte(fmt.Sprintf("%s-%d", chat, n))}
}

// TestPerChatOrderAndParallelChats: items of one chat are answered in the
// order added, with random handler delays and many chats in parallel.
func TestPerChatOrderAndParallelChats(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "i.db"))
	r := &recorder{delay: func() time.Duration { return time.Duration(rand.IntN(3)) * time.Millisecond }}
	ib := newInbox(t, db, r.handle, func(c *Config) { c.Workers = 4 })
	const chats, per = 12, 15
	for n := range per {
		for c := range chats {
			if _, err := ib.Add(context.Background(), item(fmt.Sprint(c), n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	ib.Wait()
	for c := range chats {
		got := r.order[fmt.Sprint(c)]
		if len(got) != per {
			t.Fatalf("chat %d: %d answers, want %d", c, len(got), per)
		}
		for n, p := range got {
			if want := fmt.Sprintf("%d-%d", c, n); p != want {
				t.Fatalf("chat %d answer %d = %s, want %s (order %v)", c, n, p, want, got)
			}
		}
	}
	counts, _ := db.InboxCounts(context.Background(), "telegram")
	if counts[storage.InboxDone] != chats*per || counts[storage.InboxPending] != 0 {
		t.Fatalf("counts = %v", counts)
	}
	if n := ib.Chats(); n != 0 {
		t.Fatalf("%d idle chats keep a worker", n)
	}
}

// TestDuplicatesAnsweredOnce: an item added again (the platform's
// redelivery), before or after it was answered, is not answered again.
func TestDuplicatesAnsweredOnce(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "i.db"))
	r := &recorder{}
	ib := newInbox(t, db, r.handle, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ib.Add(ctx, item("7", 1)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ib.Wait()
	fresh, err := ib.Add(ctx, item("7", 1), item("7", 2))
	if err != nil || fresh[0] || !fresh[1] {
		t.Fatalf("add after answer = %v, %v", fresh, err)
	}
	ib.Wait()
	if !slices.Equal(r.all, []string{"7-1", "7-2"}) {
		t.Fatalf("answered %v", r.all)
	}
}

// TestFullInboxRefusesAndRecovers: beyond the capacity Add refuses with
// ErrFull and stores nothing; once items are answered there is room again.
func TestFullInboxRefusesAndRecovers(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "i.db"))
	release := make(chan struct{})
	var answered sync.WaitGroup
	answered.Add(4)
	ib := newInbox(t, db, func(ctx context.Context, it storage.InboxItem) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		answered.Done()
	}, func(c *Config) { c.Capacity = 3 })
	ctx := context.Background()
	if _, err := ib.Add(ctx, item("a", 1), item("b", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := ib.Add(ctx, item("c", 1), item("d", 1)); !errors.Is(err, ErrFull) {
		t.Fatalf("over capacity: %v", err)
	}
	if _, err := ib.Add(ctx, item("c", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := ib.Add(ctx, item("d", 1)); !errors.Is(err, ErrFull) {
		t.Fatalf("full: %v", err)
	}
	if ib.Free() != 0 {
		t.Fatalf("free = %d", ib.Free())
	}
	// A redelivery of a stored item needs no room: accepted, not new.
	if fresh, err := ib.Add(ctx, item("a", 1)); err != nil || fresh[0] {
		t.Fatalf("redelivery while full = %v, %v", fresh, err)
	}
	counts, _ := db.InboxCounts(ctx, "telegram")
	if counts[storage.InboxPending] != 3 {
		t.Fatalf("refused items were stored: %v", counts)
	}
	close(release)
	ib.Wait()
	if _, err := ib.Add(ctx, item("d", 1)); err != nil {
		t.Fatalf("after draining: %v", err)
	}
	answered.Wait()
}

// TestRestartAnswersPendingFirst: items accepted by a process that stopped
// before answering them are answered at the next start, before newer
// items of the same chat, and only once.
func TestRestartAnswersPendingFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i.db")
	ctx := context.Background()
	db := openDB(t, path)
	// The first process answers nothing: its handler hangs until the
	// inbox gives up at shutdown.
	first, err := New(Config{Store: db, Channel: "telegram", Handle: func(ctx context.Context, it storage.InboxItem) { <-ctx.Done() }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Add(ctx, item("x", 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("add before Start: %v", err)
	}
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		if _, err := first.Add(ctx, item("7", n), item("8", n)); err != nil {
			t.Fatal(err)
		}
	}
	first.Close(50 * time.Millisecond)
	if _, err := first.Add(ctx, item("7", 9)); !errors.Is(err, ErrClosed) {
		t.Fatalf("add after Close: %v", err)
	}

	r := &recorder{}
	second, err := New(Config{Store: db, Channel: "telegram", Handle: r.handle, Gated: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The platform redelivers one of them, and a new one arrives.
	if fresh, err := second.Add(ctx, item("7", 2), item("7", 4)); err != nil || fresh[0] || !fresh[1] {
		t.Fatalf("add = %v, %v", fresh, err)
	}
	time.Sleep(50 * time.Millisecond)
	if len(r.all) != 0 {
		t.Fatalf("answered before Open: %v", r.all)
	}
	second.Open()
	second.Wait()
	if want := []string{"7-1", "7-2", "7-3", "7-4"}; !slices.Equal(r.order["7"], want) {
		t.Errorf("chat 7 answered %v, want %v", r.order["7"], want)
	}
	if want := []string{"8-1", "8-2", "8-3"}; !slices.Equal(r.order["8"], want) {
		t.Errorf("chat 8 answered %v, want %v", r.order["8"], want)
	}
	second.Close(time.Second)
}

// TestPanicAndPoisonItems: a handler panic is contained and the item is
// done; an item found pending at MaxAttempts start-ups is given up.
func TestPanicAndPoisonItems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i.db")
	ctx := context.Background()
	db := openDB(t, path)
	r := &recorder{}
	ib := newInbox(t, db, func(ctx context.Context, it storage.InboxItem) {
		if string(it.Payload) == "p-1" {
			panic("boom")
		}
		r.handle(ctx, it)
	}, nil)
	if _, err := ib.Add(ctx, item("p", 1), item("p", 2)); err != nil {
		t.Fatal(err)
	}
	ib.Wait()
	if !slices.Equal(r.all, []string{"p-2"}) {
		t.Fatalf("answered %v", r.all)
	}
	counts, _ := db.InboxCounts(ctx, "telegram")
	if counts[storage.InboxDone] != 2 {
		t.Fatalf("counts %v", counts)
	}
	// A row that never gets answered (each start-up dies on it).
	if _, err := db.AddInbox(ctx, []storage.InboxItem{{Channel: "zalo", Key: "k", Chat: "c", Payload: []byte("x")}}, storage.InboxClaim{}); err != nil {
		t.Fatal(err)
	}
	for start := 1; start <= 4; start++ {
		got := 0
		z, err := New(Config{Store: db, Channel: "zalo", MaxAttempts: 3, Handle: func(ctx context.Context, it storage.InboxItem) { got++ }, Gated: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := z.Start(ctx); err != nil {
			t.Fatal(err)
		}
		pending := z.Pending()
		z.Close(time.Millisecond) // "crash": never opened
		if want := map[bool]int{true: 1, false: 0}[start <= 3]; pending != want {
			t.Fatalf("start-up %d: %d pending, want %d", start, pending, want)
		}
	}
	counts, _ = db.InboxCounts(ctx, "zalo")
	if counts[storage.InboxFailed] != 1 {
		t.Fatalf("poison item not given up: %v", counts)
	}
}

// clock is a settable clock for claims.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startInbox starts an inbox with cfg's defaults filled in for tests.
func startInbox(t *testing.T, cfg Config) *Inbox {
	t.Helper()
	if cfg.Channel == "" {
		cfg.Channel = "telegram"
	}
	ib, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ib.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ib.Close(time.Second) })
	return ib
}

// TestDeadInstanceTakenOverAfterExpiry: two instances on one database.
// A accepts items and stops answering and renewing (cut off from the
// database, as if dead); B does not take them while A's claims are live,
// takes them once they expired, and answers each chat in order.
func TestDeadInstanceTakenOverAfterExpiry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i.db")
	ctx := context.Background()
	clk := &clock{t: testNow}
	dbA, dbB := openDB(t, path), openDB(t, path)
	const ttl = 300 * time.Millisecond
	stuck := make(chan struct{})
	defer close(stuck)
	a := startInbox(t, Config{Store: dbA, Owner: "A", Now: clk.now, ClaimTTL: ttl, Handle: func(ctx context.Context, it storage.InboxItem) {
		select {
		case <-stuck:
		case <-ctx.Done():
		}
	}})
	for n := 1; n <= 3; n++ {
		if _, err := a.Add(ctx, item("x", n), item("y", n)); err != nil {
			t.Fatal(err)
		}
	}
	r := &recorder{}
	b := startInbox(t, Config{Store: dbB, Owner: "B", Now: clk.now, ClaimTTL: ttl, Handle: r.handle})
	time.Sleep(4 * ttl) // several renewals and sweeps
	if r.answered() != 0 || b.Pending() != 0 {
		t.Fatalf("B took live items: answered %v, %d pending", r.all, b.Pending())
	}
	// A dies: its store is gone, its claims are no longer renewed.
	dbA.Close()
	clk.add(2 * ttl)
	if !waitCond(10*time.Second, func() bool { return r.answered() == 6 }) {
		t.Fatalf("B answered %v after A's claims expired", r.all)
	}
	for _, c := range []string{"x", "y"} {
		if want := []string{c + "-1", c + "-2", c + "-3"}; !slices.Equal(r.order[c], want) {
			t.Errorf("chat %s answered %v, want %v", c, r.order[c], want)
		}
	}
	b.Wait()
	counts, _ := dbB.InboxCounts(ctx, "telegram")
	if counts[storage.InboxDone] != 6 || counts[storage.InboxPending] != 0 {
		t.Fatalf("counts = %v", counts)
	}
	a.Close(10 * time.Millisecond)
}

// TestLostClaimsAreDropped: an instance whose claims were taken over
// (it could not renew for a whole TTL) does not answer the queued items
// it lost; the one in flight ends normally.
func TestLostClaimsAreDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i.db")
	ctx := context.Background()
	clk := &clock{t: testNow}
	db, other := openDB(t, path), openDB(t, path)
	release := make(chan struct{})
	r := &recorder{}
	a := startInbox(t, Config{Store: db, Owner: "A", Now: clk.now, ClaimTTL: 300 * time.Millisecond, Handle: func(ctx context.Context, it storage.InboxItem) {
		if it.Key == "x-1" {
			<-release
		}
		r.handle(ctx, it)
	}})
	if _, err := a.Add(ctx, item("x", 1), item("x", 2), item("x", 3)); err != nil {
		t.Fatal(err)
	}
	// Another instance takes them over, as after A's claims expired.
	later := clk.now().Add(time.Minute)
	got, _, err := other.TakeInbox(ctx, "telegram", storage.InboxClaim{Owner: "B", Until: later.Add(time.Hour)}, later, nil, 10, 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("take over = %v, %v", got, err)
	}
	if !waitCond(10*time.Second, func() bool { return a.Pending() == 1 }) {
		t.Fatalf("A still holds %d items after losing its claims", a.Pending())
	}
	close(release)
	a.Wait()
	if !slices.Equal(r.all, []string{"x-1"}) {
		t.Fatalf("A answered %v, want only the item in flight", r.all)
	}
}

// TestChatOrderAcrossInstances: a chat's second message, accepted by B
// while A still answers the first, is answered after it.
func TestChatOrderAcrossInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i.db")
	ctx := context.Background()
	dbA, dbB := openDB(t, path), openDB(t, path)
	r := &recorder{}
	release := make(chan struct{})
	a := startInbox(t, Config{Store: dbA, Owner: "A", Now: time.Now, Handle: func(ctx context.Context, it storage.InboxItem) {
		<-release
		r.handle(ctx, it)
	}})
	b := startInbox(t, Config{Store: dbB, Owner: "B", Now: time.Now, OrderWait: time.Minute, Handle: r.handle})
	if _, err := a.Add(ctx, item("z", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(ctx, item("z", 2), item("w", 1)); err != nil {
		t.Fatal(err)
	}
	// Another chat is not held up.
	if !waitCond(10*time.Second, func() bool { return r.answered() == 1 }) || r.all[0] != "w-1" {
		t.Fatalf("answered %v, want w-1 alone", r.all)
	}
	time.Sleep(300 * time.Millisecond)
	if r.answered() != 1 {
		t.Fatalf("B answered z-2 before A answered z-1: %v", r.all)
	}
	close(release)
	a.Wait()
	b.Wait()
	if want := []string{"z-1", "z-2"}; !slices.Equal(r.order["z"], want) {
		t.Fatalf("chat z answered %v, want %v", r.order["z"], want)
	}
}

// TestChatOrderDuringTakeOver: B holds a chat's second message behind the
// first, held by A; when B takes the first over, the second still waits
// for it, however long the take-over takes between claiming the first in
// the store and queueing it (the window the worker used to slip through).
func TestChatOrderDuringTakeOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i.db")
	ctx := context.Background()
	dbA, dbB := openDB(t, path), openDB(t, path)
	hang := make(chan struct{})
	defer close(hang)
	a := startInbox(t, Config{Store: dbA, Owner: "A", Now: time.Now, Handle: func(ctx context.Context, it storage.InboxItem) {
		select { // A never answers: it is as good as dead
		case <-hang:
		case <-ctx.Done():
		}
	}})
	if _, err := a.Add(ctx, item("z", 1)); err != nil {
		t.Fatal(err)
	}
	var gone atomic.Bool
	r := &recorder{}
	b, err := New(Config{Store: dbB, Channel: "telegram", Owner: "B", Now: time.Now, OrderWait: time.Minute,
		OwnerGone: func(o string) bool { return o == "A" && gone.Load() }, Handle: r.handle})
	if err != nil {
		t.Fatal(err)
	}
	// Each take-over leaves the workers several polls between claiming
	// items in the store and queueing them.
	b.afterTake = func() { time.Sleep(5 * orderPoll) }
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(time.Second) })
	if _, err := b.Add(ctx, item("z", 2)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * orderPoll) // z-2's worker is waiting for z-1
	if r.answered() != 0 {
		t.Fatalf("B answered %v while A holds z-1", r.all)
	}
	// A is found gone: B's sweep takes z-1 over.
	gone.Store(true)
	if n, err := b.sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep took %d, %v; want z-1", n, err)
	}
	b.Wait()
	if want := []string{"z-1", "z-2"}; !slices.Equal(r.order["z"], want) {
		t.Fatalf("chat z answered %v, want %v", r.order["z"], want)
	}
}

// TestGoneOwnerTakenOverAtOnce: items of an instance known to be gone (a
// dead process on this machine) are taken at the next start-up without
// waiting for their claims to expire; a live owner's are not.
func TestGoneOwnerTakenOverAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i.db")
	ctx := context.Background()
	dbA, dbB := openDB(t, path), openDB(t, path)
	hang := make(chan struct{})
	defer close(hang)
	a := startInbox(t, Config{Store: dbA, Owner: "A", Handle: func(ctx context.Context, it storage.InboxItem) {
		select {
		case <-hang:
		case <-ctx.Done():
		}
	}})
	if _, err := a.Add(ctx, item("x", 1), item("x", 2)); err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	alive := startInbox(t, Config{Store: dbB, Owner: "B", OwnerGone: func(string) bool { return false }, Handle: r.handle})
	if alive.Pending() != 0 {
		t.Fatal("a start-up took a live instance's items")
	}
	restarted := startInbox(t, Config{Store: dbB, Owner: "C", OwnerGone: func(o string) bool { return o == "A" }, Handle: r.handle})
	restarted.Wait()
	if !slices.Equal(r.all, []string{"x-1", "x-2"}) {
		t.Fatalf("answered %v", r.all)
	}
	a.Close(10 * time.Millisecond)
}

func (r *recorder) answered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

// waitCond polls cond every 10 ms for up to d.
func waitCond(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
