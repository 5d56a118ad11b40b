package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestRecordExchangeGroupCommit records exchanges from many goroutines at
// once: every call gets a distinct id that is in the table when it
// returns, and a bad exchange in a batch fails alone.
func TestRecordExchangeGroupCommit(t *testing.T) { forEachBackend(t, testRecordExchangeGroupCommit) }

func testRecordExchangeGroupCommit(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db, err := tb.Open(ctx, t.TempDir()+"/batch.db", Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 400
	var wg sync.WaitGroup
	ids := make([]int64, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ex := &Exchange{UserKey: fmt.Sprintf("web:u%d", i%37), Channel: "web", Question: fmt.Sprint("q", i), Band: "answer", EntryID: "e"}
			if i%50 == 7 {
				ex.UserKey = "" // refused by touchUser
			}
			ids[i], errs[i] = db.RecordExchange(ctx, ex)
			if errs[i] == nil {
				// Acknowledged means committed: visible to a reader now.
				got, err := db.Exchange(ctx, ids[i])
				if err != nil || got.Question != ex.Question {
					errs[i] = fmt.Errorf("id %d not readable after RecordExchange returned: %v %+v", ids[i], err, got)
				}
			}
		}(i)
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i := 0; i < n; i++ {
		if i%50 == 7 {
			if errs[i] == nil {
				t.Errorf("exchange %d with an empty user key was accepted", i)
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("exchange %d: %v", i, errs[i])
			continue
		}
		if ids[i] == 0 || seen[ids[i]] {
			t.Errorf("exchange %d: id %d zero or repeated", i, ids[i])
		}
		seen[ids[i]] = true
	}
	var count int
	db.Reader().QueryRow(`SELECT count(*) FROM exchanges`).Scan(&count)
	if count != len(seen) {
		t.Errorf("%d rows, %d acknowledged", count, len(seen))
	}
}

func TestRecordExchangeOnlyAfterClose(t *testing.T) {
	forEachBackend(t, testRecordExchangeOnlyAfterClose)
}

func testRecordExchangeOnlyAfterClose(t *testing.T, tb testBackend) {
	db, err := tb.Open(context.Background(), t.TempDir()+"/c.db", Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := db.RecordExchange(context.Background(), &Exchange{UserKey: "web:a", Channel: "web"}); !errors.Is(err, ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
}

// TestRecordExchangeAfterClose: writes after Close fail cleanly, and a
// caller whose context ends stops waiting.
func TestRecordExchangeAfterClose(t *testing.T) { forEachBackend(t, testRecordExchangeAfterClose) }

func testRecordExchangeAfterClose(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db, err := tb.Open(ctx, t.TempDir()+"/closed.db", Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordExchange(ctx, &Exchange{UserKey: "web:a", Channel: "web", Band: "answer"}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.RecordExchange(cctx, &Exchange{UserKey: "web:a", Channel: "web", Band: "answer"}); !errors.Is(err, context.Canceled) {
		// Either the hand-over or the wait noticed the cancelled context,
		// unless the write won the race.
		if err != nil {
			t.Errorf("cancelled: %v", err)
		}
	}
	done := make(chan struct{})
	go func() { db.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
	if _, err := db.RecordExchange(ctx, &Exchange{UserKey: "web:a", Channel: "web", Band: "answer"}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}
