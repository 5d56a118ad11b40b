package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/colecommune/trolyso/bot/web"
)

func TestChatRoundTrip(t *testing.T) {
	env := newHardEnv(t, 600)
	srv := httptest.NewServer(env.mux)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}

	page, err := c.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(page.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("page: %d, CSP %q", page.StatusCode, page.Header.Get("Content-Security-Policy"))
	}

	var lastRaw string
	send := func(body string) web.Response {
		t.Helper()
		resp, err := c.Post(srv.URL+"/api/message", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d for %s", resp.StatusCode, body)
		}
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		// Sent whole with its length, not chunked.
		if resp.ContentLength != int64(len(raw)) || len(resp.TransferEncoding) > 0 {
			t.Errorf("Content-Length %d, transfer encoding %v, body %d bytes", resp.ContentLength, resp.TransferEncoding, len(raw))
		}
		var r web.Response
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		lastRaw = string(raw)
		return r
	}
	ans := send(`{"text":"quen mat khau vneid"}`)
	if ans.Band != "answer" || ans.EntryID != "vneid-quen-mat-khau" || !strings.Contains(ans.HTML, "<ol>") || ans.ExchangeID == 0 {
		t.Fatalf("answer: %+v", ans)
	}
	// The reply's HTML is not escaped a second time inside the JSON.
	if !strings.Contains(lastRaw, `"html":"`) || !strings.Contains(lastRaw, "<ol>") {
		t.Errorf("raw reply: %.200s", lastRaw)
	}
	topic := send(`{"payload":"c:dvc"}`)
	found := false
	for _, row := range topic.Buttons {
		for _, b := range row {
			found = found || b.Payload == "e:dvc-khai-sinh"
		}
	}
	if !found {
		t.Errorf("topic dvc lacks dvc-khai-sinh: %+v", topic.Buttons)
	}
	second := send(`{"payload":"e:dvc-khai-sinh"}`)
	// Both exchanges belong to the same browser session, so the same user.
	a, err := env.db.Exchange(context.Background(), ans.ExchangeID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.db.Exchange(context.Background(), second.ExchangeID)
	if err != nil {
		t.Fatal(err)
	}
	if a.UserKey != b.UserKey || !strings.HasPrefix(a.UserKey, "web:") {
		t.Errorf("session not kept: %q vs %q", a.UserKey, b.UserKey)
	}
}

func TestAPIRejectsBadRequests(t *testing.T) {
	env := newHardEnv(t, 600)
	tests := []struct {
		name, ctype, body string
		status            int
	}{
		{"not json", "text/plain", `{"text":"a"}`, http.StatusUnsupportedMediaType},
		{"malformed", "application/json", `{"text":`, http.StatusBadRequest},
		{"too big", "application/json", `{"text":"` + strings.Repeat("a", 20000) + `"}`, http.StatusRequestEntityTooLarge},
		{"empty text", "application/json", `{}`, http.StatusOK},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.post("10.0.0."+string(rune('1'+i))+":1", tt.ctype, []byte(tt.body))
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Errorf("body is not JSON: %s", rec.Body)
			}
		})
	}
}

func TestClientAddrTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"direct client", "203.0.113.5:4000", "", trusted, "203.0.113.5"},
		{"untrusted peer's header ignored", "203.0.113.5:4000", "1.2.3.4", trusted, "203.0.113.5"},
		{"no trusted proxies configured", "10.0.0.2:4000", "1.2.3.4", nil, "10.0.0.2"},
		{"behind one proxy", "10.0.0.2:4000", "198.51.100.7", trusted, "198.51.100.7"},
		{"spoofed left-most entry", "10.0.0.2:4000", "6.6.6.6, 198.51.100.7", trusted, "198.51.100.7"},
		{"two proxies", "127.0.0.1:4000", "198.51.100.7, 10.1.2.3", trusted, "198.51.100.7"},
		{"garbage header", "10.0.0.2:4000", "not-an-ip", trusted, "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/message", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := web.ClientAddr(r, tt.trusted); got != tt.want {
				t.Errorf("ClientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}
