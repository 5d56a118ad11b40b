package telegram

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/remind"
	"github.com/colecommune/trolyso/storage"
)

// fixedClock is a scheduler clock whose waits end at once.
type fixedClock struct{ now time.Time }

func (c fixedClock) Now() time.Time { return c.now }

func (c fixedClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// A team member registers over Telegram, receives a reminder through the
// fake Bot API with the "✅ Đã nhận" button, and taps it.
func TestReminderThroughTelegramEndToEnd(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	team, err := e.db.AddTeam(ctx, "Thôn Đông", "")
	if err != nil {
		t.Fatal(err)
	}
	e.api.push(textUpdate(7, 7, 1, "/dangky "+team.JoinCode))
	if c := e.api.wait("sendMessage", 1)[0]; !strings.Contains(c.Form["text"], "Bạn đã tham gia") {
		t.Fatalf("/dangky reply = %q", c.Form["text"])
	}
	// /dangky stored the private chat id for delivery.
	if _, addr, err := e.db.Address(ctx, e.db.UserKey(bot.ChannelTelegram, "7")); err != nil || addr != "7" {
		t.Fatalf("address = %q, %v", addr, err)
	}

	r := storage.Reminder{Name: "Thử", Cron: "* * * * *", Target: "all", Template: "Nhắc **{{.Team}}**", Enabled: true}
	if err := e.db.AddReminder(ctx, &r); err != nil {
		t.Fatal(err)
	}
	s, err := remind.New(remind.Config{
		Store:   e.db,
		Senders: map[string]bot.Sender{bot.ChannelTelegram: e.a},
		Clock:   fixedClock{now: r.Anchor.Add(time.Minute)},
		Grace:   time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	c := e.api.wait("sendMessage", 2)[1]
	if c.Form["chat_id"] != "7" || !strings.Contains(c.Form["text"], "Nhắc <b>Thôn Đông</b>") {
		t.Fatalf("reminder sent = %v", c.Form)
	}
	data := callbackData(keyboardOf(t, c))
	if len(data) != 1 || !strings.HasPrefix(data[0], "ack:") {
		t.Fatalf("reminder keyboard = %v", data)
	}

	e.api.push(callbackUpdate(7, 7, 1001, data[0], c.Form["reply_markup"]))
	e.api.wait("answerCallbackQuery", 1)
	runs, _ := e.db.RecentRuns(ctx, r.ID, 1)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ds, _ := e.db.RunDeliveries(ctx, runs[0].ID)
		if len(ds) == 1 && !ds[0].AckAt.IsZero() && ds[0].State == storage.DeliverySent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acknowledgement not recorded: %+v", ds)
		}
	}
}
