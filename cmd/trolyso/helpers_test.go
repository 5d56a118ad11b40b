package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// quietApp is an app with an empty environment and discarded output. Its
// log is kept in memory and printed (the last lines) only if t fails, so
// that a timeout in an end-to-end test says what the server was doing.
func quietApp(t testing.TB) *app {
	t.Helper()
	var logs tailLog
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's log (last %d lines):\n%s", tailLines, logs.String())
		}
	})
	return &app{getenv: func(string) string { return "" }, now: time.Now,
		log:    slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		stdout: io.Discard, stderr: io.Discard}
}

// tailLines is how many log lines a failed test prints.
const tailLines = 200

// tailLog keeps the last tailLines lines written to it; it is safe for
// concurrent use (the server logs from many goroutines, and may still log
// while the test reads it).
type tailLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *tailLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.lines = append(l.lines, line)
	}
	if over := len(l.lines) - tailLines; over > 0 {
		l.lines = append(l.lines[:0], l.lines[over:]...)
	}
	return len(p), nil
}

func (l *tailLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// startServe runs serve with cfg in the background and waits until it
// listens. stop cancels it and returns serve's error (or an error if it has
// not stopped within 40 s); it also runs when the test ends.
func startServe(t testing.TB, a *app, cfg *Config) (addr string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, a, cfg, ready) }()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	var err error
	stopped := false
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case err = <-done:
			case <-time.After(40 * time.Second):
				err = errors.New("serve did not stop within 40 s")
			}
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return addr, stop
}

// poll checks cond every 20 ms for up to 10 s and reports whether it
// became true.
func poll(cond func() bool) bool {
	// Generous: on a loaded 2-core machine under the race detector a
	// reload that retrains the answer engine takes seconds, and a minute
	// was seen in CI with other packages' tests running beside it.
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// waitUntil polls cond (see poll), failing the test with what.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !poll(cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// configCase is one environment checked by checkConfig.
type configCase struct {
	name string
	env  map[string]string
	want string // substring of the error, "" for none
}

// checkConfig loads and validates the configuration of each case's
// environment laid over base.
func checkConfig(t *testing.T, base map[string]string, cases []configCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			a := &app{getenv: func(k string) string {
				if v, ok := tt.env[k]; ok {
					return v
				}
				return base[k]
			}}
			cfg, err := a.loadConfig()
			if err == nil {
				err = cfg.validate()
			}
			if tt.want == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("error = %v, want it to mention %s", err, tt.want)
			}
		})
	}
}
