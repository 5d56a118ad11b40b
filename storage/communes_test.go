package storage

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestCommuneStoresAreApart(t *testing.T) { forEachBackend(t, testCommuneStoresAreApart) }

func testCommuneStoresAreApart(t *testing.T, tb testBackend) {
	ctx := context.Background()
	at := time.Date(2026, 5, 4, 3, 0, 0, 0, time.UTC)
	loc := filepath.Join(t.TempDir(), "p.db")
	db, err := tb.Open(ctx, loc, Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Commune(ctx, "Co Le"); !errors.Is(err, ErrBadSlug) {
		t.Errorf("bad slug: %v", err)
	}
	// Opened concurrently, a commune's store is one.
	var wg sync.WaitGroup
	got := make([]*DB, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = db.Commune(ctx, "co-le")
		}()
	}
	wg.Wait()
	for _, c := range got[1:] {
		if c != got[0] || c == nil {
			t.Fatal("Commune opened the store more than once")
		}
	}
	a, b := got[0], must(db.Commune(ctx, "yen-tien"))
	if a.CommuneSlug() != "co-le" || a.Province() != db || db.CommuneSlug() != "" {
		t.Error("slug or province wrong")
	}
	key := db.UserKey("telegram", "42")
	if a.UserKey("telegram", "42") != key || b.UserKey("telegram", "42") != key {
		t.Error("a resident must have one key in every commune")
	}
	idA, err := a.RecordExchange(ctx, &Exchange{UserKey: key, Channel: "telegram", Question: "vneid", Band: "answer", EntryID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Rate(ctx, key, idA, 1); err != nil {
		t.Fatal(err)
	}
	teamA, err := a.AddTeam(ctx, "Thôn Đông", "")
	if err != nil {
		t.Fatal(err)
	}
	// The same village may have a team in each commune.
	if _, err := b.AddTeam(ctx, "Thôn Đông", ""); err != nil {
		t.Fatalf("same village in another commune: %v", err)
	}
	// b cannot reach a's rows by id, and counts none of them.
	if _, err := b.Exchange(ctx, idA); !errors.Is(err, ErrNotFound) {
		t.Errorf("commune b read commune a's exchange: %v", err)
	}
	if _, err := b.RatingOf(ctx, idA); !errors.Is(err, ErrNotFound) {
		t.Errorf("commune b read commune a's rating: %v", err)
	}
	if _, err := b.Rate(ctx, key, idA, -1); !errors.Is(err, ErrNotFound) {
		t.Errorf("commune b rated commune a's exchange: %v", err)
	}
	if err := b.SetTeamGroup(ctx, teamA.ID+100, "-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("set group of a missing team: %v", err)
	}
	day := [2]time.Time{at.Add(-time.Hour), at.Add(time.Hour)}
	for _, c := range []struct {
		db   *DB
		want int
	}{{a, 1}, {b, 0}, {db, 0}} {
		n, err := c.db.CountExchanges(ctx, day[0], day[1])
		if err != nil || n != c.want {
			t.Errorf("commune %q counts %d exchanges (%v), want %d", c.db.CommuneSlug(), n, err, c.want)
		}
	}
	// The knowledge publish log is per commune: a's publish is in a's log
	// alone (a province follower reads each commune's).
	if _, err := a.RecordPublish(ctx, Publish{File: "x.md", EntryID: "x", StaffName: "Lan", Content: "---\n"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		db   *DB
		want int
	}{{a, 1}, {b, 0}, {db, 0}} {
		if ps, err := c.db.PublishesAfter(ctx, 0); err != nil || len(ps) != c.want {
			t.Errorf("commune %q has %d publishes (%v), want %d", c.db.CommuneSlug(), len(ps), err, c.want)
		}
	}
	if r, _ := a.RatingOf(ctx, idA); r.Value != 1 {
		t.Errorf("rating in a: %+v", r)
	}
	if got := db.OpenCommunes(); len(got) != 2 || got[0] != "co-le" || got[1] != "yen-tien" {
		t.Errorf("open communes %v", got)
	}
	// Reopened, every commune's data is where it was.
	db.Close()
	db2, err := tb.Open(ctx, loc, Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	a2 := must(db2.Commune(ctx, "co-le"))
	if ex, err := a2.Exchange(ctx, idA); err != nil || ex.Question != "vneid" {
		t.Errorf("after reopening: %+v, %v", ex, err)
	}
	if ts, _ := must(db2.Commune(ctx, "yen-tien")).Teams(ctx); len(ts) != 1 {
		t.Errorf("teams of yen-tien after reopening: %v", ts)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestResidentCommuneChoice(t *testing.T) { forEachBackend(t, testResidentCommuneChoice) }

func testResidentCommuneChoice(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db, err := tb.Open(ctx, filepath.Join(t.TempDir(), "p.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key := db.UserKey("telegram", "9")
	if rc, err := db.ResidentCommune(ctx, key); err != nil || rc != (ResidentCommune{}) {
		t.Fatalf("before choosing: %+v %v", rc, err)
	}
	a := must(db.Commune(ctx, "co-le"))
	// Any commune's store reads and writes the province's choice.
	if err := a.SetResidentCommune(ctx, key, "co-le"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetResidentCommune(ctx, key, "Cổ Lễ"); !errors.Is(err, ErrBadSlug) {
		t.Errorf("bad slug: %v", err)
	}
	if err := db.StartChoosingCommune(ctx, key); err != nil {
		t.Fatal(err)
	}
	if rc, _ := must(db.Commune(ctx, "yen-tu")).ResidentCommune(ctx, key); rc.Commune != "co-le" || !rc.Choosing {
		t.Errorf("while choosing: %+v", rc)
	}
	if err := db.SetResidentCommune(ctx, key, "yen-tu"); err != nil {
		t.Fatal(err)
	}
	if rc, _ := db.ResidentCommune(ctx, key); rc.Commune != "yen-tu" || rc.Choosing {
		t.Errorf("after choosing again: %+v", rc)
	}
	if n, _ := db.ResidentsByCommune(ctx); n["yen-tu"] != 1 || len(n) != 1 {
		t.Errorf("by commune: %v", n)
	}
}
