package main

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGC: without GOGC and GOMEMLIMIT, serve collects at gcPercent
// under a soft limit of at least 96 MiB, lifted while a base retrains;
// with either set, the collector is left as the operator configured it.
func TestTuneGC(t *testing.T) {
	prevPct := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPct)
		debug.SetMemoryLimit(prevLimit)
	})
	env := map[string]string{}
	s := &server{a: &app{getenv: func(k string) string { return env[k] }}, log: slog.New(slog.DiscardHandler)}

	s.tuneGC()
	if pct := debug.SetGCPercent(-1); pct != gcPercent {
		t.Errorf("GC percent %d, want %d", pct, gcPercent)
	}
	debug.SetGCPercent(gcPercent)
	if limit := debug.SetMemoryLimit(-1); limit < 96<<20 || limit == math.MaxInt64 {
		t.Errorf("memory limit %d, want a limit of at least 96 MiB", limit)
	}
	s.relaxGC()
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		t.Errorf("memory limit %d while retraining, want none", limit)
	}
	if pct := debug.SetGCPercent(-1); pct != 100 {
		t.Errorf("GC percent %d while retraining, want 100", pct)
	}
	debug.SetGCPercent(100)

	for _, k := range []string{"GOGC", "GOMEMLIMIT"} {
		env = map[string]string{k: "200"}
		debug.SetGCPercent(123)
		debug.SetMemoryLimit(math.MaxInt64)
		s.tuneGC()
		s.relaxGC()
		if pct, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1); pct != 123 || limit != math.MaxInt64 {
			t.Errorf("with %s set the collector was changed: percent %d, limit %d", k, pct, limit)
		}
		debug.SetGCPercent(123)
	}
}
