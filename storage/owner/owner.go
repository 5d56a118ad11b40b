// Package owner names the processes that share one database, in the
// leases and inbox claims they hold, and tells when a named process is
// known to be gone: a process on this machine whose id no longer runs.
// Its work can then be taken over at once instead of when its lease or
// claim expires.
package owner

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"syscall"
)

// New returns a fresh name for this process: role, pid, host and a random
// part (a pid is reused by later processes).
func New(role string) string {
	b := make([]byte, 4)
	rand.Read(b)
	host, _ := os.Hostname()
	return fmt.Sprintf("%s pid %d on %s (%s)", role, os.Getpid(), host, hex.EncodeToString(b))
}

var nameRe = regexp.MustCompile(` pid (\d+) on (\S*) \(`)

// Gone reports whether name (from New) is a process on this machine that
// no longer exists. False when that is not known: another machine, a name
// of another form, this very process, or a live pid.
func Gone(name string) bool {
	m := nameRe.FindStringSubmatch(name)
	host, _ := os.Hostname()
	if m == nil || m[2] != host || runtime.GOOS == "windows" {
		return false
	}
	pid, err := strconv.Atoi(m[1])
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) != nil
}
