package main

import (
	"context"
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

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/zalo"
	"github.com/colecommune/trolyso/cmd/trolyso/internal/bench"
	"github.com/colecommune/trolyso/storage"
)

// answerCounter is a fake platform API that counts, per chat, the replies
// carrying the title of the expected answer, twice: when the request
// arrives (the real platform may deliver a request whose sender died
// waiting: an upper bound) and when the answer to it is written (surely
// delivered: a lower bound). Until released it holds every reply, as an API
// that has not answered yet: no reply can complete before the kill,
// however slow the machine.
type answerCounter struct {
	title   string
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	arrived map[string]int
	done    map[string]int
}

func newAnswerCounter(title string) *answerCounter {
	return &answerCounter{title: title, release: make(chan struct{}), arrived: map[string]int{}, done: map[string]int{}}
}

// reply counts a reply to chat and holds it until released; it reports
// whether the answer may be written (the sender still waits for it).
func (c *answerCounter) reply(r *http.Request, chat, text string) bool {
	ours := strings.Contains(text, c.title)
	if ours {
		c.mu.Lock()
		c.arrived[chat]++
		c.mu.Unlock()
	}
	select {
	case <-c.release:
	case <-r.Context().Done():
		return false
	}
	if ours {
		c.mu.Lock()
		c.done[chat]++
		c.mu.Unlock()
	}
	return true
}

func (c *answerCounter) open() { c.once.Do(func() { close(c.release) }) }

func (c *answerCounter) counts() (arrived, done map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	arrived, done = map[string]int{}, map[string]int{}
	for k, v := range c.arrived {
		arrived[k] = v
	}
	for k, v := range c.done {
		done[k] = v
	}
	return arrived, done
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
			if !c.reply(r, chat, r.FormValue("text")) {
				return
			}
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":%s,"type":"private"}}}`, chat)
		default:
			fmt.Fprint(w, `{"ok":true,"result":true}`)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(c.open) // a failed test must not leave requests hanging
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
		if r.URL.Path == zalo.PathCSMessage && !c.reply(r, req.Recipient.UserID, req.Message.Text) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"error":0,"message":"Success","data":{"message_id":"m1"}}`)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(c.open)
	return srv.URL
}

// TestSIGKILLLosesNoAcknowledgedMessage acknowledges N Telegram webhook
// updates and N Zalo events (each from its own chat) while the platform
// APIs hold every reply, kills `trolyso serve` with SIGKILL right after the
// last acknowledgement — not one reply delivered —, restarts it on the same
// database with the APIs answering, and lets Zalo re-send every event:
// every acknowledged message is answered at least once (counting only
// replies the API answered) and at most twice (counting every reply that
// reached the API, the ones cut by the kill included), and the re-sent
// events are not answered again.
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
	tg, za := newAnswerCounter(entry.Title), newAnswerCounter(entry.Title)
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
	if len(tgAcked) != n || len(zaAcked) != n {
		t.Fatalf("acknowledged %d Telegram updates and %d Zalo events of %d each\n%s", len(tgAcked), len(zaAcked), n, srv.Logs())
	}
	tgArr, tgDone := tg.counts()
	zaArr, zaDone := za.counts()
	if len(tgDone)+len(zaDone) != 0 {
		t.Fatalf("replies were delivered before the kill: the APIs did not hold them")
	}
	t.Logf("at the kill: %d Telegram and %d Zalo replies had reached the APIs, none delivered", len(tgArr), len(zaArr))

	// Restart on the same file with the APIs answering: the pending
	// messages are answered first.
	tg.open()
	za.open()
	srv2 := startChild(t, dbPath, env...)
	db, err := storage.Open(context.Background(), dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	idle := func() bool {
		for _, ch := range []string{bot.ChannelTelegram, bot.ChannelZalo} {
			if c, err := db.InboxCounts(context.Background(), ch); err != nil || c[storage.InboxPending] > 0 {
				return false
			}
		}
		return true
	}
	unanswered := func(acked []string, done map[string]int) (k int) {
		for _, c := range acked {
			if done[c] == 0 {
				k++
			}
		}
		return k
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, tgDone = tg.counts()
		_, zaDone = za.counts()
		if unanswered(tgAcked, tgDone)+unanswered(zaAcked, zaDone) == 0 && idle() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart, %d Telegram and %d Zalo acknowledged messages are still unanswered\n%s",
				unanswered(tgAcked, tgDone), unanswered(zaAcked, zaDone), srv2.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Zalo re-sends every event (it did not know whether they arrived):
	// each is acknowledged and none answered again.
	before, _ := za.counts()
	for i := range n {
		if st, err := postZalo(srv2.URL, i); err != nil || st != http.StatusOK {
			t.Fatalf("re-sent Zalo event %d: status %d, %v", i, st, err)
		}
	}
	time.Sleep(time.Second)
	waitUntil(t, "the re-sent events to be handled", idle)
	if err := srv2.Signal(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Errorf("SIGTERM after restart: %v", err)
	}
	tgArr, tgDone = tg.counts()
	zaArr, zaDone = za.counts()
	for c, k := range zaArr {
		if k != before[c] {
			t.Errorf("Zalo user %s answered again after the re-send (%d → %d replies)", c, before[c], k)
		}
	}
	twice := 0
	for name, r := range map[string]struct {
		acked         []string
		arrived, done map[string]int
	}{"Telegram": {tgAcked, tgArr, tgDone}, "Zalo": {zaAcked, zaArr, zaDone}} {
		for _, c := range r.acked {
			if r.done[c] < 1 || r.arrived[c] > 2 {
				t.Errorf("%s chat %s: %d replies delivered, %d reached the API; want at least 1 and at most 2", name, c, r.done[c], r.arrived[c])
			}
			if r.arrived[c] == 2 {
				twice++
			}
		}
	}
	t.Logf("after the restart: every one of the %d messages answered; %d replies reached the API twice (once cut by the kill)", 2*n, twice)
}
