package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackupLiveDatabase backs up a database while another goroutine keeps
// writing exchanges: the copy passes SQLite's check, holds every exchange
// acknowledged before the backup started, and its exchange ids run
// without a gap (one consistent snapshot); the source keeps working.
func TestBackupLiveDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	db, err := Open(ctx, filepath.Join(dir, "live.db"), Options{Secret: "s", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	write := func(i int) error {
		_, err := db.RecordExchange(ctx, &Exchange{UserKey: fmt.Sprintf("web:%d", i%7), Channel: "web", Question: fmt.Sprintf("câu hỏi %d", i), Band: "decline", CreatedAt: at})
		return err
	}
	for i := 0; i < 200; i++ {
		if err := write(i); err != nil {
			t.Fatal(err)
		}
	}
	var stop atomic.Bool
	var written atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 200; !stop.Load(); i++ {
			if err := write(i); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	}()
	// Let the writer run, then back up twice while it still writes.
	for written.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	dest := filepath.Join(dir, "sub", "copy.db")
	for range 2 {
		if err := db.Backup(ctx, dest); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if _, err := os.Stat(dest + ".partial"); !os.IsNotExist(err) {
		t.Errorf("partial file left behind: %v", err)
	}

	cp, err := Open(ctx, dest, Options{})
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer cp.Close()
	var n, maxID int
	if err := cp.r.QueryRowContext(ctx, `SELECT count(*), COALESCE(max(id), 0) FROM exchanges`).Scan(&n, &maxID); err != nil {
		t.Fatal(err)
	}
	if n < 250 || n != maxID {
		t.Fatalf("copy holds %d exchanges, max id %d: want at least 250, without a gap", n, maxID)
	}
	var total int
	db.r.QueryRowContext(ctx, `SELECT count(*) FROM exchanges`).Scan(&total)
	if total < n {
		t.Fatalf("source holds %d exchanges, fewer than the copy's %d", total, n)
	}
	if err := write(-1); err != nil {
		t.Fatalf("source unusable after the backup: %v", err)
	}
	if err := db.Backup(ctx, filepath.Join(dir, "live.db")); err == nil {
		t.Fatal("backing up onto the database itself was accepted")
	}
}
