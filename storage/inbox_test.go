package storage

import (
	"context"
	"fmt"
	"path/filepath"
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
	a := InboxClaim{Owner: "A", Until: now.Add(15 * time.Second)}
	fresh, err := db.AddInbox(ctx, items, a)
	if err != nil || !fresh[0] || !fresh[1] || !fresh[2] || items[0].ID == 0 || items[1].ID <= items[0].ID {
		t.Fatalf("add = %v, %v, ids %d %d", fresh, err, items[0].ID, items[1].ID)
	}
	// A redelivery (with a new one) in one transaction: only the new one
	// is stored.
	again := []InboxItem{{Channel: "telegram", Key: "2", Chat: "77", Payload: []byte(`{"a":"again"}`)}, {Channel: "telegram", Key: "3", Chat: "78"}}
	fresh, err = db.AddInbox(ctx, again, a)
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
	if fresh, _ := db.AddInbox(ctx, []InboxItem{{Channel: "telegram", Key: "1"}}, a); fresh[0] {
		t.Fatal("a done item was accepted again")
	}
	var payload, chat string
	if err := db.Reader().QueryRow(`SELECT payload, chat FROM inbox WHERE id = ?`, items[0].ID).Scan(&payload, &chat); err != nil || payload != "" || chat != "" {
		t.Fatalf("done item keeps payload %q chat %q (%v)", payload, chat, err)
	}
	// A's claim is live: nobody else takes its items.
	if got, _, err := db.TakeInbox(ctx, "telegram", InboxClaim{Owner: "B", Until: now.Add(30 * time.Second)}, *now, nil, 100, 3); err != nil || len(got) != 0 {
		t.Fatalf("took live items: %+v, %v", got, err)
	}
	// A dies; after the expiry: the pending telegram items, in order,
	// one attempt each.
	take := func(owner string, at time.Time) ([]InboxItem, int) {
		t.Helper()
		got, failed, err := db.TakeInbox(ctx, "telegram", InboxClaim{Owner: owner, Until: at.Add(15 * time.Second)}, at, nil, 100, 3)
		if err != nil {
			t.Fatal(err)
		}
		return got, failed
	}
	*now = now.Add(16 * time.Second)
	pending, failed := take("B", *now)
	if failed != 0 || len(pending) != 2 || pending[0].Key != "2" || pending[1].Key != "3" ||
		string(pending[0].Payload) != `{"a":2}` || pending[0].Chat != "77" || pending[0].Attempts != 1 {
		t.Fatalf("take over = %+v, %d", pending, failed)
	}
	// An item taken over three times and found pending again is given up.
	for _, o := range []string{"C", "D"} {
		*now = now.Add(16 * time.Second)
		take(o, *now)
	}
	*now = now.Add(16 * time.Second)
	pending, failed = take("E", *now)
	if failed != 2 || len(pending) != 0 {
		t.Fatalf("fourth take-over = %d pending, %d failed", len(pending), failed)
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
	if zp, _, _ := db.TakeInbox(ctx, "zalo", InboxClaim{Owner: "Z"}, *now, nil, 100, 3); len(zp) != 1 || zp[0].Attempts != 1 {
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
			fresh, err := db.AddInbox(ctx, []InboxItem{{Channel: "zalo", Key: "msg:1", Chat: "9"}}, InboxClaim{Owner: "A"})
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

// TestInboxClaims: two handles on one database, as two instances. An
// item claimed by one is not taken by the other while the claim is live
// (renewed), is taken once it expired or its owner is known to be gone,
// and is then no longer renewed by the first; released claims are taken
// at once; per-chat order sees the other instance's earlier items.
func TestInboxClaims(t *testing.T) { forEachBackend(t, testInboxClaims) }

func testInboxClaims(t *testing.T, tb testBackend) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	loc := filepath.Join(t.TempDir(), "claims.db")
	a, err := tb.Open(ctx, loc, Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := tb.Open(ctx, loc, Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const ttl = 15 * time.Second
	claim := func(owner string, at time.Time) InboxClaim { return InboxClaim{Owner: owner, Until: at.Add(ttl)} }
	take := func(db *DB, owner string, at time.Time, gone ...string) []InboxItem {
		t.Helper()
		got, failed, err := db.TakeInbox(ctx, "telegram", claim(owner, at), at, gone, 100, 3)
		if err != nil || failed != 0 {
			t.Fatalf("take as %s: %d failed, %v", owner, failed, err)
		}
		return got
	}
	keys := func(items []InboxItem) (ks []string) {
		for _, it := range items {
			ks = append(ks, it.Key)
		}
		return ks
	}
	items := []InboxItem{
		{Channel: "telegram", Key: "k1", Chat: "c1", Payload: []byte("1")},
		{Channel: "telegram", Key: "k2", Chat: "c1", Payload: []byte("2")},
		{Channel: "telegram", Key: "k3", Chat: "c2", Payload: []byte("3")},
	}
	if _, err := a.AddInbox(ctx, items, claim("A", t0)); err != nil {
		t.Fatal(err)
	}
	if got := take(b, "B", t0.Add(10*time.Second)); len(got) != 0 {
		t.Fatalf("B took A's live items: %v", keys(got))
	}
	ids, err := a.RenewInbox(ctx, "telegram", claim("A", t0.Add(10*time.Second)))
	if err != nil || len(ids) != 3 {
		t.Fatalf("renew = %v, %v", ids, err)
	}
	// Past the first expiry, but renewed: still A's.
	if got := take(b, "B", t0.Add(20*time.Second), "X"); len(got) != 0 {
		t.Fatalf("B took renewed items: %v", keys(got))
	}
	if owners, err := b.InboxOwners(ctx, "telegram", "B", t0.Add(20*time.Second)); err != nil || len(owners) != 1 || owners[0] != "A" {
		t.Fatalf("owners = %v, %v", owners, err)
	}
	// A's item k1 is ahead of k2 in chat c1 only for another owner.
	if ahead, err := b.InboxAhead(ctx, "telegram", "c1", items[1].ID, "B"); err != nil || !ahead {
		t.Fatalf("B sees nothing ahead of k2: %v %v", ahead, err)
	}
	if ahead, _ := a.InboxAhead(ctx, "telegram", "c1", items[1].ID, "A"); ahead {
		t.Fatal("A waits for its own item")
	}
	// A stops renewing (it died): B takes everything once the claim
	// expired, in arrival order, one attempt each; A holds nothing more.
	at := t0.Add(26 * time.Second)
	got := take(b, "B", at)
	if ks := keys(got); len(ks) != 3 || ks[0] != "k1" || ks[1] != "k2" || ks[2] != "k3" || got[0].Attempts != 1 || string(got[2].Payload) != "3" {
		t.Fatalf("B took %v", got)
	}
	if ids, err := a.RenewInbox(ctx, "telegram", claim("A", at)); err != nil || len(ids) != 0 {
		t.Fatalf("A still renews %v (%v)", ids, err)
	}
	if got := take(a, "A", at); len(got) != 0 {
		t.Fatalf("A took B's live items back: %v", keys(got))
	}
	if ahead, _ := a.InboxAhead(ctx, "telegram", "c1", items[1].ID, "A"); !ahead {
		t.Fatal("A sees nothing ahead of k2 now that B holds k1")
	}
	for _, it := range got {
		if err := b.FinishInbox(ctx, it.ID, InboxDone); err != nil {
			t.Fatal(err)
		}
	}
	// An owner known to be gone loses its live claims at once.
	k4 := []InboxItem{{Channel: "telegram", Key: "k4", Chat: "c1"}}
	if _, err := a.AddInbox(ctx, k4, claim("A", at)); err != nil {
		t.Fatal(err)
	}
	if got := take(b, "B", at, "Y"); len(got) != 0 {
		t.Fatalf("B took k4 from a live owner: %v", keys(got))
	}
	if got := take(b, "B", at, "Y", "A"); len(keys(got)) != 1 || got[0].Key != "k4" {
		t.Fatalf("B took %v from a gone owner", keys(got))
	}
	// Released claims (a clean stop) are taken at once.
	if err := b.ReleaseInbox(ctx, "telegram", "B"); err != nil {
		t.Fatal(err)
	}
	if got := take(a, "A", at); len(got) != 1 || got[0].Key != "k4" || got[0].Attempts != 2 {
		t.Fatalf("A took %v after the release", got)
	}
	// Another channel's claims are apart.
	z := []InboxItem{{Channel: "zalo", Key: "k4", Chat: "c1"}}
	if _, err := a.AddInbox(ctx, z, claim("A", at)); err != nil {
		t.Fatal(err)
	}
	tg, err1 := a.RenewInbox(ctx, "telegram", claim("A", at))
	zl, err2 := a.RenewInbox(ctx, "zalo", claim("A", at))
	if err1 != nil || err2 != nil || len(tg) != 1 || len(zl) != 1 || zl[0] != z[0].ID || tg[0] == zl[0] {
		t.Fatalf("renew: telegram %v, zalo %v (%v %v)", tg, zl, err1, err2)
	}
}

// TestInboxTakeOverRace: items of a dead owner are taken by two instances
// sweeping at once, in small batches: each item is taken exactly once.
func TestInboxTakeOverRace(t *testing.T) { forEachBackend(t, testInboxTakeOverRace) }

func testInboxTakeOverRace(t *testing.T, tb testBackend) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	loc := filepath.Join(t.TempDir(), "race.db")
	var dbs []*DB
	for range 2 {
		db, err := tb.Open(ctx, loc, Options{Secret: "s"})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	const n = 300
	items := make([]InboxItem, n)
	for i := range items {
		items[i] = InboxItem{Channel: "zalo", Key: fmt.Sprint(i), Chat: fmt.Sprint(i % 17)}
	}
	if _, err := dbs[0].AddInbox(ctx, items, InboxClaim{Owner: "dead", Until: t0}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	taken := map[int64]string{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, me := dbs[w%2], fmt.Sprint("sweeper-", w)
			for {
				got, _, err := db.TakeInbox(ctx, "zalo", InboxClaim{Owner: me, Until: t0.Add(time.Hour)}, t0.Add(time.Minute), nil, 7, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, it := range got {
					if prev, dup := taken[it.ID]; dup {
						t.Errorf("item %d taken by %s and %s", it.ID, prev, me)
					}
					taken[it.ID] = me
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(taken) != n {
		t.Fatalf("%d of %d items taken", len(taken), n)
	}
}
