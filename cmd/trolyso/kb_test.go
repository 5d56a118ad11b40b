package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/knowledge"
)

// runCLIAt runs the CLI with the clock fixed at now and no environment.
func runCLIAt(t *testing.T, now time.Time, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(string) string { return "" }, now: func() time.Time { return now }}
	code := a.main(context.Background(), args)
	return code, out.String(), errb.String()
}

// kbEntry is an entry file (updated on line 7, review_by on line 8 when
// given) citing sources.
func kbEntry(id, updated, reviewBy string, sources ...string) string {
	if len(sources) == 0 {
		sources = []string{"https://dichvucong.gov.vn/"}
	}
	s := "---\nid: " + id + "\ntitle: Mục " + id + "\ncategory: dvc\nquestions: [hỏi một, hỏi hai, hỏi ba, hỏi bốn]\n" +
		"sources: [" + strings.Join(sources, ", ") + "]\nupdated: " + updated + "\n"
	if reviewBy != "" {
		s += "review_by: " + reviewBy + "\n"
	}
	return s + "---\nNội dung " + id + ".\n"
}

// writeKB writes files (name → content) into a new folder.
func writeKB(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// vn is a Vietnamese wall-clock time.
func vn(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, stats.Location())
}

// TestKBCheckReviewDates: kb check warns from 30 days before a review date
// through the day itself (exit 0) and fails from the next day (exit 1);
// an entry without review_by is due six months after updated.
func TestKBCheckReviewDates(t *testing.T) {
	explicit := writeKB(t, map[string]string{"a.md": kbEntry("a", "2026-11-26", "2027-05-31")})
	byDefault := writeKB(t, map[string]string{"a.md": kbEntry("a", "2026-11-26", "")}) // due 2027-05-26
	tests := []struct {
		name    string
		dir     string
		now     time.Time
		code    int
		want    []string
		notWant []string
	}{
		{"31 days before", explicit, vn(2027, 4, 30, 23, 0), 0, []string{explicit + ": ok\n"}, []string{"warning", "error"}},
		{"30 days before", explicit, vn(2027, 5, 1, 0, 5), 0,
			[]string{"a.md:8: warning: review date 2027-05-31 is in 30 day(s)", explicit + ": ok, 1 warning(s)"}, []string{"error"}},
		{"the day itself", explicit, vn(2027, 5, 31, 23, 30), 0,
			[]string{"a.md:8: warning: review date 2027-05-31 is today", "ok, 1 warning(s)"}, []string{"error"}},
		{"the day after", explicit, vn(2027, 6, 1, 0, 10), 1,
			[]string{"a.md:8: error: review date 2027-05-31 has passed (1 day(s) ago)"}, []string{": ok"}},
		{"default date, the day before", byDefault, vn(2027, 5, 25, 12, 0), 0,
			[]string{"a.md:7: warning: review date 2027-05-26 (no review_by: 6 months after updated) is in 1 day(s)"}, []string{"error"}},
		{"default date passed", byDefault, vn(2027, 5, 27, 8, 0), 1,
			[]string{"a.md:7: error: review date 2027-05-26 (no review_by: 6 months after updated) has passed (1 day(s) ago)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLIAt(t, tt.now, "kb", "check", tt.dir)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestShippedBaseAfterItsReviewDates: on the day after the latest review
// date of the shipped base, kb check fails on every entry, yet the server
// loads the same base and keeps answering, logging a warning for staff.
func TestShippedBaseAfterItsReviewDates(t *testing.T) {
	b, err := knowledge.Load(knowledge.EmbeddedBase(), nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var latest time.Time
	for _, e := range b.Entries {
		if e.ReviewBy.After(latest) {
			latest = e.ReviewBy
		}
	}
	after := vn(latest.Year(), latest.Month(), latest.Day()+1, 9, 0)
	code, out, _ := runCLIAt(t, after, "kb", "check")
	if code != 1 || strings.Count(out, ": error: review date") != len(b.Entries) {
		t.Errorf("kb check on %s: exit %d, want 1 with one error per entry (%d):\n%s", after.Format(time.DateOnly), code, len(b.Entries), out)
	}

	dir := t.TempDir()
	logs := &syncBuffer{}
	cfg := &Config{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "t.db"), MaxLen: 1000, LLM: LLMConfig{Timeout: time.Second}}
	a := &app{getenv: func(string) string { return "" }, now: func() time.Time { return after },
		stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(logs, nil))}
	addr, _ := startServe(t, a, cfg)
	body, _ := json.Marshal(map[string]string{"text": "quên mật khẩu vneid"})
	resp, err := http.Post("http://"+addr+"/api/message", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r map[string]any
	json.NewDecoder(resp.Body).Decode(&r)
	if r["entry_id"] != "vneid-quen-mat-khau" {
		t.Errorf("answer after the review dates: %v", r)
	}
	if l := logs.String(); !strings.Contains(l, "KNOWLEDGE BASE NEEDS REVIEW") || !strings.Contains(l, "overdue="+strconv.Itoa(len(b.Entries))) {
		t.Errorf("no review warning with %d overdue entries in the log:\n%.2000s", len(b.Entries), l)
	}
}

// TestReloadWarnsOnReviewDates: a base reloaded with a near review date
// is served, with the warning logged again.
func TestReloadWarnsOnReviewDates(t *testing.T) {
	now := vn(2027, 3, 1, 9, 0)
	kb := writeKB(t, map[string]string{"a.md": kbEntry("a", "2026-11-26", "2027-12-31")})
	logs := &syncBuffer{}
	cfg := &Config{Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "t.db"), KBDir: kb, MaxLen: 1000,
		LLM: LLMConfig{Timeout: time.Second}, reloadEvery: 50 * time.Millisecond}
	a := &app{getenv: func(string) string { return "" }, now: func() time.Time { return now },
		stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(logs, nil))}
	startServe(t, a, cfg)
	if strings.Contains(logs.String(), "NEEDS REVIEW") {
		t.Fatalf("review warning for a fresh base:\n%s", logs.String())
	}
	// The file is rewritten (one byte longer each time) until the reload is
	// seen: the watcher may take its first snapshot of the folder only
	// after a first write on a busy machine.
	polls := 0
	write := func() {
		data := kbEntry("b", "2026-09-01", "2027-02-01") + strings.Repeat("\n", polls/25)
		if err := os.WriteFile(filepath.Join(kb, "b.md"), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write()
	waitUntil(t, "the reload's review warning", func() bool {
		l := logs.String()
		if strings.Contains(l, "knowledge base reloaded") && strings.Contains(l, "NEEDS REVIEW") &&
			strings.Contains(l, "b.md:8: warning: review date 2027-02-01 has passed (28 day(s) ago)") {
			return true
		}
		if polls++; polls%25 == 0 {
			write()
		}
		return false
	})
}

// linkSite is a local web server standing in for the sources' sites.
type linkSite struct {
	*httptest.Server
	mu   sync.Mutex
	hits int
}

func newLinkSite(t *testing.T) *linkSite {
	s := &linkSite{}
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/new-home", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new-home", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/no-head", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusForbidden)
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits++
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		close(release)
		s.Close()
	})
	return s
}

// TestKBCheckLinks points entries at a local server with a good, a missing
// (404), a slow (timeout), a redirecting and a HEAD-refusing page.
func TestKBCheckLinks(t *testing.T) {
	site := newLinkSite(t)
	u := func(p string) string { return site.URL + p }
	now := vn(2027, 1, 10, 9, 0)
	broken := writeKB(t, map[string]string{
		"a.md": kbEntry("a", "2026-11-26", "2027-05-31", u("/ok"), u("/missing")),
		"b.md": kbEntry("b", "2026-11-26", "2027-05-31", u("/slow"), u("/moved"), u("/ok")),
		"c.md": kbEntry("c", "2026-11-26", "2027-05-31", u("/no-head"), u("/missing")),
	})
	good := writeKB(t, map[string]string{"a.md": kbEntry("a", "2026-11-26", "2027-05-31", u("/ok"), u("/moved"))})

	// Without --links no request is made.
	if code, out, errOut := runCLIAt(t, now, "kb", "check", broken); code != 0 || strings.Contains(out, "links:") {
		t.Fatalf("kb check without --links: exit %d\n%s%s", code, out, errOut)
	}
	site.mu.Lock()
	hits := site.hits
	site.mu.Unlock()
	if hits != 0 {
		t.Fatalf("kb check without --links made %d request(s)", hits)
	}

	tests := []struct {
		name    string
		dir     string
		code    int
		want    []string
		notWant []string
	}{
		{"broken links", broken, 1, []string{
			"links: checking 5 source URL(s) of 3 entries (1s each at most, 2 at a time)",
			"BROKEN " + u("/missing") + ": HTTP 404 Not Found; cited by a.md, c.md",
			"BROKEN " + u("/slow") + ": no answer in time (timeout); cited by b.md",
			"moved  " + u("/moved") + " -> " + u("/new-home"),
			"links: 3 ok (1 redirected), 2 broken",
		}, []string{"BROKEN " + u("/ok"), "BROKEN " + u("/no-head"), "BROKEN " + u("/moved")}},
		{"all answer", good, 0, []string{"links: 2 ok (1 redirected), 0 broken", good + ": ok"}, []string{"BROKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, out, errOut := runCLIAt(t, now, "kb", "check", "--links", "--timeout", "1s", "--parallel", "2", tt.dir)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v: the slow page was not cut off", d)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			if tt.code != 0 && !strings.Contains(errOut, "2 broken link(s)") {
				t.Errorf("stderr lacks the broken-link count: %s", errOut)
			}
		})
	}
	if code, _, _ := runCLIAt(t, now, "kb", "check", "--links", "--timeout", "0s", good); code != 2 {
		t.Errorf("--timeout 0s: exit %d, want 2", code)
	}
}
