package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/bot/remind/spec"
	"github.com/colecommune/trolyso/storage"
)

// AckPrefix is the payload prefix of the "✅ Đã nhận" button under a
// reminder: "ack:<delivery id>".
const AckPrefix = "ack"

// AckButton is the button every reminder message carries.
func AckButton(deliveryID int64) [][]Button {
	return [][]Button{{{Label: LabelAck, Payload: AckPrefix + ":" + FormatID(deliveryID)}}}
}

// Texts of the team features (members and admins read them).
const (
	LabelAck = "✅ Đã nhận"

	textTeamsOff      = "Tính năng tổ công nghệ số chưa được bật trên kênh này."
	textJoinUsage     = "Để tham gia Tổ công nghệ số cộng đồng của thôn, bạn gõ: **/dangky MÃ** (mã 6 ký tự do cán bộ xã gửi), có thể thêm họ tên, ví dụ: /dangky AB3K7Q Nguyễn Văn An"
	textJoinInGroup   = "Bạn hãy nhắn **/dangky MÃ** riêng cho trợ lý (không gửi trong nhóm) để nhận được tin nhắc."
	textJoinBadCode   = "Mã đăng ký **%s** không đúng. Bạn kiểm tra lại mã do cán bộ xã gửi (6 ký tự, ví dụ AB3K7Q) rồi gõ lại: /dangky MÃ"
	textJoined        = "✅ Bạn đã tham gia **Tổ công nghệ số cộng đồng %s**.\n\nTrợ lý sẽ gửi tin nhắc hạn báo cáo quý và điểm tin hằng tuần; khi nhận được, bạn bấm **✅ Đã nhận**. Gõ /nhom để xem tổ của bạn, /huy để rời tổ."
	textJoinedNoAddr  = "\n\nLưu ý: trên kênh này trợ lý chưa gửi tin nhắc tự động được. Bạn hãy đăng ký qua Telegram (gõ /start rồi /dangky MÃ) để nhận tin nhắc."
	textNotMember     = "Bạn chưa tham gia tổ nào. Gõ **/dangky MÃ** với mã do cán bộ xã cung cấp."
	textLeft          = "Bạn đã rời **Tổ công nghệ số cộng đồng %s** và sẽ không nhận tin nhắc nữa. Muốn tham gia lại, gõ /dangky MÃ."
	textMyTeam        = "Bạn thuộc **Tổ công nghệ số cộng đồng %s** (tham gia ngày %s). Tổ hiện có %d thành viên nhận tin nhắc."
	textAcked         = "✅ Cảm ơn bạn đã xác nhận đã nhận tin nhắc."
	textAckedAlready  = "Bạn đã xác nhận tin nhắc này rồi. Cảm ơn bạn!"
	textAckNotYours   = "Nút này dành cho người nhận tin nhắc."
	textAckGone       = "Tin nhắc này không còn trong hệ thống."
	textAdminError    = "Không thực hiện được: %s"
	textNoTeams       = "Chưa có tổ nào. Thêm tổ bằng lệnh /themto Tên thôn."
	textAddTeamUsage  = "Gõ: **/themto Tên thôn**, ví dụ: /themto Thôn Đông"
	textTeamAdded     = "Đã thêm **Tổ công nghệ số cộng đồng %s**. Mã đăng ký: **%s**\n\nThành viên gõ /dangky %s để tham gia."
	textTeamExists    = "Thôn **%s** đã có tổ rồi. Gõ /tonhom để xem mã đăng ký."
	textNoReminders   = "Chưa có lịch nhắc nào."
	textReminderUsage = "Gõ: **/%s SỐ**, với SỐ là mã lịch nhắc trong /nhacnho."
	textPaused        = "Đã tạm dừng lịch nhắc **#%d %s**."
	textResumed       = "Đã bật lại lịch nhắc **#%d %s**. Lần gửi tới: %s."
	textNoRuns        = "Chưa có lần gửi nhắc nào."
	textRunUsage      = "Gõ: **/trangthai** (lần gửi gần nhất) hoặc **/trangthai SỐ** (mã lần gửi)."
)

// registerTeams registers the team members' commands, the admins' team and
// reminder commands, and the acknowledgement button.
func (e *Engine) registerTeams() {
	e.HandleCommand("dangky", Command{Handle: e.cmdJoin})
	e.HandleCommand("huy", Command{Handle: e.cmdLeave})
	e.HandleCommand("nhom", Command{Handle: e.cmdMyTeam})
	e.HandleCommand("tonhom", Command{Admin: true, Help: "danh sách tổ công nghệ số, mã đăng ký (/tonhom SỐ: thành viên của tổ)", Handle: e.cmdTeams})
	e.HandleCommand("themto", Command{Admin: true, Help: "thêm tổ: /themto Tên thôn", Handle: e.cmdAddTeam})
	e.HandleCommand("nhacnho", Command{Admin: true, Help: "danh sách lịch nhắc và lần gửi tới", Handle: e.cmdReminders})
	e.HandleCommand("tamdung", Command{Admin: true, Help: "tạm dừng lịch nhắc: /tamdung SỐ", Handle: e.cmdPause})
	e.HandleCommand("tieptuc", Command{Admin: true, Help: "bật lại lịch nhắc: /tieptuc SỐ", Handle: e.cmdResume})
	e.HandleCommand("trangthai", Command{Admin: true, Help: "ai đã nhận, ai chưa: /trangthai [SỐ lần gửi]", Handle: e.cmdRunStatus})
	e.HandlePayload(AckPrefix, e.ackDelivery)
}

func cmdReply(text string) Reply { return Reply{Band: BandCommand, Text: text} }

// vnDate formats a time as a Vietnamese date (dd/mm/yyyy).
func vnDate(t time.Time) string { return t.In(spec.Location()).Format("02/01/2006") }

// VNTime formats a time as Vietnamese local date and time.
func VNTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(spec.Location()).Format("02/01/2006 15:04")
}

func (e *Engine) cmdJoin(ctx context.Context, m Message, args string) Reply {
	if e.store == nil {
		return cmdReply(textTeamsOff)
	}
	if m.Group {
		return cmdReply(textJoinInGroup)
	}
	code, name, _ := strings.Cut(strings.TrimSpace(args), " ")
	// The name is free text shown to admins: keep no phone or ID numbers
	// and no Markdown that could add links.
	name = plainQuote(privacy.Redact(name))
	if code == "" {
		return cmdReply(textJoinUsage)
	}
	if m.UserKey == "" {
		return cmdReply(textTeamsOff)
	}
	t, err := e.store.JoinTeam(ctx, m.Channel, m.UserKey, code, name)
	if errors.Is(err, storage.ErrBadJoinCode) {
		return cmdReply(fmt.Sprintf(textJoinBadCode, storage.NormalizeJoinCode(code)))
	}
	if err != nil {
		e.log.Error("join team", "err", err)
		return cmdReply(textError)
	}
	if a, ok := DeliveryAddressFrom(ctx); ok && !a.Group {
		if err := e.store.SetAddress(ctx, a.Channel, m.UserKey, a.Address); err != nil {
			e.log.Error("store delivery address", "channel", a.Channel, "err", err)
		}
	}
	text := fmt.Sprintf(textJoined, t.Village)
	if _, _, err := e.store.Address(ctx, m.UserKey); err != nil {
		text += textJoinedNoAddr
	}
	e.log.Info("team member joined", "team", t.ID, "channel", m.Channel)
	return cmdReply(text)
}

func (e *Engine) cmdLeave(ctx context.Context, m Message, _ string) Reply {
	if e.store == nil {
		return cmdReply(textTeamsOff)
	}
	mb, err := e.store.LeaveTeam(ctx, m.UserKey)
	if errors.Is(err, storage.ErrNotFound) {
		return cmdReply(textNotMember)
	}
	if err != nil {
		e.log.Error("leave team", "err", err)
		return cmdReply(textError)
	}
	e.log.Info("team member left", "team", mb.TeamID, "channel", m.Channel)
	return cmdReply(fmt.Sprintf(textLeft, mb.Village))
}

func (e *Engine) cmdMyTeam(ctx context.Context, m Message, _ string) Reply {
	if e.store == nil {
		return cmdReply(textTeamsOff)
	}
	mb, err := e.store.Membership(ctx, m.UserKey)
	if errors.Is(err, storage.ErrNotFound) {
		return cmdReply(textNotMember)
	}
	if err != nil {
		e.log.Error("show team", "err", err)
		return cmdReply(textError)
	}
	n := 0
	if ms, err := e.store.ActiveMembers(ctx, []int64{mb.TeamID}); err == nil {
		n = len(ms)
	}
	return cmdReply(fmt.Sprintf(textMyTeam, mb.Village, vnDate(mb.JoinedAt), n))
}

func (e *Engine) ackDelivery(ctx context.Context, m Message, args []string) Reply {
	if e.store == nil || len(args) != 1 {
		return e.unknownButton()
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return e.unknownButton()
	}
	_, already, err := e.store.AckDelivery(ctx, id, m.UserKey)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return cmdReply(textAckGone)
	case errors.Is(err, storage.ErrNotRecipient):
		return cmdReply(textAckNotYours)
	case err != nil:
		e.log.Error("acknowledge reminder", "delivery", id, "err", err)
		return cmdReply(textError)
	case already:
		return cmdReply(textAckedAlready)
	}
	return cmdReply(textAcked)
}

// adminNotice is an admin-facing problem already worded in Vietnamese.
type adminNotice string

func (n adminNotice) Error() string { return string(n) }

// adminError shows an admin what went wrong: notices as they are, anything
// else (database errors) as a generic text, logged for the operator.
func (e *Engine) adminError(err error) Reply {
	var n adminNotice
	if errors.As(err, &n) {
		return cmdReply(fmt.Sprintf(textAdminError, n))
	}
	e.log.Error("admin command", "err", err)
	return cmdReply(textError)
}

func (e *Engine) cmdTeams(ctx context.Context, m Message, args string) Reply {
	if e.store == nil {
		return cmdReply(textTeamsOff)
	}
	if args != "" {
		t, err := e.store.Team(ctx, args)
		if err != nil {
			return e.adminError(adminNotice(fmt.Sprintf("không tìm thấy tổ %q", args)))
		}
		ms, err := e.store.TeamMembers(ctx, t.ID)
		if err != nil {
			return e.adminError(err)
		}
		return cmdReply(TeamMembersText(t, ms))
	}
	ts, err := e.store.Teams(ctx)
	if err != nil {
		return e.adminError(err)
	}
	if len(ts) == 0 {
		return cmdReply(textNoTeams)
	}
	var b strings.Builder
	b.WriteString("**Các tổ công nghệ số cộng đồng:**\n")
	for _, t := range ts {
		group := "chưa có nhóm Telegram"
		if t.GroupChat != "" {
			group = "có nhóm Telegram"
		}
		fmt.Fprintf(&b, "\n- #%d **%s** – mã **%s** – %d thành viên – %s", t.ID, t.Village, t.JoinCode, t.Members, group)
	}
	b.WriteString("\n\nXem thành viên: /tonhom SỐ")
	return cmdReply(b.String())
}

// TeamMembersText lists a team's members for admins.
func TeamMembersText(t storage.Team, ms []storage.Member) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Tổ công nghệ số cộng đồng %s** (mã %s)", t.Village, t.JoinCode)
	if len(ms) == 0 {
		b.WriteString("\n\nChưa có thành viên.")
		return b.String()
	}
	b.WriteString("\n")
	for _, m := range ms {
		status := ""
		switch {
		case !m.Active:
			status = " (đã rời tổ)"
		case !m.UserActive:
			status = " (đã chặn trợ lý)"
		}
		fmt.Fprintf(&b, "\n- %s – %s – tham gia %s%s", m.Label(), m.Channel, vnDate(m.JoinedAt), status)
	}
	return b.String()
}

func (e *Engine) cmdAddTeam(ctx context.Context, m Message, args string) Reply {
	if e.store == nil {
		return cmdReply(textTeamsOff)
	}
	if args == "" {
		return cmdReply(textAddTeamUsage)
	}
	t, err := e.store.AddTeam(ctx, args, "")
	if errors.Is(err, storage.ErrTeamExists) {
		return cmdReply(fmt.Sprintf(textTeamExists, args))
	}
	if err != nil {
		return e.adminError(err)
	}
	e.log.Info("team added by admin command", "team", t.ID)
	return cmdReply(fmt.Sprintf(textTeamAdded, t.Village, t.JoinCode, t.JoinCode))
}

func (e *Engine) cmdReminders(ctx context.Context, m Message, _ string) Reply {
	if e.store == nil {
		return cmdReply(textTeamsOff)
	}
	rs, err := e.store.Reminders(ctx)
	if err != nil {
		return e.adminError(err)
	}
	if len(rs) == 0 {
		return cmdReply(textNoReminders)
	}
	var b strings.Builder
	b.WriteString("**Lịch nhắc:**\n")
	for _, r := range rs {
		state, next := "đang bật", "—"
		if !r.Enabled {
			state = "tạm dừng"
		} else if s, err := spec.ParseCron(r.Cron); err == nil {
			if ts := spec.NextTimes(s, e.now(), 1); len(ts) == 1 {
				next = VNTime(ts[0])
			}
		}
		fmt.Fprintf(&b, "\n- #%d **%s** – %s – lịch %s (%s) – gửi tới: %s – lần tới: %s", r.ID, r.Name, state, spec.Describe(r.Cron), r.Cron, TargetText(r.Target), next)
	}
	b.WriteString("\n\nTạm dừng: /tamdung SỐ – bật lại: /tieptuc SỐ – kết quả gửi: /trangthai")
	return cmdReply(b.String())
}

// TargetText describes a reminder target in Vietnamese.
func TargetText(target string) string {
	t, err := spec.ParseTarget(target)
	if err != nil {
		return target
	}
	switch t.Kind {
	case "groups":
		return "nhóm Telegram của các tổ"
	case "teams":
		return "thành viên các tổ " + strings.TrimPrefix(t.String(), "teams:")
	}
	return "thành viên mọi tổ"
}

func (e *Engine) setEnabled(ctx context.Context, name, args string, enabled bool) Reply {
	if e.store == nil {
		return cmdReply(textTeamsOff)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(args, "#"), 10, 64)
	if err != nil {
		return cmdReply(fmt.Sprintf(textReminderUsage, name))
	}
	if err := e.store.SetReminderEnabled(ctx, id, enabled); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return e.adminError(adminNotice(fmt.Sprintf("không có lịch nhắc #%d", id)))
		}
		return e.adminError(err)
	}
	r, err := e.store.Reminder(ctx, id)
	if err != nil {
		return e.adminError(err)
	}
	e.log.Info("reminder enabled changed by admin command", "reminder", id, "enabled", enabled)
	if !enabled {
		return cmdReply(fmt.Sprintf(textPaused, r.ID, r.Name))
	}
	next := "—"
	if s, err := spec.ParseCron(r.Cron); err == nil {
		if ts := spec.NextTimes(s, e.now(), 1); len(ts) == 1 {
			next = VNTime(ts[0])
		}
	}
	return cmdReply(fmt.Sprintf(textResumed, r.ID, r.Name, next))
}

func (e *Engine) cmdPause(ctx context.Context, m Message, args string) Reply {
	return e.setEnabled(ctx, "tamdung", args, false)
}

func (e *Engine) cmdResume(ctx context.Context, m Message, args string) Reply {
	return e.setEnabled(ctx, "tieptuc", args, true)
}

func (e *Engine) cmdRunStatus(ctx context.Context, m Message, args string) Reply {
	if e.store == nil {
		return cmdReply(textTeamsOff)
	}
	var run storage.Run
	var err error
	if args == "" {
		var rs []storage.Run
		rs, err = e.store.RecentRuns(ctx, 0, 1)
		if err == nil && len(rs) == 0 {
			return cmdReply(textNoRuns)
		}
		if err == nil {
			run = rs[0]
		}
	} else {
		id, perr := strconv.ParseInt(strings.TrimPrefix(args, "#"), 10, 64)
		if perr != nil {
			return cmdReply(textRunUsage)
		}
		run, err = e.store.Run(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			return e.adminError(adminNotice(fmt.Sprintf("không có lần gửi #%d", id)))
		}
	}
	if err != nil {
		return e.adminError(err)
	}
	ds, err := e.store.RunDeliveries(ctx, run.ID)
	if err != nil {
		return e.adminError(err)
	}
	return cmdReply(RunStatusText(run, ds))
}

// deliveryStateText says what happened to a delivery, in Vietnamese.
var deliveryStateText = map[string]string{
	storage.DeliveryPending:       "đang chờ gửi",
	storage.DeliverySending:       "đang gửi",
	storage.DeliveryFailed:        "gửi lỗi",
	storage.DeliveryBlocked:       "đã chặn trợ lý",
	storage.DeliveryUndeliverable: "không gửi được lúc này (ngoài thời hạn nhắn tin của kênh hoặc chưa có địa chỉ)",
	storage.DeliveryUnknown:       "không rõ – có thể đã gửi (máy chủ dừng giữa chừng)",
	storage.DeliverySkipped:       "bỏ qua (quá muộn)",
}

// DeliveryStateText says what happened to a delivery, in Vietnamese (for
// the admin dashboard).
func DeliveryStateText(state string) string {
	if state == storage.DeliverySent {
		return "đã gửi"
	}
	if s, ok := deliveryStateText[state]; ok {
		return s
	}
	return state
}

// RunStatusText reports, for admins, who acknowledged a run and who did not.
func RunStatusText(run storage.Run, ds []storage.Delivery) string {
	var b strings.Builder
	name := run.ReminderName
	if name == "" {
		name = "(lịch nhắc đã xoá)"
	}
	fmt.Fprintf(&b, "**Lần gửi #%d – %s**\nGiờ hẹn: %s", run.ID, name, VNTime(run.ScheduledFor))
	if run.Late {
		fmt.Fprintf(&b, " (gửi muộn lúc %s)", VNTime(run.StartedAt))
	}
	if run.Status != storage.RunDone {
		b.WriteString(" – đang gửi")
	}
	var acked, waiting, problems []string
	for _, d := range ds {
		switch {
		case !d.AckAt.IsZero():
			acked = append(acked, fmt.Sprintf("%s (lúc %s)", d.Label(), VNTime(d.AckAt)))
		case d.State == storage.DeliverySent:
			w := d.Label()
			if !d.NudgedAt.IsZero() {
				w += " (đã nhắc lại)"
			}
			waiting = append(waiting, w)
		default:
			problems = append(problems, d.Label()+": "+deliveryStateText[d.State])
		}
	}
	fmt.Fprintf(&b, "\n\nĐã gửi %d/%d; đã nhận: %d; chưa nhận: %d; có vấn đề: %d.", len(acked)+len(waiting), len(ds), len(acked), len(waiting), len(problems))
	section := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n\n**%s:**\n", title)
		for _, it := range items {
			b.WriteString("\n- " + it)
		}
	}
	section("✅ Đã nhận", acked)
	section("⏳ Chưa bấm Đã nhận", waiting)
	section("⚠️ Không gửi được hoặc không rõ", problems)
	return b.String()
}
