package inbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
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
	if _, err := db.AddInbox(ctx, []storage.InboxItem{{Channel: "zalo", Key: "k", Chat: "c", Payload: []byte("x")}}); err != nil {
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
