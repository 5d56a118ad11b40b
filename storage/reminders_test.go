package storage

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func openTestDB(t *testing.T, tb testBackend, now *time.Time) *DB {
	t.Helper()
	db, err := tb.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return *now }
	t.Cleanup(func() { db.Close() })
	return db
}

func TestTeamsAndMembership(t *testing.T) { forEachBackend(t, testTeamsAndMembership) }

func testTeamsAndMembership(t *testing.T, tb testBackend) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	db := openTestDB(t, tb, &now)
	ctx := context.Background()
	a, err := db.AddTeam(ctx, " Thôn Đông ", "-1001")
	if err != nil || a.Village != "Thôn Đông" || len(a.JoinCode) != 6 {
		t.Fatalf("AddTeam = %+v, %v", a, err)
	}
	if _, err := db.AddTeam(ctx, "Thôn Đông", ""); !errors.Is(err, ErrTeamExists) {
		t.Errorf("duplicate village: %v", err)
	}
	b, _ := db.AddTeam(ctx, "Thôn Tây", "")
	if _, err := db.JoinTeam(ctx, "telegram", "telegram:u1", "NOPE99", ""); !errors.Is(err, ErrBadJoinCode) {
		t.Errorf("bad code: %v", err)
	}
	if _, err := db.JoinTeam(ctx, "telegram", "telegram:u1", " "+a.JoinCode+" ", "An"); err != nil {
		t.Fatal(err)
	}
	// Joining another team moves the member and keeps their name.
	if _, err := db.JoinTeam(ctx, "telegram", "telegram:u1", b.JoinCode, ""); err != nil {
		t.Fatal(err)
	}
	m, err := db.Membership(ctx, "telegram:u1")
	if err != nil || m.TeamID != b.ID || m.DisplayName != "An" || m.Label() != "An" {
		t.Errorf("membership = %+v, %v", m, err)
	}
	ts, _ := db.Teams(ctx)
	members := map[int64]int{}
	for _, tm := range ts {
		members[tm.ID] = tm.Members
	}
	if len(ts) != 2 || members[a.ID] != 0 || members[b.ID] != 1 {
		t.Errorf("teams = %+v", ts)
	}
	if got, err := db.Team(ctx, "thôn tây"); err != nil || got.ID != b.ID {
		t.Errorf("Team by name: %+v %v", got, err)
	}
	// Blocked users are not recipients; leaving ends membership.
	db.SetActive(ctx, "telegram:u1", false)
	if ms, _ := db.ActiveMembers(ctx, nil); len(ms) != 0 {
		t.Errorf("blocked user is a recipient: %+v", ms)
	}
	if _, err := db.LeaveTeam(ctx, "telegram:u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LeaveTeam(ctx, "telegram:u1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second leave: %v", err)
	}
}

func TestRunsAndDeliveriesAtMostOnce(t *testing.T) {
	forEachBackend(t, testRunsAndDeliveriesAtMostOnce)
}

func testRunsAndDeliveriesAtMostOnce(t *testing.T, tb testBackend) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	db := openTestDB(t, tb, &now)
	ctx := context.Background()
	r := Reminder{Name: "x", Cron: "0 8 * * *", Template: "x", Enabled: true}
	if err := db.AddReminder(ctx, &r); err != nil {
		t.Fatal(err)
	}
	slot := now.Add(time.Hour)
	run, created, err := db.StartRun(ctx, r.ID, slot, false, []NewDelivery{{Recipient: "group:1", Text: "a"}, {Recipient: "group:2", Text: "b"}})
	if err != nil || !created {
		t.Fatalf("StartRun = %v, %v", created, err)
	}
	again, created, err := db.StartRun(ctx, r.ID, slot, true, []NewDelivery{{Recipient: "group:3", Text: "c"}})
	if err != nil || created || again.ID != run.ID {
		t.Errorf("second StartRun for the slot = %+v, %v, %v", again, created, err)
	}
	if got, _ := db.Reminder(ctx, r.ID); !got.Anchor.Equal(slot) {
		t.Errorf("anchor = %s, want %s", got.Anchor, slot)
	}
	ds, _ := db.PendingDeliveries(ctx, run.ID)
	if len(ds) != 2 {
		t.Fatalf("pending = %+v", ds)
	}
	if ok, _ := db.ClaimDelivery(ctx, ds[0].ID); !ok {
		t.Fatal("first claim failed")
	}
	if ok, _ := db.ClaimDelivery(ctx, ds[0].ID); ok {
		t.Error("a delivery was claimed twice")
	}
	if n, _ := db.MarkInterrupted(ctx, run.ID); n != 1 {
		t.Errorf("interrupted = %d", n)
	}
	if n, _ := db.SkipPending(ctx, run.ID, "late"); n != 1 {
		t.Errorf("skipped = %d", n)
	}

	// Pausing then resuming moves the anchor to now: no catch-up of the pause.
	now = now.Add(48 * time.Hour)
	db.SetReminderEnabled(ctx, r.ID, false)
	db.SetReminderEnabled(ctx, r.ID, true)
	if got, _ := db.Reminder(ctx, r.ID); !got.Anchor.Equal(now) || !got.Enabled {
		t.Errorf("after resume: %+v", got)
	}
}

func TestSeedRemindersOnce(t *testing.T) { forEachBackend(t, testSeedRemindersOnce) }

func testSeedRemindersOnce(t *testing.T, tb testBackend) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	db := openTestDB(t, tb, &now)
	ctx := context.Background()
	defs := []Reminder{{SeedKey: "k", Name: "x", Cron: "0 8 * * *", Template: "x", Enabled: true}}
	if n, err := db.SeedReminders(ctx, defs); n != 1 || err != nil {
		t.Fatalf("seed = %d, %v", n, err)
	}
	if n, _ := db.SeedReminders(ctx, defs); n != 0 {
		t.Errorf("seeded twice")
	}
	rs, _ := db.Reminders(ctx)
	db.DeleteReminder(ctx, rs[0].ID)
	if n, _ := db.SeedReminders(ctx, defs); n != 0 {
		t.Errorf("a deleted default was re-created")
	}
}
