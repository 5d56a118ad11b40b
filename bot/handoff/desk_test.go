package handoff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
func (c *testClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

type sent struct {
	addr  string
	reply bot.Reply
}

// fakeSender records deliveries; fail, when set, decides an error.
type fakeSender struct {
	mu   sync.Mutex
	msgs []sent
	fail func(addr string) error
}

func (s *fakeSender) SendTo(ctx context.Context, addr string, r bot.Reply) error {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		if err := fail(addr); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, sent{addr, r})
	return nil
}

func (s *fakeSender) sent() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sent(nil), s.msgs...)
}

func (s *fakeSender) setFail(f func(string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = f
}

type post struct {
	id, replyTo string
	reply       bot.Reply
}

type edit struct {
	id   string
	rows [][]bot.Button
}

// fakeStaff is a staff group that records posts and edits.
type fakeStaff struct {
	mu    sync.Mutex
	posts []post
	edits []edit
	next  int
	err   error
	// gate, when set, holds each Post after the group shows it, until the
	// gate is closed: Telegram's answer still on its way.
	gate chan struct{}
}

func (f *fakeStaff) Post(ctx context.Context, r bot.Reply, replyTo string) (string, error) {
	f.mu.Lock()
	if f.err != nil {
		f.mu.Unlock()
		return "", f.err
	}
	f.next++
	id := strconv.Itoa(5000 + f.next)
	f.posts = append(f.posts, post{id, replyTo, r})
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return id, nil
}

func (f *fakeStaff) SetButtons(ctx context.Context, id string, rows [][]bot.Button) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.edits = append(f.edits, edit{id, rows})
	return nil
}

func (f *fakeStaff) allPosts() []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]post(nil), f.posts...)
}

func (f *fakeStaff) allEdits() []edit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]edit(nil), f.edits...)
}

type env struct {
	t     *testing.T
	ctx   context.Context
	path  string
	clk   *testClock
	db    *storage.DB
	eng   *bot.Engine
	desk  *Desk
	tg    *fakeSender
	zalo  *fakeSender
	staff *fakeStaff
	logs  *bytes.Buffer
	base  *knowledge.Base
}

// tuesday9 is Tuesday 17 March 2026, 09:00 in Vietnam: working hours.
var tuesday9 = time.Date(2026, 3, 17, 2, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, tuesday9)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "t.db"), clk: &testClock{t: tuesday9},
		tg: &fakeSender{}, zalo: &fakeSender{}, staff: &fakeStaff{}, logs: &bytes.Buffer{}, base: base}
	e.open()
	return e
}

// open (re)starts the store, engine and desk on the same file, as a
// restart of the server would.
func (e *env) open() {
	e.t.Helper()
	db, err := storage.Open(e.ctx, e.path, storage.Options{Secret: "s", Now: e.clk.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	e.db = db
	log := slog.New(slog.NewTextHandler(&syncWriter{b: e.logs}, nil))
	e.eng = bot.New(bot.Config{Store: db, Now: e.clk.Now, Logger: log}, e.base)
	e.desk, err = New(e.ctx, Config{Store: db, Base: e.eng.Base, Logger: log, Now: e.clk.Now, Web: true})
	if err != nil {
		e.t.Fatal(err)
	}
	e.desk.AddSender(bot.ChannelTelegram, e.tg)
	e.desk.AddSender(bot.ChannelZalo, e.zalo)
	e.desk.SetStaffChat(e.staff)
	e.desk.Register(e.eng)
}

type syncWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (e *env) key(channel, id string) string { return e.db.UserKey(channel, id) }

// say sends text (or a payload starting with "!") from a resident.
func (e *env) say(channel, id, text string) bot.Reply {
	e.t.Helper()
	m := bot.Message{Channel: channel, UserKey: e.key(channel, id), Text: text}
	if p, ok := strings.CutPrefix(text, "!"); ok {
		m.Text, m.Payload = "", p
	}
	ctx := e.ctx
	if channel != bot.ChannelWeb {
		ctx = bot.WithDeliveryAddress(ctx, bot.DeliveryAddress{Channel: channel, Address: id})
	}
	return e.eng.Handle(ctx, m)
}

func (e *env) deliver() {
	e.t.Helper()
	for _, target := range []string{storage.TargetStaff, storage.TargetResident, storage.TargetStaff} {
		for {
			n, err := e.desk.Deliver(e.ctx, target)
			if err != nil {
				e.t.Fatalf("deliver %s: %v", target, err)
			}
			if n == 0 {
				break
			}
		}
	}
}

func payloads(r bot.Reply) []string {
	var out []string
	for _, row := range r.Buttons {
		for _, b := range row {
			out = append(out, b.Payload)
		}
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var chiHoa = bot.StaffMember{Name: "Chị Hoa", Via: bot.StaffViaTelegram}

func TestDeclineToStaffAnswerAndBack(t *testing.T) {
	e := newEnv(t)
	r := e.say(bot.ChannelTelegram, "7", "giá vàng hôm nay bao nhiêu")
	if r.Band != bot.BandDecline {
		t.Fatalf("band = %s, want a decline", r.Band)
	}
	if p := payloads(r); !has(p, "hb") || p[len(p)-1] != "m" {
		t.Fatalf("decline buttons = %v, want the handoff button above the menu", p)
	}
	r = e.say(bot.ChannelTelegram, "7", "!hb")
	for _, want := range []string{"#1", "cán bộ xã", "Không gửi số căn cước, mật khẩu hay mã OTP", "/ketthuc"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("intro lacks %q:\n%s", want, r.Text)
		}
	}
	if _, addr, err := e.db.Address(e.ctx, e.key(bot.ChannelTelegram, "7")); err != nil || addr != "7" {
		t.Errorf("delivery address = %q, %v", addr, err)
	}
	e.deliver()
	posts := e.staff.allPosts()
	if len(posts) != 1 {
		t.Fatalf("staff posts = %d, want the ticket card", len(posts))
	}
	card := posts[0]
	for _, want := range []string{"Yêu cầu #1", "Telegram", "giá vàng hôm nay bao nhiêu", "chưa trả lời được"} {
		if !strings.Contains(card.reply.Text, want) {
			t.Errorf("card lacks %q:\n%s", want, card.reply.Text)
		}
	}
	if p := payloads(card.reply); len(p) != 2 || p[0] != "hs:c:1" || p[1] != "hs:x:1" {
		t.Errorf("card buttons = %v", p)
	}

	// A follow-up with a phone number: redacted everywhere staff see it.
	r = e.say(bot.ChannelTelegram, "7", "tôi ở thôn Đông, số tôi 0912345678")
	if r.Band != Band || !strings.Contains(r.Text, "Đã chuyển tới cán bộ xã") {
		t.Fatalf("follow-up reply = %+v", r)
	}
	e.deliver()
	posts = e.staff.allPosts()
	if len(posts) != 2 || posts[1].replyTo != card.id || strings.Contains(posts[1].reply.Text, "0912345678") {
		t.Fatalf("follow-up post = %+v", posts[1:])
	}

	// Staff reply to the card: it reaches the resident, prefixed.
	if n := e.desk.StaffReply(e.ctx, card.id, chiHoa, "Chào bác, bác mang sổ đến bộ phận một cửa nhé."); n != "" {
		t.Fatalf("staff reply notice = %q", n)
	}
	e.deliver()
	got := e.tg.sent()
	if len(got) != 1 || got[0].addr != "7" || !strings.Contains(got[0].reply.Text, "Cán bộ xã (Chị Hoa) trả lời") ||
		!strings.Contains(got[0].reply.Text, "bộ phận một cửa") {
		t.Fatalf("resident got %+v", got)
	}
	tk, _ := e.db.Ticket(e.ctx, 1)
	if tk.ClaimedBy != "Chị Hoa" || tk.FirstReplyAt.IsZero() {
		t.Errorf("after the answer: %+v", tk)
	}
	if ed := e.staff.allEdits(); len(ed) == 0 || ed[len(ed)-1].id != card.id || !strings.Contains(ed[len(ed)-1].rows[0][0].Label, "Chị Hoa") {
		t.Errorf("card not updated to show who handles it: %+v", ed)
	}

	// A menu tap while connected says so.
	if r := e.say(bot.ChannelTelegram, "7", "!m"); !strings.Contains(r.Text, "vẫn đang kết nối với cán bộ xã") {
		t.Errorf("menu while connected: %q", r.Text)
	}

	// Staff close: the resident is told and asked to rate.
	if n := e.desk.StaffTap(e.ctx, "hs:x:1", chiHoa); !strings.Contains(n, "Đã đóng") {
		t.Errorf("close notice = %q", n)
	}
	e.deliver()
	got = e.tg.sent()
	if len(got) != 2 || !strings.Contains(got[1].reply.Text, "kết thúc") || !has(payloads(got[1].reply), "hr:1:+") {
		t.Fatalf("close notice to the resident = %+v", got[1:])
	}
	if r := e.say(bot.ChannelTelegram, "7", "!hr:1:+"); !strings.Contains(r.Text, "Cảm ơn") {
		t.Errorf("rating reply = %q", r.Text)
	}
	if r := e.say(bot.ChannelTelegram, "8", "!hr:1:-"); !strings.Contains(r.Text, "Không ghi nhận") {
		t.Errorf("another resident rated: %q", r.Text)
	}
	// Back with the bot.
	if r := e.say(bot.ChannelTelegram, "7", "quên mật khẩu vneid"); r.Band != bot.BandAnswer {
		t.Errorf("after the close the bot answers: band %s", r.Band)
	}
	// A late reply to the closed ticket is refused in the group.
	if n := e.desk.StaffReply(e.ctx, card.id, chiHoa, "Còn một điều nữa"); !strings.Contains(n, "đã đóng") {
		t.Errorf("late reply notice = %q", n)
	}
	e.deliver()
	if n := len(e.tg.sent()); n != 2 {
		t.Errorf("resident got %d messages, want 2 (nothing after the close)", n)
	}
	f, _ := e.db.HandoffFigures(e.ctx, tuesday9.Add(-time.Hour), tuesday9.Add(time.Hour), tuesday9, 24*time.Hour)
	if f.Requests != 1 || f.Up != 1 || f.Replied != 1 {
		t.Errorf("figures = %+v", f)
	}
	// A reply to a message of the bot that is no request (a notice) is
	// sent to nobody, and staff are told so.
	if n := e.desk.StaffReply(e.ctx, "424242", chiHoa, "họp lúc 2 giờ nhé"); !strings.Contains(n, "không** được gửi cho người dân") {
		t.Errorf("reply to a post of no request got %q", n)
	}
	if got := e.tg.sent(); len(got) != 2 {
		t.Errorf("resident got %d messages, want still 2", len(got))
	}
}

func TestPlainRequestEndAndLimits(t *testing.T) {
	e := newEnv(t)
	r := e.say(bot.ChannelZalo, "55", "cho tôi gặp cán bộ ạ")
	if r.Band != Band || !strings.Contains(r.Text, "#1") {
		t.Fatalf("plain request reply = %+v", r)
	}
	if r := e.say(bot.ChannelZalo, "55", "/canbo"); !strings.Contains(r.Text, "Bạn đang trò chuyện với **cán bộ xã** (yêu cầu **#1**)") {
		t.Errorf("second request = %q", r.Text)
	}
	if n, _ := e.db.CountOpenTickets(e.ctx); n != 1 {
		t.Errorf("open tickets = %d, want 1", n)
	}
	if r := e.eng.Handle(e.ctx, bot.Message{Channel: bot.ChannelTelegram, UserKey: e.key(bot.ChannelTelegram, "9"), Text: "/canbo", Group: true}); !strings.Contains(r.Text, "nhắn **riêng**") {
		t.Errorf("request in a group = %q", r.Text)
	}
	if r := e.say(bot.ChannelZalo, "55", "/ketthuc"); !strings.Contains(r.Text, "Đã kết thúc") || len(r.Buttons) != 0 {
		t.Errorf("/ketthuc = %+v (no rating without a staff answer)", r)
	}
	if r := e.say(bot.ChannelZalo, "55", "/ketthuc"); !strings.Contains(r.Text, "không có cuộc trò chuyện") {
		t.Errorf("second /ketthuc = %q", r.Text)
	}
	if r := e.say(bot.ChannelZalo, "55", "quên mật khẩu vneid"); r.Band != bot.BandAnswer {
		t.Errorf("after /ketthuc the bot answers: %s", r.Band)
	}
	// The CLI has no way back to the resident.
	if r := e.eng.Handle(e.ctx, bot.Message{Channel: bot.ChannelCLI, UserKey: "cli:x", Text: "/canbo"}); !strings.Contains(r.Text, "chưa kết nối") {
		t.Errorf("request from the CLI = %q", r.Text)
	}

	// 60 messages in a minute: 50 forwarded, one notice, then silence.
	e.say(bot.ChannelZalo, "56", "/canbo")
	var notices, silent int
	for i := 0; i < 60; i++ {
		e.clk.Add(500 * time.Millisecond)
		r := e.say(bot.ChannelZalo, "56", fmt.Sprintf("tin số %d", i))
		switch {
		case strings.Contains(r.Text, "nhiều tin quá nhanh"):
			notices++
		case r.Text == "":
			silent++
		}
	}
	if notices != 1 || silent != 9 {
		t.Errorf("throttle: %d notices, %d silent, want 1 and 9", notices, silent)
	}
	e.deliver()
	var forwarded int
	for _, p := range e.staff.allPosts() {
		forwarded += strings.Count(p.reply.Text, "– người dân:")
	}
	if forwarded != 50 {
		t.Errorf("%d messages posted to staff, want 50", forwarded)
	}
	if n := len(e.staff.allPosts()); n > 12 {
		t.Errorf("%d staff-group posts for 50 messages: follow-ups should be merged", n)
	}
	ms, _ := e.db.TicketMessages(e.ctx, 2)
	if len(ms) != 60 {
		t.Errorf("conversation keeps %d messages, want all 60", len(ms))
	}
	// A minute later they are forwarded again.
	e.clk.Add(2 * time.Minute)
	if r := e.say(bot.ChannelZalo, "56", "còn đó không"); !strings.Contains(r.Text, "Đã chuyển") {
		t.Errorf("after the minute: %q", r.Text)
	}
	// Over-long and empty staff answers are refused.
	if _, err := e.desk.Reply(e.ctx, 2, chiHoa, strings.Repeat("a", MaxReplyLen+1)); !errors.Is(err, ErrReplyTooLong) {
		t.Errorf("long reply = %v", err)
	}
	if _, err := e.desk.Reply(e.ctx, 2, chiHoa, "  "); !errors.Is(err, ErrEmptyReply) {
		t.Errorf("empty reply = %v", err)
	}
}

func TestSavedAnswerSentOnceAfterCrash(t *testing.T) {
	e := newEnv(t)
	e.say(bot.ChannelTelegram, "7", "/canbo")
	e.deliver()
	card := e.staff.allPosts()[0].id
	// The answer is saved; the process dies before the outbox sends it.
	if n := e.desk.StaffReply(e.ctx, card, chiHoa, "Câu trả lời đã lưu"); n != "" {
		t.Fatal(n)
	}
	e.db.Close()
	if n := len(e.tg.sent()); n != 0 {
		t.Fatalf("sent %d before the crash", n)
	}

	e.open() // restart on the same file
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.desk.Run(ctx) }()
	waitFor(t, "the saved answer", func() bool { return len(e.tg.sent()) == 1 })
	time.Sleep(200 * time.Millisecond) // give a second send every chance
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := e.tg.sent(); len(got) != 1 || !strings.Contains(got[0].reply.Text, "Câu trả lời đã lưu") {
		t.Fatalf("after the restart the resident got %+v, want the answer exactly once", got)
	}
	ms, _ := e.db.TicketMessages(e.ctx, 1)
	if last := ms[len(ms)-1]; last.State != storage.DeliverySent {
		t.Errorf("delivery state = %q", last.State)
	}
}

func TestCrashDuringSendIsReportedNotRepeated(t *testing.T) {
	e := newEnv(t)
	e.say(bot.ChannelTelegram, "7", "/canbo")
	e.deliver()
	card := e.staff.allPosts()[0].id
	e.desk.StaffReply(e.ctx, card, chiHoa, "Gửi dở")
	// The message leaves, then the process dies before recording it.
	e.tg.setFail(func(string) error { e.db.Close(); return nil })
	if _, err := e.desk.Deliver(e.ctx, storage.TargetResident); err == nil {
		t.Fatal("Deliver succeeded although the database went away")
	}
	e.tg.setFail(nil)
	e.open()
	if err := e.desk.Recover(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	if n := len(e.tg.sent()); n != 1 {
		t.Fatalf("resident got %d messages, want 1 (never repeated)", n)
	}
	ms, _ := e.db.TicketMessages(e.ctx, 1)
	if last := ms[len(ms)-1]; last.State != storage.DeliveryUnknown {
		t.Errorf("state = %q, want unknown", last.State)
	}
	posts := e.staff.allPosts()
	if last := posts[len(posts)-1]; !strings.Contains(last.reply.Text, "có thể chưa đến người dân") {
		t.Errorf("staff not told: %q", last.reply.Text)
	}
	if !strings.Contains(e.logs.String(), "possibly sent") {
		t.Error("not logged")
	}
}

func TestZaloOutsideWindowAndRetries(t *testing.T) {
	e := newEnv(t)
	e.say(bot.ChannelZalo, "55", "/canbo")
	e.zalo.setFail(func(string) error { return fmt.Errorf("zalo send: outside the window: %w", bot.ErrUndeliverable) })
	e.desk.Reply(e.ctx, 1, bot.StaffMember{Name: "Anh Nam", Via: bot.StaffViaDashboard}, "Trả lời qua Zalo")
	e.deliver()
	ms, _ := e.db.TicketMessages(e.ctx, 1)
	if last := ms[len(ms)-1]; last.State != storage.DeliveryUndeliverable || ProblemText(last.State, bot.ChannelZalo) == "" {
		t.Fatalf("state = %+v", last)
	}
	posts := e.staff.allPosts()
	if last := posts[len(posts)-1]; !strings.Contains(last.reply.Text, "gọi điện") || !strings.Contains(last.reply.Text, "Zalo") {
		t.Errorf("staff note = %q", last.reply.Text)
	}
	// The dashboard answer is mirrored in the staff group.
	mirrored := false
	for _, p := range posts {
		mirrored = mirrored || strings.Contains(p.reply.Text, "Anh Nam trả lời (trang quản trị)")
	}
	if !mirrored {
		t.Error("the dashboard answer is not shown in the staff group")
	}
	// The resident writes again: the window reopens, the answer goes.
	e.zalo.setFail(nil)
	e.say(bot.ChannelZalo, "55", "tôi đây")
	e.deliver()
	if got := e.zalo.sent(); len(got) != 1 || !strings.Contains(got[0].reply.Text, "Trả lời qua Zalo") {
		t.Fatalf("zalo got %+v", got)
	}

	// A refusal (the platform answered with an error) is tried again later.
	e.zalo.setFail(func(string) error { return errors.New("zalo send: error -32: rate limit") })
	e.desk.Reply(e.ctx, 1, chiHoa, "Lần hai")
	e.deliver()
	ms, _ = e.db.TicketMessages(e.ctx, 1)
	if last := ms[len(ms)-1]; last.State != storage.DeliveryPending {
		t.Fatalf("after a refusal: %+v", last)
	}
	e.zalo.setFail(nil)
	e.deliver()
	if n := len(e.zalo.sent()); n != 1 {
		t.Fatalf("retried before its time: %d sent", n)
	}
	e.clk.Add(31 * time.Second)
	e.deliver()
	if n := len(e.zalo.sent()); n != 2 {
		t.Fatalf("not retried after the backoff: %d sent", n)
	}

	// A resident who blocked the bot is marked inactive.
	e.zalo.setFail(func(string) error { return fmt.Errorf("unfollowed: %w", bot.ErrBlocked) })
	e.desk.Reply(e.ctx, 1, chiHoa, "Lần ba")
	e.deliver()
	if u, _ := e.db.UserByKey(e.ctx, e.key(bot.ChannelZalo, "55")); u.Active {
		t.Error("blocked resident still active")
	}
}

func TestIdleCloseAndRepost(t *testing.T) {
	e := newEnv(t)
	// Friday 16:00: unclaimed until Monday 08:00 is 1.5 working hours.
	fri := time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)
	e.clk.Set(fri)
	e.say(bot.ChannelTelegram, "7", "/canbo")
	e.say(bot.ChannelTelegram, "7", "bác hỏi về đất")
	e.deliver()
	before := len(e.staff.allPosts())
	for _, at := range []time.Time{fri.Add(90 * time.Minute), time.Date(2026, 3, 23, 1, 0, 0, 0, time.UTC)} {
		e.clk.Set(at)
		if err := e.desk.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.deliver()
		if n := len(e.staff.allPosts()); n != before {
			t.Fatalf("reposted at %s after %s of work", at, DefaultHours().Elapsed(fri, at))
		}
	}
	// Monday 08:31: 2 h 1 min of work.
	e.clk.Set(time.Date(2026, 3, 23, 1, 31, 0, 0, time.UTC))
	e.desk.Sweep(e.ctx)
	e.deliver()
	posts := e.staff.allPosts()
	if len(posts) != before+1 || !strings.Contains(posts[len(posts)-1].reply.Text, "Nhắc lại") {
		t.Fatalf("no repost: %+v", posts[before:])
	}
	e.desk.Sweep(e.ctx)
	e.deliver()
	if n := len(e.staff.allPosts()); n != before+1 {
		t.Errorf("reposted more than once")
	}
	// The repost's buttons work like the first card's.
	if n := e.desk.StaffTap(e.ctx, "hs:c:1", chiHoa); !strings.Contains(n, "nhận xử lý") {
		t.Errorf("claim = %q", n)
	}
	e.desk.Reply(e.ctx, 1, chiHoa, "Chào bác")
	e.deliver()

	// Idle for 24 hours: closed, the resident told and asked to rate.
	e.clk.Add(24*time.Hour + time.Minute)
	if err := e.desk.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	got := e.tg.sent()
	if last := got[len(got)-1]; !strings.Contains(last.reply.Text, "tự kết thúc") || !has(payloads(last.reply), "hr:1:+") {
		t.Fatalf("idle notice = %+v", last)
	}
	if tk, _ := e.db.Ticket(e.ctx, 1); tk.Open() || tk.CloseReason != storage.ClosedIdle {
		t.Errorf("ticket = %+v", tk)
	}
	if r := e.say(bot.ChannelTelegram, "7", "quên mật khẩu vneid"); r.Band != bot.BandAnswer {
		t.Errorf("after the idle close: %s", r.Band)
	}
}

func TestIdleFoundWhileWriting(t *testing.T) {
	e := newEnv(t)
	e.say(bot.ChannelTelegram, "7", "/canbo")
	e.clk.Add(25 * time.Hour) // no sweep ran
	r := e.say(bot.ChannelTelegram, "7", "quên mật khẩu vneid")
	if r.Band != bot.BandAnswer || !strings.Contains(r.Text, "tự kết thúc") {
		t.Fatalf("reply = %s %q", r.Band, r.Text)
	}
}

func TestWebResidentFetchesAnswers(t *testing.T) {
	e := newEnv(t)
	key := e.key(bot.ChannelWeb, "sid1")
	e.say(bot.ChannelWeb, "sid1", "/canbo")
	if msgs, open, err := e.desk.WebMessages(e.ctx, key); err != nil || !open || len(msgs) != 0 {
		t.Fatalf("before any answer: %v %v %v", msgs, open, err)
	}
	e.desk.Reply(e.ctx, 1, chiHoa, "Trả lời trên web")
	e.deliver() // the web is not pushed to
	msgs, open, err := e.desk.WebMessages(e.ctx, key)
	if err != nil || !open || len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Trả lời trên web") {
		t.Fatalf("web messages = %+v, %v, %v", msgs, open, err)
	}
	if again, _, _ := e.desk.WebMessages(e.ctx, key); len(again) != 0 {
		t.Errorf("fetched twice: %+v", again)
	}
	e.desk.Close(e.ctx, 1, chiHoa)
	msgs, open, _ = e.desk.WebMessages(e.ctx, key)
	if open || len(msgs) != 1 || !has(payloads(msgs[0]), "hr:1:+") {
		t.Fatalf("after the close: %+v, open %v", msgs, open)
	}
}

func TestStaffGroupLost(t *testing.T) {
	e := newEnv(t)
	e.staff.err = fmt.Errorf("telegram: bot was kicked from the supergroup chat: %w", bot.ErrBlocked)
	e.say(bot.ChannelTelegram, "7", "/canbo")
	e.deliver()
	if _, lost := e.desk.StaffChatLost(e.ctx); !lost {
		t.Fatal("a lost staff group is not recorded")
	}
	if !strings.Contains(e.logs.String(), "no longer in the staff group") {
		t.Error("not logged")
	}
	e.desk.StaffChatState(e.ctx, true)
	if _, lost := e.desk.StaffChatLost(e.ctx); lost {
		t.Error("still lost after the bot was added back")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestSharedStoreSeesTicketsOfOtherInstances: two desks on one store (two
// instances): a ticket opened through one is known to the other when it is
// Shared, so the resident's next message goes to staff, not to the bot;
// an instance that is not Shared knows only its own tickets.
func TestSharedStoreSeesTicketsOfOtherInstances(t *testing.T) {
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprint("shared=", shared), func(t *testing.T) {
			e := newEnv(t)
			log := slog.New(slog.DiscardHandler)
			eng2 := bot.New(bot.Config{Store: e.db, Now: e.clk.Now, Logger: log}, e.base)
			d2, err := New(e.ctx, Config{Store: e.db, Base: eng2.Base, Logger: log, Now: e.clk.Now, Web: true, Shared: shared})
			if err != nil {
				t.Fatal(err)
			}
			d2.Register(eng2)
			// Opened through the first instance, after the second started.
			if r := e.say(bot.ChannelWeb, "sid-1", "/canbo"); r.Band != Band {
				t.Fatalf("/canbo = %+v", r)
			}
			r := eng2.Handle(e.ctx, bot.Message{Channel: bot.ChannelWeb, UserKey: e.key(bot.ChannelWeb, "sid-1"), Text: "cho tôi hỏi giờ làm việc thứ Bảy"})
			forwarded := r.Band == Band && strings.Contains(r.Text, "#1")
			if forwarded != shared {
				t.Fatalf("second instance (shared %v): %+v", shared, r)
			}
			t1, err := e.db.OpenTicketOf(e.ctx, e.key(bot.ChannelWeb, "sid-1"))
			if err != nil {
				t.Fatal(err)
			}
			ms, _ := e.db.TicketMessages(e.ctx, t1.ID)
			got := false
			for _, m := range ms {
				got = got || strings.Contains(m.Text, "giờ làm việc thứ Bảy")
			}
			if got != shared {
				t.Errorf("message in the ticket: %v, want %v", got, shared)
			}
		})
	}
}

// TestReplyToAPostBeingRecorded: staff see a request's card as soon as
// Telegram shows it, before the bot has Telegram's answer and has recorded
// which request the card is; a reply in that moment still reaches the
// resident (it waits for the record), not "no request".
func TestReplyToAPostBeingRecorded(t *testing.T) {
	e := newEnv(t)
	e.say(bot.ChannelTelegram, "7", "/canbo")
	gate := make(chan struct{})
	e.staff.mu.Lock()
	e.staff.gate = gate
	e.staff.mu.Unlock()
	delivered := make(chan error, 1)
	go func() {
		_, err := e.desk.Deliver(e.ctx, storage.TargetStaff)
		delivered <- err
	}()
	waitFor(t, "the card posted", func() bool { return len(e.staff.allPosts()) > 0 })
	card := e.staff.allPosts()[0].id
	notice := make(chan string, 1)
	go func() { notice <- e.desk.StaffReply(e.ctx, card, chiHoa, "Chào bác, chiều nay bác qua xã nhé.") }()
	select {
	case n := <-notice:
		t.Fatalf("the reply was answered before the card was recorded: %q", n)
	case <-time.After(300 * time.Millisecond):
	}
	close(gate)
	if err := <-delivered; err != nil {
		t.Fatal(err)
	}
	if n := <-notice; n != "" {
		t.Fatalf("staff reply notice = %q", n)
	}
	e.deliver()
	if got := e.tg.sent(); len(got) != 1 || !strings.Contains(got[0].reply.Text, "chiều nay bác qua xã") {
		t.Fatalf("resident got %+v", got)
	}
}
