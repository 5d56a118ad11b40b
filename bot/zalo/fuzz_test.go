package zalo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/zalo"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

var fuzzNow = time.UnixMilli(1764147600000) // 2025-11-26T09:00:00Z

// FuzzWebhook posts arbitrary bodies, correctly signed over their own
// app_id and timestamp, to the Zalo webhook (seeds:
// testdata/fuzz/FuzzWebhook): it never panics, never answers 5xx other
// than 503 (busy, Zalo redelivers), and the channel keeps working.
func FuzzWebhook(f *testing.F) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"error": 0, "message": "Success", "data": map[string]string{"message_id": "m"}})
	}))
	defer api.Close()
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		f.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, fuzzNow)
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, f.TempDir()+"/zalo.db", storage.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	now := func() time.Time { return fuzzNow }
	db.Now = now
	eng := bot.New(bot.Config{Store: db, Now: now}, base)
	ch, err := zalo.New(ctx, zalo.Config{Engine: eng, Store: db, Now: now, AppID: "42", AppSecret: "as", OASecretKey: "oakey",
		AccessToken: "tok", APIURL: api.URL, OAuthURL: api.URL, MaxEventAge: 10 * time.Minute, Window: 7 * 24 * time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	defer ch.Wait()
	ts := "1764147600000"
	for _, s := range []string{
		`{"app_id":"42","user_id_by_app":"1","event_name":"user_send_text","timestamp":"` + ts + `","sender":{"id":"777"},"recipient":{"id":"9"},"message":{"msg_id":"m1","text":"quên mật khẩu vneid"}}`,
		`{"app_id":42,"event_name":"user_send_text","timestamp":` + ts + `,"sender":{"id":777},"message":{"msg_id":2,"text":"#c:vneid"}}`,
		`{"app_id":"42","event_name":"follow","timestamp":"` + ts + `","follower":{"id":"778"},"oa_id":"9"}`,
		`{"app_id":"42","event_name":"unfollow","timestamp":"` + ts + `","follower":{"id":"778"}}`,
		`{"app_id":"42","event_name":"user_send_image","timestamp":"` + ts + `","sender":{"id":"777"},"message":{"msg_id":"m3","attachments":[{"type":"image"}]}}`,
		`{"app_id":"42","event_name":"user_send_text","timestamp":"1","sender":{"id":"777"},"message":{"msg_id":"m4","text":"x"}}`,
		`{"app_id":"43","event_name":"user_send_text","timestamp":"` + ts + `"}`,
		`{}`, `null`, `[]`, `{"timestamp":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var ev zalo.Event
		json.Unmarshal(body, &ev)
		appID := string(ev.AppID)
		if appID == "" {
			appID = "42"
		}
		req := httptest.NewRequest(http.MethodPost, "/zalo/webhook", bytes.NewReader(body))
		req.Header.Set(zalo.SignatureHeader, zalo.Signature(appID, body, string(ev.Timestamp), "oakey"))
		rec := httptest.NewRecorder()
		ch.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
