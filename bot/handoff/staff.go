package handoff

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/storage"
)

// Errors of the staff actions, for the dashboard.
var (
	ErrEmptyReply   = errors.New("empty reply")
	ErrReplyTooLong = errors.New("reply too long")
)

// settingStaffLost is the settings key holding when the bot lost its place
// in the staff group ("" or absent while it is a member).
const settingStaffLost = "handoff_staff_chat_lost"

var _ bot.StaffDesk = (*Desk)(nil)

// Reply sends a staff member's answer to the resident of a ticket (and,
// from the dashboard, shows it in the staff group too). A ticket nobody
// claimed is claimed by who answers it.
func (d *Desk) Reply(ctx context.Context, id int64, who bot.StaffMember, text string) (storage.TicketMessage, error) {
	text = strings.TrimSpace(strings.ToValidUTF8(text, ""))
	if text == "" {
		return storage.TicketMessage{}, ErrEmptyReply
	}
	if utf8.RuneCountInString(text) > MaxReplyLen {
		return storage.TicketMessage{}, ErrReplyTooLong
	}
	who.Name = StaffName(who.Name)
	t, err := d.store.Ticket(ctx, id)
	if err != nil {
		return storage.TicketMessage{}, err
	}
	if !t.Open() {
		return storage.TicketMessage{}, storage.ErrTicketClosed
	}
	if t.ClaimedBy == "" {
		if _, _, err := d.Claim(ctx, id, who); err != nil {
			return storage.TicketMessage{}, err
		}
	}
	out := []storage.NewOutbox{{Target: storage.TargetResident, Channel: t.Channel, Kind: storage.OutboxReply, Link: true,
		Text: fmt.Sprintf(textStaffReply, who.Name, t.ID, markup.Escape(text)), Buttons: encodeButtons([][]bot.Button{endRow()})}}
	if who.Via == bot.StaffViaDashboard && d.staffChat() != nil {
		out = append(out, storage.NewOutbox{Target: storage.TargetStaff, Channel: bot.ChannelTelegram, Kind: storage.OutboxPost,
			Text: fmt.Sprintf(textStaffMirror, t.ID, who.Name, quoteLong(text))})
	}
	m, err := d.store.AddStaffReply(ctx, id, who.Name, who.Via, text, out)
	if err != nil {
		return storage.TicketMessage{}, err
	}
	d.wake(storage.TargetResident)
	d.wake(storage.TargetStaff)
	d.log.Info("handoff: staff answered", "ticket", id, "via", who.Via)
	return m, nil
}

// quoteLong escapes a staff answer for the staff group, cut to fit one
// Telegram message.
func quoteLong(s string) string {
	if utf8.RuneCountInString(s) > 3000 {
		s = string([]rune(s)[:2999]) + "…"
	}
	return markup.Escape(s)
}

// Claim records that who handles a ticket; changed is false when they
// already did.
func (d *Desk) Claim(ctx context.Context, id int64, who bot.StaffMember) (storage.Ticket, bool, error) {
	who.Name = StaffName(who.Name)
	var out []storage.NewOutbox
	if d.staffChat() != nil {
		out = append(out, storage.NewOutbox{Target: storage.TargetStaff, Channel: bot.ChannelTelegram, Kind: storage.OutboxEdit})
		if who.Via == bot.StaffViaDashboard {
			out = append(out, storage.NewOutbox{Target: storage.TargetStaff, Channel: bot.ChannelTelegram, Kind: storage.OutboxPost,
				Text: fmt.Sprintf(textStaffClaim, id, markup.Escape(who.Name))})
		}
	}
	t, _, changed, err := d.store.ClaimTicket(ctx, id, who.Name, out)
	if err != nil {
		return t, false, err
	}
	if changed {
		d.wake(storage.TargetStaff)
		d.log.Info("handoff: ticket claimed", "ticket", id, "via", who.Via)
	}
	return t, changed, nil
}

// Close closes a ticket on a staff member's decision; the resident is told
// and asked to rate the staff answers.
func (d *Desk) Close(ctx context.Context, id int64, who bot.StaffMember) (storage.Ticket, error) {
	who.Name = StaffName(who.Name)
	t, err := d.store.Ticket(ctx, id)
	if err != nil {
		return t, err
	}
	return d.close(ctx, t, who.Name, storage.ClosedByStaff, fmt.Sprintf(noteClosedStaff, who.Name), who.Via == bot.StaffViaDashboard)
}

// closeIdle closes a ticket nobody wrote to for the idle time; notify
// queues the notice to the resident (not when they are writing just now).
func (d *Desk) closeIdle(ctx context.Context, t storage.Ticket, notify bool) (storage.Ticket, error) {
	note := fmt.Sprintf(noteClosedIdle, DurationText(d.cfg.Idle))
	return d.closeWith(ctx, t, "tự động", storage.ClosedIdle, note, true, notify)
}

func (d *Desk) close(ctx context.Context, t storage.Ticket, by, reason, note string, postStaff bool) (storage.Ticket, error) {
	return d.closeWith(ctx, t, by, reason, note, postStaff || reason == storage.ClosedByResident, reason == storage.ClosedByStaff)
}

// closeWith closes t, queuing the staff-group card update, a staff-group
// note when postStaff, and a notice to the resident when tellResident.
func (d *Desk) closeWith(ctx context.Context, t storage.Ticket, by, reason, note string, postStaff, tellResident bool) (storage.Ticket, error) {
	var out []storage.NewOutbox
	if tellResident {
		text := fmt.Sprintf(textClosedByStaff, t.ID)
		if reason == storage.ClosedIdle {
			text = fmt.Sprintf(textClosedIdle, t.ID, DurationText(d.cfg.Idle))
		}
		var rows [][]bot.Button
		if !t.FirstReplyAt.IsZero() {
			text += textAskRate
			rows = append(rows, rateRow(t.ID))
		}
		out = append(out, storage.NewOutbox{Target: storage.TargetResident, Channel: t.Channel, Kind: storage.OutboxNotice,
			Text: text, Buttons: encodeButtons(rows)})
	}
	if d.staffChat() != nil {
		out = append(out, storage.NewOutbox{Target: storage.TargetStaff, Channel: bot.ChannelTelegram, Kind: storage.OutboxEdit})
		if postStaff {
			out = append(out, storage.NewOutbox{Target: storage.TargetStaff, Channel: bot.ChannelTelegram, Kind: storage.OutboxPost,
				Text: fmt.Sprintf(textStaffClosed, t.ID, markup.Escape(note))})
		}
	}
	closed, err := d.store.CloseTicket(ctx, t.ID, by, reason, note, out)
	if err != nil {
		return closed, err
	}
	d.setOpen(t.UserKey, 0)
	d.wake(storage.TargetResident)
	d.wake(storage.TargetStaff)
	d.log.Info("handoff: ticket closed", "ticket", t.ID, "reason", reason)
	return closed, nil
}

// Resend queues again a staff answer that did not arrive.
func (d *Desk) Resend(ctx context.Context, outboxID int64) (bool, error) {
	ok, err := d.store.ResendOutbox(ctx, outboxID)
	if ok {
		d.wake(storage.TargetResident)
		d.wake(storage.TargetStaff)
	}
	return ok, err
}

// StaffReply implements bot.StaffDesk: a reply in the staff group to one
// of the bot's posts about a ticket goes to that ticket's resident.
func (d *Desk) StaffReply(ctx context.Context, replyTo string, who bot.StaffMember, text string) string {
	if replyTo == "" {
		return ""
	}
	id, err := d.ticketByPost(ctx, replyTo)
	if errors.Is(err, storage.ErrNotFound) {
		// A reply to one of the bot's messages that is no request (a
		// notice): said, so that staff do not think the resident has it.
		return noticeNotRequest
	}
	if err != nil {
		d.log.Error("handoff: look up the post replied to", "err", err)
		return textError
	}
	_, err = d.Reply(ctx, id, who, text)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, storage.ErrTicketClosed):
		return fmt.Sprintf(noticeClosed, id)
	case errors.Is(err, ErrEmptyReply):
		return noticeEmpty
	case errors.Is(err, ErrReplyTooLong):
		return fmt.Sprintf(noticeTooLong, MaxReplyLen)
	default:
		d.log.Error("handoff: staff reply", "ticket", id, "err", err)
		return textError
	}
}

// postWait bounds how long a reply to an unknown post waits for the staff
// group's messages being sent to be recorded, checking every postPoll.
const (
	postWait = 10 * time.Second
	postPoll = 100 * time.Millisecond
)

// ticketByPost returns the ticket of a staff-group post. A post is
// recorded when its send finishes, a moment after staff can see it: a miss
// while a staff-group message is being sent is looked up again, for up to
// postWait.
func (d *Desk) ticketByPost(ctx context.Context, post string) (int64, error) {
	for waited := time.Duration(0); ; waited += postPoll {
		id, err := d.store.TicketByPost(ctx, post)
		if !errors.Is(err, storage.ErrNotFound) || waited >= postWait {
			return id, err
		}
		sending, serr := d.store.OutboxSending(ctx, storage.TargetStaff)
		if serr != nil || !sending {
			return id, err
		}
		t := time.NewTimer(postPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	}
}

// StaffTap implements bot.StaffDesk: "hs:c:<id>" claims, "hs:x:<id>"
// closes, "hs:i:<id>" shows the state.
func (d *Desk) StaffTap(ctx context.Context, payload string, who bot.StaffMember) string {
	parts := strings.Split(payload, ":")
	if len(parts) != 3 || parts[0] != "hs" {
		return noticeGone
	}
	id, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || id <= 0 {
		return noticeGone
	}
	t, err := d.store.Ticket(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return noticeGone
	}
	if err != nil {
		d.log.Error("handoff: read ticket", "ticket", id, "err", err)
		return textError
	}
	switch parts[1] {
	case "c":
		if !t.Open() {
			return fmt.Sprintf(noticeWasClosed, id)
		}
		_, changed, err := d.Claim(ctx, id, who)
		switch {
		case errors.Is(err, storage.ErrTicketClosed):
			return fmt.Sprintf(noticeWasClosed, id)
		case err != nil:
			d.log.Error("handoff: claim", "ticket", id, "err", err)
			return textError
		case !changed:
			return fmt.Sprintf(noticeClaimedAlso, id)
		}
		return fmt.Sprintf(noticeClaimed, id)
	case "x":
		if !t.Open() {
			return fmt.Sprintf(noticeWasClosed, id)
		}
		_, err := d.Close(ctx, id, who)
		switch {
		case errors.Is(err, storage.ErrTicketClosed):
			return fmt.Sprintf(noticeWasClosed, id)
		case err != nil:
			d.log.Error("handoff: close", "ticket", id, "err", err)
			return textError
		}
		return fmt.Sprintf(noticeClosedNow, id)
	default:
		return fmt.Sprintf(noticeInfo, id, d.stateText(t))
	}
}

// stateText describes a ticket's state in a few words.
func (d *Desk) stateText(t storage.Ticket) string {
	switch {
	case !t.Open():
		return "đã đóng (" + t.ClosedBy + ")"
	case t.ClaimedBy != "":
		return t.ClaimedBy + " đang xử lý"
	default:
		return "chưa ai nhận xử lý"
	}
}

// StaffChatState implements bot.StaffDesk: losing the staff group is
// logged and shown on the dashboard until the bot is back.
func (d *Desk) StaffChatState(ctx context.Context, member bool) {
	value := ""
	if !member {
		value = d.now().UTC().Format(time.RFC3339)
		d.log.Error("handoff: the bot is no longer in the staff group (TROLYSO_STAFF_TELEGRAM_CHAT, or the commune profile's staff_telegram_chat): staff cannot see requests there until it is added back; the dashboard still shows them")
	} else {
		d.log.Info("handoff: the bot is in the staff group again")
	}
	if err := d.store.SetSetting(ctx, settingStaffLost, value); err != nil {
		d.log.Error("handoff: record the staff group state", "err", err)
	}
}

// StaffChatLost returns when the bot lost its place in the staff group
// (ok false while it is a member).
func (d *Desk) StaffChatLost(ctx context.Context) (time.Time, bool) {
	v, err := d.store.Setting(ctx, settingStaffLost)
	if err != nil || v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

// cardButtons are the buttons of a ticket's post in the staff group.
func cardButtons(t storage.Ticket) [][]bot.Button {
	id := bot.FormatID(t.ID)
	switch {
	case !t.Open():
		return [][]bot.Button{{{Label: fmt.Sprintf(labelClosedBy, t.ClosedBy), Payload: "hs:i:" + id}}}
	case t.ClaimedBy != "":
		return [][]bot.Button{{{Label: fmt.Sprintf(labelClaimedBy, t.ClaimedBy), Payload: "hs:i:" + id}, {Label: labelClose, Payload: "hs:x:" + id}}}
	default:
		return [][]bot.Button{{{Label: labelClaim, Payload: "hs:c:" + id}, {Label: labelClose, Payload: "hs:x:" + id}}}
	}
}

// maxCardMessages is how many messages of the conversation a card shows.
const maxCardMessages = 8

// card renders a ticket's post for the staff group.
func (d *Desk) card(ctx context.Context, t storage.Ticket, repost bool) (bot.Reply, error) {
	ms, err := d.store.TicketMessages(ctx, t.ID)
	if err != nil {
		return bot.Reply{}, err
	}
	since := t.CreatedAt
	if !t.WaitingSince.IsZero() {
		since = t.WaitingSince
	}
	var b strings.Builder
	if repost {
		fmt.Fprintf(&b, textCardRepost, DurationText(d.cfg.Repost))
	}
	fmt.Fprintf(&b, textCardHead, t.ID, channelName(t.Channel), DurationText(d.now().Sub(since)))
	b.WriteString("\n\n")
	var lines []string
	for _, m := range ms {
		switch m.Author {
		case storage.AuthorResident:
			lines = append(lines, "- 👤 “"+quoteStaff(m.Text)+"”")
		case storage.AuthorBot:
			lines = append(lines, "  - 🤖 "+markup.Escape(m.Text))
		case storage.AuthorStaff:
			lines = append(lines, "- 👩‍💼 "+markup.Escape(m.StaffName)+": "+quoteStaff(m.Text))
		}
	}
	if len(lines) == 0 {
		b.WriteString(textCardNone)
	} else {
		if n := len(lines) - maxCardMessages; n > 0 {
			lines = append([]string{fmt.Sprintf(textCardMore, n)}, lines[n:]...)
		}
		b.WriteString(strings.Join(lines, "\n"))
	}
	b.WriteString("\n\n" + textCardFoot)
	return bot.Reply{Band: Band, Text: b.String(), Buttons: cardButtons(t)}, nil
}

func channelName(ch string) string {
	switch ch {
	case bot.ChannelWeb:
		return "trang web"
	case bot.ChannelTelegram:
		return "Telegram"
	case bot.ChannelZalo:
		return "Zalo"
	}
	return ch
}

// WebMessages returns the staff messages waiting for a web-chat resident,
// marking them delivered, and whether the resident's ticket is open (the
// page keeps asking while it is).
func (d *Desk) WebMessages(ctx context.Context, userKey string) ([]bot.Reply, bool, error) {
	_, open := d.openTicket(ctx, userKey)
	if !open {
		// Messages may still wait after a close (the close notice).
		has, err := d.store.HasWebOutbox(ctx, userKey)
		if err != nil || !has {
			return nil, false, err
		}
	}
	items, err := d.store.TakeWebOutbox(ctx, userKey)
	if err != nil {
		return nil, open, err
	}
	out := make([]bot.Reply, 0, len(items))
	for _, o := range items {
		out = append(out, bot.Reply{Band: Band, Text: o.Text, Buttons: decodeButtons(o.Buttons)})
	}
	_, open = d.openTicketID(userKey)
	return out, open, nil
}
