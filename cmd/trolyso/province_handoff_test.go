package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/colecommune/trolyso/storage"
)

// Staff groups of the communes of TestProvinceHandoff.
const (
	coLeStaff  = "-100111"
	yenTuStaff = "-100222"
)

// setStaffGroup sets the staff_telegram_chat of a commune's profile.
func setStaffGroup(t *testing.T, dir, slug, chat string) {
	t.Helper()
	p := filepath.Join(dir, slug+".yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "staff_telegram_chat: 0", "staff_telegram_chat: "+chat, 1)
	if s == string(b) {
		t.Fatal("no staff_telegram_chat line in the profile")
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestProvinceHandoff(t *testing.T) {
	onBothBackends(t, testProvinceHandoff)
}

// testProvinceHandoff: one Telegram bot for a province of three communes,
// two of which have a staff group. A resident of Cổ Lễ and one of Yên Từ
// ask for staff (each commune's first ticket: both are #1); each request
// is posted to its own commune's group only; a reply in Cổ Lễ's group
// reaches the Cổ Lễ resident only; Yên Từ's group replying to Cổ Lễ's
// post reaches nobody. In the dashboard Yên Từ's admin sees and acts on
// Yên Từ's ticket only, whatever id they use; the province admin sees the
// commune chosen in the header.
func testProvinceHandoff(t *testing.T, backend string) {
	ctx := context.Background()
	const token, secret = "999:tok", "s3cret"
	api := newStaffFakeAPI(t, token)
	dir := t.TempDir()
	communes := writeCommunes(t)
	setStaffGroup(t, communes, "co-le", coLeStaff)
	setStaffGroup(t, communes, "yen-tu", yenTuStaff)
	cfg := provinceConfig(t, backend, dir, communes)
	cfg.HandoffIdle, cfg.HandoffRepost = 24*time.Hour, 2*time.Hour
	cfg.Telegram = TelegramConfig{Token: token, APIURL: api.srv.URL, WebhookURL: "https://bot.example.vn/tg/hook", WebhookSecret: secret}
	db, err := storage.OpenURL(ctx, cfg.dsn(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, commune := range map[string]string{"lan": "co-le", "tu": "yen-tu", "tinh": ""} {
		h, _ := bcrypt.GenerateFromPassword([]byte("mat-khau-"+name+"-123"), bcrypt.MinCost)
		if _, err := db.AddAdmin(ctx, name, commune, string(h), false); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	addr, _ := startServe(t, quietApp(t), cfg)
	base := "http://" + addr

	update := 0
	send := func(body string) {
		t.Helper()
		update++
		postUpdate(t, base, secret, fmt.Sprintf(`{"update_id":%d,%s}`, update, body))
	}
	private := func(user int64) string {
		return fmt.Sprintf(`"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"Dân %d"}`, user, user, user)
	}
	say := func(user int64, text string) {
		t.Helper()
		tx, _ := json.Marshal(text)
		send(fmt.Sprintf(`"message":{"message_id":%d,"date":1,%s,"text":%s}`, update+100, private(user), tx))
	}
	choose := func(user int64, slug string) {
		t.Helper()
		send(fmt.Sprintf(`"callback_query":{"id":"cq%d","chat_instance":"ci","data":"xa:%s","from":{"id":%d,"is_bot":false,"first_name":"Dân"},`+
			`"message":{"message_id":%d,"date":1,"chat":{"id":%d,"type":"private"},"from":{"id":999,"is_bot":true,"first_name":"Bot"}}}`,
			update, slug, user, update+100, user))
	}
	staffSays := func(group string, replyTo int64, name, text string) {
		t.Helper()
		tx, _ := json.Marshal(text)
		send(fmt.Sprintf(`"message":{"message_id":%d,"date":1,"chat":{"id":%s,"type":"supergroup"},"from":{"id":501,"is_bot":false,"first_name":%q},`+
			`"text":%s,"reply_to_message":{"message_id":%d,"date":1,"chat":{"id":%s,"type":"supergroup"},"from":{"id":999,"is_bot":true,"first_name":"Bot"}}}`,
			update+100, group, name, tx, replyTo, group))
	}
	contains := func(chat, s string) int {
		n := 0
		for _, m := range api.messages(chat) {
			if strings.Contains(m.text, s) {
				n++
			}
		}
		return n
	}

	// Each resident chooses their commune, asks something the bot does
	// not cover, then asks for staff.
	choose(7, "co-le")
	choose(8, "yen-tu")
	waitUntil(t, "both communes chosen", func() bool { return contains("7", "Đã chọn") == 1 && contains("8", "Đã chọn") == 1 })
	say(7, "COLEHOI xin hỏi nhà văn hóa thôn mấy giờ mở cửa")
	say(8, "YENTUHOI xin hỏi lịch tiêm chủng của trạm y tế")
	say(7, "/canbo")
	say(8, "/canbo")
	waitUntil(t, "each request posted in its commune's group", func() bool {
		return contains(coLeStaff, "COLEHOI") == 1 && contains(yenTuStaff, "YENTUHOI") == 1
	})
	if contains(coLeStaff, "YENTUHOI") != 0 || contains(yenTuStaff, "COLEHOI") != 0 {
		t.Fatal("a request was posted in another commune's staff group")
	}
	for _, m := range api.messages("7") {
		if strings.Contains(m.text, "Yêu cầu #1") && !strings.Contains(m.text, "xã Cổ Lễ") {
			t.Errorf("the Cổ Lễ resident's notice does not name Cổ Lễ: %q", m.text)
		}
	}
	cardA := api.messages(coLeStaff)[0]
	cardB := api.messages(yenTuStaff)[0]
	if !strings.Contains(cardA.text, "Yêu cầu #1") || !strings.Contains(cardB.text, "Yêu cầu #1") {
		t.Fatalf("cards: %q / %q", cardA.text, cardB.text)
	}

	// A reply in Cổ Lễ's group reaches the Cổ Lễ resident only.
	staffSays(coLeStaff, cardA.id, "Hùng", "Nhà văn hóa mở cửa từ 7 giờ sáng, COLETRALOI.")
	waitUntil(t, "the Cổ Lễ answer delivered", func() bool { return contains("7", "COLETRALOI") == 1 })
	// Yên Từ's staff replying (in their group) to Cổ Lễ's post: not a post
	// of their commune, nobody receives it.
	staffSays(yenTuStaff, cardA.id, "Tú", "Trả lời nhầm nhóm YENTUNHAM")
	staffSays(yenTuStaff, cardB.id, "Tú", "Lịch tiêm chủng vào thứ Ba, YENTUTRALOI.")
	waitUntil(t, "the Yên Từ answer delivered", func() bool { return contains("8", "YENTUTRALOI") == 1 })
	time.Sleep(500 * time.Millisecond) // a stray delivery would come now
	for _, chat := range []string{"7", "8"} {
		if contains(chat, "YENTUNHAM") != 0 {
			t.Errorf("a reply to another commune's post reached resident %s", chat)
		}
	}
	if contains("8", "COLETRALOI") != 0 || contains("7", "YENTUTRALOI") != 0 {
		t.Error("an answer reached another commune's resident")
	}
	if !strings.Contains(api.messages("7")[len(api.messages("7"))-1].text, "Cán bộ xã (Hùng) trả lời") {
		t.Error("the answer is not shown as a person's")
	}

	// The dashboard.
	login := func(name string) *http.Client {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		tok := csrfIn(get(t, c, base+"/admin/login"))
		resp, err := c.PostForm(base+"/admin/login", url.Values{"csrf": {tok}, "name": {name}, "password": {"mat-khau-" + name + "-123"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %s: %d", name, resp.StatusCode)
		}
		return c
	}
	tu := login("tu")
	list := get(t, tu, base+"/admin/hoidap")
	if !strings.Contains(list, "YENTU") || strings.Contains(list, "COLE") {
		t.Fatalf("Yên Từ's admin's requests: own %v, Cổ Lễ's %v", strings.Contains(list, "YENTU"), strings.Contains(list, "COLE"))
	}
	for _, p := range []string{"/admin/hoidap/1", "/admin/hoidap/2", "/admin/hoidap/closed?q=nha+van+hoa", "/admin/hoidap/closed?q=%231"} {
		if _, page := status(t, tu, base+p); strings.Contains(page, "COLE") || strings.Contains(page, "nhà văn hóa") {
			t.Errorf("GET %s by Yên Từ's admin shows Cổ Lễ's ticket", p)
		}
	}
	// Acting on ticket #1 acts on Yên Từ's #1: the Cổ Lễ resident gets
	// nothing and Cổ Lễ's ticket does not change.
	coLe := openCommune(t, cfg, "co-le")
	before := ticketState(t, coLe)
	tok := csrfIn(list)
	resp, err := tu.PostForm(base+"/admin/hoidap/1/reply", url.Values{"csrf": {tok}, "staff": {"Tú"}, "text": {"Bổ sung từ trang quản trị YENTUWEB"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply from the dashboard: %d", resp.StatusCode)
	}
	waitUntil(t, "the dashboard answer delivered to the Yên Từ resident", func() bool { return contains("8", "YENTUWEB") == 1 })
	if !poll(func() bool { return contains(yenTuStaff, "YENTUWEB") == 1 }) {
		for _, m := range api.messages(yenTuStaff) {
			t.Logf("group: %q", m.text)
		}
		t.Fatal("the dashboard answer is not shown in Yên Từ's group")
	}
	for _, act := range []string{"claim", "close"} {
		resp, err := tu.PostForm(base+"/admin/hoidap/1/"+act, url.Values{"csrf": {tok}, "staff": {"Tú"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	time.Sleep(500 * time.Millisecond)
	if contains("7", "YENTUWEB") != 0 || contains(coLeStaff, "YENTUWEB") != 0 {
		t.Error("a Yên Từ dashboard answer reached Cổ Lễ")
	}
	if after := ticketState(t, coLe); after != before {
		t.Errorf("Cổ Lễ's ticket changed by Yên Từ's admin:\nbefore %s\nafter  %s", before, after)
	}
	if !strings.Contains(ticketState(t, openCommune(t, cfg, "yen-tu")), "closed") {
		t.Error("Yên Từ's admin could not close Yên Từ's ticket")
	}

	// The province admin sees the commune chosen in the header.
	tinh := login("tinh")
	roll := get(t, tinh, base+"/admin/tinh")
	resp, err = tinh.PostForm(base+"/admin/chonxa", url.Values{"csrf": {csrfIn(roll)}, "commune": {"co-le"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if page := get(t, tinh, base+"/admin/hoidap"); !strings.Contains(page, "COLE") || strings.Contains(page, "YENTU") {
		t.Error("the province admin does not see Cổ Lễ's requests once it is chosen")
	}
	if page := get(t, tinh, base+"/admin/hoidap/1"); !strings.Contains(page, "COLETRALOI") {
		t.Error("the province admin does not see Cổ Lễ's conversation")
	}

	// Hoa Lư has no staff group: its web-chat residents reach its staff
	// in the dashboard, and the answer waits for them at /xa/hoa-lu/.
	jar, _ := cookiejar.New(nil)
	resident := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	webSay := func(text string) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"text": text})
		resp, err := resident.Post(base+"/xa/hoa-lu/api/message", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	if r := webSay("/canbo"); r["band"] != "handoff" || !strings.Contains(fmt.Sprint(r["html"]), "phường Hoa Lư") {
		t.Fatalf("/canbo on Hoa Lư's web chat: %v", r)
	}
	webSay("HOALUHOI cho hỏi giờ tiếp dân chiều thứ Sáu")
	resp, err = tinh.PostForm(base+"/admin/chonxa", url.Values{"csrf": {csrfIn(roll)}, "commune": {"hoa-lu"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if page := get(t, tinh, base+"/admin/hoidap/1"); !strings.Contains(page, "HOALUHOI") {
		t.Fatal("Hoa Lư's request is not in its dashboard")
	}
	if page := get(t, tinh, base+"/admin/hoidap"); !strings.Contains(page, "staff_telegram_chat") {
		t.Error("Hoa Lư's requests page does not say where its staff group is set")
	}
	resp, err = tinh.PostForm(base+"/admin/hoidap/1/reply", url.Values{"csrf": {csrfIn(roll)}, "staff": {"Tỉnh"}, "text": {"Chiều thứ Sáu tiếp dân từ 14 giờ HOALUTRALOI"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var poll struct {
		Messages []struct{ Text, HTML string }
		Open     bool
	}
	r, err := resident.Get(base + "/xa/hoa-lu/api/staff")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(r.Body).Decode(&poll)
	r.Body.Close()
	if !poll.Open || len(poll.Messages) != 1 || !strings.Contains(poll.Messages[0].HTML+poll.Messages[0].Text, "HOALUTRALOI") {
		t.Errorf("Hoa Lư's web resident's staff messages: %+v", poll)
	}
	// The same browser on another commune's page has no conversation there.
	if r, err = resident.Get(base + "/xa/co-le/api/staff"); err == nil {
		poll.Messages, poll.Open = nil, false
		json.NewDecoder(r.Body).Decode(&poll)
		r.Body.Close()
		if poll.Open || len(poll.Messages) != 0 {
			t.Errorf("Cổ Lễ's page shows Hoa Lư's conversation: %+v", poll)
		}
	}
	if contains(coLeStaff, "HOALU")+contains(yenTuStaff, "HOALU") != 0 {
		t.Error("Hoa Lư's request was posted in another commune's group")
	}
}

// ticketState is a commune's tickets and their messages, as text.
func ticketState(t *testing.T, db *storage.DB) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, st := range []string{storage.TicketOpen, storage.TicketClosed} {
		ts, err := db.ListTickets(ctx, storage.TicketFilter{Status: st, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ts {
			fmt.Fprintf(&b, "#%d %s %q;", x.ID, x.Status, x.ClaimedBy)
			ms, err := db.TicketMessages(ctx, x.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				b.WriteString(m.Author + ":" + m.Text + ";")
			}
		}
	}
	return b.String()
}

// TestProvinceHandoffConfig: a province's staff groups are each commune's
// own, need the bot, and the one-commune variable is refused with the way
// to do it.
func TestProvinceHandoffConfig(t *testing.T) {
	tg := TelegramConfig{Token: "999:tok", APIURL: "http://127.0.0.1:1", WebhookURL: "https://bot.example.vn/tg/hook", WebhookSecret: "s3cret"}
	for _, tt := range []struct {
		name   string
		groups map[string]string
		env    func(*Config)
		want   string
	}{
		{"the one-commune variable", nil, func(c *Config) { c.Telegram, c.StaffChat = tg, -100999 }, "staff_telegram_chat in its profile"},
		{"a staff group without the bot", map[string]string{"co-le": coLeStaff}, func(*Config) {}, "commune co-le: its profile sets staff_telegram_chat but TELEGRAM_BOT_TOKEN"},
		{"one group for two communes", map[string]string{"co-le": coLeStaff, "hoa-lu": coLeStaff}, func(c *Config) { c.Telegram = tg }, "the same staff_telegram_chat -100111"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			communes := writeCommunes(t)
			for slug, chat := range tt.groups {
				setStaffGroup(t, communes, slug, chat)
			}
			cfg := &Config{Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "p.db"), Communes: communes, MaxLen: 1000, WebRate: 1000,
				LLM: LLMConfig{Timeout: time.Second}, Alerts: AlertsConfig{ZaloRate: 10}, HandoffIdle: time.Hour, HandoffRepost: time.Hour}
			tt.env(cfg)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := serve(ctx, quietApp(t), cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve: %v, want an error with %q", err, tt.want)
			}
		})
	}
}
