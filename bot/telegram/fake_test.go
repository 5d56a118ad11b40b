package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

const (
	testToken   = "999:test-token"
	botUsername = "CoLeBot"
)

// apiCall is one request the fake Bot API received.
type apiCall struct {
	Method string
	Form   map[string]string
	At     time.Time
	// ID is the message id a send was answered with.
	ID int
}

// fakeAPI is a Bot API server on 127.0.0.1 speaking the real wire format:
// multipart POST /bot<token>/<method>, JSON {"ok":…,"result":…} answers,
// getUpdates held open while there is nothing to deliver.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	calls   []apiCall
	updates [][]byte // raw update JSON; index i has update_id i+1
	changed chan struct{}
	msgID   int
	// scripts holds canned responses per method, used before the default.
	scripts map[string][]string
	// delay is added to every sendMessage (to provoke reordering).
	delay func() time.Duration
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{t: t, changed: make(chan struct{}), scripts: map[string][]string{}, msgID: 1000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) URL() string { return f.srv.URL }

// broadcast wakes everyone waiting for a change; call with f.mu held.
func (f *fakeAPI) broadcast() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// setDelay sets the delay added to every sendMessage.
func (f *fakeAPI) setDelay(d func() time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// script queues canned responses for a method.
func (f *fakeAPI) script(method string, responses ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts[method] = append(f.scripts[method], responses...)
}

// push queues an update (raw JSON with "update_id":%d to fill) and returns
// its id.
func (f *fakeAPI) push(format string, args ...any) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := int64(len(f.updates) + 1)
	f.updates = append(f.updates, []byte(fmt.Sprintf(format, append([]any{id}, args...)...)))
	f.broadcast()
	return id
}

// scriptHangUp, as a scripted response, closes the connection after the
// request was received, leaving the client unsure whether it was sent.
const scriptHangUp = "HANGUP"

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/file/bot"+testToken+"/") {
		w.Write([]byte("OggS-fake-voice"))
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+testToken+"/")
	if !ok || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		f.t.Errorf("%s: content type %q, want multipart/form-data", method, r.Header.Get("Content-Type"))
	}
	// Methods without parameters send an empty body that still claims
	// multipart; ParseMultipartForm then fails with EOF, which is fine.
	_ = r.ParseMultipartForm(1 << 20)
	form := map[string]string{}
	if r.MultipartForm != nil {
		for k, v := range r.MultipartForm.Value {
			form[k] = v[0]
		}
	}
	if method == "getUpdates" {
		f.getUpdates(w, r, form)
		return
	}
	f.mu.Lock()
	delay := f.delay
	f.mu.Unlock()
	if method == "sendMessage" && delay != nil {
		time.Sleep(delay())
	}
	f.mu.Lock()
	f.msgID++
	id := f.msgID
	f.calls = append(f.calls, apiCall{Method: method, Form: form, At: time.Now(), ID: id})
	var canned string
	if s := f.scripts[method]; len(s) > 0 {
		canned, f.scripts[method] = s[0], s[1:]
	}
	f.broadcast()
	f.mu.Unlock()
	if canned == scriptHangUp {
		// The request arrived, then the connection drops before any answer.
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if canned != "" {
		w.WriteHeader(http.StatusBadRequest) // ignored by the client; only the JSON counts
		fmt.Fprint(w, canned)
		return
	}
	switch method {
	case "getMe":
		fmt.Fprintf(w, `{"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Trợ lý số","username":%q}}`, botUsername)
	case "sendMessage", "editMessageText", "editMessageReplyMarkup":
		chat, _ := strconv.ParseInt(form["chat_id"], 10, 64)
		typ := "private"
		if chat < 0 {
			typ = "supergroup"
		}
		if method != "sendMessage" {
			id, _ = strconv.Atoi(form["message_id"])
		}
		res, _ := json.Marshal(map[string]any{
			"message_id": id, "date": time.Now().Unix(), "text": form["text"],
			"chat": map[string]any{"id": chat, "type": typ},
			"from": map[string]any{"id": 999, "is_bot": true, "first_name": "Trợ lý số"},
		})
		fmt.Fprintf(w, `{"ok":true,"result":%s}`, res)
	case "answerCallbackQuery", "deleteWebhook", "setWebhook":
		fmt.Fprint(w, `{"ok":true,"result":true}`)
	case "getFile":
		fmt.Fprintf(w, `{"ok":true,"result":{"file_id":%q,"file_unique_id":"u1","file_size":15,"file_path":"voice/file_1.oga"}}`, form["file_id"])
	default:
		fmt.Fprintf(w, `{"ok":false,"error_code":404,"description":"Not Found: method %s"}`, method)
	}
}

func (f *fakeAPI) getUpdates(w http.ResponseWriter, r *http.Request, form map[string]string) {
	offset, _ := strconv.ParseInt(form["offset"], 10, 64)
	timeout, _ := strconv.Atoi(form["timeout"])
	limit, _ := strconv.Atoi(form["limit"])
	if limit < 1 || limit > 100 {
		limit = 100 // Telegram's default and maximum
	}
	f.mu.Lock()
	f.calls = append(f.calls, apiCall{Method: "getUpdates", Form: form, At: time.Now()})
	f.mu.Unlock()
	deadline := time.After(time.Duration(timeout) * time.Second)
	for {
		f.mu.Lock()
		var out [][]byte
		if offset < 1 {
			offset = 1
		}
		if int(offset) <= len(f.updates) {
			out = f.updates[offset-1:]
			out = out[:min(len(out), limit)]
		}
		changed := f.changed
		f.mu.Unlock()
		if len(out) > 0 {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":true,"result":[%s]}`, joinRaw(out))
			return
		}
		select {
		case <-changed:
		case <-deadline:
			fmt.Fprint(w, `{"ok":true,"result":[]}`)
			return
		case <-r.Context().Done():
			return
		}
	}
}

func joinRaw(items [][]byte) string {
	s := make([]string, len(items))
	for i, b := range items {
		s[i] = string(b)
	}
	return strings.Join(s, ",")
}

// callsOf returns the calls of one method so far.
func (f *fakeAPI) callsOf(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// methods returns the method names called so far, in order.
func (f *fakeAPI) methods() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Method)
	}
	return out
}

// wait waits until at least n calls of method arrived and returns them.
func (f *fakeAPI) wait(method string, n int) []apiCall {
	f.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		changed := f.changed
		f.mu.Unlock()
		if got := f.callsOf(method); len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-timeout:
			f.t.Fatalf("timed out waiting for %d %s calls; calls so far: %v", n, method, f.methods())
		}
	}
}

// Update builders, in the Bot API's JSON.

// updateDate is the date of every test update: fixed, so that an update
// built twice is the same bytes (as Telegram's redeliveries are), whatever
// the clock. The adapter does not read it.
const updateDate = 1700000000

func textUpdate(chat, user int64, msgID int, text string) string {
	t, _ := json.Marshal(text)
	return fmt.Sprintf(`{"update_id":%%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private","first_name":"Lan"},"from":{"id":%d,"is_bot":false,"first_name":"Lan"},"text":%s}}`,
		msgID, updateDate, chat, user, t)
}

func groupUpdate(chat, user int64, msgID int, text, extra string) string {
	t, _ := json.Marshal(text)
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"update_id":%%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"supergroup","title":"Thôn Đông"},"from":{"id":%d,"is_bot":false,"first_name":"Hùng"},"text":%s%s}}`,
		msgID, updateDate, chat, user, t, extra)
}

func mediaUpdate(chat, user int64, msgID int, media string) string {
	return fmt.Sprintf(`{"update_id":%%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"Lan"},%s}}`,
		msgID, updateDate, chat, user, media)
}

// callbackUpdate is a button tap on a bot message with the given keyboard
// (the reply_markup JSON the bot sent).
func callbackUpdate(chat, user int64, msgID int, data, replyMarkup string) string {
	d, _ := json.Marshal(data)
	if replyMarkup == "" {
		replyMarkup = "{}"
	}
	return fmt.Sprintf(`{"update_id":%%d,"callback_query":{"id":"cq%d","from":{"id":%d,"is_bot":false,"first_name":"Lan"},"chat_instance":"ci","data":%s,`+
		`"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private"},"from":{"id":999,"is_bot":true,"first_name":"Trợ lý số"},"text":"…","reply_markup":%s}}}`,
		msgID, user, d, msgID, updateDate, chat, replyMarkup)
}

// testEnv is an adapter running against the fake API with a real SQLite
// file and a real engine over the embedded knowledge base.
type testEnv struct {
	api *fakeAPI
	a   *Adapter
	db  *storage.DB
	eng *bot.Engine
}

func newEngine(t *testing.T) (*bot.Engine, *storage.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "trolyso.db"), storage.Options{Secret: "test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return bot.New(bot.Config{Store: db}, base), db
}

// newEnv starts an adapter; edit adjusts the configuration and setup runs
// before the adapter starts (engine registrations).
func newEnv(t *testing.T, edit func(*Config), setup ...func(*bot.Engine)) *testEnv {
	t.Helper()
	api := newFakeAPI(t)
	eng, db := newEngine(t)
	for _, s := range setup {
		s(eng)
	}
	cfg := Config{
		Token:       testToken,
		APIURL:      api.URL(),
		AdminIDs:    []int64{42},
		Engine:      eng,
		Store:       db,
		PollTimeout: 2 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fastLimits(a)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return &testEnv{api: api, a: a, db: db, eng: eng}
}

// fastLimits relaxes the per-chat send limits so that tests do not wait a
// second per message.
func fastLimits(a *Adapter) {
	a.rates.global = rate.NewLimiter(rate.Inf, 1)
	a.rates.privateEvery = time.Millisecond
	a.rates.groupEvery = time.Millisecond
	a.rates.burst = 100
}

// keyboardOf decodes the reply_markup of a call.
func keyboardOf(t *testing.T, c apiCall) [][]map[string]any {
	t.Helper()
	if c.Form["reply_markup"] == "" {
		return nil
	}
	var kb struct {
		InlineKeyboard [][]map[string]any `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(c.Form["reply_markup"]), &kb); err != nil {
		t.Fatalf("reply_markup %q: %v", c.Form["reply_markup"], err)
	}
	return kb.InlineKeyboard
}

// callbackData lists the callback_data of a keyboard's buttons.
func callbackData(kb [][]map[string]any) []string {
	var out []string
	for _, row := range kb {
		for _, b := range row {
			if d, ok := b["callback_data"].(string); ok {
				out = append(out, d)
			}
		}
	}
	return out
}
