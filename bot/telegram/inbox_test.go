package telegram

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/storage"
)

// TestStoredUpdateKeepsOnlyWhatAnsweringNeeds: the inbox payload of an
// update holds no name, username, media content or unredacted number, and
// still decodes into what the handlers read.
func TestStoredUpdateKeepsOnlyWhatAnsweringNeeds(t *testing.T) {
	raw := `{"update_id":1234567,"message":{"message_id":55,"date":1700000000,
		"chat":{"id":-1001234567890123,"type":"supergroup","title":"Thôn Đông bí mật"},
		"from":{"id":9007199254740993,"is_bot":false,"first_name":"Nguyễn","last_name":"Văn An","username":"an_nguyen","language_code":"vi"},
		"text":"@CoLeBot số tôi 0912 345 678, cccd 001203004567",
		"entities":[{"type":"mention","offset":0,"length":8}],
		"reply_to_message":{"message_id":54,"date":1700000000,"chat":{"id":-1001234567890123,"type":"supergroup"},"from":{"id":999,"is_bot":true,"first_name":"Trợ lý"},"text":"câu trả lời trước"},
		"contact":{"phone_number":"0987654321","first_name":"Bà Tư","user_id":42},
		"voice":{"file_id":"AwACAgIAAxk","file_unique_id":"u1","duration":12,"mime_type":"audio/ogg","file_size":2048}}}`
	stored, err := storedUpdate([]byte(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	s := string(stored)
	for _, leak := range []string{"Nguyễn", "Văn An", "an_nguyen", "Thôn Đông", "0912", "001203004567", "0987654321", "Bà Tư", "câu trả lời trước", "entities", "language_code"} {
		if strings.Contains(s, leak) {
			t.Errorf("stored update keeps %q: %s", leak, s)
		}
	}
	var u models.Update
	if err := json.Unmarshal(stored, &u); err != nil {
		t.Fatal(err)
	}
	m := u.Message
	if u.ID != 1234567 || m == nil || m.ID != 55 || m.Chat.ID != -1001234567890123 || m.Chat.Type != models.ChatTypeSupergroup ||
		m.From == nil || m.From.ID != 9007199254740993 || m.From.IsBot || m.Contact == nil || m.Voice == nil || m.Voice.FileID != "AwACAgIAAxk" ||
		m.ReplyToMessage == nil || m.ReplyToMessage.From == nil || m.ReplyToMessage.From.ID != 999 {
		t.Fatalf("decoded stored update lost what handling reads: %s", s)
	}
	if want := privacy.Redact("@CoLeBot số tôi 0912 345 678, cccd 001203004567"); m.Text != want || !strings.HasPrefix(m.Text, "@CoLeBot") {
		t.Errorf("text = %q, want %q", m.Text, want)
	}
	// A button tap keeps the keyboard of the bot's message (menu editing)
	// and the message stays accessible.
	tap := strings.Replace(callbackUpdate(7, 7, 3, "c:vneid", `{"inline_keyboard":[[{"text":"VNeID","callback_data":"e:vneid-cai-dat"}]]}`), "%d", "8", 1)
	stored, err = storedUpdate([]byte(tap), false)
	if err != nil {
		t.Fatal(err)
	}
	u = models.Update{}
	if err := json.Unmarshal(stored, &u); err != nil {
		t.Fatal(err)
	}
	cq := u.CallbackQuery
	if cq == nil || cq.Data != "c:vneid" || cq.From.ID != 7 || cq.Message.Type != models.MaybeInaccessibleMessageTypeMessage ||
		!isNavigation(cq.Message.Message.ReplyMarkup) || strings.Contains(string(stored), "Lan") {
		t.Fatalf("stored tap = %s", stored)
	}
}

// TestWebhookStoresBeforeAcknowledging: a 200 means the update is in the
// inbox (the reply may come later); a full inbox answers 503 so that
// Telegram delivers again, and the redelivery is then accepted and
// answered once.
func TestWebhookStoresBeforeAcknowledging(t *testing.T) {
	const secret = "s3cret_Token-1"
	e := newEnv(t, func(c *Config) {
		c.WebhookURL = "https://bot.example.vn/telegram/hook"
		c.WebhookSecret = secret
		c.InboxCapacity = 2
	})
	e.api.wait("setWebhook", 1)
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock() // a failed check must not leave the fake API hanging
	e.api.setDelay(func() time.Duration { <-release; return 0 })
	srv := httptest.NewServer(e.a.WebhookHandler())
	defer srv.Close()
	// A redelivery is the same bytes: textUpdate's date is fixed.
	post := func(id int64, chat int64) int {
		body := strings.Replace(textUpdate(chat, chat, int(id), "quên mật khẩu vneid"), "%d", strconv.FormatInt(id, 10), 1)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for id := int64(1); id <= 2; id++ {
		if st := post(id, 100+id); st != http.StatusOK {
			t.Fatalf("update %d: status %d", id, st)
		}
		var n int
		e.db.Reader().QueryRow(`SELECT count(*) FROM inbox WHERE event_key LIKE ?`, updateKeyPrefix(e.a, id)).Scan(&n)
		if n != 1 {
			t.Fatalf("update %d acknowledged but not in the inbox", id)
		}
	}
	if st := post(3, 103); st != http.StatusServiceUnavailable {
		t.Fatalf("full inbox: status %d, want 503", st)
	}
	if st := post(1, 101); st != http.StatusOK { // a redelivery fits: nothing new
		t.Fatalf("redelivery: status %d", st)
	}
	unblock()
	e.a.Wait()
	if st := post(3, 103); st != http.StatusOK { // Telegram's retry
		t.Fatalf("retry after drain: status %d", st)
	}
	e.a.Wait()
	per := map[string]int{}
	for _, c := range e.api.callsOf("sendMessage") {
		per[c.Form["chat_id"]]++
	}
	if per["101"] != 1 || per["102"] != 1 || per["103"] != 1 || len(per) != 3 {
		t.Fatalf("answers per chat = %v, want one each", per)
	}
}

// TestPollingConfirmsOnlyCommittedUpdates: every getUpdates offset moves
// only past updates already in the inbox; a bounded inbox asks for no more
// than fit and, while full, leaves the rest with Telegram; and updates left
// pending when the adapter stops are answered by the next one on the same
// database.
func TestPollingConfirmsOnlyCommittedUpdates(t *testing.T) {
	api := newFakeAPI(t)
	eng, db := newEngine(t)
	// Until released, sendMessage does not answer (a Bot API that stalls):
	// no reply can complete before the first adapter stops, however slow
	// the machine.
	var hang atomic.Bool
	hang.Store(true)
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	api.setDelay(func() time.Duration {
		if hang.Load() {
			<-release
		}
		return 0
	})
	start := func(capacity int) (*Adapter, context.CancelFunc, chan error) {
		a, err := New(Config{Token: testToken, APIURL: api.URL(), Engine: eng, Store: db, PollTimeout: 2 * time.Second, InboxCapacity: capacity})
		if err != nil {
			t.Fatal(err)
		}
		fastLimits(a)
		a.grace = 100 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		return a, cancel, done
	}
	const n = 12
	for i := 1; i <= n; i++ {
		api.push(textUpdate(int64(500+i), int64(500+i), 1, "quên mật khẩu vneid"))
	}
	// The first adapter's inbox takes 5: it asks for no more than fit, and
	// stops asking while full.
	const capacity = 5
	a, cancel, done := start(capacity)
	stored := func() int {
		var c int
		db.Reader().QueryRow(`SELECT count(*) FROM inbox WHERE channel = 'telegram'`).Scan(&c)
		return c
	}
	waitFor(t, "the updates to be committed", func() bool { return stored() == capacity })
	time.Sleep(1200 * time.Millisecond) // a poll loop that ignored the bound would fetch more now
	if got := stored(); got != capacity {
		t.Fatalf("%d updates stored by an inbox of %d", got, capacity)
	}
	for _, c := range api.callsOf("getUpdates") {
		if l, _ := strconv.Atoi(c.Form["limit"]); l < 1 || l > capacity {
			t.Fatalf("getUpdates asked for %d updates with room for %d", l, capacity)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, c := range api.callsOf("getUpdates") {
		off, _ := strconv.ParseInt(c.Form["offset"], 10, 64)
		for id := int64(1); id < off; id++ {
			var k int
			db.Reader().QueryRow(`SELECT count(*) FROM inbox WHERE event_key LIKE ?`, updateKeyPrefix(a, id)).Scan(&k)
			if k != 1 {
				t.Fatalf("getUpdates offset %d confirmed update %d, which is not in the inbox", off, id)
			}
		}
	}
	counts, _ := db.InboxCounts(context.Background(), bot.ChannelTelegram)
	if counts[storage.InboxPending] == 0 {
		t.Fatalf("nothing left pending by the stopped adapter: %v", counts)
	}
	// The next process answers what was left, each chat at least once and
	// at most twice (the stalled requests of the first one may count).
	hang.Store(false)
	unblock()
	b, cancel2, done2 := start(0)
	defer func() {
		cancel2()
		<-done2
	}()
	b.inbox.Wait()
	waitFor(t, "every chat answered", func() bool {
		per := map[string]int{}
		for _, c := range api.callsOf("sendMessage") {
			per[c.Form["chat_id"]]++
		}
		for i := 1; i <= n; i++ {
			if per[strconv.Itoa(500+i)] == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(500 * time.Millisecond) // let late replies land
	per := map[string]int{}
	for _, c := range api.callsOf("sendMessage") {
		per[c.Form["chat_id"]]++
	}
	for i := 1; i <= n; i++ {
		if got := per[strconv.Itoa(500+i)]; got < 1 || got > 2 {
			t.Errorf("chat %d answered %d times, want 1 or 2", 500+i, got)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// updateKeyPrefix is the LIKE pattern of the inbox keys of an update id.
func updateKeyPrefix(a *Adapter, id int64) string {
	return strconv.FormatInt(a.botID, 10) + ":" + strconv.FormatInt(id, 10) + ":%"
}

// TestStaffGroupUpdatesKeepNamesAndReplies: in the staff group, a
// member's name and reply are kept as written (the reply is what the
// resident is sent), unlike residents' updates.
func TestStaffGroupUpdatesKeepNamesAndReplies(t *testing.T) {
	raw := `{"update_id":9,"message":{"message_id":60,"date":1700000000,"chat":{"id":-100777,"type":"supergroup","title":"Cán bộ xã"},` +
		`"from":{"id":501,"is_bot":false,"first_name":"Hùng","last_name":"Trần","username":"hung_tran"},` +
		`"reply_to_message":{"message_id":12,"date":1700000000,"chat":{"id":-100777,"type":"supergroup"},"from":{"id":999,"is_bot":true,"first_name":"Bot"}},` +
		`"text":"Bác gọi 0912 345 678 (một cửa) nhé"}}`
	staff, err := storedUpdate([]byte(raw), true)
	if err != nil {
		t.Fatal(err)
	}
	resident, err := storedUpdate([]byte(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	var u models.Update
	if err := json.Unmarshal(staff, &u); err != nil {
		t.Fatal(err)
	}
	if u.Message.From.FirstName != "Hùng" || u.Message.From.LastName != "Trần" || u.Message.From.Username != "hung_tran" ||
		u.Message.Text != "Bác gọi 0912 345 678 (một cửa) nhé" || u.Message.ReplyToMessage.ID != 12 {
		t.Errorf("staff update lost what the desk reads: %s", staff)
	}
	if strings.Contains(string(resident), "Hùng") || strings.Contains(string(resident), "0912") {
		t.Errorf("a resident's update keeps a name or number: %s", resident)
	}
}

// TestUpdateIDReusedForAnotherUpdate: a redelivery of an update is a
// duplicate, but the same update id carrying another update (ids restart
// after a week without updates, or on another Bot API server) is answered.
func TestUpdateIDReusedForAnotherUpdate(t *testing.T) {
	const secret = "s3cret_Token-1"
	e := newEnv(t, func(c *Config) {
		c.WebhookURL = "https://bot.example.vn/telegram/hook"
		c.WebhookSecret = secret
	})
	e.api.wait("setWebhook", 1)
	srv := httptest.NewServer(e.a.WebhookHandler())
	defer srv.Close()
	post := func(chat int64, text string) {
		body := strings.Replace(textUpdate(chat, chat, 1, text), "%d", "50", 1)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		e.a.Wait()
	}
	post(201, "/help")
	post(201, "/help") // Telegram delivering it again
	post(202, "/menu") // id 50 again, another update
	per := map[string]int{}
	for _, c := range e.api.callsOf("sendMessage") {
		per[c.Form["chat_id"]]++
	}
	if per["201"] != 1 || per["202"] != 1 {
		t.Fatalf("answers per chat = %v, want 201:1 and 202:1", per)
	}
}
