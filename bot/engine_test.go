package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

var testNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func newTestEngine(t *testing.T) (*Engine, *storage.DB) {
	t.Helper()
	ctx := context.Background()
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, testNow)
	if err != nil {
		t.Fatal(err)
	}
	// One fixed clock for the engine and the store: nothing a test
	// checks may come from the real date.
	clock := func() time.Time { return testNow }
	db, err := storage.Open(ctx, t.TempDir()+"/test.db", storage.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return New(Config{Store: db, Now: clock}, base), db
}

func hasPayload(r Reply, payload string) bool {
	for _, row := range r.Buttons {
		for _, b := range row {
			if b.Payload == payload {
				return true
			}
		}
	}
	return false
}

func TestMenuNavigation(t *testing.T) {
	eng, _ := newTestEngine(t)
	ctx := context.Background()
	msg := func(text, payload string) Reply {
		return eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:u1", Text: text, Payload: payload})
	}
	start := msg("/start", "")
	if start.Band != BandMenu || !strings.Contains(start.Text, "trợ lý số tự động") {
		t.Fatalf("/start = %+v", start)
	}
	for _, c := range eng.Base().Categories {
		if len(eng.Base().InCategory(c.ID)) > 0 && !hasPayload(start, "c:"+c.ID) {
			t.Errorf("/start menu lacks category %s", c.ID)
		}
	}
	topic := msg("", "c:vneid")
	if !hasPayload(topic, "e:vneid-quen-mat-khau") {
		t.Fatalf("topic vneid lacks vneid-quen-mat-khau: %+v", topic.Buttons)
	}
	ans := msg("", "e:vneid-quen-mat-khau")
	if ans.Band != BandAnswer || ans.EntryID != "vneid-quen-mat-khau" || ans.ExchangeID == 0 {
		t.Fatalf("entry tap = %+v", ans)
	}
	for _, bad := range []string{"e:khong-co", "c:xyz", "zz:1", strings.Repeat("e", 100), "e"} {
		if r := msg("", bad); r.Band != BandCommand || !strings.Contains(r.Text, "không còn dùng được") {
			t.Errorf("payload %q = %+v", bad, r)
		}
	}
}

func TestCommands(t *testing.T) {
	eng, _ := newTestEngine(t)
	ctx := context.Background()
	called := false
	eng.HandleCommand("bimat", Command{Admin: true, Help: "test", Handle: func(context.Context, Message, string) Reply {
		called = true
		return Reply{Band: BandCommand, Text: "ok"}
	}})
	unknown := eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:u", Text: "/khongco"})
	refused := eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:u", Text: "/bimat"})
	if unknown.Text != refused.Text || called {
		t.Errorf("admin command not refused like an unknown one: %q vs %q", unknown.Text, refused.Text)
	}
	if r := eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:a", Text: "/bimat@trolyso_bot", Admin: true}); r.Text != "ok" || !called {
		t.Errorf("admin command for admin = %+v", r)
	}
	called = false
	if r := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:a", Text: "/bimat", Admin: true, Group: true}); r.Text != unknown.Text || called {
		t.Errorf("admin command ran in a group chat: %+v", r)
	}
	if r := eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:a", Text: "/help", Admin: true}); !strings.Contains(r.Text, "/bimat") {
		t.Errorf("admin help lacks admin commands: %q", r.Text)
	}
	if r := eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:u", Text: "/help"}); strings.Contains(r.Text, "/bimat") {
		t.Errorf("resident help reveals admin commands: %q", r.Text)
	}
}

func TestBadInput(t *testing.T) {
	eng, db := newTestEngine(t)
	ctx := context.Background()
	tests := []struct {
		name string
		text string
		band Band
		want string
	}{
		{"empty", "   ", BandRefused, "hãy gõ câu hỏi"},
		{"control only", "\x00\x01\x02", BandRefused, "hãy gõ câu hỏi"},
		{"huge", strings.Repeat("vneid ", 400), BandRefused, "dài quá"},
		{"emoji flood", strings.Repeat("😀", 10000), BandRefused, "dài quá"},
		{"invalid utf8", "quen mat khau vneid \xff\xfe", BandAnswer, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:bad", Text: tt.text})
			if r.Band != tt.band || !strings.Contains(r.Text, tt.want) {
				t.Errorf("got band %s text %q", r.Band, r.Text)
			}
		})
	}
	n, err := db.CountExchanges(ctx, testNow.Add(-time.Hour), testNow.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("exchanges stored = %d, %v; want only the valid question", n, err)
	}
}

func TestExchangeRedactedAndRecorded(t *testing.T) {
	eng, db := newTestEngine(t)
	ctx := context.Background()
	r := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:x", Text: "quên mật khẩu vneid, số cccd 001234567890 sđt 0912345678"})
	if r.ExchangeID == 0 {
		t.Fatalf("no exchange recorded: %+v", r)
	}
	ex, err := db.Exchange(ctx, r.ExchangeID)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"001234567890", "0912345678"} {
		if strings.Contains(ex.Question, leak) || strings.Contains(ex.Normalized, leak) {
			t.Errorf("stored text leaks %s: %q / %q", leak, ex.Question, ex.Normalized)
		}
	}
	if ex.Channel != ChannelTelegram || ex.UserKey != "telegram:x" || ex.Band != string(r.Band) || ex.EntryID != r.EntryID {
		t.Errorf("stored %+v for reply %+v", ex, r)
	}
}

func TestDeclineNamesWhoCanHelp(t *testing.T) {
	eng, db := newTestEngine(t)
	ctx := context.Background()
	r := eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:d", Text: "giá vàng hôm nay bao nhiêu"})
	if r.Band != BandDecline {
		t.Fatalf("band = %s, want decline", r.Band)
	}
	if !strings.Contains(r.Text, "Trung tâm Phục vụ hành chính công") || !strings.Contains(r.Text, "Tổ công nghệ số") {
		t.Errorf("decline does not point to the centre and team: %q", r.Text)
	}
	ex, err := db.Exchange(ctx, r.ExchangeID)
	if err != nil || ex.Band != "decline" {
		t.Errorf("decline not recorded as unanswered: %+v %v", ex, err)
	}
}

func TestSmallTalkSaysAutomated(t *testing.T) {
	eng, _ := newTestEngine(t)
	r := eng.Handle(context.Background(), Message{Channel: ChannelWeb, UserKey: "web:s", Text: "bạn là ai"})
	if r.Band != BandSmallTalk || !strings.Contains(r.Text, "tự động") {
		t.Errorf("who = %+v", r)
	}
}

func TestStorageFailureStillAnswers(t *testing.T) {
	eng, db := newTestEngine(t)
	db.Close()
	r := eng.Handle(context.Background(), Message{Channel: ChannelWeb, UserKey: "web:f", Text: "quên mật khẩu vneid"})
	if r.Band != BandAnswer || r.EntryID != "vneid-quen-mat-khau" {
		t.Errorf("answer lost when storage failed: %+v", r)
	}
}

// TestReplaceIndexOnlyForCurrentBase: a reload's calibrated index replaces
// the quick one only while its base is still in use.
func TestReplaceIndexOnlyForCurrentBase(t *testing.T) {
	eng, _ := newTestEngine(t)
	b1 := eng.Base()
	ix := eng.Index()
	if !eng.ReplaceIndex(b1, ix) || eng.Index() != ix {
		t.Fatal("the current base's index was not replaced")
	}
	b2 := *b1
	eng.SetIndexed(&b2, ix)
	if eng.ReplaceIndex(b1, ix) || eng.Base() != &b2 {
		t.Error("an older base's index replaced the newer base")
	}
}

// TestAnswerOffersRunnersUp: when the engine answers but is not sure, the
// reply says so and offers its runner-up entries as buttons between the
// rating row and the menu; a tap answers with that entry. A sure answer
// has neither the line nor the buttons.
func TestAnswerOffersRunnersUp(t *testing.T) {
	eng, _ := newTestEngine(t)
	ctx := context.Background()
	// Find one question of each kind with the engine's own decisions.
	var unsure, sure string
	var offered []knowledge.Match
	for _, q := range []string{
		"quen mat khau vneid", "quên passcode", "doi so dien thoai vneid", "chu ky so la gi",
		"ký số hồ sơ", "nộp hồ sơ trực tuyến", "tài khoản mức 2 để làm gì", "cài vneid",
		"đăng nhập dịch vụ công", "đổi điện thoại mới vneid", "lừa đảo", "thanh toán phí", "mất điện thoại",
		"ky hop dong bang vneid", "chu ky dien tu", "tai khoan muc 1 va muc 2", "đổi thẻ căn cước",
	} {
		d := eng.Index().Decide(q)
		if d.Band != knowledge.BandAnswer {
			continue
		}
		if len(d.Also) > 0 && unsure == "" {
			unsure, offered = q, d.Also
		}
		if len(d.Also) == 0 && sure == "" {
			sure = q
		}
	}
	if unsure == "" || sure == "" {
		t.Fatalf("need an unsure and a sure answer among the questions: unsure %q, sure %q", unsure, sure)
	}
	say := func(text, payload string) Reply {
		return eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:also", Text: text, Payload: payload})
	}
	r := say(unsure, "")
	if r.Band != BandAnswer || !strings.HasSuffix(r.Text, textAlso) {
		t.Fatalf("%q: band %s, text %q", unsure, r.Band, r.Text)
	}
	want := 1 + len(offered) + 1 // rating, offered entries, menu
	if len(r.Buttons) != want || r.Buttons[0][0].Payload != "r:"+FormatID(r.ExchangeID)+":+" || r.Buttons[want-1][0].Payload != "m" {
		t.Fatalf("%q: buttons %+v, want rating, %d offered, menu", unsure, r.Buttons, len(offered))
	}
	for i, m := range offered {
		b := r.Buttons[1+i]
		if len(b) != 1 || b[0].Payload != "e:"+m.Entry.ID || b[0].Label != m.Entry.Title {
			t.Errorf("offered row %d = %+v, want %s", i, b, m.Entry.ID)
		}
	}
	if tap := say("", r.Buttons[1][0].Payload); tap.Band != BandAnswer || tap.EntryID != offered[0].Entry.ID {
		t.Errorf("tap on the offered entry = %s %s, want %s", tap.Band, tap.EntryID, offered[0].Entry.ID)
	}
	s := say(sure, "")
	if s.Band != BandAnswer || strings.Contains(s.Text, textAlso) || len(s.Buttons) != 2 {
		t.Errorf("%q (sure): text %q, buttons %+v", sure, s.Text, s.Buttons)
	}
}
