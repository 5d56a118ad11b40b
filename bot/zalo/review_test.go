package zalo

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestMalformedBodyNotLogged: a body that fails to decode is refused
// before its signature is checked; nothing of its content may reach the
// logs (it is unauthenticated and may carry a resident's data).
func TestMalformedBodyNotLogged(t *testing.T) {
	logs := &logBuffer{}
	h := newHarness(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	now := fmt.Sprint(h.clock.Now().UnixMilli())
	const secret = "Nguyen-Thi-Bi-Mat"
	tests := []struct{ name, field string }{
		{"object id", `"sender":{"id":{"name":"` + secret + `"}}`},
		{"array timestamp", `"sender":{"id":"1"},"user_id_by_app":["` + secret + `"]`},
		{"huge object", `"sender":{"id":{"x":"` + secret + strings.Repeat("y", 30<<10) + `"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(`{"app_id":"` + testAppID + `","timestamp":"` + now + `","event_name":"user_send_text",` + tt.field + `}`)
			if st := h.post(b, "mac=00"); st != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", st)
			}
		})
	}
	if out := logs.String(); strings.Contains(out, secret) || len(out) > 4<<10 {
		t.Fatalf("malformed bodies reached the logs (%d bytes): %.300s", len(out), out)
	}
}

// TestRunShutdownIsBounded: when the Zalo API hangs, Run returns within
// its grace after its context ends instead of waiting for every queued
// event's own timeout.
func TestRunShutdownIsBounded(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 16)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		writeJSON(w, map[string]any{"error": 0, "message": "Success"})
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	h := newHarness(t, func(c *Config) {
		c.APIURL = slow.URL
		c.HTTPClient = &http.Client{} // no timeout: only the context ends a call
		c.Concurrency = 1
	})
	h.ch.grace = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.ch.Run(ctx) }()
	for i, user := range []string{"101", "102", "103"} {
		id := fmt.Sprintf("slow%d", i)
		b := h.textEvent(user, id, "xin chào", h.clock.Now())
		if st := h.post(b, sign(b, testOAKey)); st != http.StatusOK {
			t.Fatalf("webhook status %d", st)
		}
	}
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no reply reached the API")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run still waiting for hung replies 5 s after its context ended")
	}
}
