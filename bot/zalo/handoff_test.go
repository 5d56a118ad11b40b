package zalo

import (
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/storage"
)

// A Zalo resident asks for staff; the answer goes out as an OA message
// within the messaging window. Beyond it the answer is kept as "could not
// deliver" (with the phone-call suggestion for staff) and sent when the
// resident writes again.
func TestHandoffAnswersOverZalo(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Window = 48 * time.Hour })
	desk, err := handoff.New(h.ctx, handoff.Config{Store: h.db, Base: h.eng.Base, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	desk.Register(h.eng)
	desk.AddSender(bot.ChannelZalo, h.ch)
	deliver := func() {
		t.Helper()
		if _, err := desk.Deliver(h.ctx, storage.TargetResident); err != nil {
			t.Fatal(err)
		}
	}
	staff := bot.StaffMember{Name: "Anh Nam", Via: bot.StaffViaDashboard}

	if got := h.say(userA, "/canbo"); !strings.Contains(got.Req.Message.Text, "Đã chuyển yêu cầu của bạn tới cán bộ xã") {
		t.Fatalf("reply to /canbo = %s", got.Raw)
	}
	if _, err := desk.Reply(h.ctx, 1, staff, "Chào bác, bác mang căn cước ra xã nhé."); err != nil {
		t.Fatal(err)
	}
	deliver()
	last := h.api.messages()[len(h.api.messages())-1]
	if last.Req.Recipient.UserID != userA || !strings.Contains(last.Req.Message.Text, "Cán bộ xã (Anh Nam) trả lời") ||
		!strings.Contains(last.Req.Message.Text, "mang căn cước ra xã") {
		t.Fatalf("sent = %s", last.Raw)
	}

	// Two days later the window has closed.
	h.clock.Add(49 * time.Hour)
	before := len(h.api.messages())
	if _, err := desk.Reply(h.ctx, 1, staff, "Bác nhớ mang thêm sổ hộ khẩu cũ."); err != nil {
		t.Fatal(err)
	}
	deliver()
	if len(h.api.messages()) != before {
		t.Fatal("a message outside the window was sent")
	}
	ms, _ := h.db.TicketMessages(h.ctx, 1)
	lastMsg := ms[len(ms)-1]
	if lastMsg.State != storage.DeliveryUndeliverable || !strings.Contains(handoff.ProblemText(lastMsg.State, bot.ChannelZalo), "gọi điện") {
		t.Fatalf("state = %q, problem %q", lastMsg.State, handoff.ProblemText(lastMsg.State, bot.ChannelZalo))
	}
	open, _ := h.db.ListTickets(h.ctx, storage.TicketFilter{Status: storage.TicketOpen})
	if len(open) != 1 || open[0].Problem != storage.DeliveryUndeliverable {
		t.Fatalf("open list = %+v", open)
	}

	// The resident writes: the window reopens and the answer goes.
	if got := h.say(userA, "cán bộ ơi còn gì nữa không"); !strings.Contains(got.Req.Message.Text, "Đã chuyển tới cán bộ xã") {
		t.Fatalf("forward reply = %s", got.Raw)
	}
	deliver()
	last = h.api.messages()[len(h.api.messages())-1]
	if !strings.Contains(last.Req.Message.Text, "sổ hộ khẩu cũ") {
		t.Fatalf("after the resident wrote: %s", last.Raw)
	}
	ms, _ = h.db.TicketMessages(h.ctx, 1)
	for _, m := range ms {
		if m.Author == storage.AuthorStaff && m.State != storage.DeliverySent {
			t.Errorf("staff message %d state %q", m.ID, m.State)
		}
	}
}
