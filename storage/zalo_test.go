package storage

import (
	"context"
	"errors"
	"testing"
	"time"
)

func openZaloTest(t *testing.T, tb testBackend) (*DB, *time.Time) {
	t.Helper()
	db, err := tb.Open(context.Background(), t.TempDir()+"/z.db", Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	return db, &now
}

func TestZaloTokens(t *testing.T) { forEachBackend(t, testZaloTokens) }

func testZaloTokens(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db, now := openZaloTest(t, tb)
	if _, err := db.ZaloTokens(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty: %v", err)
	}
	got, err := db.SeedZaloTokens(ctx, ZaloTokens{Access: "a0", Refresh: "r0"})
	if err != nil || got.Access != "a0" || got.Refresh != "r0" || !got.ExpiresAt.IsZero() {
		t.Fatalf("seed = %+v, %v", got, err)
	}
	exp := now.Add(25 * time.Hour)
	if err := db.SaveZaloTokens(ctx, ZaloTokens{Access: "a1", Refresh: "r1", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	// Seeding again (a restart with the old configured tokens) keeps the
	// stored pair.
	got, err = db.SeedZaloTokens(ctx, ZaloTokens{Access: "a0", Refresh: "r0"})
	if err != nil || got.Access != "a1" || got.Refresh != "r1" || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("reseed = %+v, %v", got, err)
	}
}

func TestZaloUsersAndOffers(t *testing.T) { forEachBackend(t, testZaloUsersAndOffers) }

func testZaloUsersAndOffers(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db, now := openZaloTest(t, tb)
	key := db.UserKey("zalo", "123")
	if _, err := db.ZaloUser(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if err := db.ZaloInbound(ctx, key, "123", *now); err != nil {
		t.Fatal(err)
	}
	// An older event arriving late does not move the window back.
	if err := db.ZaloInbound(ctx, key, "", now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	u, err := db.ZaloUser(ctx, key)
	if err != nil || !u.Followed || !u.LastInbound.Equal(*now) {
		t.Fatalf("user = %+v, %v", u, err)
	}
	if ch, addr, err := db.Address(ctx, key); err != nil || ch != "zalo" || addr != "123" {
		t.Fatalf("address = %s %s %v", ch, addr, err)
	}
	if err := db.SetZaloFollowed(ctx, key, false); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.ZaloUser(ctx, key); u.Followed {
		t.Fatal("still followed")
	}
	if u, _ := db.UserByKey(ctx, key); u.Active {
		t.Fatal("still active")
	}
	if err := db.SetZaloOffer(ctx, key, []string{"c:vneid", "m"}); err != nil {
		t.Fatal(err)
	}
	p, at, err := db.ZaloOffer(ctx, key)
	if err != nil || len(p) != 2 || p[1] != "m" || !at.Equal(*now) {
		t.Fatalf("offer = %v %v %v", p, at, err)
	}
	if err := db.SetZaloOffer(ctx, key, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.ZaloOffer(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cleared offer: %v", err)
	}
}
