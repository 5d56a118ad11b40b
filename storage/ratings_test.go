package storage

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openTest(t *testing.T, tb testBackend) *DB {
	t.Helper()
	db, err := tb.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), Options{Secret: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func addExchange(t *testing.T, db *DB, user, band, entry string, at time.Time) int64 {
	t.Helper()
	id, err := db.RecordExchange(context.Background(), &Exchange{UserKey: user, Channel: "web", Question: "q", Band: band, EntryID: entry, CreatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRateRules(t *testing.T) { forEachBackend(t, testRateRules) }

func testRateRules(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db := openTest(t, tb)
	now := time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)
	ans := addExchange(t, db, "web:alice", "answer", "vneid-cai-dat", now)
	decl := addExchange(t, db, "web:alice", "decline", "", now)

	tests := []struct {
		name  string
		user  string
		id    int64
		value int
		want  error
	}{
		{"someone else's answer", "web:bob", ans, 1, ErrNotYours},
		{"no such exchange", "web:alice", 99999, 1, ErrNotFound},
		{"a decline is not an answer", "web:alice", decl, -1, ErrNotRatable},
		{"empty user", "", ans, 1, ErrNotYours},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.Rate(ctx, tt.user, tt.id, tt.value); !errors.Is(err, tt.want) {
				t.Fatalf("Rate: err %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := db.RatingOf(ctx, ans); !errors.Is(err, ErrNotFound) {
		t.Fatalf("refused ratings must not be stored, got %v", err)
	}
	if _, err := db.Rate(ctx, "web:alice", ans, 0); err == nil {
		t.Fatal("value 0 accepted")
	}
}

func TestRateDoubleTapAndChange(t *testing.T) { forEachBackend(t, testRateDoubleTapAndChange) }

func testRateDoubleTapAndChange(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db := openTest(t, tb)
	id := addExchange(t, db, "web:alice", "answer", "vneid-cai-dat", time.Time{})
	res, err := db.Rate(ctx, "web:alice", id, -1)
	if err != nil || res.Previous != 0 || res.EntryID != "vneid-cai-dat" {
		t.Fatalf("first rate: %+v %v", res, err)
	}
	if err := db.SetRatingReason(ctx, "web:alice", id, "kho"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetRatingComment(ctx, "web:bob", id, "x"); !errors.Is(err, ErrNotYours) {
		t.Fatalf("comment on someone else's rating: %v", err)
	}
	res, err = db.Rate(ctx, "web:alice", id, -1) // double tap
	if err != nil || res.Previous != -1 {
		t.Fatalf("double tap: %+v %v", res, err)
	}
	r, _ := db.RatingOf(ctx, id)
	if r.Value != -1 || r.Reason != "kho" {
		t.Fatalf("after double tap: %+v", r)
	}
	if _, err := db.Rate(ctx, "web:alice", id, 1); err != nil {
		t.Fatal(err)
	}
	r, _ = db.RatingOf(ctx, id)
	if r.Value != 1 || r.Reason != "" {
		t.Fatalf("change must keep the latest and clear the reason: %+v", r)
	}
	if err := db.SetRatingReason(ctx, "web:alice", id, "kho"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reason on a 👍: %v", err)
	}
	var n int
	db.Reader().QueryRow(`SELECT count(*) FROM ratings`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d rating rows, want 1", n)
	}
}

// TestConcurrentRatings: 1,000 ratings from many goroutines (plus a double
// tap of each) against a real SQLite file lose none and count once each.
func TestConcurrentRatings(t *testing.T) { forEachBackend(t, testConcurrentRatings) }

func testConcurrentRatings(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db := openTest(t, tb)
	const n = 1000
	ids := make([]int64, n)
	users := make([]string, n)
	for i := range ids {
		users[i] = "web:u" + string(rune('a'+i%26)) + time.Duration(i).String()
		ids[i] = addExchange(t, db, users[i], "answer", "dvc-khai-sinh", time.Time{})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range ids {
		for tap := 0; tap < 2; tap++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := 1
				if i%10 == 0 {
					v = -1
				}
				if _, err := db.Rate(ctx, users[i], ids[i], v); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total, pos int
	if err := db.Reader().QueryRow(`SELECT count(*), count(CASE WHEN value = 1 THEN 1 END) FROM ratings`).Scan(&total, &pos); err != nil {
		t.Fatal(err)
	}
	if total != n || pos != n-n/10 {
		t.Fatalf("stored %d ratings (%d positive), want %d (%d)", total, pos, n, n-n/10)
	}
}

func TestSurveyRecordAndComment(t *testing.T) { forEachBackend(t, testSurveyRecordAndComment) }

func testSurveyRecordAndComment(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db := openTest(t, tb)
	now := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	id, err := db.RecordSurvey(ctx, "web", "web:alice", "dvc-khai-sinh", 2, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	id2, err := db.RecordSurvey(ctx, "web", "web:alice", "dvc-khai-sinh", 5, 10*time.Minute)
	if err != nil || id2 != id {
		t.Fatalf("change within the window must update survey %d, got %d %v", id, id2, err)
	}
	if err := db.SetSurveyComment(ctx, "web:bob", id, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("someone else's survey comment: %v", err)
	}
	if err := db.SetSurveyComment(ctx, "web:alice", id, "tốt"); err != nil {
		t.Fatal(err)
	}
	s, err := db.SurveyByID(ctx, id)
	if err != nil || s.Level != 5 || s.Comment != "tốt" || s.Service != "dvc-khai-sinh" {
		t.Fatalf("survey %+v %v", s, err)
	}
	now = now.Add(time.Hour)
	id3, _ := db.RecordSurvey(ctx, "web", "web:alice", "dvc-khai-sinh", 4, 10*time.Minute)
	if id3 == id {
		t.Fatal("a survey an hour later must be a new one")
	}
	if _, err := db.RecordSurvey(ctx, "web", "web:alice", "x", 6, time.Minute); err == nil {
		t.Fatal("level 6 accepted")
	}
}

func TestOfferSurveyEvery30Days(t *testing.T) { forEachBackend(t, testOfferSurveyEvery30Days) }

func testOfferSurveyEvery30Days(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db := openTest(t, tb)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	const every = 30 * 24 * time.Hour
	steps := []struct {
		advance time.Duration
		want    bool
	}{
		{0, true},
		{time.Hour, false},
		{29 * 24 * time.Hour, false},
		{24 * time.Hour, true}, // 30 days and 1 hour after the first offer
		{10 * 24 * time.Hour, false},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		got, err := db.OfferSurvey(ctx, "web", "web:alice", now, every)
		if err != nil || got != s.want {
			t.Fatalf("step %d: offer %v (%v), want %v", i, got, err, s.want)
		}
	}
	if got, _ := db.OfferSurvey(ctx, "web", "web:bob", now, every); !got {
		t.Fatal("another user must get an offer")
	}
	// A survey answered recently also suppresses the offer.
	if _, err := db.RecordSurvey(ctx, "web", "web:carol", SurveyService, 3, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.OfferSurvey(ctx, "web", "web:carol", now, every); got {
		t.Fatal("offered right after a survey")
	}
}

func TestPendingStates(t *testing.T) { forEachBackend(t, testPendingStates) }

func testPendingStates(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db := openTest(t, tb)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.SetPending(ctx, "web:a", Pending{Kind: "k", Data: "1", Expires: now.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if has, _ := db.HasPending(ctx, "web:a"); !has {
		t.Fatal("HasPending false")
	}
	p, ok, err := db.TakePending(ctx, "web:a", now.Add(time.Minute))
	if err != nil || !ok || p.Kind != "k" || p.Data != "1" {
		t.Fatalf("take: %+v %v %v", p, ok, err)
	}
	if _, ok, _ := db.TakePending(ctx, "web:a", now); ok {
		t.Fatal("taken twice")
	}
	db.SetPending(ctx, "web:a", Pending{Kind: "k", Expires: now.Add(10 * time.Minute)})
	if _, ok, _ := db.TakePending(ctx, "web:a", now.Add(11*time.Minute)); ok {
		t.Fatal("expired state taken")
	}
	if has, _ := db.HasPending(ctx, "web:a"); has {
		t.Fatal("expired state not removed")
	}
}

func TestUnansweredGrouping(t *testing.T) { forEachBackend(t, testUnansweredGrouping) }

func testUnansweredGrouping(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db := openTest(t, tb)
	t0 := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for i, q := range []struct{ q, norm string }{
		{"Giá vàng hôm nay?", "gia vang hom nay"},
		{"gia vang hom nay", "gia vang hom nay"},
		{"Thời tiết", "thoi tiet"},
	} {
		db.RecordExchange(ctx, &Exchange{UserKey: "web:a", Channel: "web", Question: q.q, Normalized: q.norm, Band: "decline", CreatedAt: t0.Add(time.Duration(i) * time.Hour)})
	}
	got, err := db.UnansweredQuestions(ctx, t0, t0.Add(24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Text != "gia vang hom nay" || got[0].Count != 2 || got[0].Example != "gia vang hom nay" ||
		!got[0].LastSeen.Equal(t0.Add(time.Hour)) || got[1].Count != 1 {
		t.Fatalf("unanswered: %+v", got)
	}
}

// TestPendingStatesAcrossRestart: HasPending knows, without a query, the
// users given no state, and a state stored before a restart is found by
// the next process; a state set while another is being taken is kept.
func TestPendingStatesAcrossRestart(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/p.db"
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	db, err := Open(ctx, path, Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetPending(ctx, "web:a", Pending{Kind: "k", Data: "1", Expires: now.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, path, Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if has, err := db.HasPending(ctx, "web:a"); !has || err != nil {
		t.Fatalf("state lost across the restart: %v %v", has, err)
	}
	if has, _ := db.HasPending(ctx, "web:b"); has {
		t.Fatal("a user without a state has one")
	}
	if _, ok, _ := db.TakePending(ctx, "web:a", now); !ok {
		t.Fatal("take failed")
	}
	if has, _ := db.HasPending(ctx, "web:a"); has {
		t.Fatal("state still known after it was taken")
	}
	// A set between the start and the end of a take is not forgotten.
	v := db.pending.version("web:a")
	db.pending.add("web:a")
	db.pending.forget("web:a", v)
	if !db.pending.has("web:a") {
		t.Fatal("a state set during a take was forgotten")
	}
}
