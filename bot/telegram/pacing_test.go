package telegram

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakePacing hands out slots like storage.DB.TakeTurn, in memory.
type fakePacing struct {
	mu     sync.Mutex
	next   time.Time
	turns  int
	paused time.Time
}

func (f *fakePacing) TakeTurn(ctx context.Context, name string, now time.Time, every time.Duration) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	slot := now
	if f.next.After(slot) {
		slot = f.next
	}
	if f.paused.After(slot) {
		slot = f.paused
	}
	f.next = slot.Add(every)
	f.turns++
	return slot, nil
}

func (f *fakePacing) PausePacing(ctx context.Context, name string, until time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused = until
	return nil
}

// TestSharedPacingTakesTheSharedSlot: with shared pacing, every message
// (of two limiters, as two instances) takes a slot from it, and a 429
// pause reaches it.
func TestSharedPacingTakesTheSharedSlot(t *testing.T) {
	shared := &fakePacing{}
	a, b := newSendLimiter(shared, nil), newSendLimiter(shared, nil)
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < 14; i++ {
		lim := a
		if i%2 == 1 {
			lim = b
		}
		if err := lim.wait(ctx, int64(1000+i)); err != nil {
			t.Fatal(err)
		}
	}
	// 14 messages at 28 a second across both: at least 13 intervals.
	if d := time.Since(start); d < 13*sharedEvery {
		t.Errorf("14 messages in %v: faster than the shared limit", d)
	}
	if shared.turns != 14 {
		t.Errorf("%d shared turns, want 14", shared.turns)
	}
	a.pause(200 * time.Millisecond)
	if !shared.paused.After(time.Now()) {
		t.Error("the 429 pause was not shared")
	}
	t0 := time.Now()
	if err := b.wait(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	if time.Since(t0) < 150*time.Millisecond {
		t.Error("the other instance did not wait for the shared pause")
	}
}
