package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// Alerts: residents opt in to scam warnings, commune notices and disaster
// warnings with /theodoi (or the "🔔" button of the menu, or the button
// offered once under a first answer), choose their village ("al:v:<code>"),
// and opt out with /huytheodoi, the "al:off" button or by replying "dừng".
// Delivery itself is package bot/alert's; the engine only subscribes, and
// adds a current alert under the answers of the entries it is linked to.

// AlertPrefix is the payload prefix of the alert buttons.
const AlertPrefix = "al"

// AlertLinks are where a resident on a channel that cannot be messaged
// first (the web chat) can open the assistant to subscribe.
type AlertLinks struct {
	Telegram string // e.g. https://t.me/xacole_bot
	Zalo     string // e.g. https://zalo.me/1234567890 (the OA)
}

// SetAlertLinks sets the Telegram and Zalo links offered on the web chat.
func (e *Engine) SetAlertLinks(l AlertLinks) { e.alerts.links.Store(&l) }

func (e *Engine) links() AlertLinks {
	if l := e.alerts.links.Load(); l != nil {
		return *l
	}
	return AlertLinks{}
}

// alertState is the engine's alert configuration and caches, so that an
// answer costs no query when nothing changed: the current alerts linked to
// entries (reloaded when this process starts or changes a job, when one
// expires, and at least every alertRefresh for changes made by another
// process), and the residents already asked or subscribed (never asked
// again, so remembering them is always right).
type alertState struct {
	links atomic.Pointer[AlertLinks]

	mu      sync.Mutex
	loaded  bool
	version int64
	until   time.Time
	byEntry map[string]storage.AlertJob
	asked   map[string]bool
}

const (
	// alertRefresh is how stale the current alerts may get when another
	// process (the CLI) cancels one.
	alertRefresh = 15 * time.Second
	// maxAsked bounds the remembered residents; beyond it the memory is
	// cleared (the database still knows).
	maxAsked = 100000
)

// currentAlert returns the newest alert current at now linked to entry.
func (e *Engine) currentAlert(ctx context.Context, entry string, now time.Time) (storage.AlertJob, bool) {
	st := &e.alerts
	st.mu.Lock()
	defer st.mu.Unlock()
	if v := e.store.AlertsVersion(); !st.loaded || v != st.version || !now.Before(st.until) {
		js, err := e.store.CurrentLinkedAlerts(ctx, now)
		if err != nil {
			e.log.Error("look up current alerts", "err", err)
			return storage.AlertJob{}, false
		}
		st.loaded, st.version, st.until = true, v, now.Add(alertRefresh)
		st.byEntry = map[string]storage.AlertJob{}
		for _, j := range js { // newest first
			for _, id := range j.Entries {
				if _, ok := st.byEntry[id]; !ok {
					st.byEntry[id] = j
				}
			}
			if j.ExpiresAt.Before(st.until) {
				st.until = j.ExpiresAt
			}
		}
	}
	j, ok := st.byEntry[entry]
	return j, ok && now.Before(j.ExpiresAt)
}

// askOnce reports whether the resident should be asked now, recording
// that they were.
func (e *Engine) askOnce(ctx context.Context, m Message) bool {
	st := &e.alerts
	st.mu.Lock()
	known := st.asked[m.UserKey]
	st.mu.Unlock()
	if known {
		return false
	}
	offered, err := e.store.OfferAlerts(ctx, m.Channel, m.UserKey)
	if err != nil {
		e.log.Error("offer alerts", "err", err)
		return false
	}
	st.mu.Lock()
	if st.asked == nil || len(st.asked) >= maxAsked {
		st.asked = map[string]bool{}
	}
	st.asked[m.UserKey] = true
	st.mu.Unlock()
	return offered
}

// Texts of the alert subscription (residents read them).
const (
	LabelSubscribe   = "🔔 Nhận cảnh báo, thông báo của xã"
	labelNoVillage   = "Không chọn thôn (chỉ tin chung của xã)"
	labelUnsubscribe = "🔕 Ngừng nhận cảnh báo"
	labelOpenTG      = "Mở trợ lý trên Telegram"
	labelOpenZalo    = "Mở trợ lý trên Zalo"

	textAlertsOff        = "Kênh này chưa nhận được cảnh báo tự động."
	textSubscribeInGroup = "Để nhận cảnh báo, bạn hãy nhắn **/theodoi** riêng cho trợ lý (không gửi trong nhóm)."
	textSubscribed       = "✅ Bạn đã đăng ký nhận **cảnh báo lừa đảo**, **thông báo** và **cảnh báo thiên tai** của xã qua kênh này. Trợ lý chỉ gửi khi có tin cần thiết."
	textAlreadySubbed    = "Bạn đang nhận cảnh báo và thông báo của xã qua kênh này."
	textVillageNow       = "\n\nThôn đã chọn: **%s**."
	textPickVillage      = "\n\nBạn ở thôn nào? Chọn thôn để nhận cả thông báo riêng của thôn:"
	textStopHint         = "\n\nMuốn ngừng nhận: gõ /huytheodoi hoặc trả lời \"dừng\"."
	textVillageSet       = "✅ Đã ghi nhận: bạn ở **%s**. Bạn sẽ nhận tin chung của xã và thông báo riêng của thôn."
	textVillageNone      = "✅ Đã ghi nhận: bạn chỉ nhận tin chung của xã (không chọn thôn)."
	textVillageGone      = "Thôn này không còn trong danh sách. Gõ /theodoi để chọn lại."
	textNotSubscribed    = "Bạn chưa đăng ký nhận cảnh báo. Gõ /theodoi để đăng ký."
	textUnsubscribed     = "Bạn đã ngừng nhận cảnh báo và thông báo của xã. Muốn nhận lại, gõ /theodoi."
	textSubscribeWeb     = "Trình duyệt web không nhận được tin nhắn tự động. Để nhận **cảnh báo lừa đảo**, **thông báo** và **cảnh báo thiên tai** của xã, bạn mở trợ lý trên Telegram hoặc Zalo rồi bấm **Nhận cảnh báo** (hoặc gõ /theodoi)."
	textSubscribeNoLinks = "Trình duyệt web không nhận được tin nhắn tự động. Để nhận cảnh báo của xã, bạn nhắn /theodoi cho trợ lý trên Telegram hoặc Zalo của xã."
	textAlertOffer       = "🔔 Bạn có muốn nhận **cảnh báo lừa đảo** và **thông báo của xã** qua đây không? Trợ lý chỉ gửi khi có tin cần thiết; bạn hủy được bất cứ lúc nào."
	textAlertOfferWeb    = "🔔 Muốn nhận **cảnh báo lừa đảo** và **thông báo của xã**? Mở trợ lý trên Telegram hoặc Zalo rồi bấm **Nhận cảnh báo**."
)

// Alert headings by kind.
var alertHeadings = map[string]string{
	storage.AlertScam:     "⚠️ CẢNH BÁO LỪA ĐẢO",
	storage.AlertNotice:   "📢 THÔNG BÁO",
	storage.AlertDisaster: "🌀 CẢNH BÁO THIÊN TAI",
}

// AlertHeading is the first words of an alert of kind.
func AlertHeading(kind string) string {
	if h, ok := alertHeadings[kind]; ok {
		return h
	}
	return alertHeadings[storage.AlertNotice]
}

// AlertMessage is an alert's message exactly as residents (group false)
// or team groups (group true) receive it: heading with the commune's name,
// title, body (restricted Markdown) and, for residents, how to stop.
func AlertMessage(kind, title, body, commune string, group bool) string {
	var b strings.Builder
	b.WriteString("**" + AlertHeading(kind))
	if commune = strings.TrimSpace(commune); commune != "" {
		b.WriteString(" – " + markup.Escape(commune))
	}
	b.WriteString("**\n\n**" + markup.Escape(strings.TrimSpace(title)) + "**\n\n" + strings.TrimSpace(body))
	if !group {
		b.WriteString(textStopHint)
	}
	return b.String()
}

// AlertButtons are the link buttons under an alert.
func AlertButtons(link, image string) [][]Button {
	var row []Button
	if link != "" {
		row = append(row, Button{Label: "🔗 Xem chi tiết", URL: link})
	}
	if image != "" {
		row = append(row, Button{Label: "🖼 Xem hình ảnh", URL: image})
	}
	if len(row) == 0 {
		return nil
	}
	return [][]Button{row}
}

// alertNote is a current alert as shown under an answer it is linked to.
func alertNote(j storage.AlertJob) string {
	s := fmt.Sprintf("**%s (%s): %s**\n\n%s", AlertHeading(j.Kind), vnDate(j.StartedAt), markup.Escape(j.Title), strings.TrimSpace(j.Body))
	if j.Link != "" {
		s += "\n\n[Xem chi tiết](" + j.Link + ")"
	}
	return s
}

func (e *Engine) registerAlerts() {
	e.HandleCommand("theodoi", Command{Handle: func(ctx context.Context, m Message, _ string) Reply { return e.subscribe(ctx, m) }})
	e.HandleCommand("huytheodoi", Command{Handle: func(ctx context.Context, m Message, _ string) Reply { return e.unsubscribe(ctx, m, true) }})
	e.HandlePayload(AlertPrefix, e.alertPayload)
	e.Intercept(e.takeStop)
}

// alertMenuRow is the subscribe button shown with the menus.
func (e *Engine) alertMenuRow() [][]Button {
	if e.store == nil {
		return nil
	}
	return [][]Button{{{Label: LabelSubscribe, Payload: AlertPrefix + ":sub"}}}
}

func (e *Engine) alertPayload(ctx context.Context, m Message, args []string) Reply {
	switch {
	case len(args) == 1 && args[0] == "sub":
		return e.subscribe(ctx, m)
	case len(args) == 1 && args[0] == "off":
		return e.unsubscribe(ctx, m, true)
	case len(args) == 2 && args[0] == "v":
		return e.chooseVillage(ctx, m, args[1])
	}
	return e.unknownButton()
}

// canReceive reports whether alerts can be delivered on the channel.
func canReceive(channel string) bool { return channel == ChannelTelegram || channel == ChannelZalo }

func (e *Engine) subscribe(ctx context.Context, m Message) Reply {
	if e.store == nil || m.UserKey == "" {
		return cmdReply(textAlertsOff)
	}
	if m.Group {
		return cmdReply(textSubscribeInGroup)
	}
	a, ok := DeliveryAddressFrom(ctx)
	if !canReceive(m.Channel) || !ok || a.Group || a.Channel != m.Channel {
		return e.subscribeLinks(m.Channel)
	}
	if err := e.store.SetAddress(ctx, a.Channel, m.UserKey, a.Address); err != nil {
		e.log.Error("store delivery address", "channel", a.Channel, "err", err)
		return cmdReply(textError)
	}
	s, created, err := e.store.Subscribe(ctx, m.Channel, m.UserKey)
	if err != nil {
		e.log.Error("subscribe to alerts", "err", err)
		return cmdReply(textError)
	}
	if created {
		e.log.Info("resident subscribed to alerts", "channel", m.Channel)
	}
	text := textSubscribed
	if !created {
		text = textAlreadySubbed
	}
	var rows [][]Button
	if s.Village != "" {
		text += fmt.Sprintf(textVillageNow, s.Village)
	}
	if vs := e.Villages(); len(vs) > 0 {
		text += textPickVillage
		for _, v := range vs {
			rows = append(rows, []Button{{Label: v, Payload: AlertPrefix + ":v:" + VillageCode(v)}})
		}
		rows = append(rows, []Button{{Label: labelNoVillage, Payload: AlertPrefix + ":v:-"}})
	}
	text += textStopHint
	rows = append(rows, []Button{{Label: labelUnsubscribe, Payload: AlertPrefix + ":off"}})
	return Reply{Band: BandCommand, Text: text, Buttons: rows}
}

// subscribeLinks answers a resident on a channel that cannot be messaged
// first: the Telegram and Zalo links, when configured.
func (e *Engine) subscribeLinks(channel string) Reply {
	rows := e.linkButtons()
	if len(rows) == 0 {
		return Reply{Band: BandCommand, Text: textSubscribeNoLinks, Buttons: menuRow()}
	}
	return Reply{Band: BandCommand, Text: textSubscribeWeb, Buttons: append(rows, menuRow()...)}
}

func (e *Engine) linkButtons() [][]Button {
	l := e.links()
	var row []Button
	if l.Telegram != "" {
		row = append(row, Button{Label: labelOpenTG, URL: l.Telegram})
	}
	if l.Zalo != "" {
		row = append(row, Button{Label: labelOpenZalo, URL: l.Zalo})
	}
	if len(row) == 0 {
		return nil
	}
	return [][]Button{row}
}

// Villages are the villages residents may choose, from the commune
// profile's teams (none while the profile is the shipped placeholder), in
// profile order without duplicates.
func (e *Engine) Villages() []string { return ProfileVillages(e.Base()) }

// ProfileVillages lists the villages of a base's commune profile (its
// teams), in order without duplicates. Teams whose village is not filled
// in are left out of the profile; when none is filled in the profile holds
// one stand-in team, which is no village to choose: a sole team is then
// not offered.
func ProfileVillages(b *knowledge.Base) []string {
	if b == nil || b.Profile == nil {
		return nil
	}
	p := b.Profile
	for _, m := range p.Missing {
		if (m.Field == "teams" || strings.HasSuffix(m.Field, ".village")) && len(p.Teams) <= 1 {
			return nil
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, t := range p.Teams {
		v := CleanVillage(t.Village)
		if k := strings.ToLower(v); v != "" && !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

// VillageCode is the short code of a village in button payloads (names may
// be longer than a payload allows).
func VillageCode(village string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(CleanVillage(village))))
	return hex.EncodeToString(sum[:5])
}

// CleanVillage puts a village name in one form: NFC, single spaces.
func CleanVillage(s string) string {
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}

func (e *Engine) chooseVillage(ctx context.Context, m Message, code string) Reply {
	if e.store == nil || m.UserKey == "" {
		return cmdReply(textAlertsOff)
	}
	village := ""
	if code != "-" {
		for _, v := range e.Villages() {
			if VillageCode(v) == code {
				village = v
			}
		}
		if village == "" {
			return cmdReply(textVillageGone)
		}
	}
	err := e.store.SetSubscriberVillage(ctx, m.UserKey, village)
	if errors.Is(err, storage.ErrNotFound) {
		return Reply{Band: BandCommand, Text: textNotSubscribed, Buttons: e.alertMenuRow()}
	}
	if err != nil {
		e.log.Error("set subscriber village", "err", err)
		return cmdReply(textError)
	}
	if village == "" {
		return cmdReply(textVillageNone + textStopHint)
	}
	return cmdReply(fmt.Sprintf(textVillageSet, village) + textStopHint)
}

func (e *Engine) unsubscribe(ctx context.Context, m Message, explicit bool) Reply {
	if e.store == nil || m.UserKey == "" {
		return cmdReply(textAlertsOff)
	}
	ok, err := e.store.Unsubscribe(ctx, m.UserKey)
	if err != nil {
		e.log.Error("unsubscribe from alerts", "err", err)
		return cmdReply(textError)
	}
	if !ok {
		return Reply{Band: BandCommand, Text: textNotSubscribed, Buttons: e.alertMenuRow()}
	}
	e.log.Info("resident unsubscribed from alerts", "channel", m.Channel, "explicit", explicit)
	return Reply{Band: BandCommand, Text: textUnsubscribed, Buttons: menuRow()}
}

// stopWords are the replies that stop alerts for a subscriber (the
// subscription's own vocabulary, like /huytheodoi).
var stopWords = map[string]bool{"dừng": true, "dung": true, "dừng lại": true, "dung lai": true, "ngừng": true, "ngung": true, "stop": true}

// takeStop treats "dừng" from an active subscriber as unsubscribing; from
// anyone else it is an ordinary message.
func (e *Engine) takeStop(ctx context.Context, m Message) (Reply, bool) {
	if e.store == nil || m.UserKey == "" || m.Group {
		return Reply{}, false
	}
	w := strings.Trim(strings.ToLower(CleanVillage(m.Text)), " .!")
	if !stopWords[w] {
		return Reply{}, false
	}
	s, err := e.store.Subscriber(ctx, m.UserKey)
	if err != nil || !s.Active {
		return Reply{}, false
	}
	return e.unsubscribe(ctx, m, false), true
}

// alertsOnAnswer adds, under an answer, the most recent current alert
// linked to its entry, and asks once whether the resident wants alerts.
func (e *Engine) alertsOnAnswer(ctx context.Context, m Message, r *Reply) {
	if e.store == nil || r.Band != BandAnswer || r.EntryID == "" {
		return
	}
	if j, ok := e.currentAlert(ctx, r.EntryID, m.Time); ok {
		r.Text += "\n\n" + alertNote(j)
	}
	if m.Group || m.UserKey == "" {
		return
	}
	var text string
	var rows [][]Button
	switch {
	case canReceive(m.Channel):
		text, rows = textAlertOffer, e.alertMenuRow()
	case m.Channel == ChannelWeb:
		text, rows = textAlertOfferWeb, e.linkButtons()
	}
	if len(rows) == 0 {
		return
	}
	if e.askOnce(ctx, m) {
		r.Text += "\n\n" + text
		r.Buttons = append(r.Buttons, rows...)
	}
}
