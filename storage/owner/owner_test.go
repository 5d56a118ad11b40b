package owner

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestGone(t *testing.T) {
	me := New("serve")
	if !strings.HasPrefix(me, "serve pid ") || New("serve") == me {
		t.Fatalf("names %q and another: not fresh", me)
	}
	// A process that ran and exited (and was reaped): its pid no longer
	// exists, unless reused meanwhile, which a fresh pid makes unlikely.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	dead := strings.Replace(me, " pid "+itoa(os.Getpid())+" ", " pid "+itoa(cmd.Process.Pid)+" ", 1)
	for _, tt := range []struct {
		name string
		gone bool
	}{
		{me, false},  // this process
		{dead, true}, // exited
		{"serve pid 1 on " + host + " (00)", false}, // init runs
		{strings.Replace(dead, " on "+host+" ", " on another-host ", 1), false},
		{"A", false},
		{"", false},
	} {
		if got := Gone(tt.name); got != tt.gone {
			t.Errorf("Gone(%q) = %v, want %v", tt.name, got, tt.gone)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
