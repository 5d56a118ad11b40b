package zalo

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hangingAPI answers nothing until released (a Zalo API that stalls, or a
// process that dies before replying).
func hangingAPI(t *testing.T) (url string, arrived chan struct{}) {
	release := make(chan struct{})
	var once sync.Once
	arrived = make(chan struct{}, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		writeJSON(w, map[string]any{"error": 0, "message": "Success"})
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	return srv.URL, arrived
}

// TestAcceptedEventsSurviveARestart: events acknowledged with 200 by a
// channel that never answered them (it stalled, then the process ended)
// are answered by the next channel on the same database (the next process:
// the first one's is gone), once each; Zalo's
// re-sending of the same events is not answered again, and an event whose
// first delivery was refused (full inbox) is accepted when re-sent.
func TestAcceptedEventsSurviveARestart(t *testing.T) {
	slow, arrived := hangingAPI(t)
	h := newHarness(t, func(c *Config) {
		c.APIURL = slow
		c.HTTPClient = &http.Client{}
		c.Concurrency = 2
		c.InboxCapacity = 6
		c.InboxOwner = "zalo run 1"
	})
	type ev struct{ body []byte }
	var evs []ev
	for i := range 7 {
		user := fmt.Sprint(3000 + i)
		b := h.textEvent(user, fmt.Sprintf("r%d", i), "quên mật khẩu vneid", h.clock.Now())
		evs = append(evs, ev{b})
	}
	for i, e := range evs[:6] {
		if st := h.post(e.body, sign(e.body, testOAKey)); st != http.StatusOK {
			t.Fatalf("event %d: status %d", i, st)
		}
	}
	// The seventh does not fit: Zalo is told to deliver it again.
	if st := h.post(evs[6].body, sign(evs[6].body, testOAKey)); st != http.StatusServiceUnavailable {
		t.Fatalf("full inbox: status %d, want 503", st)
	}
	<-arrived // the stalled channel is busy answering
	var pending int
	h.db.Reader().QueryRow(`SELECT count(*) FROM inbox WHERE channel = 'zalo' AND state = 'pending'`).Scan(&pending)
	if pending != 6 {
		t.Fatalf("%d events pending, want 6", pending)
	}

	// "Restart": a new channel on the same database, with a working API.
	h.cfg.APIURL, h.cfg.HTTPClient, h.cfg.InboxCapacity = h.api.srv.URL, nil, 0
	h.cfg.InboxOwner = "zalo run 2"
	h.cfg.InboxOwnerGone = func(o string) bool { return o == "zalo run 1" }
	h.start()
	h.ch.Wait()
	// Zalo re-sends everything, including the refused seventh event.
	for i, e := range evs {
		if st := h.post(e.body, sign(e.body, testOAKey)); st != http.StatusOK {
			t.Fatalf("re-sent event %d: status %d", i, st)
		}
	}
	h.ch.Wait()
	per := map[string]int{}
	for _, m := range h.api.messages() {
		per[m.Req.Recipient.UserID]++
	}
	for i := range 7 {
		if n := per[fmt.Sprint(3000+i)]; n != 1 {
			t.Errorf("user %d answered %d times, want 1 (%v)", 3000+i, n, per)
		}
	}
}

// TestInboxKeepsNoPersonalData: while an event waits, the inbox holds its
// text redacted and nothing else of the body; once answered, neither the
// text nor the Zalo user id is kept.
func TestInboxKeepsNoPersonalData(t *testing.T) {
	slow, arrived := hangingAPI(t)
	h := newHarness(t, func(c *Config) {
		c.APIURL = slow
		c.HTTPClient = &http.Client{Timeout: 3 * time.Second}
	})
	const user = "4455667788990011"
	a := h.textEvent(user, "p1", "đổi số điện thoại 0912 345 678 trên vneid", h.clock.Now())
	b := h.textEvent(user, "p2", "cccd của tôi là 001203004567", h.clock.Now())
	for _, body := range [][]byte{a, b} {
		if st := h.post(body, sign(body, testOAKey)); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
	}
	<-arrived
	rows, err := h.db.Reader().Query(`SELECT payload, chat FROM inbox WHERE state = 'pending'`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var payload, chat string
		rows.Scan(&payload, &chat)
		n++
		for _, leak := range []string{"0912", "345 678", "001203004567", testAppID, "8" + user} {
			if strings.Contains(payload, leak) {
				t.Errorf("pending payload keeps %q: %s", leak, payload)
			}
		}
		if chat != user {
			t.Errorf("chat = %q", chat)
		}
	}
	rows.Close()
	if n != 2 { // both stay pending until answered
		t.Errorf("%d pending rows, want 2", n)
	}
	h.ch.Wait() // the stalled sends time out; the events are handled
	var left int
	h.db.Reader().QueryRow(`SELECT count(*) FROM inbox WHERE payload <> '' OR chat <> ''`).Scan(&left)
	if left != 0 {
		t.Errorf("%d handled rows keep a payload or chat", left)
	}
}
