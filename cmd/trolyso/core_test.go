package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

func TestKBCheckCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"embedded ok", []string{"kb", "check"}, 0, []string{"embedded knowledge base: ok", "answer engine: ", "trained model stored in the binary", "bands: decline when out-of-scope", "a wrong answer costs 1 (wrong_answer_cost in _base.yaml)", "4-fold cross-validation", "entries most often mixed up in cross-validation"}},
		{"broken fixtures", []string{"kb", "check", "../../knowledge/testdata/broken"}, 1,
			[]string{"few-questions.md:5: error", "no-sources.md:2: error: no sources", "dup-b.md:2: error: duplicate id", "empty-body.md:15: error: empty answer", "review-passed.md:14: error: review date 2025-06-30 has passed"}},
		{"missing folder", []string{"kb", "check", "/nonexistent/kb"}, 1, nil},
		{"unknown sub", []string{"kb", "frobnicate"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, db, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestKBExportJSON(t *testing.T) {
	code, out, errOut := runCLI(t, filepath.Join(t.TempDir(), "t.db"), "kb", "export", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var entries []map[string]any
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	if len(entries) < 40 {
		t.Errorf("%d entries exported", len(entries))
	}
	for _, k := range []string{"id", "title", "questions", "body", "tags", "sources"} {
		if _, ok := entries[0][k]; !ok {
			t.Errorf("entry lacks %q", k)
		}
	}
	if code, _, _ := runCLI(t, "", "kb", "export"); code != 2 {
		t.Errorf("kb export without --json: exit %d, want 2", code)
	}
}

func TestAskCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	tests := []struct{ q, band, entry string }{
		{"quen mat khau vneid thi lam sao", "answer", "vneid-quen-mat-khau"},
		{"Đăng ký khai sinh cho con trên mạng thế nào?", "answer", "dvc-khai-sinh"},
		{"xổ số miền bắc hôm nay", "decline", "-"},
		{"xin chào", "smalltalk", "-"},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, db, "ask", tt.q)
		if code != 0 {
			t.Fatalf("ask %q: exit %d: %s", tt.q, code, errOut)
		}
		if !strings.Contains(out, "band: "+tt.band+"\n") || !strings.Contains(out, "entry: "+tt.entry+"\n") {
			t.Errorf("ask %q:\n%s", tt.q, out)
		}
	}
	if code, _, _ := runCLI(t, db, "ask"); code != 2 {
		t.Errorf("ask without a question: exit %d, want 2", code)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errOut := runCLI(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHotReload serves a knowledge base from a folder, breaks it (the old
// base stays live and the error is logged), then adds a valid entry (it is
// answered without a restart).
func TestHotReload(t *testing.T) {
	dir := t.TempDir()
	kb, _ := smallKB(t, dir)
	logs := &syncBuffer{}
	cfg := &Config{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "t.db"), KBDir: kb, MaxLen: 1000, WebRate: 1000,
		LLM: LLMConfig{Timeout: time.Second}, reloadEvery: 50 * time.Millisecond}
	a := &app{getenv: func(string) string { return "" }, now: time.Now, stdout: io.Discard, stderr: io.Discard,
		log: slog.New(slog.NewTextHandler(logs, nil))}
	addr, stop := startServe(t, a, cfg)
	ask := func(q string) map[string]any { t.Helper(); return askWeb(t, addr, q) }
	const newQ = "thư viện xã mở cửa mấy giờ"
	if r := ask(newQ); r["entry_id"] == "thu-vien-xa" {
		t.Fatal("entry answered before it exists")
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		if !poll(cond) {
			t.Fatalf("timed out waiting for %s; logs:\n%s", what, logs.String())
		}
	}
	// A base the binary does not hold answers at once with default bands,
	// then with the bands calibrated for it.
	waitFor("calibrated at start-up", func() bool {
		return strings.Contains(logs.String(), `calibrated index in use" why=start-up`)
	})
	// A broken file: refused, previous base stays live.
	os.WriteFile(filepath.Join(kb, "broken.md"), []byte("---\nid: broken\n---\n"), 0o644)
	waitFor("refusal logged", func() bool { return strings.Contains(logs.String(), "reload refused") })
	if r := ask("quên mật khẩu vneid"); r["entry_id"] != "vneid-quen-mat-khau" {
		t.Fatalf("old base not live after a broken reload: %v", r)
	}
	// Fix it and add a new entry: picked up without a restart.
	os.Remove(filepath.Join(kb, "broken.md"))
	entry := "---\nid: thu-vien-xa\ntitle: Giờ mở cửa thư viện xã\ncategory: lien-he\nquestions:\n" +
		"  - thư viện xã mở cửa lúc nào\n  - giờ mở cửa thư viện\n  - thu vien xa mo cua may gio\n  - thư viện có mở chủ nhật không\n" +
		"tags: [thư viện]\nsources:\n  - https://dichvucong.gov.vn\nupdated: 2026-11-01\n---\nThư viện mở cửa theo giờ hành chính.\n"
	if err := os.WriteFile(filepath.Join(kb, "thu-vien-xa.md"), []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("new entry answered", func() bool { return ask(newQ)["entry_id"] == "thu-vien-xa" })
	// The quick index (trained with the bands in use) is then replaced
	// by the one calibrated for the new base.
	waitFor("calibrated index", func() bool {
		return strings.Contains(logs.String(), `calibrated index in use" why="files changed"`)
	})
	if r := ask(newQ); r["entry_id"] != "thu-vien-xa" {
		t.Errorf("after calibration: %v", r)
	}
	if err := stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
}

// smallKB writes a knowledge-base folder of a few shipped entries (with the
// base's _base.yaml and _out_of_scope.txt) into dir/kb and returns it with
// its entry count: a reload retrains the answer engine, which takes
// seconds for the whole shipped base under the race detector.
func smallKB(t *testing.T, dir string) (string, int) {
	t.Helper()
	kb := filepath.Join(dir, "kb")
	if err := os.MkdirAll(kb, 0o755); err != nil {
		t.Fatal(err)
	}
	files := []string{"_base.yaml", "_out_of_scope.txt", "vneid-quen-mat-khau.md", "vneid-quen-passcode.md",
		"vneid-cai-dat.md", "dvc-khai-sinh.md", "dvc-trung-tam-hcc.md", "to-cong-nghe-so.md"}
	for _, f := range files {
		b, err := fs.ReadFile(knowledge.EmbeddedBase(), f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(kb, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return kb, len(files) - 2
}

// TestReloadOnSIGHUP: with folder polling effectively off, a SIGHUP makes
// the server load a changed knowledge base.
func TestReloadOnSIGHUP(t *testing.T) {
	// Keep SIGHUP from ever reaching its default action (terminate) while
	// the server's own handler is being installed.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGHUP)
	defer signal.Stop(guard)

	dir := t.TempDir()
	kb, n := smallKB(t, dir)
	logs := &syncBuffer{}
	cfg := &Config{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "t.db"), KBDir: kb, MaxLen: 1000,
		LLM: LLMConfig{Timeout: time.Second}, reloadEvery: time.Hour}
	a := quietApp(t)
	a.log = slog.New(slog.NewTextHandler(logs, nil))
	startServe(t, a, cfg)
	entry := "---\nid: thu-vien-xa\ntitle: Giờ mở cửa thư viện xã\ncategory: lien-he\nquestions:\n" +
		"  - thư viện xã mở cửa lúc nào\n  - giờ mở cửa thư viện\n  - thu vien xa mo cua may gio\n  - thư viện có mở chủ nhật không\n" +
		"tags: [thư viện]\nsources:\n  - https://dichvucong.gov.vn\nupdated: 2026-11-01\n---\nThư viện mở cửa theo giờ hành chính.\n"
	if err := os.WriteFile(filepath.Join(kb, "thu-vien-xa.md"), []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	// The watcher may not have subscribed yet when the first signal
	// arrives, so signal until the reload is logged.
	waitUntil(t, "reload on SIGHUP", func() bool {
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		time.Sleep(50 * time.Millisecond)
		return strings.Contains(logs.String(), "why=SIGHUP") && strings.Contains(logs.String(), fmt.Sprintf("entries=%d", n+1))
	})
}

// recorded counts the exchanges stored in the database file at path.
func recorded(t *testing.T, path string) int {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return 0
	}
	db, err := storage.Open(context.Background(), path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bands, err := db.BandCounts(context.Background(), time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range bands {
		n += c
	}
	return n
}

// TestChatCLI: an empty line and a button number that does not exist are
// neither questions nor the end; logs never split a reply or follow the
// prompt; nothing is recorded unless --record is given.
func TestChatCLI(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stored int
	}{
		{"staff test, not recorded", []string{"chat"}, 0},
		{"--record", []string{"chat", "--record"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			db := filepath.Join(t.TempDir(), "t.db")
			a := &app{
				stdin:  strings.NewReader("quen mat khau vneid\n\n9\n1\n\ngiá vàng hôm nay\n"),
				stdout: &out,
				stderr: &errb,
				getenv: func(k string) string {
					if k == "TROLYSO_DB" {
						return db
					}
					return ""
				},
				now: func() time.Time { return cliNow },
				log: slog.New(slog.NewTextHandler(&errb, nil)),
			}
			if code := a.main(context.Background(), tt.args); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			s := out.String()
			for _, want := range []string{"trợ lý số tự động", "Quên mật khẩu VNeID", "[1] 👍 Hài lòng", "Không có nút số 9. Hãy gõ một số từ 1 đến 3",
				"Đã ghi nhận: 👍 Hài lòng", "Gõ câu hỏi, hoặc số của một nút", "Xin lỗi, câu này tôi chưa có thông tin"} {
				if !strings.Contains(s, want) {
					t.Errorf("chat output lacks %q:\n%s", want, s)
				}
			}
			// The empty line after the rating did not end the chat: the
			// last question was answered.
			if strings.Count(s, chatHint) != 3 {
				t.Errorf("hint shown %d times, want 3 (start and two empty lines):\n%s", strings.Count(s, chatHint), s)
			}
			if strings.Contains(errb.String(), "answered") {
				t.Errorf("info logs reach the terminal during the chat:\n%s", errb.String())
			}
			if n := recorded(t, db); n != tt.stored {
				t.Errorf("%d exchanges recorded in the residents' database, want %d", n, tt.stored)
			}
		})
	}
}

// TestAskRecordsOnlyWithFlag: staff test questions stay out of the
// residents' figures unless --record is given.
func TestAskRecordsOnlyWithFlag(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	for _, args := range [][]string{{"ask", "giá vàng hôm nay"}, {"ask", "--no-store", "giá vàng hôm nay"}} {
		if code, out, errOut := runCLI(t, db, args...); code != 0 || !strings.Contains(out, "band: decline") {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	if n := recorded(t, db); n != 0 {
		t.Fatalf("%d exchanges recorded without --record", n)
	}
	if code, _, errOut := runCLI(t, db, "ask", "--record", "giá vàng hôm nay"); code != 0 {
		t.Fatalf("ask --record: exit %d: %s", code, errOut)
	}
	if n := recorded(t, db); n != 1 {
		t.Fatalf("%d exchanges recorded with --record, want 1", n)
	}
}

func TestTrustedProxiesConfig(t *testing.T) {
	checkConfig(t, nil, []configCase{
		{"none", nil, ""},
		{"address and range", map[string]string{"TROLYSO_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}, ""},
		{"garbage", map[string]string{"TROLYSO_TRUSTED_PROXIES": "proxy.local"}, "TROLYSO_TRUSTED_PROXIES"},
	})
}

// TestRateLimitBehindTrustedProxy: behind a trusted proxy each resident
// (X-Forwarded-For) has their own budget; the same resident is limited.
func TestRateLimitBehindTrustedProxy(t *testing.T) {
	dir := t.TempDir()
	cfg := &Config{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "t.db"), MaxLen: 1000, WebRate: 6,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, LLM: LLMConfig{Timeout: time.Second}}
	addr, _ := startServe(t, quietApp(t), cfg)
	send := func(client string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/message", strings.NewReader(`{"text":"xin chào"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 20 {
		if code := send(fmt.Sprintf("198.51.100.%d", i+1)); code != http.StatusOK {
			t.Fatalf("resident %d behind the proxy got %d", i, code)
		}
	}
	limited := false
	for range 20 {
		limited = limited || send("203.0.113.9") == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("one resident sending 20 requests at once was never limited")
	}
}
