// Package handoff puts a person behind the bot: a resident asks for
// commune staff ("🙋 Hỏi cán bộ xã", /canbo, or plainly "gặp cán bộ"), a
// ticket opens, and until staff close it, the resident types /ketthuc or
// it stays idle (TROLYSO_HANDOFF_IDLE), the resident's messages go to
// staff instead of the bot. Staff answer in the Telegram staff group (by
// replying to the ticket's post, with "Nhận xử lý" and "Đóng" buttons) or
// in the dashboard; answers reach the resident on their channel through a
// durable outbox.
//
// Outbox: every message sent for a ticket — a staff answer to the
// resident, a notice, a post in the staff group — is committed
// (storage.handoff_outbox) in the same transaction as the change that
// causes it, then sent by a worker. Like the reminders (bot/remind), each
// send is claimed ('sending', committed) before it is attempted and
// recorded after: a message saved but not yet sent when the process stops
// is sent once at the next start; one caught in 'sending' is reported to
// staff as possibly sent and never repeated. Definite refusals (the
// platform answered with an error) are retried with backoff; a send whose
// request may have arrived is not. Web-chat residents fetch their messages
// (bot/web polls), which marks them sent.
//
// One desk per store: each commune of a province has its own. Several
// instances may serve one store (Config.Shared): the outbox and sweeps
// then run in one of them at a time (the caller holds a lease), and
// whether a resident has an open ticket is read from the database.
package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// Defaults of Config.
const (
	DefaultIdle   = 24 * time.Hour
	DefaultRepost = 2 * time.Hour
	// DefaultThrottle is how many messages a minute a resident may send to
	// staff; beyond it they get one notice and the rest is not forwarded.
	DefaultThrottle = 50
	// MaxReplyLen bounds a staff answer, in characters; longer answers
	// are refused (Telegram and Zalo split what is sent into parts).
	MaxReplyLen = 8000
	// contextWindow is how far back a new request collects the resident's
	// questions to show staff.
	contextWindow = 30 * time.Minute
	maxContext    = 5
	// maxStaffName bounds a staff member's name as shown.
	maxStaffName = 40
)

// Band marks the replies the handoff itself gives (mode notices).
const Band bot.Band = "handoff"

// Config holds the desk's dependencies.
type Config struct {
	Store *storage.DB
	// Base gives the commune profile (name, working hours).
	Base   func() *knowledge.Base
	Logger *slog.Logger
	// Now is the clock (tests inject one).
	Now func() time.Time
	// Senders deliver to residents by channel (telegram, zalo). Read when
	// sending: channels may register after New, before Run.
	Senders map[string]bot.Sender
	// Web is set when the web chat fetches staff messages (bot/web).
	Web bool
	// Idle closes a ticket with no message for that long (DefaultIdle).
	Idle time.Duration
	// Repost posts an unclaimed ticket to the staff group once more after
	// that much working time (DefaultRepost).
	Repost time.Duration
	// Throttle is the most messages a minute a resident may send to staff
	// (DefaultThrottle).
	Throttle int
	// Shared is set when other instances serve the same store (several
	// "trolyso serve" on one PostgreSQL database): a resident's ticket may
	// have been opened by another instance, so a resident not known here
	// to have one is looked up in the database before the bot answers.
	Shared bool
}

// Desk runs the handoff: the resident side inside the engine (Register),
// the staff side (StaffDesk for the Telegram group, Reply/Claim/Close for
// the dashboard) and the outbox (Run).
type Desk struct {
	cfg   Config
	store *storage.DB
	log   *slog.Logger
	now   func() time.Time
	eng   *bot.Engine

	mu    sync.Mutex
	staff bot.StaffChat
	// open maps the user keys with an open ticket to its id: the engine
	// asks for every message, the database only when it holds the key.
	open map[string]int64
	// flood limits the messages a resident forwards to staff.
	flood map[string]*floodState
	swept time.Time

	kick map[string]chan struct{} // by outbox target: new messages queued
}

// floodState holds the times of a resident's messages to staff in the
// last minute.
type floodState struct {
	times      []time.Time
	mutedUntil time.Time
}

// New checks cfg and returns a desk with the open tickets loaded.
func New(ctx context.Context, cfg Config) (*Desk, error) {
	if cfg.Store == nil {
		return nil, errors.New("handoff: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Repost <= 0 {
		cfg.Repost = DefaultRepost
	}
	if cfg.Throttle <= 0 {
		cfg.Throttle = DefaultThrottle
	}
	if cfg.Senders == nil {
		cfg.Senders = map[string]bot.Sender{}
	}
	d := &Desk{cfg: cfg, store: cfg.Store, log: cfg.Logger, now: cfg.Now, open: map[string]int64{}, flood: map[string]*floodState{},
		kick: map[string]chan struct{}{storage.TargetResident: make(chan struct{}, 1), storage.TargetStaff: make(chan struct{}, 1)}}
	ts, err := cfg.Store.ListTickets(ctx, storage.TicketFilter{Status: storage.TicketOpen, Limit: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	for _, t := range ts {
		d.open[t.UserKey] = t.ID
	}
	return d, nil
}

// SetStaffChat connects the staff group (call before Run).
func (d *Desk) SetStaffChat(c bot.StaffChat) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.staff = c
}

func (d *Desk) staffChat() bot.StaffChat {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.staff
}

// StaffChatConfigured reports whether a staff group is connected.
func (d *Desk) StaffChatConfigured() bool { return d.staffChat() != nil }

// Idle returns how long a ticket may stay without messages.
func (d *Desk) Idle() time.Duration { return d.cfg.Idle }

// Register adds the resident side to the engine: /canbo, /ketthuc, the
// "🙋 Hỏi cán bộ xã" button (payload "hb"), ending ("he") and rating
// ("hr:<ticket>:+|-") buttons, plain requests ("gặp cán bộ"), forwarding
// while a ticket is open, and the button under declines, 👎 and menus.
func (d *Desk) Register(e *bot.Engine) {
	d.eng = e
	e.HandleCommand("canbo", bot.Command{Handle: func(ctx context.Context, m bot.Message, _ string) bot.Reply { return d.start(ctx, m) }})
	e.HandleCommand("ketthuc", bot.Command{Handle: func(ctx context.Context, m bot.Message, _ string) bot.Reply { return d.end(ctx, m) }})
	e.HandlePayload("hb", func(ctx context.Context, m bot.Message, _ []string) bot.Reply { return d.start(ctx, m) })
	e.HandlePayload("he", func(ctx context.Context, m bot.Message, _ []string) bot.Reply { return d.end(ctx, m) })
	e.HandlePayload("hr", d.rate)
	e.Intercept(d.intercept)
	e.Decorate(d.decorate)
}

func (d *Desk) profile() *knowledge.Profile {
	if d.cfg.Base == nil {
		return nil
	}
	if b := d.cfg.Base(); b != nil {
		return b.Profile
	}
	return nil
}

// Hours returns the working hours read from the commune profile.
func (d *Desk) Hours() Hours {
	if p := d.profile(); p != nil {
		return ParseHours(p.Centre.Hours)
	}
	return DefaultHours()
}

func (d *Desk) render(tmpl string) string {
	p := d.profile()
	if p == nil {
		return tmpl
	}
	out, err := knowledge.Render(tmpl, p)
	if err != nil {
		d.log.Error("handoff: render text", "err", err)
		return tmpl
	}
	return out
}

func (d *Desk) openTicketID(key string) (int64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	id, ok := d.open[key]
	return id, ok
}

// openTicket is openTicketID, which with Config.Shared also looks in the
// database for a ticket another instance opened.
func (d *Desk) openTicket(ctx context.Context, key string) (int64, bool) {
	if id, ok := d.openTicketID(key); ok || !d.cfg.Shared || key == "" {
		return id, ok
	}
	t, err := d.store.OpenTicketOf(ctx, key)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			d.log.Error("handoff: read open ticket", "err", err)
		}
		return 0, false
	}
	d.setOpen(key, t.ID)
	return t.ID, true
}

func (d *Desk) setOpen(key string, id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id == 0 {
		delete(d.open, key)
		delete(d.flood, key)
		return
	}
	d.open[key] = id
}

// reachable reports whether staff answers can reach a resident of this
// channel.
func (d *Desk) reachable(channel string) bool {
	if channel == bot.ChannelWeb {
		return d.cfg.Web
	}
	return d.sender(channel) != nil
}

func modeReply(text string, buttons ...[]bot.Button) bot.Reply {
	return bot.Reply{Band: Band, Text: text, Buttons: buttons}
}

func endRow() []bot.Button { return []bot.Button{{Label: labelEnd, Payload: "he"}} }

// start opens a ticket for the resident (or tells them theirs is open).
func (d *Desk) start(ctx context.Context, m bot.Message) bot.Reply {
	if m.Group {
		return modeReply(textInGroup)
	}
	if m.UserKey == "" || !d.reachable(m.Channel) {
		return modeReply(d.render(textOff))
	}
	if m.Channel != bot.ChannelWeb {
		a, ok := bot.DeliveryAddressFrom(ctx)
		if !ok || a.Group || a.Channel != m.Channel {
			return modeReply(d.render(textOff))
		}
		if err := d.store.SetAddress(ctx, m.Channel, m.UserKey, a.Address); err != nil {
			d.log.Error("handoff: store the delivery address", "channel", m.Channel, "err", err)
			return modeReply(textError)
		}
	}
	msgs, err := d.context(ctx, m)
	if err != nil {
		d.log.Error("handoff: read recent questions", "err", err)
	}
	var out []storage.NewOutbox
	if d.staffChat() != nil {
		out = append(out, storage.NewOutbox{Target: storage.TargetStaff, Channel: bot.ChannelTelegram, Kind: storage.OutboxCard})
	}
	t, created, err := d.store.OpenTicket(ctx, m.Channel, m.UserKey, msgs, out)
	if err != nil {
		d.log.Error("handoff: open ticket", "err", err)
		return modeReply(textError)
	}
	d.setOpen(m.UserKey, t.ID)
	if !created {
		return modeReply(fmt.Sprintf(textAlreadyOpen, t.ID), endRow())
	}
	if err := d.store.ClearPending(ctx, m.UserKey); err != nil {
		d.log.Error("handoff: clear pending state", "err", err)
	}
	d.wake(storage.TargetStaff)
	d.log.Info("handoff: ticket opened", "ticket", t.ID, "channel", m.Channel, "recent_questions", len(msgs)/2)
	return modeReply(d.introText(ctx, t), endRow())
}

// context collects the resident's questions of the last half hour with
// what the bot did, for staff.
func (d *Desk) context(ctx context.Context, m bot.Message) ([]storage.NewTicketMessage, error) {
	exs, err := d.store.RecentExchanges(ctx, m.UserKey, d.now().Add(-contextWindow), maxContext)
	if err != nil {
		return nil, err
	}
	var out []storage.NewTicketMessage
	for _, ex := range exs {
		if ex.Question == "" || strings.HasPrefix(ex.Question, "/") {
			continue
		}
		out = append(out, storage.NewTicketMessage{Author: storage.AuthorResident, Text: ex.Question})
		out = append(out, storage.NewTicketMessage{Author: storage.AuthorBot, Text: d.botSummary(ex)})
	}
	return out, nil
}

// botSummary says in a line what the bot answered.
func (d *Desk) botSummary(ex storage.Exchange) string {
	switch ex.Band {
	case string(bot.BandAnswer):
		title := ex.EntryID
		if b := d.cfg.Base; b != nil {
			if kb := b(); kb != nil {
				if en, ok := kb.Entry(ex.EntryID); ok {
					title = en.Title
				}
			}
		}
		return "Trợ lý trả lời bằng mục “" + title + "”"
	case string(bot.BandClarify):
		return "Trợ lý hỏi lại để làm rõ (gợi ý vài mục gần giống)"
	case string(bot.BandSmallTalk):
		return "Trợ lý chào hỏi"
	case string(bot.BandRefused):
		return "Trợ lý từ chối (câu hỏi không phù hợp)"
	default:
		return "Trợ lý chưa trả lời được (đã gợi ý liên hệ trực tiếp)"
	}
}

func (d *Desk) introText(ctx context.Context, t storage.Ticket) string {
	name, hours := "xã", "giờ hành chính các ngày làm việc"
	if p := d.profile(); p != nil {
		name, hours = p.Name, strings.TrimSpace(p.Centre.Hours)
	}
	h := d.Hours()
	now := d.now()
	closedNow := ""
	if !h.Open(now) {
		if next := h.NextOpen(now); !next.IsZero() {
			closedNow = fmt.Sprintf(textIntroClosedNow, WhenText(next, now))
		}
	}
	usual := textUsualUnknown
	f, err := d.store.HandoffFigures(ctx, now.Add(-30*24*time.Hour), now.Add(time.Second), now, d.cfg.Idle)
	if err != nil {
		d.log.Error("handoff: read reply times", "err", err)
	} else if len(f.FirstReplies) >= 5 {
		usual = fmt.Sprintf(textUsualTime, DurationText(f.Median()))
	}
	return fmt.Sprintf(textIntro, t.ID, name, hours, closedNow, usual)
}

// DurationText renders a duration for residents and staff: "5 phút",
// "2 giờ", "1 giờ 30 phút", "3 ngày".
func DurationText(d time.Duration) string { return stats.DurationText(d) }

// end closes the resident's ticket at their request.
func (d *Desk) end(ctx context.Context, m bot.Message) bot.Reply {
	t, err := d.store.OpenTicketOf(ctx, m.UserKey)
	if errors.Is(err, storage.ErrNotFound) || m.UserKey == "" {
		d.setOpen(m.UserKey, 0)
		return modeReply(textNotOpen)
	}
	if err != nil {
		d.log.Error("handoff: read open ticket", "err", err)
		return modeReply(textError)
	}
	closed, err := d.close(ctx, t, "người dân", storage.ClosedByResident, noteClosedResident, false)
	if errors.Is(err, storage.ErrTicketClosed) {
		return modeReply(textNotOpen)
	}
	if err != nil {
		d.log.Error("handoff: close ticket", "ticket", t.ID, "err", err)
		return modeReply(textError)
	}
	text := fmt.Sprintf(textEnded, t.ID)
	var rows [][]bot.Button
	if !closed.FirstReplyAt.IsZero() {
		text += textAskRate
		rows = append(rows, rateRow(t.ID))
	}
	return bot.Reply{Band: Band, Text: text, Buttons: rows}
}

func rateRow(id int64) []bot.Button {
	p := "hr:" + bot.FormatID(id) + ":"
	return []bot.Button{{Label: labelUp, Payload: p + "+"}, {Label: labelDn, Payload: p + "-"}}
}

// rate records "hr:<ticket>:+|-".
func (d *Desk) rate(ctx context.Context, m bot.Message, args []string) bot.Reply {
	if len(args) != 2 || (args[1] != "+" && args[1] != "-") {
		return modeReply(textNoRate)
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || id <= 0 {
		return modeReply(textNoRate)
	}
	v := 1
	if args[1] == "-" {
		v = -1
	}
	err = d.store.RateTicket(ctx, m.UserKey, id, v)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrNotYours), errors.Is(err, storage.ErrNotRatable):
		return modeReply(textNoRate)
	case err != nil:
		d.log.Error("handoff: rate ticket", "ticket", id, "err", err)
		return modeReply(textError)
	}
	d.log.Info("handoff: staff answer rated", "ticket", id, "value", v)
	return modeReply(textRated)
}

// intercept forwards free text to staff while the resident's ticket is
// open, and opens one when the resident asks for a person in plain words.
func (d *Desk) intercept(ctx context.Context, m bot.Message) (bot.Reply, bool) {
	if m.Group || m.UserKey == "" {
		return bot.Reply{}, false
	}
	if id, ok := d.openTicket(ctx, m.UserKey); ok {
		return d.forward(ctx, m, id)
	}
	if AsksForPerson(m.Text) {
		return d.start(ctx, m), true
	}
	return bot.Reply{}, false
}

// forward adds a resident's message to their open ticket.
func (d *Desk) forward(ctx context.Context, m bot.Message, id int64) (bot.Reply, bool) {
	t, err := d.store.Ticket(ctx, id)
	if err != nil || !t.Open() {
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			d.log.Error("handoff: read ticket", "ticket", id, "err", err)
			return modeReply(textError), true
		}
		d.setOpen(m.UserKey, 0)
		return bot.Reply{}, false
	}
	if t.WaitingSince.IsZero() && d.now().Sub(t.LastActivity) >= d.cfg.Idle {
		// The idle sweep has not run yet: close now and let the bot answer.
		if _, err := d.closeIdle(ctx, t, false); err != nil && !errors.Is(err, storage.ErrTicketClosed) {
			d.log.Error("handoff: close idle ticket", "ticket", t.ID, "err", err)
		}
		r := d.eng.Ask(ctx, m)
		r.Text = fmt.Sprintf(textIdleThenBot, t.ID, DurationText(d.cfg.Idle)) + r.Text
		return r, true
	}
	ok, notify := d.allow(m.UserKey)
	text := privacy.Redact(m.Text)
	var out []storage.NewOutbox
	if ok && d.staffChat() != nil {
		out = append(out, storage.NewOutbox{Target: storage.TargetStaff, Channel: bot.ChannelTelegram, Kind: storage.OutboxPost,
			Text: fmt.Sprintf(textStaffPosted, t.ID, quoteStaff(text))})
	}
	// Every message is kept in the conversation (the dashboard shows it);
	// beyond the limit it is not posted to the staff group.
	if _, err := d.store.AddResidentMessage(ctx, t.ID, text, out); err != nil {
		if errors.Is(err, storage.ErrTicketClosed) {
			d.setOpen(m.UserKey, 0)
			return bot.Reply{}, false
		}
		d.log.Error("handoff: add resident message", "ticket", t.ID, "err", err)
		return modeReply(textError), true
	}
	d.wake(storage.TargetStaff)
	d.wake(storage.TargetResident) // undeliverable answers were queued again
	switch {
	case notify:
		d.log.Warn("handoff: resident throttled", "ticket", t.ID)
		return modeReply(textThrottled), true
	case !ok:
		return bot.Reply{Band: Band}, true // silence: one notice per flood
	}
	return modeReply(fmt.Sprintf(textForwarded, t.ID), endRow()), true
}

// allow applies the per-resident limit on messages to staff (Throttle in
// any minute): the first message beyond it gets a notice, the following
// minute silence.
func (d *Desk) allow(key string) (ok, notify bool) {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.swept) > time.Minute {
		for k, st := range d.flood {
			if now.After(st.mutedUntil) && (len(st.times) == 0 || now.Sub(st.times[len(st.times)-1]) > time.Minute) {
				delete(d.flood, k)
			}
		}
		d.swept = now
	}
	st := d.flood[key]
	if st == nil {
		st = &floodState{}
		d.flood[key] = st
	}
	if now.Before(st.mutedUntil) {
		return false, false
	}
	recent := st.times[:0]
	for _, t := range st.times {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	st.times = recent
	if len(st.times) < d.cfg.Throttle {
		st.times = append(st.times, now)
		return true, false
	}
	st.mutedUntil = now.Add(time.Minute)
	st.times = st.times[:0]
	return false, true
}

// decorate adds the "🙋 Hỏi cán bộ xã" button to declines, the reply to
// 👎 and menus, and while a ticket is open tells the resident, under
// replies the bot gives (menus, buttons), that they are still connected
// to staff.
func (d *Desk) decorate(ctx context.Context, m bot.Message, r *bot.Reply) {
	if m.Group || r.Band == Band {
		return
	}
	if id, ok := d.openTicketID(m.UserKey); ok {
		if strings.TrimSpace(r.Text) != "" {
			r.Text += fmt.Sprintf(textModeNote, id)
		}
		return
	}
	if !d.reachable(m.Channel) {
		return
	}
	offer := r.Band == bot.BandDecline || r.Band == bot.BandMenu ||
		(strings.HasPrefix(m.Payload, "r:") && strings.HasSuffix(m.Payload, ":-")) || strings.HasPrefix(m.Payload, "rr:")
	if !offer {
		return
	}
	row := []bot.Button{{Label: LabelAsk, Payload: "hb"}}
	// Above the menu row when the reply ends with one.
	if n := len(r.Buttons); n > 0 && len(r.Buttons[n-1]) == 1 && r.Buttons[n-1][0].Payload == "m" {
		r.Buttons = append(r.Buttons[:n-1:n-1], row, r.Buttons[n-1])
		return
	}
	r.Buttons = append(r.Buttons, row)
}

// quoteStaff keeps a resident's text from adding Markdown to a staff-group
// post: one paragraph, escaped, at most 600 characters.
func quoteStaff(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 600 {
		s = string([]rune(s)[:599]) + "…"
	}
	return markup.Escape(s)
}

// StaffName cleans a name for display: one line, no Markdown, at most 40
// characters; "Cán bộ" when empty.
func StaffName(s string) string {
	s = strings.NewReplacer("*", "", "_", "", "[", "", "]", "", "`", "", "<", "", ">", "", "\\", "").Replace(s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxStaffName {
		s = strings.TrimSpace(string([]rune(s)[:maxStaffName]))
	}
	if s == "" {
		return "Cán bộ"
	}
	return s
}

// encodeButtons stores a keyboard with an outbox message.
func encodeButtons(rows [][]bot.Button) string {
	if len(rows) == 0 {
		return ""
	}
	b, _ := json.Marshal(rows)
	return string(b)
}

func decodeButtons(s string) [][]bot.Button {
	if s == "" {
		return nil
	}
	var rows [][]bot.Button
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		return nil
	}
	return rows
}

// wake tells the outbox worker of target that messages were queued.
func (d *Desk) wake(target string) {
	select {
	case d.kick[target] <- struct{}{}:
	default:
	}
}
