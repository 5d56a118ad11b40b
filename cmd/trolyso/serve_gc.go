package main

import (
	"math"
	"runtime"
	"runtime/debug"
)

// gcPercent is the collector's target when neither GOGC nor GOMEMLIMIT is
// set: with the shipped base the live heap is a few MiB, so at the default
// (100) a loaded server collected about ten times a second, and every
// collection stops the world twice. On a busy shared machine a stop can
// wait for a thread the OS has descheduled: stops of 300 ms were seen at
// 1,500 messages/s.
const gcPercent = 400

// tuneGC lets the heap grow to 5 × the live heap between collections,
// bounded by a soft memory limit of twice the live heap plus 16 MiB (at
// least 96 MiB), so that a large knowledge base keeps about the memory it
// had with the default. An operator's GOGC or GOMEMLIMIT is left alone.
// Call it after loading a base: the limit follows the live heap.
func (s *server) tuneGC() {
	if !s.ownsGC() {
		return
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	limit := max(int64(96<<20), 2*int64(m.HeapAlloc)+16<<20)
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(gcPercent)
	s.log.Debug("garbage collector tuned", "gc_percent", gcPercent, "memory_limit_mib", limit>>20, "live_heap_mib", m.HeapAlloc>>20)
}

// relaxGC lifts the soft memory limit (and collects at the default pace)
// while a new base trains next to the one answering: the training's garbage
// and the second model would otherwise keep the heap at the limit and the
// collector running without pause. tuneGC sets it again.
func (s *server) relaxGC() {
	if !s.ownsGC() {
		return
	}
	debug.SetMemoryLimit(math.MaxInt64)
	debug.SetGCPercent(100)
}

// ownsGC reports whether the operator left the collector to serve (neither
// GOGC nor GOMEMLIMIT set).
func (s *server) ownsGC() bool {
	return s.a.getenv("GOGC") == "" && s.a.getenv("GOMEMLIMIT") == ""
}
