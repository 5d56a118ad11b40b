package storage

import (
	"context"
	"testing"
	"time"
)

// A publish on one handle reaches a listener on another (another
// instance) without waiting for its poll: LISTEN/NOTIFY on PostgreSQL (the
// poll is an hour here); on SQLite the poll (short here) is the mechanism.
// "right after the first look" is an instance starting while staff
// publish: on PostgreSQL the first look must come once LISTEN is in place,
// or the notification is lost and the publish waits for the next poll (a
// minute in production).
func TestPublishNotifiesOtherInstances(t *testing.T) {
	tests := []struct {
		name string
		// fromFirstLook publishes from inside the listener's first look
		// instead of once the listener is connected.
		fromFirstLook bool
	}{
		{"once the listener is connected", false},
		{"right after the first look", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, tb testBackend) { testPublishNotifies(t, tb, tt.fromFirstLook) })
		})
	}
}

func testPublishNotifies(t *testing.T, tb testBackend, fromFirstLook bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := tb.twoInstances(t, ctx, "n.db")
	poll := time.Hour
	if tb.name == "sqlite" {
		poll = 50 * time.Millisecond
	}
	publish := func() error {
		_, err := a.RecordPublish(ctx, Publish{File: "moi.md", EntryID: "moi", StaffName: "Lan", Content: "---\nid: moi\n---\n"})
		return err
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
			if fromFirstLook && looks == 1 {
				published <- publish()
			}
		})
	}()
	if !fromFirstLook {
		time.Sleep(300 * time.Millisecond) // the listener is connected
		published <- publish()
	}
	start := time.Now()
	if err := <-published; err != nil {
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
