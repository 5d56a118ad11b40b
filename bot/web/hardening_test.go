package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/web"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

var hardNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

type hardEnv struct {
	db  *storage.DB
	mux *http.ServeMux
}

// newHardEnv wires the web chat to a real engine and a real SQLite file.
func newHardEnv(tb testing.TB, perMinute int) *hardEnv {
	tb.Helper()
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		tb.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, hardNow)
	if err != nil {
		tb.Fatal(err)
	}
	db, err := storage.Open(context.Background(), tb.TempDir()+"/web.db", storage.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	eng := bot.New(bot.Config{Store: db}, base)
	mux := http.NewServeMux()
	// A frozen clock: the rate limiter never refills during a test, so
	// the limit test does not depend on the machine's speed.
	web.New(web.Config{Engine: eng, Store: db, RatePerMinute: perMinute, Now: func() time.Time { return hardNow }}).Routes(mux)
	return &hardEnv{db: db, mux: mux}
}

// post sends one API request from remote address addr.
func (e *hardEnv) post(addr, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/message", bytes.NewReader(body))
	req.RemoteAddr = addr
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec
}

func jsonBody(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// storedText returns every text column of the exchanges table.
func (e *hardEnv) storedText(tb testing.TB) []string {
	tb.Helper()
	rows, err := e.db.Reader().Query(`SELECT question, normalized, entry_id, candidates FROM exchanges`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var q, n, id, c string
		if err := rows.Scan(&q, &n, &id, &c); err != nil {
			tb.Fatal(err)
		}
		out = append(out, q, n, id, c)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// digitsOnly folds s (NFKC, so fullwidth digits become ASCII), drops
// everything but ASCII digits and letters-free separators, and returns the
// runs of digits a reader would see, with invisible characters ignored.
func readableDigits(s string) string {
	s = norm.NFKC.String(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Mn, r) || unicode.IsControl(r):
			return -1 // invisible: does not separate digits for a reader
		case r == ' ' || r == '.' || r == '-':
			return -1 // separators people put inside numbers
		default:
			return '|'
		}
	}, s)
}

const (
	secretID    = "001203004567"
	secretPhone = "0987654321"
)

// TestBadInputThroughAPI sends hostile messages through POST /api/message:
// each gets a polite reply or a 4xx, never a 5xx, and no identity or phone
// number sent inside them is stored unredacted.
func TestBadInputThroughAPI(t *testing.T) {
	env := newHardEnv(t, 1_000_000)
	junk := make([]byte, 600)
	for i := range junk {
		junk[i] = byte(i*7 + 3)
	}
	tests := []struct {
		name        string
		contentType string
		body        []byte
		wantStatus  int
	}{
		{"over-long message", "application/json", jsonBody(t, map[string]string{"text": strings.Repeat("quên mật khẩu ", 500) + secretID}), http.StatusOK},
		{"over-long body", "application/json", jsonBody(t, map[string]string{"text": strings.Repeat("a", 20<<10)}), http.StatusRequestEntityTooLarge},
		{"10000 emoji", "application/json", jsonBody(t, map[string]string{"text": strings.Repeat("😀", 10_000)}), http.StatusRequestEntityTooLarge},
		{"1000 emoji and an id", "application/json", jsonBody(t, map[string]string{"text": strings.Repeat("😭", 990) + " " + secretID}), http.StatusOK},
		{"invalid utf-8", "application/json", []byte("{\"text\":\"qu\xc3\xaan m\xff\xfet kh\xe1\xba\xa9u " + secretPhone + "\"}"), http.StatusOK},
		{"invalid utf-8 inside the number", "application/json", []byte("{\"text\":\"cccd 0012\xff03004567 \xc0\xaf\"}"), http.StatusOK},
		{"binary junk", "application/json", junk, http.StatusBadRequest},
		{"binary junk as text", "application/json", jsonBody(t, map[string]string{"text": string(junk) + " sđt " + secretPhone}), http.StatusOK},
		{"control characters", "application/json", jsonBody(t, map[string]string{"text": "\x00\x01\x1b[31mvneid\x07 " + secretID}), http.StatusOK},
		{"sql injection", "application/json", jsonBody(t, map[string]string{"text": "'; DROP TABLE exchanges; -- " + secretID}), http.StatusOK},
		{"sql injection union", "application/json", jsonBody(t, map[string]string{"text": "\" OR 1=1 UNION SELECT key, value FROM settings -- " + secretPhone}), http.StatusOK},
		{"html injection", "application/json", jsonBody(t, map[string]string{"text": `<script>alert(document.cookie)</script><img src=x onerror=alert(1)> ` + secretPhone}), http.StatusOK},
		{"markdown link injection", "application/json", jsonBody(t, map[string]string{"text": `[bấm](javascript:alert(1)) **x** ` + secretID}), http.StatusOK},
		{"payload injection", "application/json", jsonBody(t, map[string]string{"payload": "e:../../etc/passwd'--"}), http.StatusOK},
		{"over-long payload", "application/json", jsonBody(t, map[string]string{"payload": strings.Repeat("r:", 500)}), http.StatusOK},
		{"fullwidth digits", "application/json", jsonBody(t, map[string]string{"text": "căn cước ００１２０３００４５６７"}), http.StatusOK},
		{"zero-width separators", "application/json", jsonBody(t, map[string]string{"text": "sđt 0987\u200b654\u200d321 cần đổi"}), http.StatusOK},
		{"not json", "text/plain", []byte("quên mật khẩu"), http.StatusUnsupportedMediaType},
		{"truncated json", "application/json", []byte(`{"text":"abc`), http.StatusBadRequest},
		{"json array", "application/json", []byte(`[1,2,3]`), http.StatusBadRequest},
		{"trailing json ignored", "application/json", []byte(`{"text":"vneid"} {"text":"x"}`), http.StatusOK},
		{"empty body", "application/json", nil, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.post("192.0.2.1:1234", tt.contentType, tt.body)
			if rec.Code >= 500 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d: %.200s", rec.Code, tt.wantStatus, rec.Body)
			}
			if !utf8.Valid(rec.Body.Bytes()) {
				t.Errorf("response is not valid UTF-8")
			}
			var resp struct {
				Band, HTML, Text, Error string
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("response is not JSON: %v: %.200s", err, rec.Body)
			}
			if rec.Code == http.StatusOK {
				if resp.Text == "" || resp.Band == "" {
					t.Errorf("empty reply: %+v", resp)
				}
			} else if resp.Error == "" {
				t.Errorf("error response without a Vietnamese message: %s", rec.Body)
			}
			for _, bad := range []string{"<script", "<img", "javascript:"} {
				if strings.Contains(resp.HTML, bad) {
					t.Errorf("reply HTML holds %q unescaped: %s", bad, resp.HTML)
				}
			}
		})
	}
	rows := env.storedText(t)
	if len(rows) == 0 {
		t.Fatal("no exchange stored at all")
	}
	for _, s := range rows {
		if !utf8.ValidString(s) {
			t.Errorf("stored text is invalid UTF-8: %q", s)
		}
		for _, secret := range []string{secretID, secretPhone} {
			if strings.Contains(readableDigits(s), secret) {
				t.Errorf("exchanges table holds %s unredacted: %q", secret, s)
			}
		}
	}
	var n int
	if err := env.db.Reader().QueryRow(`SELECT count(*) FROM exchanges`).Scan(&n); err != nil {
		t.Fatalf("exchanges table damaged: %v", err)
	}
}

// TestRateLimitPerClient: one address over its budget gets 429 with a
// Vietnamese message and Retry-After; another address is still served.
func TestRateLimitPerClient(t *testing.T) {
	const perMin = 60 // burst perMin/3 = 20
	env := newHardEnv(t, perMin)
	body := jsonBody(t, map[string]string{"text": "xin chào"})
	limited := 0
	for i := 0; i < 21; i++ {
		rec := env.post("198.51.100.7:5000", "application/json", body)
		switch rec.Code {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			limited++
			var e struct{ Error string }
			json.Unmarshal(rec.Body.Bytes(), &e)
			if !strings.Contains(e.Error, "Bạn gửi nhanh quá") {
				t.Errorf("429 message = %q, want the Vietnamese one", e.Error)
			}
			if rec.Header().Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		default:
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
	}
	if limited != 1 {
		t.Errorf("%d of 21 requests limited, want exactly the 21st", limited)
	}
	if rec := env.post("198.51.100.8:5000", "application/json", body); rec.Code != http.StatusOK {
		t.Errorf("another address got %d", rec.Code)
	}
	// A different port of the limited address is the same client.
	if rec := env.post("198.51.100.7:6000", "application/json", body); rec.Code != http.StatusTooManyRequests {
		t.Errorf("same address, other port got %d, want 429", rec.Code)
	}
}

// FuzzMessageAPI sends arbitrary bodies to POST /api/message (seeds in
// testdata/fuzz/FuzzMessageAPI): never a 5xx or a panic, always JSON.
func FuzzMessageAPI(f *testing.F) {
	env := newHardEnv(f, 1_000_000)
	for _, s := range []string{`{"text":"quên mật khẩu vneid"}`, `{"payload":"c:vneid"}`, `{"payload":"e:vneid-quen-mat-khau"}`,
		`{"text":"/start"}`, `{"text":"/help"}`, `{"payload":"m"}`, `{"text":null}`, `{"text":1}`, `{}`, `null`, `"x"`,
		`{"text":"\u0000\ud800"}`, `{"text":"a","text":"b"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := env.post("203.0.113.9:1", "application/json", body)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("response not JSON for %q: %q", body, rec.Body)
		}
		io.Copy(io.Discard, rec.Body)
	})
}
