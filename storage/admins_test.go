package storage

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAdminAccountsAndSessions(t *testing.T) { forEachBackend(t, testAdminAccountsAndSessions) }

func testAdminAccountsAndSessions(t *testing.T, tb testBackend) {
	ctx := context.Background()
	now := time.Date(2026, 7, 1, 2, 0, 0, 0, time.UTC)
	db, err := tb.Open(ctx, filepath.Join(t.TempDir(), "a.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := db.AddAdmin(ctx, " Lan ", "co-le", "h1", true)
	if err != nil || a.Name != "lan" || a.Commune != "co-le" || !a.MustChange || a.Province() {
		t.Fatalf("add: %+v %v", a, err)
	}
	if _, err := db.AddAdmin(ctx, "LAN", "", "h", false); !errors.Is(err, ErrAdminExists) {
		t.Errorf("duplicate name: %v", err)
	}
	if _, err := db.AddAdmin(ctx, "x", "Cổ Lễ", "h", false); !errors.Is(err, ErrBadSlug) {
		t.Errorf("bad commune: %v", err)
	}
	// A commune's store reads the province's accounts.
	c := must(db.Commune(ctx, "co-le"))
	if got, err := c.AdminByName(ctx, "lan"); err != nil || got.ID != a.ID {
		t.Errorf("by name from a commune's store: %+v %v", got, err)
	}
	s := AdminSession{TokenHash: "t1", AccountID: a.ID, Commune: "co-le", CSRF: "c", ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateAdminSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got, err := c.AdminSession(ctx, "t1", now); err != nil || got.AccountID != a.ID || got.CSRF != "c" {
		t.Errorf("session: %+v %v", got, err)
	}
	if _, err := db.AdminSession(ctx, "t1", now.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: %v", err)
	}
	// A new password ends the account's sessions.
	if err := db.SetAdminPassword(ctx, "lan", "h2", false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AdminSession(ctx, "t1", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("session after a password change: %v", err)
	}
	if got, _ := db.AdminByName(ctx, "lan"); got.Hash != "h2" || got.MustChange {
		t.Errorf("after set password: %+v", got)
	}
	if err := db.SetAdminPassword(ctx, "nobody", "h", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
	if err := db.DeleteAdmin(ctx, "lan"); err != nil {
		t.Fatal(err)
	}
	if as, _ := db.Admins(ctx); len(as) != 0 {
		t.Errorf("after delete: %+v", as)
	}
}

func TestLoginThrottleAcrossInstances(t *testing.T) {
	forEachBackend(t, testLoginThrottleAcrossInstances)
}

// Two handles on one database (two instances) share the login limit:
// 20 concurrent guesses let exactly 5 through.
func testLoginThrottleAcrossInstances(t *testing.T, tb testBackend) {
	ctx := context.Background()
	now := time.Date(2026, 7, 1, 2, 0, 0, 0, time.UTC)
	loc := filepath.Join(t.TempDir(), "a.db")
	a, err := tb.Open(ctx, loc, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := tb.Open(ctx, loc, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var passed atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := a
			if i%2 == 1 {
				db = b
			}
			ok, err := db.ReserveLoginAttempt(ctx, "10.0.0.1", now, 5, 15*time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if passed.Load() != 5 {
		t.Errorf("%d attempts passed, want 5", passed.Load())
	}
	if ok, _ := b.ReserveLoginAttempt(ctx, "10.0.0.2", now, 5, 15*time.Minute); !ok {
		t.Error("another address is locked out too")
	}
	// After the window, the address may try again.
	if ok, _ := a.ReserveLoginAttempt(ctx, "10.0.0.1", now.Add(16*time.Minute), 5, 15*time.Minute); !ok {
		t.Error("still locked out after the window")
	}
	if err := a.ClearLoginFailures(ctx, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.LoginFailures(ctx, "10.0.0.1"); n != 0 {
		t.Errorf("%d failures after clearing", n)
	}
}
