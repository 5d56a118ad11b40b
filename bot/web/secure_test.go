package web_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/web"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// TestStaticBadPathsAreNotFound: malformed percent-encoding and paths that
// decode to invalid UTF-8 or climb out of the folder answer 404, never 500;
// real files are still served.
func TestStaticBadPathsAreNotFound(t *testing.T) {
	env := newHardEnv(t, 600)
	srv := httptest.NewServer(env.mux)
	defer srv.Close()
	tests := []struct {
		path string
		want int
	}{
		{"/static/app.js", http.StatusOK},
		{"/static/app.css", http.StatusOK},
		{"/static/%ff", http.StatusNotFound},
		{"/static/%c0%ae%c0%ae/", http.StatusNotFound},
		{"/static/%c0%ae%c0%ae/%c0%ae%c0%ae/web.go", http.StatusNotFound},
		{"/static/a%80b.js", http.StatusNotFound},
		{"/static/%ed%a0%80.js", http.StatusNotFound}, // a UTF-16 surrogate
		{"/static/%00", http.StatusNotFound},
		{"/static/..%2fweb.go", http.StatusNotFound},
		{"/static/%2e%2e/web.go", http.StatusNotFound},
		{"/static/nope.js", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET %s = %d, want %d", tt.path, resp.StatusCode, tt.want)
			}
		})
	}
}

// TestSessionCookieSecure: the web chat cookie is Secure when the request
// came over TLS, or through a trusted proxy saying X-Forwarded-Proto:
// https; the header is ignored from anyone else.
func TestSessionCookieSecure(t *testing.T) {
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, hardNow)
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(context.Background(), t.TempDir()+"/web.db", storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mux := http.NewServeMux()
	web.New(web.Config{Engine: bot.New(bot.Config{Store: db}, base), Store: db, RatePerMinute: 600,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}).Routes(mux)
	tests := []struct {
		name, remote, proto string
		tls                 bool
		want                bool
	}{
		{"plain HTTP", "203.0.113.5:4000", "", false, false},
		{"TLS", "203.0.113.5:4000", "", true, true},
		{"trusted proxy, https", "10.0.0.2:4000", "https", false, true},
		{"trusted proxy, HTTPS upper case", "10.0.0.2:4000", "HTTPS", false, true},
		{"trusted proxy, chain starting with https", "10.0.0.2:4000", "https, http", false, true},
		{"trusted proxy, http", "10.0.0.2:4000", "http", false, false},
		{"trusted proxy, no header", "10.0.0.2:4000", "", false, false},
		{"untrusted peer claiming https", "203.0.113.5:4000", "https", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/message", bytes.NewReader([]byte(`{"text":"xin chào"}`)))
			req.RemoteAddr = tt.remote
			req.Header.Set("Content-Type", "application/json")
			if tt.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			cookies := rec.Result().Cookies()
			if rec.Code != http.StatusOK || len(cookies) != 1 {
				t.Fatalf("status %d, cookies %v", rec.Code, cookies)
			}
			c := cookies[0]
			if c.Secure != tt.want || !c.HttpOnly || !strings.HasPrefix(c.Name, "trolyso") {
				t.Errorf("cookie %s: Secure=%v HttpOnly=%v, want Secure=%v", c.Name, c.Secure, c.HttpOnly, tt.want)
			}
		})
	}
}
