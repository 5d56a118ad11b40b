package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot/alert"
	"github.com/colecommune/trolyso/storage"
)

// alertBotAPI is a Telegram Bot API on 127.0.0.1 for alert tests: it
// records every sendMessage (chat, time, text) and answers chosen chats
// with 403 (blocked) or, a given number of times, 429 with retry_after.
type alertBotAPI struct {
	srv   *httptest.Server
	token string

	mu      sync.Mutex
	sends   []tgSend
	refused []tgSend // 429s answered
	forbid  map[int64]bool
	tooMany map[int64]int
	retry   int
	msgID   int
}

type tgSend struct {
	chat int64
	at   time.Time
	text string
}

func newAlertBotAPI(t *testing.T, token string) *alertBotAPI {
	f := &alertBotAPI{token: token, forbid: map[int64]bool{}, tooMany: map[int64]int{}, retry: 1}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *alertBotAPI) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+f.token+"/")
	if !ok {
		fmt.Fprint(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	r.ParseMultipartForm(1 << 20)
	switch method {
	case "getMe":
		fmt.Fprint(w, `{"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Trợ lý số","username":"trolyso_test_bot"}}`)
	case "sendMessage":
		chat, _ := strconv.ParseInt(r.FormValue("chat_id"), 10, 64)
		now := time.Now()
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.forbid[chat] {
			fmt.Fprint(w, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`)
			return
		}
		if f.tooMany[chat] > 0 {
			f.tooMany[chat]--
			f.refused = append(f.refused, tgSend{chat: chat, at: now})
			fmt.Fprintf(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, f.retry, f.retry)
			return
		}
		f.msgID++
		f.sends = append(f.sends, tgSend{chat: chat, at: now, text: r.FormValue("text")})
		fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private"},"text":"ok"}}`, f.msgID, now.Unix(), chat)
	default: // setWebhook, deleteWebhook, …
		fmt.Fprint(w, `{"ok":true,"result":true}`)
	}
}

func (f *alertBotAPI) sent() []tgSend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tgSend(nil), f.sends...)
}

// seedSubscribers writes n Telegram subscribers (chat ids first..first+n-1)
// with their delivery addresses in one transaction.
func seedSubscribers(t *testing.T, db *storage.DB, first int64, n int) {
	t.Helper()
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	// Through db.Tx, so that a commune's store writes into its own schema.
	err := db.Tx(context.Background(), func(tx *sql.Tx) error {
		for i := range int64(n) {
			chat := strconv.FormatInt(first+i, 10)
			var id int64
			if err := tx.QueryRow(`INSERT INTO users(key, channel, active, created_at, last_seen) VALUES (?, 'telegram', 1, ?, ?) RETURNING id`,
				db.UserKey("telegram", chat), now, now).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO addresses(user_id, address, updated_at) VALUES (?, ?, ?)`, id, chat, now); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO alert_subscribers(user_id, subscribed_at) VALUES (?, ?)`, id, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeAlertFile(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "canh-bao.md")
	body := "---\nkind: scam\ntitle: Giả danh công an gọi điện đòi mã OTP\nentries: [vneid-lua-dao]\n---\nCông an **không bao giờ** hỏi mã OTP qua điện thoại. Gác máy, gọi {{.Police.Name}}.\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// alertCLI runs the trolyso command line in this process with env.
func alertCLI(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, now: time.Now,
		getenv: func(k string) string { return env[k] }}
	code = a.main(context.Background(), args)
	return code, out.String(), errb.String()
}

func tgEnv(api *alertBotAPI, dbPath string) map[string]string {
	return map[string]string{
		"TROLYSO_DB":              dbPath,
		"TELEGRAM_BOT_TOKEN":      api.token,
		"TELEGRAM_API_URL":        api.srv.URL,
		"TELEGRAM_WEBHOOK_URL":    "http://127.0.0.1:1/telegram/webhook",
		"TELEGRAM_WEBHOOK_SECRET": "alert-test-secret",
	}
}

func envList(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// waitJob polls the job until it is done (at most limit).
func waitJob(t *testing.T, db *storage.DB, id int64, limit time.Duration) storage.AlertJob {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		j, err := db.AlertJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == storage.JobDone || j.Status == storage.JobCancelled {
			return j
		}
		if time.Now().After(deadline) {
			p, _ := db.AlertJobProgress(context.Background(), id, time.Now())
			t.Fatalf("job %d still %s after %v: %+v", id, j.Status, limit, p.States)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rateFigures are the measured sending figures of a run of messages.
type rateFigures struct {
	n         int
	duration  time.Duration
	rate      float64 // messages a second, first to last
	maxPerSec int     // most messages in any one-second window
}

// receiveJitter is how many more than 30 messages the fake Bot API may see
// in one second although the sender paces at 28 a second with no burst:
// the fake timestamps a message when its handler runs, and on a loaded
// 2-core machine the sender's workers and the handlers are scheduled late
// and early by tens of milliseconds, which packs sends made over about
// 1.1 s into one second of receive times (28 × 1.1 + 1 ≈ 32).
const receiveJitter = 2

func measure(sends []tgSend) rateFigures {
	sort.Slice(sends, func(i, j int) bool { return sends[i].at.Before(sends[j].at) })
	f := rateFigures{n: len(sends)}
	if len(sends) < 2 {
		return f
	}
	f.duration = sends[len(sends)-1].at.Sub(sends[0].at)
	f.rate = float64(len(sends)-1) / f.duration.Seconds()
	j := 0
	for i := range sends {
		for sends[i].at.Sub(sends[j].at) >= time.Second {
			j++
		}
		f.maxPerSec = max(f.maxPerSec, i-j+1)
	}
	return f
}

func (f rateFigures) String() string {
	return fmt.Sprintf("%d messages in %.1f s: %.1f/s overall, at most %d in any one second", f.n, f.duration.Seconds(), f.rate, f.maxPerSec)
}

// TestAlertTwoThousandSubscribers runs `trolyso serve` against the fake
// Bot API with 2,000 subscribers, records a job with the CLI (which leaves
// the sending to the server) and checks that every subscriber receives
// the alert exactly once, at more than 25 and at most 30 messages a second.
func TestAlertTwoThousandSubscribers(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 2,000 paced messages (about 70 s)")
	}
	t.Parallel()
	const n = 2000
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "alerts.db")
	db, err := storage.Open(context.Background(), dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seedSubscribers(t, db, 100000, n)
	api := newAlertBotAPI(t, "4242:alert-e2e")
	env := tgEnv(api, dbPath)
	srv := startChild(t, dbPath, envList(env)...)
	waitUntil(t, "the server to hold the sender lease", func() bool {
		_, err := db.CurrentAlertSender(context.Background(), time.Now())
		return err == nil
	})
	file := writeAlertFile(t, dir)

	// Above 500 recipients, --yes alone is refused and a wrong typed
	// count does not send.
	if code, _, errOut := alertCLI(t, env, "", "alert", "send", "--file", file, "--yes", "--by", "Nguyễn Văn Thử"); code == 0 || !strings.Contains(errOut, "--count 2000") {
		t.Fatalf("--yes without --count: exit %d, %s", code, errOut)
	}
	if code, out, _ := alertCLI(t, env, "1999\n", "alert", "send", "--file", file, "--by", "Nguyễn Văn Thử"); code == 0 || !strings.Contains(out, "Type the number of recipients (2000)") {
		t.Fatalf("typed 1999: exit %d\n%s", code, out)
	}
	if js, _ := db.AlertJobs(context.Background(), 5); len(js) != 0 {
		t.Fatal("a job was recorded without confirmation")
	}
	code, out, errOut := alertCLI(t, env, "", "alert", "send", "--file", file, "--yes", "--count", "2000", "--by", "Nguyễn Văn Thử", "--no-wait")
	if code != 0 || !strings.Contains(out, "A running server sends it") || !strings.Contains(out, "2000 người nhận (2000 trên Telegram)") {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	js, _ := db.AlertJobs(context.Background(), 5)
	if len(js) != 1 {
		t.Fatalf("%d jobs", len(js))
	}
	j := waitJob(t, db, js[0].ID, 150*time.Second)

	sends := api.sent()
	per := map[int64]int{}
	for _, s := range sends {
		per[s.chat]++
	}
	for chat := int64(100000); chat < 100000+n; chat++ {
		if per[chat] != 1 {
			t.Errorf("chat %d received %d messages", chat, per[chat])
		}
	}
	if len(sends) != n {
		t.Errorf("%d messages sent, want %d", len(sends), n)
	}
	if !strings.Contains(sends[0].text, "<b>Giả danh công an gọi điện đòi mã OTP</b>") {
		t.Errorf("text = %q", sends[0].text)
	}
	m := measure(sends)
	t.Logf("2,000 subscribers: %v", m)
	if m.maxPerSec > 30+receiveJitter {
		t.Errorf("%d messages in one second (limit 30, +%d for the fake's receive-time jitter)", m.maxPerSec, receiveJitter)
	}
	if m.rate <= 25 || m.rate > 30 {
		t.Errorf("overall rate %.1f/s, want above 25 and at most 30", m.rate)
	}
	r, err := alert.BuildReport(context.Background(), db, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("job report: %d delivered in %.1f s (%.1f/s)", r.Delivered, r.DurationSeconds, r.RatePerSecond)
	if r.Delivered != n || r.Recipients != n || !strings.Contains(r.ConfirmedBy, "Nguyễn Văn Thử") {
		t.Errorf("report = %+v", r)
	}
	// stats --json carries the job under "alerts".
	code, out, _ = alertCLI(t, env, "", "stats", "--json")
	var st struct {
		Alerts []alert.Report `json:"alerts"`
		Period string         `json:"period"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 || st.Period != "all" {
		t.Fatalf("stats --json: exit %d, %v\n%s", code, err, out)
	}
	if len(st.Alerts) != 1 || st.Alerts[0].Delivered != n || st.Alerts[0].DurationSeconds <= 0 {
		t.Errorf("stats alerts = %+v", st.Alerts)
	}
	_ = srv
}

// TestAlertSIGKILLResumesWithoutDuplicates kills the sending server with
// SIGKILL in the middle of a 2,000-recipient job, restarts it on the same
// database, and checks that the job finishes with no recipient messaged
// twice and no one skipped: every row is sent exactly once, except rows
// caught between claim and record, which are "unknown" and not re-sent.
func TestAlertSIGKILLResumesWithoutDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 2,000 paced messages (about 70 s)")
	}
	t.Parallel()
	const n = 2000
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "kill.db")
	db, err := storage.Open(context.Background(), dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seedSubscribers(t, db, 500000, n)
	api := newAlertBotAPI(t, "4343:alert-kill")
	env := tgEnv(api, dbPath)
	srv := startChild(t, dbPath, envList(env)...)
	waitUntil(t, "the server to hold the sender lease", func() bool {
		_, err := db.CurrentAlertSender(context.Background(), time.Now())
		return err == nil
	})
	if code, out, errOut := alertCLI(t, env, "", "alert", "send", "--file", writeAlertFile(t, dir), "--yes", "--count", "2000", "--by", "Kiểm thử", "--no-wait"); code != 0 {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	js, _ := db.AlertJobs(context.Background(), 1)
	job := js[0].ID
	deadline := time.Now().Add(90 * time.Second)
	for len(api.sent()) < 700 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d sent before the kill\n%s", len(api.sent()), srv.Logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Kill() // SIGKILL: no shutdown code runs, the lease is not released
	killedAt := len(api.sent())
	killTime := time.Now()
	srv2 := startChild(t, dbPath, envList(env)...)
	waitJob(t, db, job, 150*time.Second)
	sends := api.sent()
	var resumed time.Time
	for _, s := range sends[killedAt:] {
		resumed = s.at
		break
	}
	per := map[int64]int{}
	for _, s := range sends {
		per[s.chat]++
	}
	ds, err := db.AlertDeliveries(context.Background(), job, "")
	if err != nil {
		t.Fatal(err)
	}
	unknown, unknownArrived := 0, 0
	for _, d := range ds {
		chat, _ := strconv.ParseInt(d.Address, 10, 64)
		switch d.State {
		case storage.DeliverySent:
			if per[chat] != 1 {
				t.Errorf("chat %d (sent) received %d messages", chat, per[chat])
			}
		case storage.DeliveryUnknown:
			unknown++
			unknownArrived += per[chat]
			if per[chat] > 1 {
				t.Errorf("chat %d (unknown) received %d messages", chat, per[chat])
			}
		default:
			t.Errorf("chat %d ended %s (%s)", chat, d.State, d.Error)
		}
	}
	for chat, k := range per {
		if k > 1 {
			t.Errorf("chat %d received the alert %d times", chat, k)
		}
	}
	if len(ds) != n {
		t.Errorf("%d rows, want %d", len(ds), n)
	}
	if unknown > alert.DefaultWorkers {
		t.Errorf("%d rows unknown; at most the %d sends in flight at the kill can be", unknown, alert.DefaultWorkers)
	}
	t.Logf("killed after %d messages; resumed %.1f s after the kill; %d rows unknown (%d of them had arrived); %d distinct chats received it; after restart: %v",
		killedAt, resumed.Sub(killTime).Seconds(), unknown, unknownArrived, len(per), measure(sends[killedAt:]))
	if len(per) < n-unknown {
		t.Errorf("%d chats received it, want at least %d", len(per), n-unknown)
	}
	if m := measure(sends); m.maxPerSec > 30+receiveJitter {
		t.Errorf("%d messages in one second", m.maxPerSec)
	}
	_ = srv2
}

// TestAlert429And403FromTheCLI sends from the CLI itself (no server): a
// 429 with retry_after holds the sending for that long and the message is
// then delivered once; a 403 unsubscribes the resident and counts in the
// report; the CLI shows the progress and the report.
func TestAlert429And403FromTheCLI(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "cli.db")
	db, err := storage.Open(context.Background(), dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 40
	seedSubscribers(t, db, 7000, n)
	api := newAlertBotAPI(t, "4444:alert-cli")
	for _, c := range []int64{7003, 7011, 7012, 7030} {
		api.forbid[c] = true
	}
	api.tooMany[7005] = 1
	api.tooMany[7020] = 1
	env := tgEnv(api, dbPath)
	file := writeAlertFile(t, dir)
	code, out, errOut := alertCLI(t, env, "yes\n", "alert", "send", "--file", file, "--by", "Lê Thị Cán Bộ")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"Send to 40 recipients? Type \"yes\"", "No server is sending alerts: sending from here",
		"Recipients: 40; delivered: 36; left: 0; unsubscribed because of it: 4", "40/40"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	sends := api.sent()
	per := map[int64]int{}
	for _, s := range sends {
		per[s.chat]++
	}
	for chat := int64(7000); chat < 7000+n; chat++ {
		want := 1
		if api.forbid[chat] {
			want = 0
		}
		if per[chat] != want {
			t.Errorf("chat %d received %d, want %d", chat, per[chat], want)
		}
		key := db.UserKey("telegram", strconv.FormatInt(chat, 10))
		if s, _ := db.Subscriber(context.Background(), key); s.Active == api.forbid[chat] {
			t.Errorf("chat %d subscribed = %v after a 403 = %v", chat, s.Active, api.forbid[chat])
		}
	}
	// After each 429 nothing new reaches Telegram for retry_after (1 s,
	// less what was already on the wire), and the refused chat gets its
	// message once after it.
	api.mu.Lock()
	refused := append([]tgSend(nil), api.refused...)
	api.mu.Unlock()
	if len(refused) != 2 {
		t.Fatalf("%d answers 429, want 2", len(refused))
	}
	for _, r := range refused {
		for _, s := range sends {
			if gap := s.at.Sub(r.at); gap > 50*time.Millisecond && gap < 950*time.Millisecond {
				t.Errorf("a message reached Telegram %v after a 429 with retry_after 1", gap)
			}
			if s.chat == r.chat && s.at.Sub(r.at) < time.Second {
				t.Errorf("chat %d retried %v after its 429", r.chat, s.at.Sub(r.at))
			}
		}
	}
	js, _ := db.AlertJobs(context.Background(), 1)
	r, _ := alert.BuildReport(context.Background(), db, js[0].ID)
	if r.Failed[storage.DeliveryBlocked] != 4 || r.UnsubscribedBy[storage.UnsubBlocked] != 4 || r.Delivered != 36 {
		t.Errorf("report = %+v", r)
	}
	// The lease is released: the next send from the CLI needs no server.
	if _, err := db.CurrentAlertSender(context.Background(), time.Now()); err == nil {
		t.Error("the CLI kept the sender lease")
	}
	// status and list show the job.
	if code, out, _ := alertCLI(t, env, "", "alert", "status", strconv.FormatInt(js[0].ID, 10)); code != 0 || !strings.Contains(out, "đã gửi xong") {
		t.Errorf("status: %d\n%s", code, out)
	}
	if code, out, _ := alertCLI(t, env, "", "alert", "list"); code != 0 || !strings.Contains(out, "36/40") || !strings.Contains(out, "Lê Thị Cán Bộ") {
		t.Errorf("list: %d\n%s", code, out)
	}
	if code, out, _ := alertCLI(t, env, "", "alert", "subscribers"); code != 0 || !strings.Contains(out, "(none chosen)  36") {
		t.Errorf("subscribers: %d\n%s", code, out)
	}
}

func TestAlertCLIRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TROLYSO_DB": filepath.Join(dir, "bad.db")}
	bad := filepath.Join(dir, "bad.md")
	os.WriteFile(bad, []byte("---\nkind: spam\ntitle: x\n---\n"), 0o600)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"alert"}, "usage"},
		{[]string{"alert", "send"}, "--file is required"},
		{[]string{"alert", "send", "--file", filepath.Join(dir, "none.md")}, "read alert file"},
		{[]string{"alert", "send", "--file", bad}, `kind "spam"`},
		{[]string{"alert", "send", "--file", bad, "--kind", "notice"}, "text (after the second ---) is empty"},
		{[]string{"alert", "status", "abc"}, "not an id"},
		{[]string{"alert", "cancel", "9"}, "no alert job 9"},
		{[]string{"alert", "templates", "khong-co"}, "no template"},
	} {
		code, out, errOut := alertCLI(t, env, "", tt.args...)
		if code == 0 || !strings.Contains(out+errOut, tt.want) {
			t.Errorf("%v: exit %d, want an error mentioning %q\n%s%s", tt.args, code, tt.want, out, errOut)
		}
	}
	// Nobody subscribed: nothing is recorded.
	good := filepath.Join(dir, "good.md")
	os.WriteFile(good, []byte("---\nkind: notice\ntitle: Lịch làm việc\n---\nThứ Bảy làm việc.\n"), 0o600)
	if code, _, errOut := alertCLI(t, env, "", "alert", "send", "--file", good, "--yes"); code == 0 || !strings.Contains(errOut, "no recipients") {
		t.Errorf("send to nobody: %d %s", code, errOut)
	}
	code, out, _ := alertCLI(t, env, "", "alert", "templates", "gia-danh-cong-an")
	if code != 0 || !strings.HasPrefix(out, "---\nkind: scam") {
		t.Errorf("template: %d %q", code, out)
	}
}

// TestServeMountsAlertPages: the server serves /canhbao and the pin, and
// the web chat page loads the pin script.
func TestServeMountsAlertPages(t *testing.T) {
	dir := t.TempDir()
	cfg := &Config{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "t.db"), MaxLen: 1000, WebRate: 60, LLM: LLMConfig{Timeout: time.Second}}
	addr, _ := startServe(t, quietApp(t), cfg)
	for path, want := range map[string]string{
		"/":                  `<script src="canhbao/ghim.js" defer></script>`,
		"/canhbao":           "Hiện không có cảnh báo nào còn hiệu lực.",
		"/canhbao/ghim.json": `"pins":[]`,
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b := new(bytes.Buffer)
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(b.String(), want) {
			t.Errorf("GET %s: %d, want %q in:\n%s", path, resp.StatusCode, want, b.String())
		}
	}
}

func TestAlertConfig(t *testing.T) {
	checkConfig(t, map[string]string{}, []configCase{
		{"defaults", nil, ""},
		{"links", map[string]string{"TROLYSO_TELEGRAM_LINK": "https://t.me/xacole_bot", "TROLYSO_ZALO_LINK": "https://zalo.me/123"}, ""},
		{"bad link", map[string]string{"TROLYSO_TELEGRAM_LINK": "t.me/xacole_bot"}, "TROLYSO_TELEGRAM_LINK"},
		{"zalo rate", map[string]string{"TROLYSO_ALERT_ZALO_RATE": "2.5"}, ""},
		{"zalo rate not a number", map[string]string{"TROLYSO_ALERT_ZALO_RATE": "nhanh"}, "TROLYSO_ALERT_ZALO_RATE"},
		{"zalo rate zero", map[string]string{"TROLYSO_ALERT_ZALO_RATE": "0"}, "TROLYSO_ALERT_ZALO_RATE"},
	})
}
