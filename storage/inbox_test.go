package storage

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestInboxLifecycle(t *testing.T) { forEachBackend(t, testInboxLifecycle) }

func testInboxLifecycle(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db, now := openZaloTest(t, tb)
	items := []InboxItem{
		{Channel: "telegram", Key: "1", Chat: "77", Payload: []byte(`{"a":1}`)},
		{Channel: "telegram", Key: "2", Chat: "77", Payload: []byte(`{"a":2}`)},
		{Channel: "zalo", Key: "1", Chat: "9", Payload: []byte(`{"z":1}`)}, // same key, other channel
	}
	fresh, err := db.AddInbox(ctx, items)
	if err != nil || !fresh[0] || !fresh[1] || !fresh[2] || items[0].ID == 0 || items[1].ID <= items[0].ID {
		t.Fatalf("add = %v, %v, ids %d %d", fresh, err, items[0].ID, items[1].ID)
	}
	// A redelivery (with a new one) in one transaction: only the new one
	// is stored.
	again := []InboxItem{{Channel: "telegram", Key: "2", Chat: "77", Payload: []byte(`{"a":"again"}`)}, {Channel: "telegram", Key: "3", Chat: "78"}}
	fresh, err = db.AddInbox(ctx, again)
	if err != nil || fresh[0] || !fresh[1] || again[0].ID != 0 {
		t.Fatalf("redelivery = %v, %v, id %d", fresh, err, again[0].ID)
	}
	if err := db.FinishInbox(ctx, items[0].ID, InboxDone); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishInbox(ctx, items[0].ID, "bogus"); err == nil {
		t.Fatal("bad state accepted")
	}
	// A done item is still a duplicate: its key is kept, its payload and
	// chat are not.
	if fresh, _ := db.AddInbox(ctx, []InboxItem{{Channel: "telegram", Key: "1"}}); fresh[0] {
		t.Fatal("a done item was accepted again")
	}
	var payload, chat string
	if err := db.Reader().QueryRow(`SELECT payload, chat FROM inbox WHERE id = ?`, items[0].ID).Scan(&payload, &chat); err != nil || payload != "" || chat != "" {
		t.Fatalf("done item keeps payload %q chat %q (%v)", payload, chat, err)
	}
	// Start-up: the pending telegram items, in order, one attempt each.
	pending, failed, err := db.RecoverInbox(ctx, "telegram", 3)
	if err != nil || failed != 0 || len(pending) != 2 || pending[0].Key != "2" || pending[1].Key != "3" ||
		string(pending[0].Payload) != `{"a":2}` || pending[0].Chat != "77" || pending[0].Attempts != 1 {
		t.Fatalf("recover = %+v, %d, %v", pending, failed, err)
	}
	// An item still pending after three more start-ups is given up.
	for range 2 {
		db.RecoverInbox(ctx, "telegram", 3)
	}
	pending, failed, err = db.RecoverInbox(ctx, "telegram", 3)
	if err != nil || failed != 2 || len(pending) != 0 {
		t.Fatalf("fourth start-up = %d pending, %d failed, %v", len(pending), failed, err)
	}
	counts, err := db.InboxCounts(ctx, "telegram")
	if err != nil || counts[InboxDone] != 1 || counts[InboxFailed] != 2 || counts[InboxPending] != 0 {
		t.Fatalf("counts = %v, %v", counts, err)
	}
	// Handled items are pruned after the retention; pending ones never.
	*now = now.Add(72 * time.Hour)
	n, err := db.PruneInbox(ctx, "telegram", now.Add(-48*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("prune = %d, %v", n, err)
	}
	if zp, _, _ := db.RecoverInbox(ctx, "zalo", 3); len(zp) != 1 {
		t.Fatalf("the zalo item was touched: %v", zp)
	}
}

// TestInboxConcurrentDuplicates: the same delivery arriving on many
// connections at once is stored exactly once.
func TestInboxConcurrentDuplicates(t *testing.T) { forEachBackend(t, testInboxConcurrentDuplicates) }

func testInboxConcurrentDuplicates(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db, _ := openZaloTest(t, tb)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fresh, err := db.AddInbox(ctx, []InboxItem{{Channel: "zalo", Key: "msg:1", Chat: "9"}})
			if err != nil {
				t.Error(err)
				return
			}
			if fresh[0] {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if accepted != 1 {
		t.Fatalf("accepted %d times", accepted)
	}
}
