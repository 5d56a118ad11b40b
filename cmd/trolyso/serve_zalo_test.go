package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot/zalo"
)

func TestZaloConfigValidation(t *testing.T) {
	base := map[string]string{"TROLYSO_DB": "x.db"}
	tests := []configCase{
		{"off", nil, ""},
		{"complete", map[string]string{"ZALO_APP_ID": "1", "ZALO_OA_SECRET_KEY": "k", "ZALO_APP_SECRET": "s", "ZALO_REFRESH_TOKEN": "r"}, ""},
		{"no OA key", map[string]string{"ZALO_APP_ID": "1", "ZALO_ACCESS_TOKEN": "a"}, "ZALO_OA_SECRET_KEY"},
		{"no tokens", map[string]string{"ZALO_APP_ID": "1", "ZALO_OA_SECRET_KEY": "k"}, "ZALO_ACCESS_TOKEN"},
		{"refresh without app secret", map[string]string{"ZALO_APP_ID": "1", "ZALO_OA_SECRET_KEY": "k", "ZALO_REFRESH_TOKEN": "r"}, "ZALO_APP_SECRET"},
		{"bad window", map[string]string{"ZALO_WINDOW": "a week"}, "ZALO_WINDOW"},
		{"negative age", map[string]string{"ZALO_EVENT_MAX_AGE": "-1m"}, "ZALO_EVENT_MAX_AGE"},
		{"bad API URL", map[string]string{"ZALO_API_URL": "openapi.zalo.me"}, "ZALO_API_URL"},
		{"admin ids", map[string]string{"TROLYSO_ADMIN_ZALO_IDS": "8436473867424781246, 12,"}, ""},
		{"bad admin id", map[string]string{"TROLYSO_ADMIN_ZALO_IDS": "8436473867424781246, zalo:12"}, "TROLYSO_ADMIN_ZALO_IDS"},
	}
	checkConfig(t, base, tests)

	a := &app{getenv: func(k string) string {
		return map[string]string{"TROLYSO_DB": "x.db", "TROLYSO_ADMIN_ZALO_IDS": " 8436473867424781246 ,,12"}[k]
	}}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Zalo.AdminIDs, "|"); got != "8436473867424781246|12" {
		t.Fatalf("TROLYSO_ADMIN_ZALO_IDS parsed as %q", got)
	}
}

// TestServeZalo runs serve with the Zalo channel pointed at a fake OA API:
// a signed event in, a reply out, and the sender registered for reminders.
func TestServeZalo(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != zalo.PathCSMessage || r.Header.Get("access_token") != "tok" {
			json.NewEncoder(w).Encode(map[string]any{"error": -216, "message": "Access token is invalid"})
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"error": 0, "message": "Success"})
	}))
	defer api.Close()

	cfg := &Config{
		Addr:   "127.0.0.1:0",
		DB:     t.TempDir() + "/t.db",
		MaxLen: 1000,
		Zalo: ZaloConfig{AppID: "42", OASecretKey: "oakey", AccessToken: "tok", APIURL: api.URL, OAuthURL: api.URL,
			MaxEventAge: 10 * time.Minute, Window: 7 * 24 * time.Hour},
		LLM: LLMConfig{Timeout: time.Second},
	}
	addr, stop := startServe(t, quietApp(t), cfg)
	ts := fmt.Sprint(time.Now().UnixMilli())
	body := `{"app_id":"42","user_id_by_app":"1","event_name":"user_send_text","timestamp":"` + ts +
		`","sender":{"id":"777"},"recipient":{"id":"9"},"message":{"msg_id":"m1","text":"xin chào"}}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/zalo/webhook", strings.NewReader(body))
	req.Header.Set(zalo.SignatureHeader, zalo.Signature("42", []byte(body), ts, "oakey"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook status %d", resp.StatusCode)
	}
	waitUntil(t, "a reply sent to the fake Zalo API", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(bodies) > 0
	})
	mu.Lock()
	if !strings.Contains(bodies[0], `"user_id":"777"`) {
		t.Errorf("reply = %s", bodies[0])
	}
	mu.Unlock()
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
}
