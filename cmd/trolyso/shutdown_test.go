package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/colecommune/trolyso/cmd/trolyso/internal/bench"
)

// TestSIGTERMFinishesInFlightReplies sends SIGTERM to `trolyso serve`
// while a web question waits for a slow model and a Telegram reply waits
// for a slow Bot API: both replies are still delivered, and the process
// exits cleanly.
func TestSIGTERMFinishesInFlightReplies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	var modelCalls atomic.Int32
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		modelCalls.Add(1)
		time.Sleep(1500 * time.Millisecond) // slow, but within the timeout
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Bạn mở ứng dụng VNeID, chọn **Quên mật khẩu** và làm theo hướng dẫn."}}],"usage":{"prompt_tokens":10,"completion_tokens":10,"total_tokens":20}}`)
	}))
	defer model.Close()
	api, err := bench.NewFakeBotAPI(benchToken)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	api.Delay = func() time.Duration { return 1500 * time.Millisecond }

	srv := startChild(t, filepath.Join(t.TempDir(), "term.db"),
		"OPENAI_BASE_URL="+model.URL+"/v1", "OPENAI_API_KEY=sk-test", "TROLYSO_LLM_MODEL=test-model", "TROLYSO_LLM_TIMEOUT=10s",
		"TELEGRAM_BOT_TOKEN="+benchToken, "TELEGRAM_API_URL="+api.URL(),
		"TELEGRAM_WEBHOOK_URL=https://bot.example.vn/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET=s3cret")

	type webResult struct {
		status int
		text   string
		err    error
	}
	webc := make(chan webResult, 1)
	go func() {
		b, _ := json.Marshal(map[string]string{"text": "quên mật khẩu vneid"})
		resp, err := http.Post(srv.URL+"/api/message", "application/json", bytes.NewReader(b))
		if err != nil {
			webc <- webResult{err: err}
			return
		}
		defer resp.Body.Close()
		var wr struct{ Text string }
		json.NewDecoder(resp.Body).Decode(&wr)
		webc <- webResult{status: resp.StatusCode, text: wr.Text}
	}()
	tg := `{"update_id":5,"message":{"message_id":3,"date":1,"chat":{"id":77,"type":"private"},"from":{"id":77,"is_bot":false,"first_name":"A"},"text":"/start"}}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/telegram/webhook", strings.NewReader(tg))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("telegram webhook: %v %v", resp, err)
	}
	resp.Body.Close()

	// Both replies are now in flight: the model and the Bot API are slow.
	deadline := time.Now().Add(5 * time.Second)
	for modelCalls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if modelCalls.Load() == 0 {
		t.Fatal("the question never reached the model")
	}
	t0 := time.Now()
	if err := srv.Signal(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, srv.Logs())
	}
	t.Logf("exited %v after SIGTERM", time.Since(t0).Round(time.Millisecond))
	select {
	case r := <-webc:
		if r.err != nil || r.status != http.StatusOK || r.text == "" {
			t.Errorf("in-flight web reply lost: %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Error("no web reply")
	}
	if api.Sends() == 0 {
		t.Errorf("in-flight Telegram reply was not sent before exit\n%s", srv.Logs())
	}
	if !strings.Contains(srv.Logs(), "shutting down") {
		t.Errorf("no shutdown log:\n%s", srv.Logs())
	}
}
