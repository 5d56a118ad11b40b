package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func openCoreTest(t *testing.T, tb testBackend) *DB {
	t.Helper()
	db, err := tb.Open(context.Background(), t.TempDir()+"/t.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestOpenUsesWALAndForeignKeys checks SQLite's own settings (the
// PostgreSQL pools are checked in TestPostgresPools).
func TestOpenUsesWALAndForeignKeys(t *testing.T) {
	db := openCoreTest(t, testBackend{name: "sqlite", Open: Open})
	var mode string
	var fk int
	if err := db.Reader().QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
	if err := db.Writer().QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v", fk, err)
	}
	if _, err := db.Reader().Exec(`INSERT INTO settings(key, value) VALUES ('x', 'y')`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestMigrationsAndSecretSurviveReopen(t *testing.T) {
	forEachBackend(t, testMigrationsAndSecretSurviveReopen)
}

func testMigrationsAndSecretSurviveReopen(t *testing.T, tb testBackend) {
	ctx := context.Background()
	path := t.TempDir() + "/t.db"
	db, err := tb.Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	k1 := db.UserKey("telegram", "12345")
	db.Close()
	db, err = tb.Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if k2 := db.UserKey("telegram", "12345"); k1 != k2 {
		t.Errorf("user key changed across restarts: %s vs %s", k1, k2)
	}
	if db.UserKey("zalo", "12345") == k1 || db.UserKey("telegram", "12346") == k1 {
		t.Error("user keys collide across channels or ids")
	}
	if !strings.HasPrefix(k1, "telegram:") || strings.Contains(k1, "12345") {
		t.Errorf("key %q is not pseudonymous", k1)
	}
}

func TestExchangeRoundTrip(t *testing.T) { forEachBackend(t, testExchangeRoundTrip) }

func testExchangeRoundTrip(t *testing.T, tb testBackend) {
	db := openCoreTest(t, tb)
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 2, 3, 4, 5000, time.UTC)
	ex := &Exchange{UserKey: "web:a", Channel: "web", Question: "quên mk", Normalized: "quen mat khau", Band: "clarify",
		Score: 0.42, Candidates: []string{"vneid-quen-mat-khau", "vneid-quen-passcode"}, CreatedAt: at}
	id, err := db.RecordExchange(ctx, ex)
	if err != nil || id == 0 {
		t.Fatalf("record: %d %v", id, err)
	}
	got, err := db.Exchange(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserKey != "web:a" || got.Band != "clarify" || got.Score != 0.42 || len(got.Candidates) != 2 ||
		got.Candidates[1] != "vneid-quen-passcode" || !got.CreatedAt.Equal(at) || got.AnswerMode != "base" {
		t.Errorf("round trip: %+v", got)
	}
	if _, err := db.Exchange(ctx, id+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing exchange: %v", err)
	}
	n, err := db.CountExchanges(ctx, at.Add(-time.Second), at.Add(time.Second))
	if err != nil || n != 1 {
		t.Errorf("count = %d, %v", n, err)
	}
}

func TestUsersAndAddresses(t *testing.T) { forEachBackend(t, testUsersAndAddresses) }

func testUsersAndAddresses(t *testing.T, tb testBackend) {
	db := openCoreTest(t, tb)
	ctx := context.Background()
	if err := db.SetAddress(ctx, "telegram", "telegram:k", "987654"); err != nil {
		t.Fatal(err)
	}
	ch, addr, err := db.Address(ctx, "telegram:k")
	if err != nil || ch != "telegram" || addr != "987654" {
		t.Errorf("address = %s %s %v", ch, addr, err)
	}
	if err := db.SetActive(ctx, "telegram:k", false); err != nil {
		t.Fatal(err)
	}
	u, err := db.UserByKey(ctx, "telegram:k")
	if err != nil || u.Active {
		t.Errorf("user after SetActive(false): %+v %v", u, err)
	}
	if _, err := db.TouchUser(ctx, "telegram", "telegram:k"); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.UserByKey(ctx, "telegram:k"); !u.Active {
		t.Error("a returning user is not active again")
	}
	if err := db.SetActive(ctx, "nobody", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetActive(nobody) = %v", err)
	}
	if _, _, err := db.Address(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Address(nobody) = %v", err)
	}
}

// Many goroutines writing at once must all succeed: the single writer
// connection queues them instead of failing with "database is locked".
func TestConcurrentWritesLoseNothing(t *testing.T) {
	forEachBackend(t, testConcurrentWritesLoseNothing)
}

func testConcurrentWritesLoseNothing(t *testing.T, tb testBackend) {
	db := openCoreTest(t, tb)
	ctx := context.Background()
	const workers, each = 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := db.RecordExchange(ctx, &Exchange{UserKey: fmt.Sprintf("web:%d", w), Channel: "web", Question: "q", Band: "answer"})
				if err != nil {
					errs <- err
				}
				var n int
				if err := db.Reader().QueryRow(`SELECT count(*) FROM exchanges`).Scan(&n); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	db.Reader().QueryRow(`SELECT count(*) FROM exchanges`).Scan(&n)
	if n != workers*each {
		t.Errorf("stored %d exchanges, want %d", n, workers*each)
	}
}

func TestSettings(t *testing.T) { forEachBackend(t, testSettings) }

func testSettings(t *testing.T, tb testBackend) {
	db := openCoreTest(t, tb)
	ctx := context.Background()
	if _, err := db.Setting(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing setting: %v", err)
	}
	db.SetSetting(ctx, "a", "1")
	db.SetSetting(ctx, "a", "2")
	if v, err := db.Setting(ctx, "a"); v != "2" || err != nil {
		t.Errorf("setting = %q %v", v, err)
	}
}

func TestVillageNamesMatchWhateverTheCase(t *testing.T) {
	forEachBackend(t, testVillageNamesMatchWhateverTheCase)
}

func testVillageNamesMatchWhateverTheCase(t *testing.T, tb testBackend) {
	db := openCoreTest(t, tb)
	ctx := context.Background()
	team, err := db.AddTeam(ctx, "  Thôn   Đông ", "")
	if err != nil || team.Village != "Thôn Đông" {
		t.Fatalf("AddTeam = %+v, %v", team, err)
	}
	if _, err := db.AddTeam(ctx, "THÔN ĐÔNG", ""); !errors.Is(err, ErrTeamExists) {
		t.Errorf("same village in capitals: %v, want ErrTeamExists", err)
	}
	got, err := db.Team(ctx, "thôn  đông")
	if err != nil || got.ID != team.ID {
		t.Errorf("Team(lower case) = %+v, %v", got, err)
	}
}

func TestTxPanicReleasesWriter(t *testing.T) { forEachBackend(t, testTxPanicReleasesWriter) }

func testTxPanicReleasesWriter(t *testing.T, tb testBackend) {
	db := openCoreTest(t, tb)
	ctx := context.Background()
	func() {
		defer func() { recover() }()
		db.Tx(ctx, func(tx *sql.Tx) error {
			tx.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES ('p', '1')`)
			panic("boom")
		})
	}()
	done := make(chan error, 1)
	go func() { done <- db.SetSetting(ctx, "after", "ok") }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("writer still held by the panicked transaction")
	}
	if _, err := db.Setting(ctx, "p"); !errors.Is(err, ErrNotFound) {
		t.Errorf("panicked transaction was committed: %v", err)
	}
}

// TestPostgresPools checks the PostgreSQL counterpart of SQLite's
// settings: the read pool refuses writes, and instances starting together
// on one database apply each migration once.
func TestPostgresPools(t *testing.T) {
	base := postgresTestURL(t)
	ctx := context.Background()
	u := schemaURL(t, base, t.Name())
	var wg sync.WaitGroup
	dbs := make([]*DB, 3)
	errs := make([]error, 3)
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = OpenURL(ctx, u, Options{})
		}()
	}
	wg.Wait()
	for i, db := range dbs {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		defer db.Close()
	}
	db := dbs[0]
	if db.Backend() != "postgres" {
		t.Errorf("backend %q", db.Backend())
	}
	if _, err := db.Reader().Exec(`INSERT INTO settings(key, value) VALUES ('x', 'y')`); err == nil {
		t.Error("the read pool accepted a write")
	}
	var n, distinct int
	if err := db.Reader().QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil || n != distinct || n == 0 {
		t.Errorf("schema_migrations: %d rows, %d versions, %v", n, distinct, err)
	}
	// One secret for all instances: the same resident has the same key.
	if a, b := dbs[1].UserKey("telegram", "1"), dbs[2].UserKey("telegram", "1"); a != b {
		t.Errorf("instances disagree on user keys: %s, %s", a, b)
	}
	if err := db.Ping(ctx); err != nil {
		t.Error(err)
	}
}
