package zalo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

const (
	testAppID     = "1234567890123456789"
	testAppSecret = "app-secret-XYZ"
	testOAKey     = "oa-secret-key-ABC"
	testOAID      = "579745863508352884"
)

var testStart = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sent is one message the fake API received.
type sent struct {
	Token string
	Raw   []byte
	Req   struct {
		Recipient struct {
			UserID string `json:"user_id"`
		} `json:"recipient"`
		Message struct {
			Text       string `json:"text"`
			Attachment *struct {
				Type    string `json:"type"`
				Payload struct {
					Buttons []struct {
						Title   string          `json:"title"`
						Type    string          `json:"type"`
						Payload json.RawMessage `json:"payload"`
					} `json:"buttons"`
				} `json:"payload"`
			} `json:"attachment"`
		} `json:"message"`
	}
}

func (s sent) payloads() []string {
	var out []string
	if s.Req.Message.Attachment == nil {
		return nil
	}
	for _, b := range s.Req.Message.Attachment.Payload.Buttons {
		var p string
		if json.Unmarshal(b.Payload, &p) == nil {
			out = append(out, p)
		}
	}
	return out
}

// fakeZalo speaks the OA API v3 send endpoint and the OAuth v4 token
// endpoint: errors come as HTTP 200 with error != 0.
type fakeZalo struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	access   map[string]bool // valid access tokens
	refresh  string          // the one valid (single-use) refresh token
	issued   int
	sent     []sent
	tokenReq atomic.Int32
	// sendErr, when set, answers a send with this error code (HTTP 200).
	sendErr func(s sent) int
	// tokenDelay widens the window for concurrent callers.
	tokenDelay time.Duration
}

func newFakeZalo(t *testing.T) *fakeZalo {
	f := &fakeZalo{t: t, access: map[string]bool{"access-0": true}, refresh: "refresh-0"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathCSMessage, f.handleSend)
	mux.HandleFunc("POST "+PathAccessToken, f.handleToken)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeZalo) handleSend(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s := sent{Token: r.Header.Get("access_token"), Raw: body}
	if r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if err := json.Unmarshal(body, &s.Req); err != nil {
		writeJSON(w, map[string]any{"error": -201, "message": "Parameters are invalid"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.access[s.Token] {
		writeJSON(w, map[string]any{"error": -216, "message": "Access token is invalid"})
		return
	}
	if f.sendErr != nil {
		if code := f.sendErr(s); code != 0 {
			writeJSON(w, map[string]any{"error": code, "message": "refused by fake"})
			return
		}
	}
	f.sent = append(f.sent, s)
	writeJSON(w, map[string]any{"error": 0, "message": "Success", "data": map[string]any{"message_id": fmt.Sprintf("m%d", len(f.sent)), "user_id": s.Req.Recipient.UserID}})
}

func (f *fakeZalo) handleToken(w http.ResponseWriter, r *http.Request) {
	f.tokenReq.Add(1)
	if f.tokenDelay > 0 {
		time.Sleep(f.tokenDelay)
	}
	if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		writeJSON(w, map[string]any{"error": -14001, "error_name": "invalid_request"})
		return
	}
	if r.Header.Get("secret_key") != testAppSecret || r.PostForm.Get("app_id") != testAppID {
		writeJSON(w, map[string]any{"error": -14002, "error_name": "invalid_client", "error_description": "bad secret"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != f.refresh {
		writeJSON(w, map[string]any{"error": -14014, "error_name": "invalid_grant", "error_description": "Invalid refresh token"})
		return
	}
	f.issued++
	acc, ref := fmt.Sprintf("access-%d", f.issued), fmt.Sprintf("refresh-%d", f.issued)
	f.access = map[string]bool{acc: true}
	f.refresh = ref
	writeJSON(w, map[string]any{"access_token": acc, "refresh_token": ref, "expires_in": "90000"})
}

func (f *fakeZalo) messages() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.sent...)
}

// expireAccess makes Zalo reject every access token issued so far.
func (f *fakeZalo) expireAccess() {
	f.mu.Lock()
	f.access = map[string]bool{}
	f.mu.Unlock()
}

type harness struct {
	t     *testing.T
	ctx   context.Context
	clock *clock
	db    *storage.DB
	eng   *bot.Engine
	api   *fakeZalo
	ch    *Channel
	hook  *httptest.Server
	cfg   Config
	seq   atomic.Int64
}

func newHarness(t *testing.T, tweak func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), clock: &clock{t: testStart}}
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, testStart)
	if err != nil {
		t.Fatal(err)
	}
	h.db, err = storage.Open(h.ctx, t.TempDir()+"/zalo.db", storage.Options{Secret: "test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.db.Close() })
	h.db.Now = h.clock.Now
	h.eng = bot.New(bot.Config{Store: h.db, Now: h.clock.Now}, base)
	h.api = newFakeZalo(t)
	h.cfg = Config{
		Engine:       h.eng,
		Store:        h.db,
		Now:          h.clock.Now,
		AppID:        testAppID,
		AppSecret:    testAppSecret,
		OASecretKey:  testOAKey,
		AccessToken:  "access-0",
		RefreshToken: "refresh-0",
		APIURL:       h.api.srv.URL,
		OAuthURL:     h.api.srv.URL,
	}
	if tweak != nil {
		tweak(&h.cfg)
	}
	h.start()
	return h
}

// start builds the channel (again, after a "restart") and its webhook.
func (h *harness) start() {
	h.t.Helper()
	ch, err := New(h.ctx, h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.ch = ch
	mux := http.NewServeMux()
	mux.Handle("/zalo/webhook", ch)
	h.hook = httptest.NewServer(mux)
	h.t.Cleanup(h.hook.Close)
}

// event builds a user_send_text body in the real shape.
func (h *harness) textEvent(user, msgID, text string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"app_id":         testAppID,
		"user_id_by_app": "8" + user,
		"event_name":     "user_send_text",
		"timestamp":      fmt.Sprint(at.UnixMilli()),
		"sender":         map[string]string{"id": user},
		"recipient":      map[string]string{"id": testOAID},
		"message":        map[string]string{"msg_id": msgID, "text": text},
	})
	return b
}

func (h *harness) followEvent(name, user string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"app_id":         testAppID,
		"oa_id":          testOAID,
		"user_id_by_app": "8" + user,
		"event_name":     name,
		"timestamp":      fmt.Sprint(at.UnixMilli()),
		"source":         "testing",
		"follower":       map[string]string{"id": user},
	})
	return b
}

// sign returns the X-ZEvent-Signature for body with key.
func sign(body []byte, key string) string {
	var ev struct {
		AppID     string `json:"app_id"`
		Timestamp string `json:"timestamp"`
	}
	json.Unmarshal(body, &ev)
	return Signature(ev.AppID, body, ev.Timestamp, key)
}

// post delivers a webhook body with the given signature ("" for none) and
// returns the status.
func (h *harness) post(body []byte, sig string) int {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, h.hook.URL+"/zalo/webhook", strings.NewReader(string(body)))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// say sends a signed text from user and waits for the answer.
func (h *harness) say(user, text string) sent {
	h.t.Helper()
	before := len(h.api.messages())
	id := fmt.Sprintf("msg%06d", h.seq.Add(1))
	if st := h.post(h.textEvent(user, id, text, h.clock.Now()), sign(h.textEvent(user, id, text, h.clock.Now()), testOAKey)); st != http.StatusOK {
		h.t.Fatalf("webhook status %d for %q", st, text)
	}
	h.ch.Wait()
	msgs := h.api.messages()
	if len(msgs) <= before {
		h.t.Fatalf("no reply to %q", text)
	}
	return msgs[len(msgs)-1]
}

const userA = "2468458835296197922"

func TestWebhookSignature(t *testing.T) {
	h := newHarness(t, nil)
	body := func(id string) []byte { return h.textEvent(userA, id, "xin chào", h.clock.Now()) }
	tests := []struct {
		name string
		sig  func(b []byte) string
		want int
	}{
		{"valid", func(b []byte) string { return sign(b, testOAKey) }, http.StatusOK},
		{"valid upper-case hex", func(b []byte) string { return "mac=" + strings.ToUpper(strings.TrimPrefix(sign(b, testOAKey), "mac=")) }, http.StatusOK},
		{"missing", func(b []byte) string { return "" }, http.StatusUnauthorized},
		{"garbage", func(b []byte) string { return "mac=deadbeef" }, http.StatusUnauthorized},
		{"no mac= prefix", func(b []byte) string { return strings.TrimPrefix(sign(b, testOAKey), "mac=") }, http.StatusUnauthorized},
		{"wrong key", func(b []byte) string { return sign(b, "another-oa-key") }, http.StatusUnauthorized},
		{"app secret instead of OA key", func(b []byte) string { return sign(b, testAppSecret) }, http.StatusUnauthorized},
		{"body changed after signing", func(b []byte) string {
			return sign([]byte(strings.Replace(string(b), "xin chào", "xin chao", 1)), testOAKey)
		}, http.StatusUnauthorized},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.api.messages())
			b := body(fmt.Sprintf("sig%d", i))
			if got := h.post(b, tt.sig(b)); got != tt.want {
				t.Fatalf("status = %d, want %d", got, tt.want)
			}
			h.ch.Wait()
			n := len(h.api.messages()) - before
			if tt.want == http.StatusOK && n != 1 {
				t.Fatalf("replies = %d, want 1", n)
			}
			if tt.want != http.StatusOK && n != 0 {
				t.Fatalf("a refused event was processed (%d replies)", n)
			}
		})
	}
	// An event of another app, correctly signed with our key, is refused.
	other := strings.Replace(string(body("other-app")), testAppID, "999", 1)
	if got := h.post([]byte(other), sign([]byte(other), testOAKey)); got != http.StatusUnauthorized {
		t.Fatalf("other app_id: status %d", got)
	}
}

func TestWebhookStaleEvents(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxEventAge = 10 * time.Minute })
	tests := []struct {
		name string
		age  time.Duration
		want int
	}{
		{"fresh", 0, http.StatusOK},
		{"9 minutes old", 9 * time.Minute, http.StatusOK},
		{"11 minutes old", 11 * time.Minute, http.StatusBadRequest},
		{"a day old", 24 * time.Hour, http.StatusBadRequest},
		{"from the far future", -time.Hour, http.StatusBadRequest},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.api.messages())
			b := h.textEvent(userA, fmt.Sprintf("stale%d", i), "xin chào", h.clock.Now().Add(-tt.age))
			if got := h.post(b, sign(b, testOAKey)); got != tt.want {
				t.Fatalf("status = %d, want %d", got, tt.want)
			}
			h.ch.Wait()
			if n := len(h.api.messages()) - before; (tt.want == http.StatusOK) != (n == 1) {
				t.Fatalf("replies = %d", n)
			}
		})
	}
}

func TestDuplicateDeliveriesAnsweredOnce(t *testing.T) {
	h := newHarness(t, nil)
	b := h.textEvent(userA, "dup-1", "cách cài đặt VNeID", h.clock.Now())
	sig := sign(b, testOAKey)
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st := h.post(b, sig); st != http.StatusOK {
				t.Errorf("status %d", st)
			}
		}()
	}
	wg.Wait()
	h.ch.Wait()
	if n := len(h.api.messages()); n != 1 {
		t.Fatalf("replies = %d, want 1", n)
	}
	// After a restart (new channel, same SQLite file) Zalo's retry is still
	// recognised.
	h.clock.Add(time.Minute)
	h.start()
	if st := h.post(b, sig); st != http.StatusOK {
		t.Fatalf("status %d", st)
	}
	h.ch.Wait()
	if n := len(h.api.messages()); n != 1 {
		t.Fatalf("after restart replies = %d, want 1", n)
	}
	// Old event ids are pruned once they are far past the age window.
	h.clock.Add(72 * time.Hour)
	if n, err := h.ch.inbox.Prune(h.ctx); err != nil || n != 1 {
		t.Fatalf("prune = %d, %v", n, err)
	}
}

func TestTextInButtonsOut(t *testing.T) {
	h := newHarness(t, nil)
	s := h.say(userA, "làm sao cài đặt ứng dụng VNeID")
	if s.Req.Recipient.UserID != userA {
		t.Fatalf("recipient = %q", s.Req.Recipient.UserID)
	}
	if s.Token != "access-0" {
		t.Fatalf("access_token header = %q", s.Token)
	}
	if s.Req.Message.Text == "" || strings.Contains(s.Req.Message.Text, "**") {
		t.Fatalf("text not rendered as plain: %q", s.Req.Message.Text)
	}
	a := s.Req.Message.Attachment
	if a == nil || a.Type != "template" || len(a.Payload.Buttons) == 0 || len(a.Payload.Buttons) > MaxButtons {
		t.Fatalf("want template buttons, got %s", s.Raw)
	}
	for _, b := range a.Payload.Buttons {
		if b.Type != "oa.query.hide" {
			t.Errorf("button %q type %q", b.Title, b.Type)
		}
	}
	for _, p := range s.payloads() {
		if !strings.HasPrefix(p, PayloadPrefix) {
			t.Errorf("payload %q lacks %q", p, PayloadPrefix)
		}
	}
	t.Logf("reply: %s", s.Raw)
}

func TestFollowMenuTapsAndNumbers(t *testing.T) {
	h := newHarness(t, nil)
	b := h.followEvent("follow", userA, h.clock.Now())
	if st := h.post(b, sign(b, testOAKey)); st != http.StatusOK {
		t.Fatalf("follow status %d", st)
	}
	h.ch.Wait()
	msgs := h.api.messages()
	if len(msgs) != 1 {
		t.Fatalf("follow replies = %d", len(msgs))
	}
	welcome := msgs[0]
	if !strings.Contains(welcome.Req.Message.Text, "trợ lý số tự động") {
		t.Fatalf("welcome text = %q", welcome.Req.Message.Text)
	}
	if !contains(welcome.payloads(), "#c:vneid") {
		t.Fatalf("welcome buttons = %v", welcome.payloads())
	}
	// Six topics: five buttons, the sixth as a numbered line.
	if !strings.Contains(welcome.Req.Message.Text, "6. ") {
		t.Errorf("the topic beyond %d buttons is not numbered in the text: %q", MaxButtons, welcome.Req.Message.Text)
	}

	// Tapping a topic button comes back as text "#c:vneid".
	topic := h.say(userA, "#c:vneid")
	if !strings.Contains(topic.Req.Message.Text, "VNeID") || len(topic.payloads()) != MaxButtons {
		t.Fatalf("topic reply = %s", topic.Raw)
	}
	// Tapping a question button shows the entry.
	entry := h.say(userA, "#e:vneid-cai-dat")
	en, _ := h.eng.Base().Entry("vneid-cai-dat")
	if !strings.Contains(entry.Req.Message.Text, en.Title) {
		t.Fatalf("entry reply = %q, want title %q", entry.Req.Message.Text, en.Title)
	}

	// Typing a number picks the n-th offered choice, also beyond the
	// buttons (numbered lines).
	h.say(userA, "#c:vneid")
	entries := h.eng.Base().InCategory("vneid")
	if len(entries) < 7 {
		t.Fatalf("vneid has %d entries", len(entries))
	}
	pick := h.say(userA, "7")
	if !strings.Contains(pick.Req.Message.Text, entries[6].Title) {
		t.Fatalf("typing 7 gave %q, want entry %q", pick.Req.Message.Text, entries[6].Title)
	}
	// A number beyond the offer is an ordinary question.
	h.say(userA, "#m")
	if r := h.say(userA, "99"); strings.Contains(r.Req.Message.Text, entries[0].Title) {
		t.Fatalf("99 mapped to a choice: %q", r.Req.Message.Text)
	}
	// Offers expire.
	h.say(userA, "#c:vneid")
	h.clock.Add(DefaultOfferTTL + time.Minute)
	if r := h.say(userA, "7"); strings.Contains(r.Req.Message.Text, entries[6].Title) {
		t.Fatalf("an expired offer was used")
	}
}

func TestTapMappingIsGenericOverPayloads(t *testing.T) {
	h := newHarness(t, nil)
	var got []string
	var mu sync.Mutex
	// A rating feature registers "r:<exchangeID>:+|-" buttons like this.
	h.eng.HandlePayload("r", func(ctx context.Context, m bot.Message, args []string) bot.Reply {
		mu.Lock()
		got = append(got, strings.Join(args, "|"))
		mu.Unlock()
		return bot.Reply{Band: bot.BandCommand, Text: "Cảm ơn bạn đã góp ý!",
			Buttons: [][]bot.Button{{{Label: "👍 Hài lòng", Payload: "r:12:+"}, {Label: "👎 Chưa hài lòng", Payload: "r:12:-"}}}}
	})
	r := h.say(userA, "#r:12:+")
	if !strings.Contains(r.Req.Message.Text, "Cảm ơn") {
		t.Fatalf("reply = %q", r.Req.Message.Text)
	}
	if !contains(r.payloads(), "#r:12:-") {
		t.Fatalf("rating buttons = %v", r.payloads())
	}
	h.say(userA, "2") // the numbered fallback: "Gõ 2" = second button
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, ",") != "12|+,12|-" {
		t.Fatalf("handler got %v", got)
	}
}

func TestTokenRefreshOnExpiryConcurrentSends(t *testing.T) {
	h := newHarness(t, nil)
	// The stored pair (from a refresh 25 h minus 2 min ago) expires in 2 min.
	now := h.clock.Now()
	err := h.db.SaveZaloTokens(h.ctx, storage.ZaloTokens{Access: "access-0", Refresh: "refresh-0",
		ExpiresAt: now.Add(2 * time.Minute), UpdatedAt: now.Add(-25*time.Hour + 2*time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	h.api.tokenDelay = 50 * time.Millisecond
	users := make([]string, 20)
	for i := range users {
		users[i] = fmt.Sprintf("10000000000000%05d", i)
		if err := h.db.ZaloInbound(h.ctx, h.db.UserKey("zalo", users[i]), "", now); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(users))
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- h.ch.SendTo(h.ctx, u, bot.Reply{Text: "Nhắc lịch: họp tổ công nghệ số lúc 14 giờ."})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := h.api.tokenReq.Load(); n != 1 {
		t.Fatalf("token requests = %d, want exactly 1", n)
	}
	msgs := h.api.messages()
	if len(msgs) != len(users) {
		t.Fatalf("sent %d, want %d", len(msgs), len(users))
	}
	for _, m := range msgs {
		if m.Token != "access-1" {
			t.Fatalf("sent with %q", m.Token)
		}
	}
	st, err := h.db.ZaloTokens(h.ctx)
	if err != nil || st.Access != "access-1" || st.Refresh != "refresh-1" || !st.ExpiresAt.Equal(now.Add(90000*time.Second)) {
		t.Fatalf("stored pair = %+v, %v", st, err)
	}
}

func TestInvalidTokenRefreshesAndRetriesOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.say(userA, "xin chào")
	h.api.expireAccess() // Zalo now answers -216 with HTTP 200
	r := h.say(userA, "cảm ơn")
	if r.Token != "access-1" {
		t.Fatalf("retried with %q", r.Token)
	}
	if n := h.api.tokenReq.Load(); n != 1 {
		t.Fatalf("token requests = %d", n)
	}
	if st, _ := h.db.ZaloTokens(h.ctx); st.Refresh != "refresh-1" {
		t.Fatalf("stored refresh token = %q", st.Refresh)
	}
	// A restart uses the stored pair, not the (consumed) configured one.
	h.start()
	if r := h.say(userA, "xin chào"); r.Token != "access-1" {
		t.Fatalf("after restart sent with %q", r.Token)
	}

	// When the refresh itself fails, the send fails (once, no loop).
	h.api.expireAccess()
	h.api.mu.Lock()
	h.api.refresh = "something-else"
	h.api.mu.Unlock()
	before := h.api.tokenReq.Load()
	err := h.ch.SendTo(h.ctx, userA, bot.Reply{Text: "Nhắc lịch"})
	if err == nil || !errors.Is(err, errTokenResponse) {
		t.Fatalf("err = %v", err)
	}
	if n := h.api.tokenReq.Load() - before; n != 1 {
		t.Fatalf("token requests = %d", n)
	}
}

func TestProactiveRefresh(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RefreshCheck = time.Hour })
	if err := h.ch.tok.RefreshIfDue(h.ctx); err != nil || h.api.tokenReq.Load() != 0 {
		t.Fatalf("refreshed a token of unknown expiry: %v", err)
	}
	h.api.expireAccess()
	h.say(userA, "xin chào") // -216 → access-1, expires in 25 h
	h.clock.Add(23*time.Hour + 30*time.Minute)
	if err := h.ch.tok.RefreshIfDue(h.ctx); err != nil || h.api.tokenReq.Load() != 1 {
		t.Fatalf("refreshed too early: %v", err)
	}
	h.clock.Add(time.Hour)
	if err := h.ch.tok.RefreshIfDue(h.ctx); err != nil || h.api.tokenReq.Load() != 2 {
		t.Fatalf("not refreshed an hour before expiry: %v, %d", err, h.api.tokenReq.Load())
	}
	if st, _ := h.db.ZaloTokens(h.ctx); st.Access != "access-2" {
		t.Fatalf("stored %q", st.Access)
	}
}

func TestSendToWindowAndBlocked(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Window = 7 * 24 * time.Hour })
	const member = "3000000000000000001"
	reminder := bot.Reply{Text: "Nhắc việc: hỗ trợ người dân thôn **Đông** cài VNeID.", Buttons: [][]bot.Button{{{Label: "✅ Đã nhận", Payload: "ack:5"}}}}

	if err := h.ch.SendTo(h.ctx, member, reminder); !errors.Is(err, bot.ErrUndeliverable) {
		t.Fatalf("never wrote: err = %v", err)
	}
	h.say(member, "/start")
	h.clock.Add(6 * 24 * time.Hour)
	if err := h.ch.SendTo(h.ctx, member, reminder); err != nil {
		t.Fatalf("within the window: %v", err)
	}
	last := h.api.messages()[len(h.api.messages())-1]
	if last.Req.Recipient.UserID != member || !contains(last.payloads(), "#ack:5") {
		t.Fatalf("reminder sent = %s", last.Raw)
	}
	h.clock.Add(2 * 24 * time.Hour)
	before := len(h.api.messages())
	err := h.ch.SendTo(h.ctx, member, reminder)
	if !errors.Is(err, bot.ErrUndeliverable) {
		t.Fatalf("outside the window: err = %v", err)
	}
	if len(h.api.messages()) != before {
		t.Fatal("a message outside the window was sent")
	}
	// Zalo's own refusal maps too [unconfirmed code].
	h.say(member, "xin chào")
	h.api.sendErr = func(sent) int { return CodeNoInteraction }
	if err := h.ch.SendTo(h.ctx, member, reminder); !errors.Is(err, bot.ErrUndeliverable) {
		t.Fatalf("error -230: err = %v", err)
	}
	h.api.sendErr = func(sent) int { return -32 } // rate limit, HTTP 200
	if err := h.ch.SendTo(h.ctx, member, reminder); err == nil || errors.Is(err, bot.ErrUndeliverable) {
		t.Fatalf("HTTP 200 error -32: err = %v", err)
	}
	h.api.sendErr = nil

	// Unfollow: inactive and blocked.
	b := h.followEvent("unfollow", member, h.clock.Now())
	if st := h.post(b, sign(b, testOAKey)); st != http.StatusOK {
		t.Fatalf("unfollow status %d", st)
	}
	h.ch.Wait()
	if err := h.ch.SendTo(h.ctx, member, reminder); !errors.Is(err, bot.ErrBlocked) {
		t.Fatalf("unfollowed: err = %v", err)
	}
	u, err := h.db.UserByKey(h.ctx, h.db.UserKey("zalo", member))
	if err != nil || u.Active {
		t.Fatalf("user after unfollow = %+v, %v", u, err)
	}
}

func TestTemplateRefusedFallsBackToNumberedText(t *testing.T) {
	h := newHarness(t, nil)
	h.api.sendErr = func(s sent) int {
		if s.Req.Message.Attachment != nil {
			return CodeInvalidParams
		}
		return 0
	}
	r := h.say(userA, "#c:cks")
	if r.Req.Message.Attachment != nil || !strings.Contains(r.Req.Message.Text, textPick) || !strings.Contains(r.Req.Message.Text, "1. ") {
		t.Fatalf("fallback = %q", r.Req.Message.Text)
	}
	cks := h.eng.Base().InCategory("cks")
	if p := h.say(userA, "1"); !strings.Contains(p.Req.Message.Text, cks[0].Title) {
		t.Fatalf("typing 1 = %q", p.Req.Message.Text)
	}
}

func TestVietnameseNFCAndNFD(t *testing.T) {
	h := newHarness(t, nil)
	q := "quên mật khẩu VNeID thì làm thế nào"
	nfc := h.say(userA, norm.NFC.String(q))
	nfd := h.say("2468458835296197923", norm.NFD.String(q))
	if norm.NFD.String(q) == q {
		t.Fatal("test string has no decomposable letters")
	}
	if nfc.Req.Message.Text != nfd.Req.Message.Text {
		t.Fatalf("NFC and NFD questions got different answers:\n%q\n%q", nfc.Req.Message.Text, nfd.Req.Message.Text)
	}
	for _, s := range []sent{nfc, nfd} {
		if !utf8.Valid(s.Raw) || !norm.NFC.IsNormalString(s.Req.Message.Text) {
			t.Fatalf("reply body not valid NFC UTF-8: %q", s.Req.Message.Text)
		}
	}
	if !strings.Contains(nfc.Req.Message.Text, "mật khẩu") {
		t.Fatalf("unexpected answer %q", nfc.Req.Message.Text)
	}
}

func TestMalformedBodies(t *testing.T) {
	h := newHarness(t, nil)
	now := fmt.Sprint(h.clock.Now().UnixMilli())
	ev := func(fields string) string {
		return `{"app_id":"` + testAppID + `","timestamp":"` + now + `"` + fields + `}`
	}
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"not JSON", "hello"},
		{"truncated", `{"app_id":"` + testAppID + `","timestamp":"` + now + `","event_name":"user_send_text"`},
		{"array", `[1,2,3]`},
		{"null", `null`},
		{"no event name", ev(`,"sender":{"id":"1"},"message":{"msg_id":"x","text":"hi"}`)},
		{"event name not a string", ev(`,"event_name":5`)},
		{"no sender", ev(`,"event_name":"user_send_text","message":{"msg_id":"x","text":"hi"}`)},
		{"no msg_id", ev(`,"event_name":"user_send_text","sender":{"id":"1"},"message":{"text":"hi"}`)},
		{"sender an object in id", ev(`,"event_name":"user_send_text","sender":{"id":{"a":1}},"message":{"msg_id":"x","text":"hi"}`)},
		{"message a string", ev(`,"event_name":"user_send_text","sender":{"id":"1"},"message":"hi"`)},
		{"text a number", ev(`,"event_name":"user_send_text","sender":{"id":"1"},"message":{"msg_id":"x","text":7}`)},
		{"follow without follower", ev(`,"event_name":"follow"`)},
		{"timestamp not a number", `{"app_id":"` + testAppID + `","timestamp":"soon","event_name":"follow","follower":{"id":"1"}}`},
		{"no timestamp", `{"app_id":"` + testAppID + `","event_name":"follow","follower":{"id":"1"}}`},
		{"invalid UTF-8", "{\"app_id\":\"" + testAppID + "\",\"timestamp\":\"" + now + "\",\"event_name\":\"user_send_text\",\"sender\":{\"id\":\"1\"},\"message\":{\"msg_id\":\"u8\",\"text\":\"\xff\xfe\"}}"},
		{"too large", ev(`,"event_name":"user_send_text","sender":{"id":"1"},"message":{"msg_id":"big","text":"` + strings.Repeat("a", 70<<10) + `"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.body)
			st := h.post(b, Signature(testAppID, b, now, testOAKey))
			if tt.name == "invalid UTF-8" {
				// Decodes (Go replaces bad bytes); must not crash.
				if st != http.StatusOK {
					t.Fatalf("status %d", st)
				}
				return
			}
			if st < 400 || st > 499 {
				t.Fatalf("status = %d, want 4xx", st)
			}
		})
	}
	h.ch.Wait()
	// Other events are acknowledged and ignored.
	b := []byte(ev(`,"event_name":"user_send_sticker","sender":{"id":"1"},"message":{"msg_id":"st","attachments":[{"type":"sticker","payload":{"url":"https://x"}}]}`))
	if st := h.post(b, sign(b, testOAKey)); st != http.StatusOK {
		t.Fatalf("sticker status %d", st)
	}
	// Wrong method.
	resp, err := http.Get(h.hook.URL + "/zalo/webhook")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET status %d", resp.StatusCode)
	}
}

func TestRenderAndSplit(t *testing.T) {
	long := strings.Repeat("Đoạn văn tiếng Việt có dấu. ", 60) // ~1700 chars
	r := render(bot.Reply{Text: long + "\n\n" + long + "\n\n**Kết thúc**", Buttons: [][]bot.Button{
		{{Label: "A", Payload: "a"}, {Label: "B", Payload: "b"}},
		{{Label: "Trang web", URL: "https://dichvucong.gov.vn"}},
		{{Label: "C", Payload: "c"}, {Label: "D", Payload: "d"}, {Label: "E", Payload: "e"}},
	}}, true)
	if len(r.messages) < 2 {
		t.Fatalf("not split: %d messages", len(r.messages))
	}
	for i, m := range r.messages {
		if textLen(m.Text) > MaxTextLen {
			t.Errorf("message %d has %d units", i, textLen(m.Text))
		}
		if (m.Attachment != nil) != (i == len(r.messages)-1) {
			t.Errorf("message %d attachment = %v", i, m.Attachment != nil)
		}
		if !utf8.ValidString(m.Text) {
			t.Errorf("message %d invalid UTF-8", i)
		}
	}
	last := r.messages[len(r.messages)-1]
	if got := len(last.Attachment.Payload.Buttons); got != MaxButtons {
		t.Fatalf("buttons = %d", got)
	}
	if !strings.Contains(last.Text, "Kết thúc") || !strings.Contains(last.Text, textPickMore+"\n5. E") {
		t.Fatalf("last text = %q", last.Text)
	}
	if strings.Join(r.payloads, ",") != "a,b,c,d,e" {
		t.Fatalf("payloads = %v", r.payloads)
	}
	if b := last.Attachment.Payload.Buttons[2]; b.Type != ButtonOpenURL {
		t.Fatalf("url button = %+v", b)
	}
	// A single word longer than the limit is cut, never inside a rune.
	parts := splitText(strings.Repeat("ệ", 2500), MaxTextLen)
	if len(parts) != 2 || textLen(parts[0]) != MaxTextLen || !utf8.ValidString(parts[1]) {
		t.Fatalf("hard split = %d parts", len(parts))
	}
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"#e:vneid-cai-dat", "e:vneid-cai-dat", true},
		{"#m", "m", true},
		{"#r:12:+", "r:12:+", true},
		{"# m", "", false},
		{"#", "", false},
		{"#:x", "", false},
		{"#Xin chào", "", false},
		{"e:vneid", "", false},
		{"#" + strings.Repeat("a", 70), "", false},
	} {
		if got, ok := tapPayload(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("tapPayload(%q) = %q, %v", tt.in, got, ok)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestRatingByTapAndNumber uses the engine's real rating buttons
// ("r:<exchangeID>:+|-") under an answer.
func TestRatingByTapAndNumber(t *testing.T) {
	h := newHarness(t, nil)
	ratePayload := func(s sent, sign string) (string, int64) {
		t.Helper()
		for _, p := range s.payloads() {
			var id int64
			if _, err := fmt.Sscanf(p, "#r:%d:", &id); err == nil && strings.HasSuffix(p, ":"+sign) {
				return p, id
			}
		}
		t.Fatalf("no rating button %q in %v", sign, s.payloads())
		return "", 0
	}
	ans := h.say(userA, "làm sao cài đặt ứng dụng VNeID")
	up, id := ratePayload(ans, "+")
	h.say(userA, up) // the tap comes back as text "#r:<id>:+"
	if r, err := h.db.RatingOf(h.ctx, id); err != nil || r.Value != 1 {
		t.Fatalf("rating after tap = %+v, %v", r, err)
	}

	// The numbered fallback: button 2 is 👎.
	ans = h.say(userA, "quên mật khẩu VNeID")
	_, id2 := ratePayload(ans, "-")
	if ans.payloads()[1] != fmt.Sprintf("#r:%d:-", id2) {
		t.Fatalf("second button = %q", ans.payloads()[1])
	}
	down := h.say(userA, "2")
	if r, err := h.db.RatingOf(h.ctx, id2); err != nil || r.Value != -1 {
		t.Fatalf("rating after typing 2 = %+v, %v", r, err)
	}
	if len(down.payloads()) == 0 {
		t.Fatalf("no reason buttons after 👎: %s", down.Raw)
	}
}

// TestRejectedTokenWithFailingRefresh: 20 sends rejected with -216 while
// the refresh fails start one refresh attempt, not 20.
func TestRejectedTokenWithFailingRefresh(t *testing.T) {
	h := newHarness(t, nil)
	users := make([]string, 20)
	for i := range users {
		users[i] = fmt.Sprintf("20000000000000%05d", i)
		if err := h.db.ZaloInbound(h.ctx, h.db.UserKey("zalo", users[i]), "", h.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	h.api.expireAccess()
	h.api.mu.Lock()
	h.api.refresh = "not-ours"
	h.api.mu.Unlock()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.ch.SendTo(h.ctx, u, bot.Reply{Text: "Nhắc việc"}); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != int32(len(users)) {
		t.Fatalf("failed sends = %d", failed.Load())
	}
	if n := h.api.tokenReq.Load(); n != 1 {
		t.Fatalf("token requests = %d, want 1", n)
	}
}

// TestTeamMemberJoinsOnZalo: /dangky through the engine stores the Zalo id
// as the delivery address (from bot.WithDeliveryAddress), and a reminder
// then reaches the member with its acknowledge button.
func TestTeamMemberJoinsOnZalo(t *testing.T) {
	h := newHarness(t, nil)
	team, err := h.db.AddTeam(h.ctx, "Thôn Đông", "")
	if err != nil {
		t.Fatal(err)
	}
	const member = "4000000000000000004"
	r := h.say(member, "/dangky "+team.JoinCode+" Nguyễn Văn An")
	if !strings.Contains(r.Req.Message.Text, "Thôn Đông") || strings.Contains(r.Req.Message.Text, "chưa gửi tin nhắc tự động") {
		t.Fatalf("join reply = %q", r.Req.Message.Text)
	}
	ch, addr, err := h.db.Address(h.ctx, h.db.UserKey("zalo", member))
	if err != nil || ch != "zalo" || addr != member {
		t.Fatalf("address = %q %q %v", ch, addr, err)
	}
	// A resident who only asks questions has no stored address.
	h.say(userA, "xin chào")
	if _, _, err := h.db.Address(h.ctx, h.db.UserKey("zalo", userA)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("resident address stored: %v", err)
	}
	h.clock.Add(24 * time.Hour)
	if err := h.ch.SendTo(h.ctx, addr, bot.Reply{Text: "Nhắc hạn báo cáo quý", Buttons: bot.AckButton(5)}); err != nil {
		t.Fatal(err)
	}
	last := h.api.messages()[len(h.api.messages())-1]
	if last.Req.Recipient.UserID != member || !contains(last.payloads(), "#ack:5") {
		t.Fatalf("reminder = %s", last.Raw)
	}
}

// TestAdminCommandsForConfiguredZaloAdmins: a sender listed in AdminIDs may
// use an admin-only command; anyone else gets exactly the unknown-command
// reply and nothing changes.
func TestAdminCommandsForConfiguredZaloAdmins(t *testing.T) {
	const admin = "5000000000000000005"
	h := newHarness(t, func(c *Config) { c.AdminIDs = []string{" " + admin + " ", ""} })

	unknown := h.say(userA, "/lenhkhongco").Req.Message.Text
	tests := []struct {
		name, user, text string
		admin            bool
	}{
		{"resident", userA, "/themto Thôn Bắc", false},
		{"resident, other admin command", userA, "/tonhom", false},
		{"admin id as another user's prefix", admin[:len(admin)-1], "/themto Thôn Bắc", false},
		{"configured admin", admin, "/themto Thôn Bắc", true},
		{"configured admin lists teams", admin, "/tonhom", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := h.say(tt.user, tt.text).Req.Message.Text
			if !tt.admin {
				if got != unknown {
					t.Fatalf("%q from a non-admin: %q, want the unknown-command reply %q", tt.text, got, unknown)
				}
				return
			}
			if got == unknown || !strings.Contains(got, "Thôn Bắc") {
				t.Fatalf("%q from the admin: %q", tt.text, got)
			}
		})
	}
	teams, err := h.db.Teams(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(teams) != 1 || teams[0].Village != "Thôn Bắc" {
		t.Fatalf("teams = %+v, want only the admin's Thôn Bắc", teams)
	}
}
