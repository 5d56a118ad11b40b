package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colecommune/trolyso/cmd/trolyso/internal/bench"
	"github.com/colecommune/trolyso/storage"
)

// reexecEnv makes the test binary behave as the trolyso binary (see
// TestMain), so that fault tests can run `trolyso serve` as a child
// process and kill it.
const reexecEnv = "TROLYSO_TEST_REEXEC_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(reexecEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now}
		code := a.main(ctx, os.Args[1:])
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// startChild runs `trolyso serve` (this test binary re-executed) on
// 127.0.0.1 with the database at dbPath and extra environment.
func startChild(t *testing.T, dbPath string, extra ...string) *bench.Server {
	t.Helper()
	env := append([]string{reexecEnv + "=1", "TROLYSO_ADDR=127.0.0.1:0", "TROLYSO_DB=" + dbPath, "TROLYSO_WEB_RATE=100000000"}, extra...)
	srv, err := bench.StartServer(context.Background(), os.Args[0], []string{"serve"}, env, 60*time.Second)
	if err != nil {
		t.Fatalf("start serve: %v", err)
	}
	t.Cleanup(func() {
		select {
		case <-srv.Done():
		default:
			srv.Kill()
		}
	})
	return srv
}

func faultQuestions(t *testing.T) []string {
	t.Helper()
	base, err := bench.Shipped(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return bench.Queries(base, 300, 7)
}

// missing returns the ids of table (exchanges or ratings, by the id
// column col) that are not in the database.
func missing(t *testing.T, db *storage.DB, query string, ids []int64) []int64 {
	t.Helper()
	var out []int64
	for _, id := range ids {
		var n int
		if err := db.Reader().QueryRow(query, id).Scan(&n); err != nil && err != sql.ErrNoRows {
			t.Fatalf("check id %d: %v", id, err)
		}
		if n == 0 {
			out = append(out, id)
		}
	}
	return out
}

// TestSIGKILLKeepsAcknowledgedWrites kills the server with SIGKILL while
// residents are writing to it, restarts it on the same database file, and
// checks that every exchange and rating acknowledged to a resident before
// the kill is stored. The kill comes once enough writes were acknowledged
// (however long a busy machine takes to get there), while the load still
// runs, so that requests are in flight when the process dies.
func TestSIGKILLKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dbPath := filepath.Join(t.TempDir(), "kill.db")
	qs := faultQuestions(t)
	srv := startChild(t, dbPath)

	const wantAcked, wantRated = 1500, 150
	var res bench.LoadResult
	var progress bench.Progress
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	done := make(chan struct{})
	go func() {
		defer close(done)
		res = bench.RunWeb(ctx, srv.URL, bench.LoadOptions{
			Residents: 40, Duration: 3 * time.Minute, Questions: qs, RateShare: 0.5, Seed: 3, Progress: &progress,
		})
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for progress.Acked.Load() < wantAcked || progress.Rated.Load() < wantRated {
		if time.Now().After(deadline) {
			stopLoad()
			<-done
			t.Fatalf("only %d exchanges and %d ratings acknowledged in 2 minutes; the load did not run: %v\n%s",
				progress.Acked.Load(), progress.Rated.Load(), res, srv.Logs())
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.Kill() // SIGKILL: no shutdown code runs
	stopLoad()
	<-done
	if len(res.Acked) < wantAcked {
		t.Fatalf("%d exchanges acknowledged, want at least %d: %v", len(res.Acked), wantAcked, res)
	}
	if res.Errors == 0 {
		t.Errorf("no transport errors: no request was in flight at the kill? %v", res)
	}
	t.Logf("before the kill: %d exchanges and %d ratings acknowledged; %v", len(res.Acked), len(res.RatedIDs), res)

	// Restart on the same file: the server must come up (WAL recovery) and
	// answer, and every acknowledged write must be there.
	srv2 := startChild(t, dbPath)
	after := bench.RunWeb(context.Background(), srv2.URL, bench.LoadOptions{Residents: 2, MaxMessages: 4, Duration: time.Minute, Questions: qs})
	if after.Answered != 4 {
		t.Errorf("restarted server: %v", after)
	}
	db, err := storage.Open(context.Background(), dbPath, storage.Options{})
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer db.Close()
	if lost := missing(t, db, `SELECT count(*) FROM exchanges WHERE id = ?`, res.Acked); len(lost) > 0 {
		t.Errorf("%d acknowledged exchanges lost after SIGKILL, e.g. %v", len(lost), lost[:min(len(lost), 10)])
	}
	if lost := missing(t, db, `SELECT count(*) FROM ratings WHERE exchange_id = ?`, res.RatedIDs); len(lost) > 0 {
		t.Errorf("%d acknowledged ratings lost after SIGKILL, e.g. %v", len(lost), lost[:min(len(lost), 10)])
	}
	if err := srv2.Signal(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Errorf("SIGTERM after restart: %v", err)
	}
}

// TestNoDatabaseLockedUnderContention runs web chat load while another
// process (this test, like an operator's `trolyso team add`) writes to the
// same SQLite file: no resident sees a 5xx or "database is locked", every
// answer is stored, and the server logs no locking error.
func TestNoDatabaseLockedUnderContention(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dbPath := filepath.Join(t.TempDir(), "busy.db")
	srv := startChild(t, dbPath)
	other, err := storage.Open(context.Background(), dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var otherWrites, otherErrs int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Like an operator's command: short write transactions,
			// and now and then a long one (an import).
			hold := 2 * time.Millisecond
			if i%50 == 25 {
				hold = 300 * time.Millisecond
			}
			err := other.Tx(context.Background(), func(tx *sql.Tx) error {
				if _, err := tx.Exec(`INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, "contention", fmt.Sprint(i)); err != nil {
					return err
				}
				time.Sleep(hold)
				return nil
			})
			time.Sleep(10 * time.Millisecond)
			if err != nil {
				otherErrs++
			} else {
				otherWrites++
			}
		}
	}()
	res := bench.RunWeb(context.Background(), srv.URL, bench.LoadOptions{
		Residents: 60, Duration: 2 * time.Second, MaxMessages: 6000, Questions: faultQuestions(t), Seed: 5,
	})
	close(stop)
	wg.Wait()
	t.Logf("load: %v; other process: %d writes, %d errors", res, otherWrites, otherErrs)
	if res.Answered < 100 {
		t.Fatalf("load did not run: %v", res)
	}
	for code, n := range res.Status {
		if code >= 500 {
			t.Errorf("%d replies with status %d", n, code)
		}
	}
	if res.Locked > 0 {
		t.Errorf(`%d replies mention "database is locked"`, res.Locked)
	}
	if otherWrites == 0 {
		t.Error("the other process never wrote: no contention tested")
	}
	if err := srv.Signal(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
	if logs := srv.Logs(); strings.Contains(logs, "locked") || strings.Contains(logs, "record exchange") {
		t.Errorf("server logged storage failures under contention:\n%s", grepLines(logs, "locked", "record exchange"))
	}
}

func grepLines(s string, words ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	if len(out) > 20 {
		out = out[:20]
	}
	return strings.Join(out, "\n")
}
