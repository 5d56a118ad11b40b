package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/storage"
)

// staleKB is a base with, on 03/03/2027, one entry past its review date,
// one due within 30 days and one fresh.
func staleKB(t *testing.T) string {
	return writeKB(t, map[string]string{
		"qua-han.md": kbEntry("qua-han", "2026-08-01", "2027-02-01"),
		"sap-han.md": kbEntry("sap-han", "2026-09-20", "2027-03-20"),
		"con-han.md": kbEntry("con-han", "2026-12-31", "2027-12-31"),
	})
}

// TestRemindPreviewStaleEntries: the preview fills {{.StaleEntries}} from
// the base in use, on the day of the next run.
func TestRemindPreviewStaleEntries(t *testing.T) {
	t.Setenv("TZ", "UTC")
	kb := staleKB(t)
	db := filepath.Join(t.TempDir(), "t.db")
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"two due", vn(2027, 3, 3, 7, 0), "Cần rà soát: 2 mục\n"},
		{"only the passed one, near one more than 30 days away", vn(2027, 2, 10, 7, 0), "Cần rà soát: 1 mục\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLIAt(t, tt.now, "remind", "preview", "--db", db, "--kb", kb, "--cron", "0 8 * * *", "--template", "Cần rà soát: {{.StaleEntries}} mục")
			if code != 0 || !strings.HasSuffix(out, "\n\n"+tt.want) {
				t.Errorf("exit %d\n%s%s\nwant it to end with %q", code, out, errOut, tt.want)
			}
		})
	}
	if code, _, errOut := runCLIAt(t, vn(2027, 3, 3, 7, 0), "remind", "preview", "--db", db, "--cron", "0 8 * * *", "--template", "{{.StaleEntry}}"); code == 0 || !strings.Contains(errOut, ".StaleEntries") {
		t.Errorf("misspelt field: exit %d, %s", code, errOut)
	}
}

// TestServeDigestStaleEntries: the server's scheduler fills
// {{.StaleEntries}} from the live base when a reminder runs, and sends it
// through the Telegram channel (a fake Bot API).
func TestServeDigestStaleEntries(t *testing.T) {
	const token = "999:tok"
	var mu sync.Mutex
	var texts []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, _ := strings.CutPrefix(r.URL.Path, "/bot"+token+"/")
		_ = r.ParseMultipartForm(1 << 20)
		switch method {
		case "getMe":
			fmt.Fprint(w, `{"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Bot","username":"cole_bot"}}`)
		case "sendMessage":
			mu.Lock()
			texts = append(texts, r.FormValue("chat_id")+": "+r.FormValue("text"))
			mu.Unlock()
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":%s,"type":"private"}}}`, r.FormValue("chat_id"))
		default:
			fmt.Fprint(w, `{"ok":true,"result":true}`)
		}
	}))
	defer api.Close()

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	now := vn(2027, 3, 3, 8, 0).Add(10 * time.Second) // a Wednesday, just after the 08:00 slot
	// The reminder is created on the test's clock (an hour before the
	// slot), not today's date: a reminder runs only slots after its creation.
	created := now.Add(-time.Hour)
	db, err := storage.Open(ctx, path, storage.Options{Now: func() time.Time { return created }})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := db.AddTeam(ctx, "Thôn Đông", "")
	if err != nil {
		t.Fatal(err)
	}
	key := db.UserKey(bot.ChannelTelegram, "77")
	if err := db.SetAddress(ctx, bot.ChannelTelegram, key, "77"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.JoinTeam(ctx, bot.ChannelTelegram, key, tm.JoinCode, "Anh A"); err != nil {
		t.Fatal(err)
	}
	r := storage.Reminder{Name: "Rà soát", Cron: "0 8 * * *", Target: "all", Enabled: true,
		Template: "Tổ {{.Team}}: {{.StaleEntries}} mục cần rà soát"}
	if err := db.AddReminder(ctx, &r); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cfg := &Config{Addr: "127.0.0.1:0", DB: path, KBDir: staleKB(t), MaxLen: 1000, LLM: LLMConfig{Timeout: time.Second},
		Telegram: TelegramConfig{Token: token, APIURL: api.URL, WebhookURL: "https://bot.example.vn/tg/hook", WebhookSecret: "s3cret"}}
	a := quietApp(t)
	a.now = func() time.Time { return now }
	startServe(t, a, cfg)
	waitUntil(t, "the reminder sent", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(texts) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if len(texts) != 1 || !strings.HasPrefix(texts[0], "77: Tổ Thôn Đông: 2 mục cần rà soát") {
		t.Errorf("sent %q, want the reminder with 2 entries due", texts)
	}
}
