package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/telegram"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

const fuzzToken = "4242:fuzz-token"

// FuzzWebhook posts arbitrary bodies with the right secret to the
// webhook handler (seeds: testdata/fuzz/FuzzWebhook): it never panics or
// answers 5xx, and whatever it accepts is answered through the (fake) Bot
// API without crashing the adapter.
func FuzzWebhook(f *testing.F) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/sendMessage"), strings.HasSuffix(r.URL.Path, "/editMessageText"):
			fmt.Fprint(w, `{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"}}}`)
		case strings.HasSuffix(r.URL.Path, "/getMe"):
			fmt.Fprint(w, `{"ok":true,"result":{"id":4242,"is_bot":true,"first_name":"Bot","username":"cole_bot"}}`)
		default:
			fmt.Fprint(w, `{"ok":true,"result":true}`)
		}
	}))
	defer api.Close()
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		f.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	db, err := storage.Open(context.Background(), f.TempDir()+"/tg.db", storage.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	eng := bot.New(bot.Config{Store: db}, base)
	a, err := telegram.New(telegram.Config{Token: fuzzToken, APIURL: api.URL, WebhookURL: "https://bot.example.vn/tg", WebhookSecret: "s3cret",
		Engine: eng, Store: db, FloodLimit: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	h := a.WebhookHandler()
	for _, s := range []string{
		`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":7,"type":"private"},"from":{"id":7,"is_bot":false,"first_name":"A"},"text":"quên mật khẩu vneid"}}`,
		`{"update_id":2,"callback_query":{"id":"q","from":{"id":7,"is_bot":false,"first_name":"A"},"chat_instance":"c","data":"c:vneid","message":{"message_id":1,"date":1,"chat":{"id":7,"type":"private"},"text":"x"}}}`,
		`{"update_id":3,"message":{"message_id":1,"date":1,"chat":{"id":-100,"type":"supergroup","title":"T"},"from":{"id":7,"is_bot":false,"first_name":"A"},"text":"@cole_bot /help"}}`,
		`{"update_id":4,"my_chat_member":{"chat":{"id":7,"type":"private"},"from":{"id":7,"is_bot":false,"first_name":"A"},"date":1,"old_chat_member":{"status":"member","user":{"id":4242,"is_bot":true,"first_name":"B"}},"new_chat_member":{"status":"kicked","user":{"id":4242,"is_bot":true,"first_name":"B"},"until_date":0}}}`,
		`{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":7,"type":"private"},"voice":{"file_id":"v","file_unique_id":"u","duration":3}}}`,
		`{"update_id":0}`, `{}`, `null`, `[]`, `{"update_id":"x"}`, `{"update_id":6,"message":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/tg", bytes.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
