package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

const staffChat = -1001234

// handoffClock is Tuesday 17 March 2026, 09:00 in Vietnam (working hours).
func handoffClock() time.Time { return time.Date(2026, 3, 17, 2, 0, 0, 0, time.UTC) }

// handoffEnv is the Telegram adapter, the engine and the handoff desk on a
// real SQLite file, talking to a fake Bot API; the desk runs until stop.
type handoffEnv struct {
	*testEnv
	desk *handoff.Desk
	stop func()
}

func startHandoff(t *testing.T, dbPath string, runDesk bool) *handoffEnv {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, dbPath, storage.Options{Secret: "test-secret", Now: handoffClock})
	if err != nil {
		t.Fatal(err)
	}
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, handoffClock())
	if err != nil {
		t.Fatal(err)
	}
	eng := bot.New(bot.Config{Store: db, Now: handoffClock}, base)
	desk, err := handoff.New(ctx, handoff.Config{Store: db, Base: eng.Base, Now: handoffClock})
	if err != nil {
		t.Fatal(err)
	}
	desk.Register(eng)
	api := newFakeAPI(t)
	a, err := New(Config{Token: testToken, APIURL: api.URL(), Engine: eng, Store: db, PollTimeout: 2 * time.Second, Now: handoffClock})
	if err != nil {
		t.Fatal(err)
	}
	fastLimits(a)
	a.SetStaff(staffChat, desk)
	desk.AddSender(bot.ChannelTelegram, a)
	desk.SetStaffChat(a)
	actx, acancel := context.WithCancel(ctx)
	adone := make(chan error, 1)
	go func() { adone <- a.Run(actx) }()
	dctx, dcancel := context.WithCancel(ctx)
	ddone := make(chan error, 1)
	if runDesk {
		go func() { ddone <- desk.Run(dctx) }()
	} else {
		ddone <- nil
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		dcancel()
		acancel()
		for _, c := range []chan error{ddone, adone} {
			select {
			case err := <-c:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("did not stop")
			}
		}
		db.Close()
	}
	t.Cleanup(stop)
	return &handoffEnv{testEnv: &testEnv{api: api, a: a, db: db, eng: eng}, desk: desk, stop: stop}
}

// sendsTo returns the sendMessage calls to chat.
func (e *handoffEnv) sendsTo(chat int64) []apiCall {
	var out []apiCall
	for _, c := range e.api.callsOf("sendMessage") {
		if c.Form["chat_id"] == strconv.FormatInt(chat, 10) {
			out = append(out, c)
		}
	}
	return out
}

// waitSend waits for the n-th message to chat and returns it.
func (e *handoffEnv) waitSend(t *testing.T, chat int64, n int) apiCall {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := e.sendsTo(chat); len(got) >= n {
			return got[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for message %d to chat %d; calls: %v", n, chat, e.api.methods())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitText waits for a message to chat containing substr, at or after
// index from of the chat's messages, and returns its index.
func (e *handoffEnv) waitText(t *testing.T, chat int64, substr string, from int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := e.sendsTo(chat)
		for i := from; i < len(got); i++ {
			if strings.Contains(got[i].Form["text"], substr) {
				return i
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q in chat %d", substr, chat)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitEdit waits for the n-th keyboard edit of message msgID.
func (e *handoffEnv) waitEdit(t *testing.T, msgID, n int) apiCall {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []apiCall
		for _, c := range e.api.callsOf("editMessageReplyMarkup") {
			if c.Form["message_id"] == strconv.Itoa(msgID) {
				got = append(got, c)
			}
		}
		if len(got) >= n {
			return got[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for edit %d of message %d; calls: %v", n, msgID, e.api.methods())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// staffReply is a staff member's message in the staff group replying to
// the bot's message replyTo.
func staffReply(user int64, name string, msgID, replyTo int, text string) string {
	tx, _ := json.Marshal(text)
	return fmt.Sprintf(`{"update_id":%%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"supergroup","title":"Cán bộ xã"},`+
		`"from":{"id":%d,"is_bot":false,"first_name":%q},"text":%s,`+
		`"reply_to_message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"supergroup"},"from":{"id":999,"is_bot":true,"first_name":"Trợ lý số"}}}}`,
		msgID, time.Now().Unix(), staffChat, user, name, tx, replyTo, time.Now().Unix(), staffChat)
}

// staffTap is a button tap in the staff group on the bot's message msgID.
func staffTap(user int64, name string, msgID int, data string) string {
	d, _ := json.Marshal(data)
	return fmt.Sprintf(`{"update_id":%%d,"callback_query":{"id":"cq-staff-%d","from":{"id":%d,"is_bot":false,"first_name":%q},"chat_instance":"ci2","data":%s,`+
		`"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"supergroup"},"from":{"id":999,"is_bot":true,"first_name":"Trợ lý số"},"text":"…"}}}`,
		time.Now().UnixNano(), user, name, d, msgID, time.Now().Unix(), staffChat)
}

func buttonLabels(t *testing.T, c apiCall) []string {
	var out []string
	for _, row := range keyboardOf(t, c) {
		for _, b := range row {
			out = append(out, fmt.Sprint(b["text"]))
		}
	}
	return out
}

// TestHandoffThroughTelegram: a resident's out-of-scope question, the
// handoff button, the post in the staff group, claim, a staff member's
// Telegram reply reaching the resident, a long answer split, close with
// the rating question, a reply to the closed ticket refused, and the bot
// removed from the group.
func TestHandoffThroughTelegram(t *testing.T) {
	e := startHandoff(t, filepath.Join(t.TempDir(), "h.db"), true)
	e.api.push(textUpdate(7, 7, 1, "giá vàng hôm nay bao nhiêu"))
	decline := e.waitSend(t, 7, 1)
	if data := callbackData(keyboardOf(t, decline)); !contains(data, "hb") {
		t.Fatalf("decline keyboard = %v, want the handoff button", data)
	}
	e.api.push(callbackUpdate(7, 7, decline.ID, "hb", decline.Form["reply_markup"]))
	if intro := e.waitSend(t, 7, 2); !strings.Contains(intro.Form["text"], "Đã chuyển yêu cầu của bạn tới cán bộ xã") {
		t.Fatalf("intro = %q", intro.Form["text"])
	}
	card := e.waitSend(t, staffChat, 1)
	for _, want := range []string{"Yêu cầu #1", "giá vàng hôm nay bao nhiêu", "Trả lời tin nhắn này"} {
		if !strings.Contains(card.Form["text"], want) {
			t.Errorf("card lacks %q:\n%s", want, card.Form["text"])
		}
	}
	if data := callbackData(keyboardOf(t, card)); len(data) != 2 || data[0] != "hs:c:1" || data[1] != "hs:x:1" {
		t.Fatalf("card buttons = %v", data)
	}

	// "Nhận xử lý": the card shows who.
	e.api.push(staffTap(501, "Hùng", card.ID, "hs:c:1"))
	edit := e.waitEdit(t, card.ID, 1)
	if !strings.Contains(strings.Join(buttonLabels(t, edit), " "), "Hùng đang xử lý") {
		t.Fatalf("card edit = %v", buttonLabels(t, edit))
	}
	if ans := e.api.wait("answerCallbackQuery", 2); !strings.Contains(ans[1].Form["text"], "nhận xử lý yêu cầu #1") {
		t.Errorf("tap answer = %q", ans[1].Form["text"])
	}

	// The staff member replies to the card: the resident gets it.
	e.api.push(staffReply(501, "Hùng", 50, card.ID, "Chào bác, giá vàng thì xã không theo dõi ạ."))
	got := e.waitSend(t, 7, 3)
	if !strings.Contains(got.Form["text"], "Cán bộ xã (Hùng) trả lời") || !strings.Contains(got.Form["text"], "xã không theo dõi") {
		t.Fatalf("resident got %q", got.Form["text"])
	}
	// The resident answers back: it is posted in the group under the card.
	e.api.push(textUpdate(7, 7, 3, "Vâng, cảm ơn cán bộ"))
	follow := e.waitSend(t, staffChat, 2)
	if !strings.Contains(follow.Form["text"], "Vâng, cảm ơn cán bộ") || !strings.Contains(follow.Form["reply_parameters"], strconv.Itoa(card.ID)) {
		t.Fatalf("follow-up post = %v", follow.Form)
	}
	// A long answer (over Telegram's 4,096) arrives in parts.
	long := strings.Repeat("Bác mang theo căn cước và sổ hộ khẩu cũ nếu có. ", 90)
	if _, err := e.desk.Reply(context.Background(), 1, bot.StaffMember{Name: "Hùng", Via: bot.StaffViaDashboard}, long); err != nil {
		t.Fatal(err)
	}
	end := e.waitText(t, 7, "khi xong", 4)
	var joined string
	for _, c := range e.sendsTo(7)[4 : end+1] {
		if n := utf16Len(c.Form["text"]); n > MaxTextLen {
			t.Errorf("part of %d units", n)
		}
		joined += c.Form["text"]
	}
	if end-4 < 1 || strings.Count(joined, "căn cước và sổ hộ khẩu") != 90 {
		t.Errorf("the long answer came in %d parts with %d of 90 sentences", end-3, strings.Count(joined, "căn cước và sổ hộ khẩu"))
	}

	// "Đóng": the resident is told and asked to rate.
	e.api.push(staffTap(501, "Hùng", card.ID, "hs:x:1"))
	ci := e.waitText(t, 7, "kết thúc", end+1)
	closed := e.sendsTo(7)[ci]
	if !contains(callbackData(keyboardOf(t, closed)), "hr:1:+") {
		t.Fatalf("close notice = %q %v", closed.Form["text"], callbackData(keyboardOf(t, closed)))
	}
	if edit := e.waitEdit(t, card.ID, 2); !strings.Contains(strings.Join(buttonLabels(t, edit), " "), "Đã đóng (Hùng)") {
		t.Errorf("card after the close = %v", buttonLabels(t, edit))
	}
	e.api.push(callbackUpdate(7, 7, closed.ID, "hr:1:+", closed.Form["reply_markup"]))
	e.waitText(t, 7, "Cảm ơn bạn đã đánh giá", ci+1)

	// A reply to the closed ticket is refused in the group.
	before := len(e.sendsTo(7))
	e.api.push(staffReply(502, "Lan", 51, card.ID, "Bổ sung thêm"))
	var notice apiCall
	deadline := time.Now().Add(10 * time.Second)
	for notice.ID == 0 && time.Now().Before(deadline) {
		for _, c := range e.sendsTo(staffChat) {
			if strings.Contains(c.Form["text"], "đã đóng") && strings.Contains(c.Form["reply_parameters"], `"message_id":51`) {
				notice = c
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if notice.ID == 0 {
		t.Fatalf("no 'closed' notice in the group: %v", e.sendsTo(staffChat))
	}
	if n := len(e.sendsTo(7)); n != before {
		t.Errorf("the resident got a reply to a closed ticket")
	}
	tk, _ := e.db.Ticket(context.Background(), 1)
	if tk.Rating != 1 || tk.ClaimedBy != "Hùng" || tk.ClosedBy != "Hùng" {
		t.Errorf("ticket = %+v", tk)
	}

	// The bot removed from the staff group: recorded for the dashboard.
	e.api.push(`{"update_id":%d,"my_chat_member":{"chat":{"id":` + strconv.Itoa(staffChat) + `,"type":"supergroup"},"from":{"id":501,"is_bot":false,"first_name":"Hùng"},"date":1,` +
		`"old_chat_member":{"status":"member","user":{"id":999,"is_bot":true,"first_name":"Trợ lý số"}},"new_chat_member":{"status":"left","user":{"id":999,"is_bot":true,"first_name":"Trợ lý số"}}}}`)
	deadline = time.Now().Add(10 * time.Second)
	for {
		if _, lost := e.desk.StaffChatLost(context.Background()); lost {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bot's removal from the staff group was not recorded")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStaffAnswerSurvivesCrash: a staff member's Telegram reply is saved,
// the process stops before the outbox sends it, and after a restart on the
// same database the resident gets it exactly once.
func TestStaffAnswerSurvivesCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	e := startHandoff(t, path, true)
	e.api.push(textUpdate(7, 7, 1, "/canbo"))
	card := e.waitSend(t, staffChat, 1)
	e.waitSend(t, 7, 1)
	e.stop()

	// Same database, the adapter running but the outbox not: the reply is
	// saved and stays unsent.
	e = startHandoff(t, path, false)
	e.api.push(staffReply(501, "Hùng", 60, card.ID, "Câu trả lời trước khi sập"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		ms, _ := e.db.TicketMessages(context.Background(), 1)
		if len(ms) > 0 && ms[len(ms)-1].Author == storage.AuthorStaff {
			if ms[len(ms)-1].State != storage.DeliveryPending {
				t.Fatalf("state = %q, want pending", ms[len(ms)-1].State)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the staff reply was not saved")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(e.sendsTo(7)); n != 0 {
		t.Fatalf("%d messages reached the resident before the crash", n)
	}
	e.stop() // the crash: nothing more runs on this process's state

	// Restart: a new server (new fake API connection) on the same file.
	r := startHandoff(t, path, true)
	got := r.waitSend(t, 7, 1)
	if !strings.Contains(got.Form["text"], "Câu trả lời trước khi sập") {
		t.Fatalf("after the restart the resident got %q", got.Form["text"])
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(r.sendsTo(7)); n != 1 {
		t.Fatalf("the resident got %d messages after the restart, want exactly 1", n)
	}
	ms, _ := r.db.TicketMessages(context.Background(), 1)
	if last := ms[len(ms)-1]; last.State != storage.DeliverySent {
		t.Errorf("delivery state = %q", last.State)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestStaffName(t *testing.T) {
	for _, tc := range []struct {
		u    models.User
		want string
	}{
		{models.User{ID: 501, FirstName: "Hùng", LastName: "Nguyễn"}, "Hùng Nguyễn"},
		{models.User{ID: 501, Username: "hung_xa"}, "@hung_xa"},
		{models.User{ID: 123456789}, "Cán bộ …6789"},
	} {
		if got := staffName(&tc.u); got != tc.want {
			t.Errorf("staffName(%+v) = %q, want %q", tc.u, got, tc.want)
		}
	}
}
