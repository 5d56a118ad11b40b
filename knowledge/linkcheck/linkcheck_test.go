package linkcheck

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// sources is a fake web site on 127.0.0.1 with the kinds of source pages
// the knowledge base meets. It records the methods each path received and
// the most requests it had in flight at once.
type sources struct {
	*httptest.Server
	release chan struct{} // closed at the end: slow pages stop waiting

	mu       sync.Mutex
	methods  map[string][]string
	inFlight int
	maxIn    int
}

func newSources(t *testing.T) *sources {
	s := &sources{release: make(chan struct{}), methods: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("trang")) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/new-home", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("trang mới")) })
	mux.HandleFunc("/gone", http.NotFound)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select { // answers long after any checker's deadline
		case <-r.Context().Done():
		case <-s.release:
		case <-time.After(30 * time.Second):
		}
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new-home", http.StatusFound) })
	mux.HandleFunc("/moved-gone", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/gone", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/no-head", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Write([]byte("trang"))
	})
	mux.HandleFunc("/held/", func(w http.ResponseWriter, r *http.Request) { time.Sleep(50 * time.Millisecond) })
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.methods[r.URL.Path] = append(s.methods[r.URL.Path], r.Method)
		s.inFlight++
		s.maxIn = max(s.maxIn, s.inFlight)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		close(s.release)
		s.Close()
	})
	return s
}

func TestCheckKindsOfSources(t *testing.T) {
	s := newSources(t)
	tests := []struct {
		path    string
		ok      bool
		status  int
		method  string
		final   string
		problem string
		methods string // what the server saw
	}{
		{"/ok", true, 200, "HEAD", "", "", "HEAD"},
		{"/missing", false, 404, "GET", "", "HTTP 404 Not Found", "HEAD GET"},
		{"/slow", false, 0, "HEAD", "", "timeout", "HEAD"},
		{"/moved", true, 200, "HEAD", "/new-home", "", "HEAD"},
		{"/moved-gone", false, 404, "GET", "/gone", "HTTP 404 Not Found after redirect to " + s.URL + "/gone", "HEAD GET"},
		{"/no-head", true, 200, "GET", "", "", "HEAD GET"},
		{"/loop", false, 0, "GET", "", "more than 10 redirects", ""},
	}
	urls := make([]string, len(tests))
	for i, tt := range tests {
		urls[i] = s.URL + tt.path
	}
	start := time.Now()
	results := Check(context.Background(), urls, Options{Timeout: time.Second, Parallel: 4})
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("check took %v: the slow page was not cut off", d)
	}
	if len(results) != len(tests) {
		t.Fatalf("%d results for %d URLs", len(results), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := results[i]
			if r.URL != urls[i] || r.OK() != tt.ok || r.Status != tt.status || r.Method != tt.method {
				t.Errorf("result %+v; want ok %v, status %d by %s", r, tt.ok, tt.status, tt.method)
			}
			if wantFinal := map[bool]string{true: s.URL + tt.final, false: ""}[tt.final != ""]; r.Final != wantFinal {
				t.Errorf("final URL %q, want %q", r.Final, wantFinal)
			}
			if p := r.Problem(); (p == "") != tt.ok || !strings.Contains(p, tt.problem) {
				t.Errorf("problem %q, want one containing %q", p, tt.problem)
			}
			s.mu.Lock()
			got := strings.Join(s.methods[tt.path], " ")
			s.mu.Unlock()
			if tt.methods != "" && got != tt.methods {
				t.Errorf("server saw %q, want %q", got, tt.methods)
			}
		})
	}
}

func TestCheckBoundsConcurrency(t *testing.T) {
	s := newSources(t)
	var urls []string
	for i := range 12 {
		urls = append(urls, s.URL+"/held/"+string(rune('a'+i)))
	}
	results := Check(context.Background(), urls, Options{Timeout: 10 * time.Second, Parallel: 3})
	for _, r := range results {
		if !r.OK() {
			t.Errorf("%s: %s", r.URL, r.Problem())
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxIn > 3 || s.maxIn < 2 {
		t.Errorf("at most %d requests in flight, want 2–3 with Parallel 3", s.maxIn)
	}
}

func TestCheckStopsWithContext(t *testing.T) {
	s := newSources(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results := Check(ctx, []string{s.URL + "/ok", s.URL + "/slow"}, Options{})
	for _, r := range results {
		if r.OK() || r.Err == nil {
			t.Errorf("%s: checked after the context ended: %+v", r.URL, r)
		}
	}
}
