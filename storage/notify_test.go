package storage

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestPublishNotifiesOtherInstances(t *testing.T) {
	forEachBackend(t, testPublishNotifiesOtherInstances)
}

// A publish on one handle reaches a listener on another (another
// instance) without waiting for its poll: LISTEN/NOTIFY on PostgreSQL; on
// SQLite the poll (short here) is the mechanism.
func testPublishNotifiesOtherInstances(t *testing.T, tb testBackend) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loc := filepath.Join(t.TempDir(), "n.db")
	a, err := tb.Open(ctx, loc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := tb.Open(ctx, loc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	poll := time.Minute // PostgreSQL must not need the poll
	if tb.name == "sqlite" {
		poll = 50 * time.Millisecond
	}
	seen := make(chan Publish, 4)
	var last int64
	done := make(chan error, 1)
	go func() {
		done <- b.Listen(ctx, KnowledgeChannel, poll, func() {
			ps, err := b.PublishesAfter(ctx, last)
			if err != nil {
				return
			}
			for _, p := range ps {
				last = p.ID
				seen <- p
			}
		})
	}()
	time.Sleep(300 * time.Millisecond) // the listener is connected
	start := time.Now()
	if _, err := a.RecordPublish(ctx, Publish{File: "moi.md", EntryID: "moi", StaffName: "Lan", Content: "---\nid: moi\n---\n"}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-seen:
		if p.File != "moi.md" || p.Content == "" {
			t.Errorf("publish seen: %+v", p)
		}
		t.Logf("seen after %v", time.Since(start))
	case <-time.After(10 * time.Second):
		t.Fatal("the other instance did not hear of the publish")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPublishRightAfterTheFirstLookIsHeard(t *testing.T) {
	forEachBackend(t, testPublishRightAfterTheFirstLookIsHeard)
}

// A publish made just after the listener's first look at the log (an
// instance starting while staff publish) is heard without waiting for the
// poll: on PostgreSQL the first look must come once LISTEN is in place.
// Before that fix the notification was lost and the publish waited for
// the next poll (a minute in production).
func testPublishRightAfterTheFirstLookIsHeard(t *testing.T, tb testBackend) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loc := filepath.Join(t.TempDir(), "n.db")
	a, err := tb.Open(ctx, loc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := tb.Open(ctx, loc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	poll := time.Hour
	if tb.name == "sqlite" {
		poll = 50 * time.Millisecond // SQLite has no notifications: the poll is the mechanism
	}
	seen := make(chan Publish, 4)
	published := make(chan error, 1)
	var last int64
	looks := 0
	done := make(chan error, 1)
	go func() {
		done <- b.Listen(ctx, KnowledgeChannel, poll, func() {
			looks++
			ps, err := b.PublishesAfter(ctx, last)
			if err != nil {
				return
			}
			for _, p := range ps {
				last = p.ID
				seen <- p
			}
			if looks == 1 {
				_, err := a.RecordPublish(ctx, Publish{File: "moi.md", EntryID: "moi", StaffName: "Lan", Content: "---\nid: moi\n---\n"})
				published <- err
			}
		})
	}()
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-seen:
		if p.File != "moi.md" {
			t.Errorf("publish seen: %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a publish made right after the first look was not heard")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
