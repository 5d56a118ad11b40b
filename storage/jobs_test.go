package storage

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestLeases(t *testing.T) { forEachBackend(t, testLeases) }

func testLeases(t *testing.T, tb testBackend) {
	ctx := context.Background()
	now := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	a, b := tb.twoInstances(t, ctx, "l.db")
	if ok, err := a.AcquireLease(ctx, "reminders", "A", now, 15*time.Second); !ok || err != nil {
		t.Fatalf("first: %v %v", ok, err)
	}
	if ok, _ := b.AcquireLease(ctx, "reminders", "B", now.Add(10*time.Second), 15*time.Second); ok {
		t.Error("B took a lease A holds")
	}
	if ok, _ := a.AcquireLease(ctx, "reminders", "A", now.Add(10*time.Second), 15*time.Second); !ok {
		t.Error("A could not renew")
	}
	// A dies: B takes over once the lease expired.
	if ok, _ := b.AcquireLease(ctx, "reminders", "B", now.Add(24*time.Second), 15*time.Second); ok {
		t.Error("B took the lease before it expired")
	}
	if ok, _ := b.AcquireLease(ctx, "reminders", "B", now.Add(26*time.Second), 15*time.Second); !ok {
		t.Error("B did not take over an expired lease")
	}
	// Leases are per commune.
	ca, cb := must(a.Commune(ctx, "co-le")), must(b.Commune(ctx, "yen-tu"))
	if ok, _ := ca.AcquireLease(ctx, "reminders", "A", now.Add(26*time.Second), 15*time.Second); !ok {
		t.Error("a commune's lease is taken by the default store's")
	}
	if ok, _ := cb.AcquireLease(ctx, "reminders", "B", now.Add(26*time.Second), 15*time.Second); !ok {
		t.Error("another commune's lease is taken")
	}
	if err := b.ReleaseLease(ctx, "reminders", "B"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.AcquireLease(ctx, "reminders", "A", now.Add(27*time.Second), 15*time.Second); !ok {
		t.Error("A could not take a released lease")
	}
}

func TestSharedPacing(t *testing.T) { forEachBackend(t, testSharedPacing) }

// Two instances taking 30 turns at once, 40 ms apart: every slot is
// distinct and 40 ms from the previous one; a pause moves the next slots.
func testSharedPacing(t *testing.T, tb testBackend) {
	ctx := context.Background()
	now := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	a, b := tb.twoInstances(t, ctx, "p.db")
	var mu sync.Mutex
	var slots []time.Time
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := a
			if i%2 == 1 {
				db = b
			}
			s, err := db.TakeTurn(ctx, "telegram", now, 40*time.Millisecond)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			slots = append(slots, s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(slots, func(i, j int) bool { return slots[i].Before(slots[j]) })
	if len(slots) != 30 || !slots[0].Equal(now) {
		t.Fatalf("%d slots, first %v", len(slots), slots[0])
	}
	for i := 1; i < len(slots); i++ {
		if d := slots[i].Sub(slots[i-1]); d != 40*time.Millisecond {
			t.Fatalf("slot %d is %v after the previous", i, d)
		}
	}
	if err := b.PausePacing(ctx, "telegram", now.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.TakeTurn(ctx, "telegram", now.Add(time.Second), 40*time.Millisecond); !s.Equal(now.Add(5 * time.Second)) {
		t.Errorf("slot after a pause: %v", s)
	}
}
