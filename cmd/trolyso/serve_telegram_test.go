package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTelegramConfigValidation(t *testing.T) {
	base := map[string]string{"TROLYSO_DB": "x.db"}
	tests := []configCase{
		{"off", nil, ""},
		{"polling", map[string]string{"TELEGRAM_BOT_TOKEN": "1:t"}, ""},
		{"webhook", map[string]string{"TELEGRAM_BOT_TOKEN": "1:t", "TELEGRAM_WEBHOOK_URL": "https://x.vn/tg/hook", "TELEGRAM_WEBHOOK_SECRET": "abc_DEF-1"}, ""},
		{"webhook without secret", map[string]string{"TELEGRAM_BOT_TOKEN": "1:t", "TELEGRAM_WEBHOOK_URL": "https://x.vn/hook"}, "TELEGRAM_WEBHOOK_SECRET"},
		{"bad secret", map[string]string{"TELEGRAM_BOT_TOKEN": "1:t", "TELEGRAM_WEBHOOK_URL": "https://x.vn/hook", "TELEGRAM_WEBHOOK_SECRET": "a b"}, "TELEGRAM_WEBHOOK_SECRET"},
		{"bad path", map[string]string{"TELEGRAM_BOT_TOKEN": "1:t", "TELEGRAM_WEBHOOK_URL": "https://x.vn/a%20b/{x}", "TELEGRAM_WEBHOOK_SECRET": "s"}, "path"},
		{"path taken by Zalo", map[string]string{"TELEGRAM_BOT_TOKEN": "1:t", "TELEGRAM_WEBHOOK_URL": "https://x.vn/zalo/webhook", "TELEGRAM_WEBHOOK_SECRET": "s"}, "path"},
		{"path taken by the web chat", map[string]string{"TELEGRAM_BOT_TOKEN": "1:t", "TELEGRAM_WEBHOOK_URL": "https://x.vn/api/message", "TELEGRAM_WEBHOOK_SECRET": "s"}, "path"},
		{"path taken by admin", map[string]string{"TELEGRAM_BOT_TOKEN": "1:t", "TELEGRAM_WEBHOOK_URL": "https://x.vn/admin/login", "TELEGRAM_WEBHOOK_SECRET": "s"}, "path"},
		{"path with prefix only", map[string]string{"TELEGRAM_BOT_TOKEN": "1:t", "TELEGRAM_WEBHOOK_URL": "https://x.vn/zalo-tg/hook", "TELEGRAM_WEBHOOK_SECRET": "s"}, ""},
		{"webhook without token", map[string]string{"TELEGRAM_WEBHOOK_URL": "https://x.vn/hook", "TELEGRAM_WEBHOOK_SECRET": "s"}, "TELEGRAM_BOT_TOKEN"},
		{"bad API URL", map[string]string{"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL"},
		{"bad admin id", map[string]string{"TROLYSO_ADMIN_TELEGRAM_IDS": "12, abc"}, "TROLYSO_ADMIN_TELEGRAM_IDS"},
	}
	checkConfig(t, base, tests)
}

// TestServeTelegramWebhook runs serve with the Telegram channel in webhook
// mode against a fake Bot API: setWebhook at start, the webhook mounted on
// the server's mux (401 without the secret), an update in, a reply out, and
// the sender registered for reminders.
func TestServeTelegramWebhook(t *testing.T) {
	const token = "999:tok"
	var mu sync.Mutex
	var methods, texts []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, ok := strings.CutPrefix(r.URL.Path, "/bot"+token+"/")
		if !ok {
			fmt.Fprint(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
			return
		}
		_ = r.ParseMultipartForm(1 << 20) // empty bodies fail with EOF
		mu.Lock()
		methods = append(methods, method)
		if method == "sendMessage" {
			texts = append(texts, r.FormValue("text"))
		}
		mu.Unlock()
		switch method {
		case "getMe":
			fmt.Fprint(w, `{"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Bot","username":"cole_bot"}}`)
		case "sendMessage":
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":%s,"type":"private"}}}`, r.FormValue("chat_id"))
		default:
			fmt.Fprint(w, `{"ok":true,"result":true}`)
		}
	}))
	defer api.Close()

	cfg := &Config{
		Addr:   "127.0.0.1:0",
		DB:     t.TempDir() + "/t.db",
		MaxLen: 1000,
		Telegram: TelegramConfig{Token: token, APIURL: api.URL, WebhookURL: "https://bot.example.vn/tg/hook",
			WebhookSecret: "s3cret", AdminIDs: []int64{1}},
		LLM: LLMConfig{Timeout: time.Second},
	}
	addr, stop := startServe(t, quietApp(t), cfg)
	post := func(secret string) int {
		body := `{"update_id":5,"message":{"message_id":3,"date":1,"chat":{"id":77,"type":"private"},"from":{"id":77,"is_bot":false,"first_name":"A"},"text":"/start"}}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/tg/hook", strings.NewReader(body))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(""); got != http.StatusUnauthorized {
		t.Errorf("no secret: status %d, want 401", got)
	}
	if got := post("s3cret"); got != http.StatusOK {
		t.Errorf("right secret: status %d, want 200", got)
	}
	waitUntil(t, "a reply sent to the fake Bot API", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(texts) > 0
	})
	mu.Lock()
	if !strings.Contains(strings.Join(methods, ","), "setWebhook") || len(texts) != 1 || !strings.Contains(texts[0], "trợ lý số") {
		t.Errorf("methods %v, texts %q", methods, texts)
	}
	mu.Unlock()
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
}
