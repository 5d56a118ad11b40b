package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
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

// batchReq is a request for committer.write with the fn given.
func batchReq(fn func(tx *sql.Tx) error) *writeReq {
	return &writeReq{ctx: context.Background(), fn: fn, err: make(chan error, 1)}
}

func setting(key string) func(tx *sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO settings(key, value) VALUES (?, 'v')`, key)
		return err
	}
}

// TestBatchSavepoints: in one batch, a failing request and a panicking one
// roll back only their own changes; the others are committed, and each
// caller gets its own result.
func TestBatchSavepoints(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir()+"/sp.db", Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	failing := func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO settings(key, value) VALUES ('half', 'v')`); err != nil {
			return err
		}
		return errors.New("refused")
	}
	panicking := func(tx *sql.Tx) error {
		tx.Exec(`INSERT INTO settings(key, value) VALUES ('panic', 'v')`)
		panic("boom")
	}
	dup := setting("a") // a second insert of the same key fails on its own
	batch := []*writeReq{batchReq(setting("a")), batchReq(failing), batchReq(setting("b")), batchReq(panicking), batchReq(dup), batchReq(setting("c"))}
	db.writes().write(batch)
	want := []string{"", "refused", "", "panic", "UNIQUE", ""}
	for i, r := range batch {
		err := <-r.err
		if (want[i] == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), want[i]) {
			t.Errorf("request %d: %v, want %q", i, err, want[i])
		}
	}
	for key, stored := range map[string]bool{"a": true, "b": true, "c": true, "half": false, "panic": false} {
		if _, err := db.Setting(ctx, key); (err == nil) != stored {
			t.Errorf("setting %s stored = %v, want %v", key, err == nil, stored)
		}
	}
}

// TestBatchLostTransaction: when a request ends the batch's transaction
// (as SQLite does on some errors), the requests that had succeeded are run
// again alone, so that no acknowledged change is lost.
func TestBatchLostTransaction(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir()+"/lost.db", Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	breaker := func(tx *sql.Tx) error {
		tx.Exec(`ROLLBACK`) // the whole transaction is gone
		return errors.New("transaction lost")
	}
	batch := []*writeReq{batchReq(setting("x")), batchReq(breaker), batchReq(setting("y"))}
	db.writes().write(batch)
	for i, r := range batch {
		if err := <-r.err; (i == 1) != (err != nil) {
			t.Errorf("request %d: %v", i, err)
		}
	}
	for _, key := range []string{"x", "y"} {
		if _, err := db.Setting(ctx, key); err != nil {
			t.Errorf("acknowledged setting %s lost: %v", key, err)
		}
	}
}

// TestTxPanicInCallerGoroutine: a panic in a transaction function reaches
// the caller (and only it), as if fn had run in its goroutine.
func TestTxPanicInCallerGoroutine(t *testing.T) { forEachBackend(t, testTxPanicInCallerGoroutine) }

func testTxPanicInCallerGoroutine(t *testing.T, tb testBackend) {
	db, err := tb.Open(context.Background(), t.TempDir()+"/p.db", Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got any
	func() {
		defer func() { got = recover() }()
		db.Tx(context.Background(), func(tx *sql.Tx) error { panic("mine") })
	}()
	if got != "mine" {
		t.Fatalf("recovered %v", got)
	}
}

// TestCheckpointsInTheBackground: committing writes never checkpoints the
// WAL (the database file does not grow however much is written); the
// background loop does.
func TestCheckpointsInTheBackground(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/ck.db"
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	db, err := Open(ctx, path, Options{Secret: "s", CheckpointEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := size()
	blob := strings.Repeat("x", 2000)
	for i := range 4000 { // about 8 MB: twice SQLite's default checkpoint threshold
		if err := db.SetSetting(ctx, fmt.Sprint("k", i), blob); err != nil {
			t.Fatal(err)
		}
	}
	if after := size(); after != before {
		t.Fatalf("a commit checkpointed the WAL: database file %d → %d bytes", before, after)
	}
	// Another handle on the same file checkpoints every 20 ms.
	other, err := Open(ctx, path, Options{Secret: "s", CheckpointEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	deadline := time.Now().Add(10 * time.Second)
	for size() < before+4<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("the background checkpoint did not copy the WAL: database file %d bytes", size())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExchangeTouchesUserOncePerMinute: recording exchanges updates the
// user's row (last seen, active) at most once a minute, and again at once
// after the user was marked inactive.
func TestExchangeTouchesUserOncePerMinute(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	db, err := Open(ctx, t.TempDir()+"/u.db", Options{Secret: "s", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	record := func(at time.Time) {
		t.Helper()
		if _, err := db.RecordExchange(ctx, &Exchange{UserKey: "web:a", Channel: "web", Band: "answer", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	user := func() User {
		t.Helper()
		u, err := db.UserByKey(ctx, "web:a")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	record(now)
	record(now.Add(30 * time.Second))
	if got := user().LastSeen; !got.Equal(now) {
		t.Errorf("last seen %v after a second exchange within a minute, want %v", got, now)
	}
	record(now.Add(61 * time.Second))
	if got := user().LastSeen; !got.Equal(now.Add(61 * time.Second)) {
		t.Errorf("last seen %v, want it updated after a minute", got)
	}
	if err := db.SetActive(ctx, "web:a", false); err != nil {
		t.Fatal(err)
	}
	record(now.Add(62 * time.Second))
	if u := user(); !u.Active || !u.LastSeen.Equal(now.Add(62*time.Second)) {
		t.Errorf("after being marked inactive, an exchange left the user %+v", u)
	}
	var n int
	db.Reader().QueryRow(`SELECT count(*) FROM exchanges e JOIN users u ON u.id = e.user_id WHERE u.key = 'web:a'`).Scan(&n)
	if n != 4 {
		t.Errorf("%d exchanges linked to the user, want 4", n)
	}
}

// TestWALStaysBounded: under writes with readers always busy, the WAL is
// started over once past its bound instead of growing without end (a
// writer restarts it only when no reader is using it, which steady load
// never allows).
func TestWALStaysBounded(t *testing.T) {
	defer func(n int) { maxWALFrames = n }(maxWALFrames)
	maxWALFrames = 256 // 1 MiB
	ctx := context.Background()
	path := t.TempDir() + "/wal.db"
	db, err := Open(ctx, path, Options{Secret: "s", CheckpointEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 { // readers that keep a snapshot of the WAL open
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rows, err := db.Reader().QueryContext(ctx, `SELECT key FROM settings LIMIT 50`)
				if err == nil {
					for rows.Next() {
					}
					rows.Close()
				}
			}
		}()
	}
	blob := strings.Repeat("x", 3000)
	var largest int64
	for i := range 2500 { // about 20 MB of WAL frames without restarts
		if err := db.SetSetting(ctx, fmt.Sprint("k", i%500), blob+fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > largest {
			largest = fi.Size()
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("largest WAL: %d KiB", largest>>10)
	if largest > 10<<20 {
		t.Fatalf("the WAL grew to %d KiB with a bound of 1 MiB", largest>>10)
	}
}
