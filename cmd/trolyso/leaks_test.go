package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot/zalo"
)

// brokenAPI plays the Telegram Bot API, the Zalo OA API and an
// OpenAI-compatible model API at once, all misbehaving the same way.
type brokenAPI struct {
	mode    string // "hang", "fail" or "ratelimit"
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	calls   map[string]int
}

func (b *brokenAPI) unblock() { b.once.Do(func() { close(b.release) }) }

func (b *brokenAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	b.mu.Lock()
	b.calls[r.URL.Path]++
	b.mu.Unlock()
	// Start-up calls succeed, so that the channels come up; everything
	// that carries a resident's reply misbehaves.
	switch {
	case strings.HasSuffix(r.URL.Path, "/getMe"):
		fmt.Fprint(w, `{"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Bot","username":"cole_bot"}}`)
		return
	case strings.HasSuffix(r.URL.Path, "/setWebhook"), strings.HasSuffix(r.URL.Path, "/deleteWebhook"), strings.HasSuffix(r.URL.Path, "/setMyCommands"):
		fmt.Fprint(w, `{"ok":true,"result":true}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch b.mode {
	case "hang":
		select {
		case <-r.Context().Done():
		case <-b.release:
		}
		return
	case "ratelimit":
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		if strings.HasPrefix(r.URL.Path, "/bot") {
			fmt.Fprint(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`)
		} else if strings.HasPrefix(r.URL.Path, "/v1/") {
			fmt.Fprint(w, `{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}`)
		} else {
			fmt.Fprint(w, `{"error":-32,"message":"Request exceeds rate limit"}`)
		}
	default: // fail
		w.WriteHeader(http.StatusInternalServerError)
		if strings.HasPrefix(r.URL.Path, "/bot") {
			fmt.Fprint(w, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
		} else {
			fmt.Fprint(w, `{"error":{"message":"internal error"}}`)
		}
	}
}

// settledGoroutines waits (at most wait) for the goroutine count to drop
// to at most want and returns the last count.
func settledGoroutines(want int, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBrokenUpstreamsNoLeaks runs the whole server with Telegram (webhook),
// Zalo and composed answers pointed at an API that hangs, fails or
// rate-limits. Web residents are still answered (composed answers fall
// back to the knowledge-base text), webhooks are acknowledged, the server
// stops, and no goroutine outlives it.
func TestBrokenUpstreamsNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server three times")
	}
	for _, mode := range []string{"fail", "ratelimit", "hang"} {
		t.Run(mode, func(t *testing.T) {
			api := &brokenAPI{mode: mode, release: make(chan struct{}), calls: map[string]int{}}
			fake := httptest.NewServer(api)
			tr := &http.Transport{}
			client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
			baseline := settledGoroutines(0, 200*time.Millisecond)

			const token = "999:tok"
			cfg := &Config{
				Addr: "127.0.0.1:0", DB: t.TempDir() + "/leak.db", MaxLen: 1000, WebRate: 1000,
				Telegram: TelegramConfig{Token: token, APIURL: fake.URL, WebhookURL: "https://bot.example.vn/tg/hook", WebhookSecret: "s3cret"},
				Zalo: ZaloConfig{AppID: "42", OASecretKey: "oakey", AccessToken: "tok", APIURL: fake.URL, OAuthURL: fake.URL,
					MaxEventAge: 10 * time.Minute, Window: 7 * 24 * time.Hour},
				LLM: LLMConfig{BaseURL: fake.URL + "/v1", APIKey: "sk-test", Model: "test-model", Timeout: 700 * time.Millisecond},
			}
			a := &app{getenv: func(string) string { return "" }, now: time.Now, log: slog.New(slog.DiscardHandler),
				stdout: io.Discard, stderr: io.Discard}
			addr, stop := startServe(t, a, cfg)

			// Web residents: answered despite the model API.
			for _, q := range []string{"quên mật khẩu vneid", "đăng ký chữ ký số cá nhân", "xin chào"} {
				b, _ := json.Marshal(map[string]string{"text": q})
				t0 := time.Now()
				resp, err := client.Post("http://"+addr+"/api/message", "application/json", bytes.NewReader(b))
				if err != nil {
					t.Fatalf("web: %v", err)
				}
				var wr struct{ Band, Text string }
				json.NewDecoder(resp.Body).Decode(&wr)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || wr.Text == "" {
					t.Errorf("web %q: status %d, reply %+v", q, resp.StatusCode, wr)
				}
				if d := time.Since(t0); d > 5*time.Second {
					t.Errorf("web %q took %v with the model API %s", q, d, mode)
				}
			}
			// Telegram and Zalo webhooks: acknowledged at once; the
			// reply is attempted in the background.
			tg := `{"update_id":5,"message":{"message_id":3,"date":1,"chat":{"id":77,"type":"private"},"from":{"id":77,"is_bot":false,"first_name":"A"},"text":"quên mật khẩu vneid"}}`
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/tg/hook", strings.NewReader(tg))
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret")
			if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("telegram webhook: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			ts := fmt.Sprint(time.Now().UnixMilli())
			zb := `{"app_id":"42","user_id_by_app":"1","event_name":"user_send_text","timestamp":"` + ts +
				`","sender":{"id":"777"},"recipient":{"id":"9"},"message":{"msg_id":"m1","text":"quên mật khẩu vneid"}}`
			req, _ = http.NewRequest(http.MethodPost, "http://"+addr+"/zalo/webhook", strings.NewReader(zb))
			req.Header.Set(zalo.SignatureHeader, zalo.Signature("42", []byte(zb), ts, "oakey"))
			if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("zalo webhook: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			// Let the channels reach the broken API.
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				api.mu.Lock()
				reached := api.calls["/bot"+token+"/sendMessage"] > 0 && api.calls[zalo.PathCSMessage] > 0
				api.mu.Unlock()
				if reached {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}

			if mode == "fail" {
				// Failed replies show in /metrics for operators.
				want := []string{`trolyso_delivery_failures_total{channel="telegram",reason="error"} `, `trolyso_delivery_failures_total{channel="zalo",reason="error"} `}
				var body string
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
					resp, err := client.Get("http://" + addr + "/metrics")
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					body = string(b)
					if counted(body, want[0]) && counted(body, want[1]) {
						break
					}
				}
				for _, w := range want {
					if !counted(body, w) {
						t.Errorf("/metrics does not count the failed delivery %s", w)
					}
				}
				if !counted(body, `trolyso_llm_fallbacks_total{reason="`) {
					t.Errorf("/metrics does not count the model fallbacks")
				}
			}
			t0 := time.Now()
			if err := stop(); err != nil {
				t.Fatalf("serve: %v", err)
			}
			t.Logf("%s: stopped in %v; API calls %v", mode, time.Since(t0).Round(time.Millisecond), api.calls)
			api.unblock()
			tr.CloseIdleConnections()
			fake.Close()
			if n := settledGoroutines(baseline, 5*time.Second); n > baseline {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines after the server stopped, %d before:\n%s", n, baseline, buf)
			}
		})
	}
}

// counted reports whether the exposition has a series starting with
// prefix whose value is not zero.
func counted(exposition, prefix string) bool {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			if i := strings.LastIndexByte(rest, ' '); i >= 0 {
				rest = rest[i+1:]
			}
			if rest != "0" && rest != "" {
				return true
			}
		}
	}
	return false
}
