package telegram

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/alert"
	"github.com/colecommune/trolyso/storage"
)

// A resident subscribes with /theodoi, receives an alert through the fake
// Bot API (with its link button), and stops with "dừng".
func TestAlertSubscriptionThroughTelegram(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.api.push(textUpdate(31, 31, 1, "/theodoi"))
	if c := e.api.wait("sendMessage", 1)[0]; !strings.Contains(c.Form["text"], "Bạn đã đăng ký nhận") || !strings.Contains(c.Form["reply_markup"], `"al:off"`) {
		t.Fatalf("/theodoi reply = %q %s", c.Form["text"], c.Form["reply_markup"])
	}
	key := e.db.UserKey(bot.ChannelTelegram, "31")
	if _, addr, err := e.db.Address(ctx, key); err != nil || addr != "31" {
		t.Fatalf("address = %q, %v", addr, err)
	}
	j, err := alert.Build(alert.Spec{Kind: "scam", Title: "Giả danh công an", Body: "Không đọc **mã OTP**.", Link: "https://congan.gov.vn/canh-bao"},
		e.eng.Base(), time.Now(), "kiểm thử")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateAlertJob(ctx, &j); err != nil {
		t.Fatal(err)
	}
	s, err := alert.NewSender(alert.SenderConfig{Store: e.db, Senders: map[string]bot.Sender{bot.ChannelTelegram: e.a}, LeaseTTL: time.Second, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s.RunUntil(rctx, func(ctx context.Context) (bool, error) {
		got, err := e.db.AlertJob(ctx, j.ID)
		return got.Status == storage.JobDone, err
	})
	c := e.api.wait("sendMessage", 2)[1]
	if c.Form["chat_id"] != "31" || c.Form["parse_mode"] != "HTML" || !strings.Contains(c.Form["text"], "<b>mã OTP</b>") ||
		!strings.Contains(c.Form["reply_markup"], "https://congan.gov.vn/canh-bao") {
		t.Fatalf("alert = %+v", c.Form)
	}
	e.api.push(textUpdate(31, 31, 2, "dừng"))
	if c := e.api.wait("sendMessage", 3)[2]; !strings.Contains(c.Form["text"], "Bạn đã ngừng nhận") {
		t.Fatalf("dừng reply = %q", c.Form["text"])
	}
	if sub, _ := e.db.Subscriber(ctx, key); sub.Active || sub.UnsubReason != storage.UnsubUser {
		t.Errorf("subscriber = %+v", sub)
	}
	if n, _ := e.db.AlertUnsubscribed(ctx, j.ID); n[storage.UnsubUser] != 1 {
		t.Errorf("unsubscribing not put down to the alert: %v", n)
	}
}
