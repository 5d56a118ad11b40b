package storage

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// ticketClock is a settable clock for the ticket tests.
type ticketClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ticketClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *ticketClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openTicketTest(t *testing.T, tb testBackend) (*DB, *ticketClock) {
	t.Helper()
	clk := &ticketClock{t: time.Date(2026, 3, 17, 2, 0, 0, 0, time.UTC)}
	db, err := tb.Open(context.Background(), t.TempDir()+"/t.db", Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, clk
}

func TestOneOpenTicketPerResident(t *testing.T) { forEachBackend(t, testOneOpenTicketPerResident) }

func testOneOpenTicketPerResident(t *testing.T, tb testBackend) {
	db, clk := openTicketTest(t, tb)
	ctx := context.Background()
	key := db.UserKey("telegram", "7")
	first := []NewTicketMessage{{Author: AuthorResident, Text: "đổi tên sổ đỏ"}, {Author: AuthorBot, Text: "Xin lỗi…"}}
	t1, created, err := db.OpenTicket(ctx, "telegram", key, first, []NewOutbox{{Target: TargetStaff, Channel: "telegram", Kind: OutboxCard}})
	if err != nil || !created {
		t.Fatalf("open = %+v, %v, %v", t1, created, err)
	}
	if !t1.WaitingSince.Equal(clk.Now()) || !t1.Open() || t1.UserKey != key {
		t.Errorf("ticket = %+v", t1)
	}
	t2, created, err := db.OpenTicket(ctx, "telegram", key, first, []NewOutbox{{Target: TargetStaff, Channel: "telegram", Kind: OutboxCard}})
	if err != nil || created || t2.ID != t1.ID {
		t.Fatalf("second open = %+v, %v, %v; want the first ticket back", t2, created, err)
	}
	if ms, _ := db.TicketMessages(ctx, t1.ID); len(ms) != 2 {
		t.Errorf("messages = %d, want 2 (the second open added nothing)", len(ms))
	}
	if os, _ := db.TicketOutbox(ctx, t1.ID); len(os) != 1 {
		t.Errorf("outbox = %d rows, want 1", len(os))
	}
	// The database itself refuses a second open ticket.
	if _, err := db.Writer().Exec(`INSERT INTO tickets(user_id, channel, created_at, last_activity) SELECT user_id, channel, created_at, last_activity FROM tickets WHERE id = ?`, t1.ID); err == nil {
		t.Error("a second open ticket for the same user was stored")
	}
	// Closed, a new one may open.
	if _, err := db.CloseTicket(ctx, t1.ID, "An", ClosedByStaff, "đóng", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CloseTicket(ctx, t1.ID, "An", ClosedByStaff, "đóng", nil); !errors.Is(err, ErrTicketClosed) {
		t.Errorf("closing twice = %v, want ErrTicketClosed", err)
	}
	t3, created, err := db.OpenTicket(ctx, "telegram", key, nil, nil)
	if err != nil || !created || t3.ID == t1.ID || !t3.WaitingSince.IsZero() {
		t.Fatalf("open after close = %+v, %v, %v", t3, created, err)
	}
}

func TestStaffReplyOutboxAndClosedTicket(t *testing.T) {
	forEachBackend(t, testStaffReplyOutboxAndClosedTicket)
}

func testStaffReplyOutboxAndClosedTicket(t *testing.T, tb testBackend) {
	db, clk := openTicketTest(t, tb)
	ctx := context.Background()
	key := db.UserKey("zalo", "55")
	tk, _, err := db.OpenTicket(ctx, "zalo", key, []NewTicketMessage{{Author: AuthorResident, Text: "hỏi"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(90 * time.Minute)
	m, err := db.AddStaffReply(ctx, tk.ID, "Chị Hoa", "dashboard", "Chào bác", []NewOutbox{
		{Target: TargetResident, Channel: "zalo", Kind: OutboxReply, Text: "Chào bác", Link: true},
		{Target: TargetStaff, Channel: "telegram", Kind: OutboxPost, Text: "Chị Hoa trả lời"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := db.Ticket(ctx, tk.ID)
	if !got.FirstReplyAt.Equal(clk.Now()) || !got.WaitingSince.IsZero() {
		t.Errorf("after the reply: first reply %s, waiting since %s", got.FirstReplyAt, got.WaitingSince)
	}
	due, err := db.DueOutbox(ctx, TargetResident, clk.Now(), 10)
	if err != nil || len(due) != 1 || due[0].MessageID != m.ID || due[0].UserKey != key {
		t.Fatalf("due resident messages = %+v, %v", due, err)
	}
	// Claimed, then the process stops during the send: reported as
	// possibly sent, never due again.
	if sending, err := db.OutboxSending(ctx, TargetResident); err != nil || sending {
		t.Fatalf("before the claim: sending %v, %v", sending, err)
	}
	if ok, _ := db.ClaimOutbox(ctx, due[0].ID); !ok {
		t.Fatal("claim failed")
	}
	if sending, err := db.OutboxSending(ctx, TargetResident); err != nil || !sending {
		t.Fatalf("after the claim: sending %v, %v", sending, err)
	}
	if sending, _ := db.OutboxSending(ctx, TargetStaff); sending {
		t.Fatal("the staff post counts as being sent; only the resident's answer is")
	}
	if ok, _ := db.ClaimOutbox(ctx, due[0].ID); ok {
		t.Fatal("claimed twice")
	}
	lost, err := db.MarkOutboxInterrupted(ctx)
	if err != nil || len(lost) != 1 || lost[0].ID != due[0].ID || lost[0].State != DeliveryUnknown {
		t.Fatalf("interrupted = %+v, %v", lost, err)
	}
	if sending, _ := db.OutboxSending(ctx, TargetResident); sending {
		t.Error("an interrupted message is still being sent")
	}
	if due, _ := db.DueOutbox(ctx, TargetResident, clk.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("an interrupted message is due again: %+v", due)
	}
	ms, _ := db.TicketMessages(ctx, tk.ID)
	if len(ms) != 2 || ms[1].State != DeliveryUnknown {
		t.Errorf("conversation = %+v", ms)
	}
	// Staff may send it again on purpose.
	if ok, _ := db.ResendOutbox(ctx, due[0].ID); !ok {
		t.Error("resend refused")
	}
	if due, _ := db.DueOutbox(ctx, TargetResident, clk.Now(), 10); len(due) != 1 {
		t.Errorf("resent message not due: %+v", due)
	}

	if _, err := db.CloseTicket(ctx, tk.ID, "resident", ClosedByResident, "người dân kết thúc", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddStaffReply(ctx, tk.ID, "Chị Hoa", "telegram", "muộn", nil); !errors.Is(err, ErrTicketClosed) {
		t.Errorf("reply to a closed ticket = %v, want ErrTicketClosed", err)
	}
	if _, err := db.AddResidentMessage(ctx, tk.ID, "còn đó không", nil); !errors.Is(err, ErrTicketClosed) {
		t.Errorf("resident message to a closed ticket = %v", err)
	}
	if err := db.RateTicket(ctx, db.UserKey("zalo", "56"), tk.ID, 1); !errors.Is(err, ErrNotYours) {
		t.Errorf("rating by another user = %v", err)
	}
	if err := db.RateTicket(ctx, key, tk.ID, 1); err != nil {
		t.Fatal(err)
	}
	if err := db.RateTicket(ctx, key, tk.ID, -1); err != nil {
		t.Fatal(err)
	}
	f, err := db.HandoffFigures(ctx, clk.Now().Add(-24*time.Hour), clk.Now().Add(time.Hour), clk.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if f.Requests != 1 || f.Replied != 1 || f.Median() != 90*time.Minute || f.Up != 0 || f.Down != 1 || f.Open != 0 {
		t.Errorf("figures = %+v", f)
	}
}

func TestOutboxOrderPerTicketAndUndeliverableRequeue(t *testing.T) {
	forEachBackend(t, testOutboxOrderPerTicketAndUndeliverableRequeue)
}

func testOutboxOrderPerTicketAndUndeliverableRequeue(t *testing.T, tb testBackend) {
	db, clk := openTicketTest(t, tb)
	ctx := context.Background()
	key := db.UserKey("zalo", "9")
	tk, _, _ := db.OpenTicket(ctx, "zalo", key, nil, nil)
	r1, _ := db.AddStaffReply(ctx, tk.ID, "An", "dashboard", "một", []NewOutbox{{Target: TargetResident, Channel: "zalo", Kind: OutboxReply, Text: "một", Link: true}})
	db.AddStaffReply(ctx, tk.ID, "An", "dashboard", "hai", []NewOutbox{{Target: TargetResident, Channel: "zalo", Kind: OutboxReply, Text: "hai", Link: true}})
	due, _ := db.DueOutbox(ctx, TargetResident, clk.Now(), 10)
	if len(due) != 1 || due[0].MessageID != r1.ID {
		t.Fatalf("due = %+v, want only the first reply (the second waits behind it)", due)
	}
	// The first is refused outside the messaging window: the second may go.
	db.ClaimOutbox(ctx, due[0].ID)
	db.FinishOutbox(ctx, due[0].ID, DeliveryUndeliverable, "outside the window", time.Time{})
	due, _ = db.DueOutbox(ctx, TargetResident, clk.Now(), 10)
	if len(due) != 1 || due[0].Text != "hai" {
		t.Fatalf("due after the refusal = %+v", due)
	}
	db.ClaimOutbox(ctx, due[0].ID)
	db.FinishOutbox(ctx, due[0].ID, DeliveryUndeliverable, "outside the window", time.Time{})
	list, _ := db.ListTickets(ctx, TicketFilter{Status: TicketOpen})
	if len(list) != 1 || list[0].Problem != DeliveryUndeliverable {
		t.Fatalf("open list = %+v", list)
	}
	// The resident writes again: both are queued again, in order.
	clk.Add(time.Minute)
	if _, err := db.AddResidentMessage(ctx, tk.ID, "tôi đây", nil); err != nil {
		t.Fatal(err)
	}
	due, _ = db.DueOutbox(ctx, TargetResident, clk.Now(), 10)
	if len(due) != 1 || due[0].Text != "một" {
		t.Fatalf("due after the resident wrote = %+v", due)
	}
	got, _ := db.Ticket(ctx, tk.ID)
	if !got.WaitingSince.Equal(clk.Now()) {
		t.Errorf("waiting since %s, want now", got.WaitingSince)
	}
}

func TestWebOutboxTakenOnce(t *testing.T) { forEachBackend(t, testWebOutboxTakenOnce) }

func testWebOutboxTakenOnce(t *testing.T, tb testBackend) {
	db, clk := openTicketTest(t, tb)
	ctx := context.Background()
	key := db.UserKey("web", "abc")
	tk, _, _ := db.OpenTicket(ctx, "web", key, nil, nil)
	db.AddStaffReply(ctx, tk.ID, "An", "telegram", "xin chào", []NewOutbox{{Target: TargetResident, Channel: "web", Kind: OutboxReply, Text: "xin chào", Link: true}})
	if due, _ := db.DueOutbox(ctx, TargetResident, clk.Now(), 10); len(due) != 0 {
		t.Errorf("web messages are due for the sender: %+v", due)
	}
	if ok, _ := db.HasWebOutbox(ctx, key); !ok {
		t.Error("HasWebOutbox = false")
	}
	got, err := db.TakeWebOutbox(ctx, key)
	if err != nil || len(got) != 1 || got[0].Text != "xin chào" {
		t.Fatalf("take = %+v, %v", got, err)
	}
	if again, _ := db.TakeWebOutbox(ctx, key); len(again) != 0 {
		t.Errorf("taken twice: %+v", again)
	}
	if other, _ := db.TakeWebOutbox(ctx, db.UserKey("web", "other")); len(other) != 0 {
		t.Errorf("another session got the message: %+v", other)
	}
	ms, _ := db.TicketMessages(ctx, tk.ID)
	if ms[0].State != DeliverySent || ms[0].SentAt.IsZero() {
		t.Errorf("delivery state = %+v", ms[0])
	}
}

func TestTicketPostsRepostAndIdle(t *testing.T) { forEachBackend(t, testTicketPostsRepostAndIdle) }

func testTicketPostsRepostAndIdle(t *testing.T, tb testBackend) {
	db, clk := openTicketTest(t, tb)
	ctx := context.Background()
	tk, _, _ := db.OpenTicket(ctx, "telegram", db.UserKey("telegram", "1"), []NewTicketMessage{{Author: AuthorResident, Text: "a"}}, nil)
	if got, _ := db.RepostCandidates(ctx); len(got) != 0 {
		t.Errorf("a ticket not posted yet is a repost candidate")
	}
	if err := db.AddTicketPost(ctx, tk.ID, "1001", true); err != nil {
		t.Fatal(err)
	}
	if id, err := db.TicketByPost(ctx, "1001"); err != nil || id != tk.ID {
		t.Errorf("ticket by post = %d, %v", id, err)
	}
	if _, err := db.TicketByPost(ctx, "999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown post = %v", err)
	}
	if got, _ := db.RepostCandidates(ctx); len(got) != 1 || got[0].CardPost != "1001" {
		t.Fatalf("repost candidates = %+v", got)
	}
	if ok, err := db.MarkReposted(ctx, tk.ID, []NewOutbox{{Target: TargetStaff, Channel: "telegram", Kind: OutboxCard}}); !ok || err != nil {
		t.Fatalf("mark reposted = %v, %v", ok, err)
	}
	if ok, _ := db.MarkReposted(ctx, tk.ID, nil); ok {
		t.Error("reposted twice")
	}
	if _, _, changed, err := db.ClaimTicket(ctx, tk.ID, "An", nil); !changed || err != nil {
		t.Fatalf("claim = %v, %v", changed, err)
	}
	if _, prev, changed, _ := db.ClaimTicket(ctx, tk.ID, "An", nil); changed || prev != "An" {
		t.Errorf("claiming again changed it")
	}
	if _, prev, changed, _ := db.ClaimTicket(ctx, tk.ID, "Bình", nil); !changed || prev != "An" {
		t.Errorf("take-over: changed %v, previous %q", changed, prev)
	}
	clk.Add(25 * time.Hour)
	// The resident's question waits for staff: not idle.
	if idle, err := db.IdleTickets(ctx, clk.Now().Add(-24*time.Hour)); err != nil || len(idle) != 0 {
		t.Fatalf("idle while waiting = %+v, %v", idle, err)
	}
	f, _ := db.HandoffFigures(ctx, time.Time{}, clk.Now(), clk.Now(), 24*time.Hour)
	if f.Open != 1 || f.OpenOver != 1 || f.Replied != 0 {
		t.Errorf("figures = %+v", f)
	}
	db.AddStaffReply(ctx, tk.ID, "Bình", "telegram", "trả lời", nil)
	clk.Add(25 * time.Hour)
	if idle, err := db.IdleTickets(ctx, clk.Now().Add(-24*time.Hour)); err != nil || len(idle) != 1 {
		t.Fatalf("idle = %+v, %v", idle, err)
	}
}
