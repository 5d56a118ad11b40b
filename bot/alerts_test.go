package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

const testProfile = `placeholder: false
name: "xã Cổ Lễ"
province: "tỉnh Ninh Bình"
centre: {name: "Trung tâm Phục vụ hành chính công xã Cổ Lễ", address: "Số 1", hours: "7:30–17:00", phone: "0228 000 000"}
police: {name: "Công an xã Cổ Lễ", address: "Số 2", phone: "0228 111 111"}
teams:
  - {village: "Thôn Đông", leader: "A", phone: "0900 000 001"}
  - {village: "Thôn  Tây", leader: "B", phone: "0900 000 002"}
  - {village: "thôn đông", leader: "C", phone: "0900 000 003"}
`

// newAlertEngine is an engine over the shipped base with a filled-in
// profile (villages) and a settable clock.
func newAlertEngine(t *testing.T, now *time.Time) (*Engine, *storage.DB) {
	t.Helper()
	profile, err := knowledge.ParseProfile([]byte(testProfile))
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, testNow)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return *now }
	db, err := storage.Open(context.Background(), t.TempDir()+"/alerts.db", storage.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return New(Config{Store: db, Now: clock}, base), db
}

func buttonFor(r Reply, label string) (Button, bool) {
	for _, row := range r.Buttons {
		for _, b := range row {
			if b.Label == label {
				return b, true
			}
		}
	}
	return Button{}, false
}

func TestSubscribeChooseVillageAndStop(t *testing.T) {
	now := testNow
	eng, db := newAlertEngine(t, &now)
	ctx := context.Background()
	key := db.UserKey(ChannelTelegram, "501")
	tg := WithDeliveryAddress(ctx, DeliveryAddress{Channel: ChannelTelegram, Address: "501"})
	say := func(ctx context.Context, text, payload string) Reply {
		return eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: key, Text: text, Payload: payload})
	}

	if vs := eng.Villages(); strings.Join(vs, "|") != "Thôn Đông|Thôn Tây" {
		t.Fatalf("villages = %q (want the profile's, cleaned, without duplicates)", vs)
	}
	r := say(tg, "/theodoi", "")
	if !strings.Contains(r.Text, "Bạn đã đăng ký nhận") || !strings.Contains(r.Text, "/huytheodoi") {
		t.Fatalf("/theodoi = %q", r.Text)
	}
	if _, addr, err := db.Address(ctx, key); err != nil || addr != "501" {
		t.Errorf("address = %q, %v", addr, err)
	}
	tay, ok := buttonFor(r, "Thôn Tây")
	if !ok || !hasPayload(r, AlertPrefix+":v:-") || !hasPayload(r, AlertPrefix+":off") {
		t.Fatalf("buttons = %+v", r.Buttons)
	}
	if len(tay.Payload) > MaxPayloadLen {
		t.Errorf("payload %q too long", tay.Payload)
	}
	if r := say(tg, "", tay.Payload); !strings.Contains(r.Text, "bạn ở **Thôn Tây**") {
		t.Errorf("village tap = %q", r.Text)
	}
	if s, _ := db.Subscriber(ctx, key); s.Village != "Thôn Tây" || !s.Active {
		t.Errorf("subscriber = %+v", s)
	}
	if r := say(tg, "", AlertPrefix+":v:0000000000"); !strings.Contains(r.Text, "không còn trong danh sách") {
		t.Errorf("unknown village code = %q", r.Text)
	}
	// The menu button says the same to someone already subscribed.
	if r := say(tg, "", AlertPrefix+":sub"); !strings.Contains(r.Text, "Bạn đang nhận") || !strings.Contains(r.Text, "Thôn Tây") {
		t.Errorf("subscribe again = %q", r.Text)
	}
	// "dùng" is not "dừng"; "Dừng." is.
	if r := say(ctx, "dùng", ""); strings.Contains(r.Text, textUnsubscribed) {
		t.Error(`"dùng" unsubscribed`)
	}
	if r := say(ctx, "Dừng.", ""); !strings.Contains(r.Text, textUnsubscribed) {
		t.Errorf(`"Dừng." = %q`, r.Text)
	}
	if s, _ := db.Subscriber(ctx, key); s.Active {
		t.Error("still subscribed")
	}
	// From someone not subscribed, "dừng" is an ordinary message.
	if r := say(ctx, "dừng", ""); strings.Contains(r.Text, textUnsubscribed) || strings.Contains(r.Text, textNotSubscribed) {
		t.Errorf(`"dừng" from a non-subscriber = %q`, r.Text)
	}
	if r := say(ctx, "/huytheodoi", ""); !strings.Contains(r.Text, textNotSubscribed) {
		t.Errorf("/huytheodoi when not subscribed = %q", r.Text)
	}
	if r := say(ctx, "", AlertPrefix+":v:-"); !strings.Contains(r.Text, textNotSubscribed) {
		t.Errorf("village of a non-subscriber = %q", r.Text)
	}
}

func TestSubscribeWhereAlertsCannotBeSent(t *testing.T) {
	now := testNow
	eng, _ := newAlertEngine(t, &now)
	ctx := context.Background()
	group := eng.Handle(WithDeliveryAddress(ctx, DeliveryAddress{Channel: ChannelTelegram, Address: "-100", Group: true}),
		Message{Channel: ChannelTelegram, UserKey: "telegram:x", Text: "/theodoi", Group: true})
	if !strings.Contains(group.Text, "riêng cho trợ lý") {
		t.Errorf("group /theodoi = %q", group.Text)
	}
	web := eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:w", Text: "/theodoi"})
	if !strings.Contains(web.Text, "Trình duyệt web") || strings.Contains(web.Text, "Mở trợ lý") {
		t.Errorf("web /theodoi without links = %+v", web)
	}
	eng.SetAlertLinks(AlertLinks{Telegram: "https://t.me/xacole_bot", Zalo: "https://zalo.me/123"})
	web = eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:w", Payload: AlertPrefix + ":sub"})
	tg, ok1 := buttonFor(web, labelOpenTG)
	za, ok2 := buttonFor(web, labelOpenZalo)
	if !ok1 || !ok2 || tg.URL != "https://t.me/xacole_bot" || za.URL != "https://zalo.me/123" {
		t.Errorf("web subscribe buttons = %+v", web.Buttons)
	}
	for _, r := range []Reply{eng.Welcome(), eng.Menu()} {
		if !hasPayload(r, AlertPrefix+":sub") || !hasPayload(r, "c:vneid") {
			t.Errorf("menu without the subscribe button: %+v", r.Buttons)
		}
	}
}

func TestAnswersOfferOnceAndCarryCurrentAlert(t *testing.T) {
	now := testNow
	eng, db := newAlertEngine(t, &now)
	ctx := context.Background()
	ask := func(channel, key, entry string) Reply {
		return eng.Handle(ctx, Message{Channel: channel, UserKey: key, Payload: "e:" + entry})
	}
	tgKey := db.UserKey(ChannelTelegram, "77")
	first := ask(ChannelTelegram, tgKey, "vneid-lua-dao")
	if !strings.Contains(first.Text, textAlertOffer) || !hasPayload(first, AlertPrefix+":sub") || !hasPayload(first, "m") {
		t.Fatalf("first answer = %+v", first)
	}
	if second := ask(ChannelTelegram, tgKey, "vneid-cai-dat"); strings.Contains(second.Text, textAlertOffer) || hasPayload(second, AlertPrefix+":sub") {
		t.Errorf("asked twice: %q", second.Text)
	}
	// The web chat offers the links, only when they are configured.
	if r := ask(ChannelWeb, "web:a", "vneid-cai-dat"); strings.Contains(r.Text, "🔔") {
		t.Errorf("web offer without links: %q", r.Text)
	}
	eng.SetAlertLinks(AlertLinks{Zalo: "https://zalo.me/123"})
	if r := ask(ChannelWeb, "web:b", "vneid-cai-dat"); !strings.Contains(r.Text, textAlertOfferWeb) {
		t.Errorf("web offer = %q", r.Text)
	}

	// A scam alert linked to the entry, once sent, is added under its
	// answers until it expires; other entries are untouched.
	job := storage.AlertJob{Kind: storage.AlertScam, Title: "Giả danh công an gọi điện", Body: "Công an **không** gọi điện hỏi mã OTP.",
		Link: "https://example.gov.vn/canh-bao", Entries: []string{"vneid-lua-dao", "vneid-kich-hoat"},
		Text: "x", CreatedBy: "test", ExpiresAt: now.Add(30 * 24 * time.Hour)}
	if err := db.CreateAlertJob(ctx, &job); err != nil {
		t.Fatal(err)
	}
	if r := ask(ChannelTelegram, tgKey, "vneid-lua-dao"); strings.Contains(r.Text, job.Title) {
		t.Error("an alert not yet sent was added")
	}
	if _, err := db.StartDueAlertJobs(ctx, now); err != nil {
		t.Fatal(err)
	}
	for _, entry := range []string{"vneid-lua-dao", "vneid-kich-hoat"} {
		r := ask(ChannelZalo, "zalo:z", entry)
		if !strings.Contains(r.Text, "CẢNH BÁO LỪA ĐẢO ("+vnDate(now)+"): "+job.Title) || !strings.Contains(r.Text, "không** gọi") ||
			!strings.Contains(r.Text, "(https://example.gov.vn/canh-bao)") {
			t.Errorf("answer of %s = %q", entry, r.Text)
		}
		if !hasPayload(r, "m") {
			t.Errorf("answer of %s lost its buttons", entry)
		}
	}
	if r := ask(ChannelZalo, "zalo:z", "vneid-cai-dat"); strings.Contains(r.Text, job.Title) {
		t.Error("alert added to an unlinked entry")
	}
	now = now.Add(31 * 24 * time.Hour)
	if r := ask(ChannelZalo, "zalo:z", "vneid-lua-dao"); strings.Contains(r.Text, job.Title) {
		t.Error("an expired alert was added")
	}
}

func TestAlertMessage(t *testing.T) {
	resident := AlertMessage(storage.AlertDisaster, "Bão số 3 [khẩn]", "Sơ tán khỏi **bãi sông**.", "xã Cổ Lễ", false)
	group := AlertMessage(storage.AlertDisaster, "Bão số 3 [khẩn]", "Sơ tán khỏi **bãi sông**.", "xã Cổ Lễ", true)
	if !strings.HasPrefix(resident, "**🌀 CẢNH BÁO THIÊN TAI – xã Cổ Lễ**") || !strings.Contains(resident, `**Bão số 3 \[khẩn\]**`) ||
		!strings.Contains(resident, "/huytheodoi") {
		t.Errorf("resident text = %q", resident)
	}
	if strings.Contains(group, "/huytheodoi") || !strings.Contains(group, "**bãi sông**") {
		t.Errorf("group text = %q", group)
	}
	if b := AlertButtons("https://a.vn", "https://a.vn/x.jpg"); len(b) != 1 || len(b[0]) != 2 || b[0][1].URL != "https://a.vn/x.jpg" {
		t.Errorf("buttons = %+v", b)
	}
	if AlertButtons("", "") != nil {
		t.Error("buttons without links")
	}
}

// A job cancelled by another process (the CLI) stops showing under answers
// within alertRefresh; one cancelled through this process at once.
func TestCurrentAlertsFollowOtherProcesses(t *testing.T) {
	now := testNow
	eng, db := newAlertEngine(t, &now)
	ctx := context.Background()
	other, err := storage.Open(ctx, db.Path(), storage.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	mk := func(title string) storage.AlertJob {
		j := storage.AlertJob{Kind: storage.AlertScam, Title: title, Body: "x", Entries: []string{"vneid-lua-dao"}, Text: "x", CreatedBy: "t", ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateAlertJob(ctx, &j); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StartDueAlertJobs(ctx, now); err != nil {
			t.Fatal(err)
		}
		return j
	}
	answer := func() string {
		return eng.Handle(ctx, Message{Channel: ChannelZalo, UserKey: "zalo:x", Payload: "e:vneid-lua-dao"}).Text
	}
	a := mk("Cảnh báo A")
	if !strings.Contains(answer(), "Cảnh báo A") {
		t.Fatal("alert A not shown")
	}
	if _, err := other.SetAlertJobStatus(ctx, a.ID, storage.JobCancelled); err != nil {
		t.Fatal(err)
	}
	now = now.Add(alertRefresh - time.Second)
	if !strings.Contains(answer(), "Cảnh báo A") {
		t.Error("the cache was reloaded before its time (the test would not show the refresh)")
	}
	now = now.Add(2 * time.Second)
	if strings.Contains(answer(), "Cảnh báo A") {
		t.Error("an alert cancelled by another process still shows after the refresh")
	}
	b := mk("Cảnh báo B")
	if !strings.Contains(answer(), "Cảnh báo B") {
		t.Fatal("alert B not shown at once")
	}
	if _, err := db.SetAlertJobStatus(ctx, b.ID, storage.JobCancelled); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(answer(), "Cảnh báo B") {
		t.Error("an alert cancelled in this process still shows")
	}
}

func TestProfileVillages(t *testing.T) {
	head := `placeholder: false
name: "xã Cổ Lễ"
province: "tỉnh Ninh Bình"
centre: {name: "Trung tâm", address: "Số 1", hours: "7:30", phone: "0228 000 000"}
police: {name: "Công an xã", address: "Số 2", phone: "0228 111 111"}
`
	for _, tt := range []struct {
		name, teams, want string
	}{
		{"shipped placeholders", "teams:\n  - {village: \"[CẦN ĐIỀN: tên thôn]\", leader: a, phone: b}\n  - {village: \"[CẦN ĐIỀN: tên thôn]\", leader: a, phone: b}\n", ""},
		{"no teams", "teams: []\n", ""},
		{"two filled, one not", "teams:\n  - {village: Thôn Đông, leader: a, phone: b}\n  - {village: \"[CẦN ĐIỀN: tên thôn]\", leader: a, phone: b}\n  - {village: Thôn Tây, leader: \"[CẦN ĐIỀN]\", phone: b}\n", "Thôn Đông|Thôn Tây"},
		{"all filled", "teams:\n  - {village: Thôn Đông, leader: a, phone: b}\n", "Thôn Đông"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := knowledge.ParseProfile([]byte(head + tt.teams))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ProfileVillages(&knowledge.Base{Profile: p}), "|"); got != tt.want {
				t.Errorf("villages = %q, want %q (teams %+v)", got, tt.want, p.Teams)
			}
		})
	}
}
