package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot/zalo"
	"github.com/colecommune/trolyso/cmd/trolyso/internal/bench"
)

// answerCounter is a fake platform API that notes, per chat, the replies
// that carry the title of the expected answer. A reply counts when its
// request arrives (a request cut by the kill may have been delivered by
// the real platform), then the API takes delay to answer, as a real one
// can.
type answerCounter struct {
	title string
	delay time.Duration
	mu    sync.Mutex
	per   map[string]int
}

func (c *answerCounter) note(chat, text string) {
	if !strings.Contains(text, c.title) {
		return
	}
	c.mu.Lock()
	c.per[chat]++
	c.mu.Unlock()
}

func (c *answerCounter) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.per))
	for k, v := range c.per {
		out[k] = v
	}
	return out
}

func (c *answerCounter) wait(r *http.Request) {
	select {
	case <-time.After(c.delay):
	case <-r.Context().Done():
	}
}

// fakeTelegram is a Bot API: getMe, setWebhook, sendMessage.
func fakeTelegram(t *testing.T, token string, c *answerCounter) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, _ := strings.CutPrefix(r.URL.Path, "/bot"+token+"/")
		_ = r.ParseMultipartForm(1 << 20)
		w.Header().Set("Content-Type", "application/json")
		switch method {
		case "getMe":
			fmt.Fprint(w, `{"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Bot","username":"cole_bot"}}`)
		case "sendMessage":
			chat := r.FormValue("chat_id")
			c.note(chat, r.FormValue("text"))
			c.wait(r)
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":%s,"type":"private"}}}`, chat)
		default:
			fmt.Fprint(w, `{"ok":true,"result":true}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// fakeZaloAPI is the OA API's customer-service message endpoint.
func fakeZaloAPI(t *testing.T, c *answerCounter) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Recipient struct {
				UserID string `json:"user_id"`
			} `json:"recipient"`
			Message struct {
				Text string `json:"text"`
			} `json:"message"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &req)
		if r.URL.Path == zalo.PathCSMessage {
			c.note(req.Recipient.UserID, req.Message.Text)
			c.wait(r)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"error":0,"message":"Success","data":{"message_id":"m1"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSIGKILLLosesNoAcknowledgedMessage acknowledges N Telegram webhook
// updates and N Zalo events (each from its own chat), kills `trolyso
// serve` with SIGKILL right after the last acknowledgement, while most
// replies are still waiting for the slow platform APIs, restarts it on the
// same database, and lets Zalo re-send every event: every acknowledged
// message is answered once, or at worst twice, never zero times.
func TestSIGKILLLosesNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	const n = 60
	const token, secret = "4242:crashTOKEN", "crash-secret"
	const appID, oaKey = "4242", "crash-oa-key"
	base, err := bench.Shipped(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	entry, ok := base.Entry("vneid-quen-mat-khau")
	if !ok {
		t.Fatal("no entry vneid-quen-mat-khau")
	}
	const question = "quên mật khẩu vneid"
	tg := &answerCounter{title: entry.Title, delay: 150 * time.Millisecond, per: map[string]int{}}
	za := &answerCounter{title: entry.Title, delay: 300 * time.Millisecond, per: map[string]int{}}
	tgURL, zaURL := fakeTelegram(t, token, tg), fakeZaloAPI(t, za)
	env := []string{
		"TELEGRAM_BOT_TOKEN=" + token, "TELEGRAM_API_URL=" + tgURL,
		"TELEGRAM_WEBHOOK_URL=https://bot.example.vn/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET=" + secret,
		"ZALO_APP_ID=" + appID, "ZALO_OA_SECRET_KEY=" + oaKey, "ZALO_ACCESS_TOKEN=crash-access",
		"ZALO_API_URL=" + zaURL, "ZALO_OAUTH_URL=" + zaURL,
	}
	dbPath := filepath.Join(t.TempDir(), "crash.db")
	srv := startChild(t, dbPath, env...)

	tgBody := func(i int) string {
		chat := 700000 + i
		return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":1,"date":%d,"chat":{"id":%d,"type":"private","first_name":"Dân"},"from":{"id":%d,"is_bot":false,"first_name":"Dân"},"text":%q}}`,
			1000+i, time.Now().Unix(), chat, chat, question)
	}
	ts := fmt.Sprint(time.Now().UnixMilli())
	zaBodies := make([]string, n)
	for i := range n {
		zaBodies[i] = fmt.Sprintf(`{"app_id":%q,"user_id_by_app":"9%d","event_name":"user_send_text","timestamp":%q,"sender":{"id":"%d"},"recipient":{"id":"1"},"message":{"msg_id":"crash-%d","text":%q}}`,
			appID, i, ts, 800000+i, i, question)
	}
	post := func(base, path, body string, hdr map[string]string) (int, error) {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	postZalo := func(base string, i int) (int, error) {
		return post(base, "/zalo/webhook", zaBodies[i], map[string]string{zalo.SignatureHeader: zalo.Signature(appID, []byte(zaBodies[i]), ts, oaKey)})
	}

	// Deliver everything from 8 connections at once, noting the
	// acknowledgements; then SIGKILL at once.
	var mu sync.Mutex
	var tgAcked, zaAcked []string
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if st, err := post(srv.URL, "/telegram/webhook", tgBody(i), map[string]string{"X-Telegram-Bot-Api-Secret-Token": secret}); err == nil && st == http.StatusOK {
					mu.Lock()
					tgAcked = append(tgAcked, fmt.Sprint(700000+i))
					mu.Unlock()
				}
				if st, err := postZalo(srv.URL, i); err == nil && st == http.StatusOK {
					mu.Lock()
					zaAcked = append(zaAcked, fmt.Sprint(800000+i))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	srv.Kill()
	tgAtKill, zaAtKill := tg.counts(), za.counts()
	if len(tgAcked) != n || len(zaAcked) != n {
		t.Fatalf("acknowledged %d Telegram updates and %d Zalo events of %d each\n%s", len(tgAcked), len(zaAcked), n, srv.Logs())
	}
	unanswered := func(acked []string, got map[string]int) int {
		k := 0
		for _, c := range acked {
			if got[c] == 0 {
				k++
			}
		}
		return k
	}
	tgLeft, zaLeft := unanswered(tgAcked, tgAtKill), unanswered(zaAcked, zaAtKill)
	t.Logf("at the kill: %d of %d Telegram and %d of %d Zalo acknowledged messages not yet answered", tgLeft, n, zaLeft, n)
	if tgLeft == 0 || zaLeft == 0 {
		t.Fatalf("every reply went out before the kill: the test did not exercise a crash")
	}

	// Restart on the same file: the pending messages are answered first.
	srv2 := startChild(t, dbPath, env...)
	deadline := time.Now().Add(90 * time.Second)
	for unanswered(tgAcked, tg.counts())+unanswered(zaAcked, za.counts()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart, %d Telegram and %d Zalo acknowledged messages are still unanswered\n%s",
				unanswered(tgAcked, tg.counts()), unanswered(zaAcked, za.counts()), srv2.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Zalo re-sends every event (it did not know whether they arrived):
	// each is acknowledged and none answered again.
	before := za.counts()
	for i := range n {
		if st, err := postZalo(srv2.URL, i); err != nil || st != http.StatusOK {
			t.Fatalf("re-sent Zalo event %d: status %d, %v", i, st, err)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	if err := srv2.Signal(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Errorf("SIGTERM after restart: %v", err)
	}
	after := za.counts()
	for c, k := range after {
		if k != before[c] {
			t.Errorf("Zalo user %s answered again after the re-send (%d → %d)", c, before[c], k)
		}
	}
	twice := 0
	for name, r := range map[string]struct {
		acked []string
		got   map[string]int
	}{"Telegram": {tgAcked, tg.counts()}, "Zalo": {zaAcked, after}} {
		for _, c := range r.acked {
			switch k := r.got[c]; {
			case k == 0 || k > 2:
				t.Errorf("%s chat %s answered %d times, want 1 or 2", name, c, k)
			case k == 2:
				twice++
			}
		}
	}
	t.Logf("after the restart: every one of the %d messages answered; %d of them twice", 2*n, twice)
}
