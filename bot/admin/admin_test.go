package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

var testNow = time.Date(2026, 8, 14, 3, 0, 0, 0, time.UTC)

func setup(t *testing.T, cfg Config) (*httptest.Server, *storage.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "a.db"), storage.Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if cfg.Base == nil {
		profile, _ := knowledge.LoadProfile("")
		base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, testNow)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Base = func() *knowledge.Base { return base }
	}
	cfg.Store, cfg.Now = db, func() time.Time { return testNow }
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, db
}

func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func login(t *testing.T, c *http.Client, base, password string) *http.Response {
	t.Helper()
	_, body := get(t, c, base+"/admin/login")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf on login page:\n%s", body)
	}
	resp, err := c.PostForm(base+"/admin/login", url.Values{"csrf": {m[1]}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestOffWithoutPassword(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrNoPassword) {
		t.Fatalf("New without password: %v", err)
	}
	if _, err := New(Config{PasswordHash: "not-bcrypt"}); err == nil {
		t.Fatal("invalid hash accepted")
	}
	mux := http.NewServeMux()
	Off(mux)
	for _, p := range []string{"/admin", "/admin/", "/admin/login", "/admin/report?quarter=2026Q3"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s with the dashboard off: %d, want 404", p, rec.Code)
		}
	}
}

func TestRoutesRefuseUnauthenticated(t *testing.T) {
	srv, db := setup(t, Config{Password: "mật-khẩu-đúng"})
	s := seedReminders(t, db)
	run, rem := fmt.Sprint(s.run.ID), fmt.Sprint(s.reminder.ID)
	c := client(t)
	for _, p := range []string{"/admin", "/admin/", "/admin/unanswered", "/admin/lowest", "/admin/report?quarter=2026Q3&format=csv", "/admin/report?quarter=2026Q3&format=html", "/admin/nope",
		"/admin/reminders", "/admin/runs/" + run, "/admin/runs/999"} {
		resp, body := get(t, c, srv.URL+p)
		loc := resp.Header.Get("Location")
		if resp.StatusCode == http.StatusOK || (loc != "/admin/login" && loc != "/admin/") || strings.Contains(body, "Hài lòng") ||
			strings.Contains(body, "Thôn Đông") || strings.Contains(body, s.team.JoinCode) {
			t.Errorf("GET %s unauthenticated: %d %q", p, resp.StatusCode, loc)
		}
	}
	for _, p := range []string{"/admin/logout", "/admin/", "/admin/report", "/admin/reminders/" + rem + "/pause", "/admin/reminders/" + rem + "/resume"} {
		resp, err := c.PostForm(srv.URL+p, url.Values{"csrf": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s unauthenticated: %d", p, resp.StatusCode)
		}
	}
	if r, err := db.Reminder(context.Background(), s.reminder.ID); err != nil || !r.Enabled {
		t.Errorf("reminder after unauthenticated pause: %+v %v", r, err)
	}
	// A forged session cookie is refused too.
	u, _ := url.Parse(srv.URL + "/admin/")
	c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: strings.Repeat("ab", 32), Path: "/admin"}})
	if resp, _ := get(t, c, srv.URL+"/admin/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("forged cookie: %d", resp.StatusCode)
	}
}

func TestLoginCSRFAndRateLimit(t *testing.T) {
	srv, _ := setup(t, Config{Password: "đúng"})
	c := client(t)
	// No CSRF token: refused even with the right password.
	resp, err := c.PostForm(srv.URL+"/admin/login", url.Values{"password": {"đúng"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without csrf: %d", resp.StatusCode)
	}
	for i := 0; i < maxFailures; i++ {
		if r := login(t, c, srv.URL, "sai"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, r.StatusCode)
		}
	}
	if r := login(t, c, srv.URL, "đúng"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: %d, want 429", maxFailures, r.StatusCode)
	}
}

// Concurrent wrong guesses from one address must not get past the limit
// while the slow password checks are running.
func TestLoginRateLimitHoldsUnderConcurrency(t *testing.T) {
	srv, _ := setup(t, Config{Password: "đúng"})
	const n = 4 * maxFailures
	type form struct {
		c    *http.Client
		csrf string
	}
	forms := make([]form, n)
	for i := range forms {
		c := client(t)
		_, body := get(t, c, srv.URL+"/admin/login")
		m := csrfRe.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no csrf on login page")
		}
		forms[i] = form{c, m[1]}
	}
	codes := make(chan int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, f := range forms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := f.c.PostForm(srv.URL+"/admin/login", url.Values{"csrf": {f.csrf}, "password": {"sai"}})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(codes)
	checked := 0
	for code := range codes {
		if code == http.StatusUnauthorized {
			checked++
		} else if code != http.StatusTooManyRequests {
			t.Errorf("unexpected status %d", code)
		}
	}
	if checked > maxFailures {
		t.Fatalf("%d passwords were checked concurrently, want at most %d", checked, maxFailures)
	}
}

func TestDashboardAfterLogin(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("bí mật"), bcrypt.MinCost)
	srv, db := setup(t, Config{PasswordHash: string(hash)})
	ctx := context.Background()
	at := testNow.Add(-time.Hour)
	for i := 0; i < 3; i++ {
		id, _ := db.RecordExchange(ctx, &storage.Exchange{UserKey: "web:a", Channel: "web", Question: "q", Band: "answer", EntryID: "dvc-khai-sinh", CreatedAt: at})
		v := 1
		if i == 2 {
			v = -1
		}
		if _, err := db.Rate(ctx, "web:a", id, v); err != nil {
			t.Fatal(err)
		}
		if v < 0 {
			db.SetRatingComment(ctx, "web:a", id, "<b>chưa rõ</b>")
		}
	}
	db.RecordExchange(ctx, &storage.Exchange{UserKey: "web:a", Channel: "web", Question: `<script>alert(1)</script>`, Normalized: "script alert 1", Band: "decline", CreatedAt: at})

	c := client(t)
	resp := login(t, c, srv.URL, "bí mật")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/" {
		t.Fatalf("login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			sc = ck
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v", sc)
	}

	r, body := get(t, c, srv.URL+"/admin/")
	if r.StatusCode != 200 || !strings.Contains(body, `id="weekly-chart"`) || !strings.Contains(body, `id="topic-chart"`) ||
		!strings.Contains(body, `<span id="answers-count">2/3</span>`) || !strings.Contains(body, "chưa đủ dữ liệu để kết luận: mới có 3 đánh giá, cần thêm ít nhất 27") {
		t.Fatalf("overview %d:\n%s", r.StatusCode, body)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	_, body = get(t, c, srv.URL+"/admin/unanswered?period=month")
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("unanswered page not escaped:\n%s", body)
	}
	_, body = get(t, c, srv.URL+"/admin/lowest?from=2026-08-01&to=2026-08-31")
	if strings.Contains(body, "<b>chưa rõ") || !strings.Contains(body, "&lt;b&gt;chưa rõ") {
		t.Fatalf("lowest page:\n%s", body)
	}
	r, body = get(t, c, srv.URL+"/admin/report?quarter=2026Q3&format=csv")
	if r.StatusCode != 200 || !strings.HasPrefix(body, "\uFEFF") || !strings.Contains(body, "Tỷ lệ hài lòng (%)") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "bao-cao-hai-long-2026Q3.csv") {
		t.Fatalf("csv %d %q", r.StatusCode, body[:min(len(body), 200)])
	}
	r, _ = get(t, c, srv.URL+"/admin/report?quarter=+2026-q3%09&format=csv")
	if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="bao-cao-hai-long-2026Q3.csv"` {
		t.Fatalf("file name from a loosely written quarter: %q", cd)
	}
	r, body = get(t, c, srv.URL+"/admin/report?quarter=2026Q3&format=xlsx")
	if r.StatusCode != 200 || !strings.HasPrefix(body, "PK") || !strings.Contains(r.Header.Get("Content-Disposition"), "bao-cao-hai-long-2026Q3.xlsx") ||
		r.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("xlsx %d %v", r.StatusCode, r.Header)
	}
	r, body = get(t, c, srv.URL+"/admin/report?quarter=2026Q3&format=html")
	if r.StatusCode != 200 || !strings.Contains(body, "Hạn nộp báo cáo") || !strings.Contains(body, "20/09/2026") {
		t.Fatalf("html report %d", r.StatusCode)
	}
	if r, _ := get(t, c, srv.URL+"/admin/report?quarter=2026Q9"); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad quarter: %d", r.StatusCode)
	}

	// Logout needs the session's CSRF token.
	_, body = get(t, c, srv.URL+"/admin/")
	m := csrfRe.FindStringSubmatch(body)
	resp, _ = c.PostForm(srv.URL+"/admin/logout", url.Values{"csrf": {"wrong"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout with a wrong token: %d", resp.StatusCode)
	}
	resp, _ = c.PostForm(srv.URL+"/admin/logout", url.Values{"csrf": {m[1]}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	// The old cookie no longer works.
	c2 := client(t)
	u, _ := url.Parse(srv.URL + "/admin/")
	c2.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sc.Value, Path: "/admin"}})
	if r, _ := get(t, c2, srv.URL+"/admin/"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("session survives logout: %d", r.StatusCode)
	}
}
