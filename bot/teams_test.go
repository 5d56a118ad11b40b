package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/storage"
)

func TestTeamMemberCommands(t *testing.T) {
	eng, db := newTestEngine(t)
	ctx := context.Background()
	team, err := db.AddTeam(ctx, "Thôn Đông", "")
	if err != nil {
		t.Fatal(err)
	}
	tgKey := db.UserKey(ChannelTelegram, "111")
	tgCtx := WithDeliveryAddress(ctx, DeliveryAddress{Channel: ChannelTelegram, Address: "111"})
	say := func(ctx context.Context, key, text string) string {
		ch := strings.SplitN(key, ":", 2)[0]
		return eng.Handle(ctx, Message{Channel: ch, UserKey: key, Text: text}).Text
	}
	for _, tc := range []struct {
		name, key, text, want string
		ctx                   context.Context
	}{
		{"no team yet", tgKey, "/nhom", "chưa tham gia tổ nào", ctx},
		{"no code", tgKey, "/dangky", "/dangky MÃ", ctx},
		{"wrong code", tgKey, "/dangky zzzzzz", "Mã đăng ký **ZZZZZZ** không đúng", ctx},
		{"right code, lower case, with a name", tgKey, "/dangky " + strings.ToLower(team.JoinCode) + " Nguyễn Văn An", "Bạn đã tham gia **Tổ công nghệ số cộng đồng Thôn Đông**", tgCtx},
		{"my team", tgKey, "/nhom", "Bạn thuộc **Tổ công nghệ số cộng đồng Thôn Đông** (tham gia ngày " + vnDate(testNow) + "). Tổ hiện có 1 thành viên", ctx},
		{"web member is warned", "web:w1", "/dangky " + team.JoinCode, "chưa gửi tin nhắc tự động được", ctx},
		{"leave", tgKey, "/huy", "Bạn đã rời **Tổ công nghệ số cộng đồng Thôn Đông**", ctx},
		{"leave again", tgKey, "/huy", "chưa tham gia tổ nào", ctx},
	} {
		if got := say(tc.ctx, tc.key, tc.text); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q → %q, want it to contain %q", tc.name, tc.text, got, tc.want)
		}
	}
	if _, addr, err := db.Address(ctx, tgKey); err != nil || addr != "111" {
		t.Errorf("delivery address = %q, %v; want 111 stored at /dangky", addr, err)
	}
	ms, _ := db.TeamMembers(ctx, team.ID)
	if len(ms) != 2 || ms[0].DisplayName != "" && ms[0].DisplayName != "Nguyễn Văn An" {
		t.Errorf("members = %+v", ms)
	}
	// In a group chat, /dangky asks for a private message.
	r := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: tgKey, Text: "/dangky " + team.JoinCode, Group: true})
	if !strings.Contains(r.Text, "riêng cho trợ lý") {
		t.Errorf("group /dangky = %q", r.Text)
	}
}

func TestTeamAdminCommands(t *testing.T) {
	eng, db := newTestEngine(t)
	ctx := context.Background()
	admin := func(text string) string {
		return eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:admin", Text: text, Admin: true}).Text
	}
	for _, cmd := range []string{"/tonhom", "/themto Thôn X", "/nhacnho", "/tamdung 1", "/tieptuc 1", "/trangthai"} {
		r := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:someone", Text: cmd})
		if r.Text != textUnknownCmd {
			t.Errorf("%s by a non-admin = %q, want the unknown-command reply", cmd, r.Text)
		}
	}
	if got := admin("/tonhom"); got != textNoTeams {
		t.Errorf("/tonhom with no teams = %q", got)
	}
	got := admin("/themto Thôn Đoài")
	if !strings.Contains(got, "Đã thêm **Tổ công nghệ số cộng đồng Thôn Đoài**. Mã đăng ký: **") {
		t.Fatalf("/themto = %q", got)
	}
	if got := admin("/themto Thôn Đoài"); !strings.Contains(got, "đã có tổ rồi") {
		t.Errorf("duplicate /themto = %q", got)
	}
	teams, _ := db.Teams(ctx)
	if got := admin("/tonhom"); !strings.Contains(got, "**Thôn Đoài** – mã **"+teams[0].JoinCode+"** – 0 thành viên") {
		t.Errorf("/tonhom = %q", got)
	}
	if got := admin("/tonhom Thôn Đoài"); !strings.Contains(got, "Chưa có thành viên") {
		t.Errorf("/tonhom NAME = %q", got)
	}

	r := storage.Reminder{Name: "Điểm tin", Cron: "30 7 * * 1", Target: "all", Template: "x", Enabled: true}
	if err := db.AddReminder(ctx, &r); err != nil {
		t.Fatal(err)
	}
	// testNow is Thursday 2026-11-26 16:00 in Vietnam: next Monday 07:30.
	if got := admin("/nhacnho"); !strings.Contains(got, "#1 **Điểm tin** – đang bật – lịch 07:30 thứ Hai hằng tuần (30 7 * * 1) – gửi tới: thành viên mọi tổ – lần tới: 30/11/2026 07:30") {
		t.Errorf("/nhacnho = %q", got)
	}
	if got := admin("/tamdung 1"); !strings.Contains(got, "Đã tạm dừng lịch nhắc **#1 Điểm tin**") {
		t.Errorf("/tamdung = %q", got)
	}
	if got := admin("/nhacnho"); !strings.Contains(got, "tạm dừng") {
		t.Errorf("/nhacnho after pause = %q", got)
	}
	if got := admin("/tieptuc 1"); !strings.Contains(got, "Lần gửi tới: 30/11/2026 07:30") {
		t.Errorf("/tieptuc = %q", got)
	}
	if got := admin("/tamdung abc"); !strings.Contains(got, "/tamdung SỐ") {
		t.Errorf("/tamdung abc = %q", got)
	}
	if got := admin("/tamdung 9"); !strings.Contains(got, "không có lịch nhắc #9") {
		t.Errorf("/tamdung 9 = %q", got)
	}
	if got := admin("/trangthai"); got != textNoRuns {
		t.Errorf("/trangthai with no runs = %q", got)
	}
	if got := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:admin", Text: "/help", Admin: true}).Text; !strings.Contains(got, "/trangthai") {
		t.Errorf("/help for admins lacks the team commands: %q", got)
	}
}

func TestAckButton(t *testing.T) {
	eng, db := newTestEngine(t)
	ctx := context.Background()
	team, _ := db.AddTeam(ctx, "Thôn Hạ", "-100555")
	other, _ := db.AddTeam(ctx, "Thôn Thượng", "")
	var keys []string
	for i, code := range []string{team.JoinCode, team.JoinCode, other.JoinCode} {
		key := db.UserKey(ChannelTelegram, fmt.Sprint(500+i))
		if _, err := db.JoinTeam(ctx, ChannelTelegram, key, code, ""); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	a, _ := db.UserByKey(ctx, keys[0])
	r := storage.Reminder{Name: "Nhắc", Cron: "30 7 * * 1", Template: "x", Enabled: true}
	db.AddReminder(ctx, &r)
	run, _, err := db.StartRun(ctx, r.ID, time.Date(2026, 11, 23, 0, 30, 0, 0, time.UTC), false, []storage.NewDelivery{
		{Recipient: "user:" + keys[0], UserID: a.ID, TeamID: team.ID, Text: "x"},
		{Recipient: fmt.Sprintf("group:%d", team.ID), TeamID: team.ID, Text: "x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := db.RunDeliveries(ctx, run.ID)
	var own, group storage.Delivery
	for _, d := range ds {
		if d.Group() {
			group = d
		} else {
			own = d
		}
	}
	if b := AckButton(own.ID); b[0][0].Label != "✅ Đã nhận" || len(b[0][0].Payload) > MaxPayloadLen {
		t.Errorf("ack button = %+v", b)
	}
	tap := func(key string, d storage.Delivery, group bool) string {
		return eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: key, Payload: AckButton(d.ID)[0][0].Payload, Group: group}).Text
	}
	for _, tc := range []struct {
		name  string
		key   string
		d     storage.Delivery
		group bool
		want  string
	}{
		{"another member", keys[1], own, false, textAckNotYours},
		{"the recipient", keys[0], own, false, textAcked},
		{"the recipient again", keys[0], own, false, textAckedAlready},
		{"member of another team in the group", keys[2], group, true, textAckNotYours},
		{"member of the team in the group", keys[1], group, true, textAcked},
		{"deleted delivery", keys[0], storage.Delivery{ID: 999}, false, textAckGone},
	} {
		if got := tap(tc.key, tc.d, tc.group); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: keys[0], Payload: "ack:x"}).Text; got != textUnknownButton {
		t.Errorf("bad ack payload = %q", got)
	}
	ds, _ = db.RunDeliveries(ctx, run.ID)
	status := RunStatusText(run, ds)
	if !strings.Contains(status, "đã nhận: 2") || !strings.Contains(status, "Thôn Hạ – nhóm chung") {
		t.Errorf("status:\n%s", status)
	}
}
