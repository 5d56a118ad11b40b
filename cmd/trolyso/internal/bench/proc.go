package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a trolyso serve process started by StartServer.
type Server struct {
	Cmd *exec.Cmd
	// URL is the web chat's base URL (http://127.0.0.1:port).
	URL string
	// Ready is the time from exec to a healthy /healthz.
	Ready time.Duration

	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
	err  error
}

var listenRe = regexp.MustCompile(`web chat listening"? url=http://([0-9.:]+)/`)

// StartServer runs exe with args (for example "serve") and env added to
// this process's environment, reads the listening address from its log,
// and waits until /healthz answers (at most timeout).
func StartServer(ctx context.Context, exe string, args, env []string, timeout time.Duration) (*Server, error) {
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &Server{Cmd: cmd, done: make(chan struct{})}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line)
			s.logs.WriteByte('\n')
			s.mu.Unlock()
			if m := listenRe.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		s.err = cmd.Wait()
		close(s.done)
	}()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case <-s.done:
		return nil, fmt.Errorf("server exited before listening: %v\n%s", s.err, s.Logs())
	case <-deadline.C:
		s.Kill()
		return nil, fmt.Errorf("server did not listen within %v\n%s", timeout, s.Logs())
	case <-ctx.Done():
		s.Kill()
		return nil, ctx.Err()
	}
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-deadline.C:
			s.Kill()
			return nil, fmt.Errorf("server not healthy within %v", timeout)
		case <-s.done:
			return nil, fmt.Errorf("server exited: %v\n%s", s.err, s.Logs())
		case <-time.After(5 * time.Millisecond):
		}
	}
	s.Ready = time.Since(t0)
	return s, nil
}

// Logs returns what the server wrote to stderr so far.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// RSS returns the server's resident set size in bytes (VmRSS).
func (s *Server) RSS() (uint64, error) { return ProcRSS(s.Cmd.Process.Pid) }

// Signal sends sig and waits (at most wait) for the process to exit,
// returning its exit error.
func (s *Server) Signal(sig syscall.Signal, wait time.Duration) error {
	if err := s.Cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.done:
		return s.err
	case <-time.After(wait):
		s.Cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("server did not exit within %v of %v", wait, sig)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill() {
	s.Cmd.Process.Kill()
	<-s.done
}

// Done is closed when the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// ProcRSS reads VmRSS of a process from /proc (Linux).
func ProcRSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read rss: %w", err)
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("read rss: no VmRSS line")
}

// PeakRSS samples the process's RSS every interval until stop is closed
// and returns the highest value seen.
func PeakRSS(pid int, interval time.Duration, stop <-chan struct{}) uint64 {
	var peak uint64
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if v, err := ProcRSS(pid); err == nil && v > peak {
			peak = v
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}
