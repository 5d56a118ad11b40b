package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/inbox"
	"github.com/colecommune/trolyso/storage"
	"github.com/colecommune/trolyso/storage/storagetest"
)

// botReplies is a fake Bot API (getMe, setWebhook, sendMessage) that
// records every sendMessage in arrival order; while hold is set it does
// not answer them (a Bot API that has not answered yet), so no reply of
// the instance using it completes.
type botReplies struct {
	hold bool
	mu   sync.Mutex
	sent []tgReply
}

type tgReply struct {
	chat, text string
	at         time.Time
}

func newBotReplies(t *testing.T, token string, hold bool) (*botReplies, string) {
	b := &botReplies{hold: hold}
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, _ := strings.CutPrefix(r.URL.Path, "/bot"+token+"/")
		_ = r.ParseMultipartForm(1 << 20)
		w.Header().Set("Content-Type", "application/json")
		switch method {
		case "getMe":
			fmt.Fprint(w, `{"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Bot","username":"cole_bot"}}`)
		case "sendMessage":
			chat := r.FormValue("chat_id")
			b.mu.Lock()
			b.sent = append(b.sent, tgReply{chat: chat, text: r.FormValue("text"), at: time.Now()})
			b.mu.Unlock()
			if b.hold {
				select {
				case <-r.Context().Done():
				case <-stop:
				}
				return
			}
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":%s,"type":"private"}}}`, chat)
		default:
			fmt.Fprint(w, `{"ok":true,"result":true}`)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: no request left hanging
	return b, srv.URL
}

// replies returns the texts sent to chat that contain one of titles (an
// answer), in order.
func (b *botReplies) replies(chat string, titles ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, s := range b.sent {
		if s.chat != chat {
			continue
		}
		for _, t := range titles {
			if strings.Contains(s.text, t) {
				out = append(out, s.text)
				break
			}
		}
	}
	return out
}

// TestInboxTakenOverAcrossInstances: two `trolyso serve` processes on one
// PostgreSQL database, Telegram webhook mode. A accepts updates and cannot
// answer them yet (its Bot API holds every reply); B, started meanwhile,
// does not answer A's items (not even a later message of a chat whose
// earlier message A holds: per-chat order). A is SIGKILLed: B answers
// every update A acknowledged, within the claim TTL, the held chat's two
// messages in order, and none more than twice in all.
func TestInboxTakenOverAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	pgURL := storagetest.URL(t, t.Name())
	const n = 20
	const token, secret = "4343:inboxTOKEN", "inbox-secret"
	base := mustShipped(t)
	first, ok1 := base.Entry("vneid-quen-mat-khau")
	second, ok2 := base.Entry("dvc-khai-sinh")
	if !ok1 || !ok2 {
		t.Fatal("entries vneid-quen-mat-khau and dvc-khai-sinh are needed")
	}
	const q1, q2 = "quên mật khẩu vneid", "Đăng ký khai sinh cho con trên mạng thế nào?"
	titles := []string{first.Title, second.Title}
	held, heldURL := newBotReplies(t, token, true)
	live, liveURL := newBotReplies(t, token, false)
	env := func(api string) []string {
		return []string{"TROLYSO_DATABASE_URL=" + pgURL, "TELEGRAM_BOT_TOKEN=" + token, "TELEGRAM_API_URL=" + api,
			"TELEGRAM_WEBHOOK_URL=https://bot.example.vn/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET=" + secret}
	}
	dir := t.TempDir()
	a := startChild(t, filepath.Join(dir, "a.db"), env(heldURL)...)

	update := 5000
	post := func(srvURL string, chat int, text string) {
		t.Helper()
		update++
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private","first_name":"Dân"},"from":{"id":%d,"is_bot":false,"first_name":"Dân"},"text":%q}}`,
			update, update, time.Now().Unix(), chat, chat, text)
		req, _ := http.NewRequest(http.MethodPost, srvURL+"/telegram/webhook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("update %d to %s: status %d", update, srvURL, resp.StatusCode)
		}
	}
	// A acknowledges n updates, one chat each, and the first message of
	// the ordered chat.
	const ordered = 900001
	for i := range n {
		post(a.URL, 700000+i, q1)
	}
	post(a.URL, ordered, q1)
	waitUntil(t, "A's replies to reach its Bot API", func() bool { return len(held.replies(fmt.Sprint(700000), titles...)) > 0 })

	// B starts while A runs: it answers its own updates, not A's, and
	// holds the ordered chat's second message behind A's first.
	b := startChild(t, filepath.Join(dir, "b.db"), env(liveURL)...)
	post(b.URL, ordered, q2)
	post(b.URL, 710000, q2)
	waitUntil(t, "B to answer its own update", func() bool { return len(live.replies("710000", titles...)) == 1 })
	time.Sleep(inboxSweepEvery + time.Second) // B's start-up sweep and a periodic one
	for i := range n {
		if r := live.replies(fmt.Sprint(700000+i), titles...); len(r) != 0 {
			t.Fatalf("B answered A's update for chat %d while A runs", 700000+i)
		}
	}
	if r := live.replies(fmt.Sprint(ordered), titles...); len(r) != 0 {
		t.Fatalf("B answered the ordered chat's second message before A answered the first: %v", r)
	}

	a.Kill()
	killed := time.Now()
	db, err := storage.OpenURL(context.Background(), pgURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	answered := func() bool {
		for i := range n {
			if len(live.replies(fmt.Sprint(700000+i), titles...)) == 0 {
				return false
			}
		}
		return len(live.replies(fmt.Sprint(ordered), titles...)) == 2
	}
	deadline := killed.Add(time.Minute)
	for !answered() {
		if time.Now().After(deadline) {
			t.Fatalf("a minute after A's SIGKILL, B has not answered A's updates\n%s", b.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(killed)
	waitUntil(t, "the inbox to drain", func() bool {
		c, err := db.InboxCounts(context.Background(), bot.ChannelTelegram)
		return err == nil && c[storage.InboxPending] == 0
	})
	time.Sleep(500 * time.Millisecond) // late duplicates would land now
	if took > inboxClaimTTL {
		t.Errorf("B answered A's updates %v after the kill; the claim TTL is %v", took.Round(time.Millisecond), inboxClaimTTL)
	}
	for i := range n {
		chat := fmt.Sprint(700000 + i)
		h, l := held.replies(chat, titles...), live.replies(chat, titles...)
		if len(l) < 1 || len(h)+len(l) > 2 || !strings.Contains(l[0], first.Title) {
			t.Errorf("chat %s: %d replies held by A's API, %d delivered by B; want at least 1 delivered, at most 2 in all", chat, len(h), len(l))
		}
	}
	if r := live.replies(fmt.Sprint(ordered), titles...); len(r) != 2 || !strings.Contains(r[0], first.Title) || !strings.Contains(r[1], second.Title) {
		t.Errorf("the ordered chat got %d replies from B, want the first message's answer then the second's", len(r))
	}
	if r := live.replies("710000", titles...); len(r) != 1 {
		t.Errorf("B's own update answered %d times", len(r))
	}
	t.Logf("B answered the %d updates A acknowledged %.1f s after A's SIGKILL (claim TTL %v); chat order kept across the instances", n+1, took.Seconds(), inboxClaimTTL)
}

// The inbox's claim timing, as serve runs it (bot/inbox defaults).
const (
	inboxClaimTTL   = inbox.DefaultClaimTTL
	inboxSweepEvery = inboxClaimTTL / 3
)
