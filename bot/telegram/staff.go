package telegram

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/colecommune/trolyso/bot"
)

// staffGroup is a commune staff's group chat (TROLYSO_STAFF_TELEGRAM_CHAT,
// or in a province deployment each commune's staff_telegram_chat): its
// updates go to that commune's handoff desk, not to the engine.
type staffGroup struct {
	chat int64
	desk bot.StaffDesk
}

var _ bot.StaffChat = (*Adapter)(nil)

// SetStaff connects the staff group chat of a one-commune install:
// members' replies to the bot's posts there, their button taps and the
// bot's removal from the group go to desk instead of the engine, and the
// adapter's Post and SetButtons write there. Call before Run.
func (a *Adapter) SetStaff(chatID int64, desk bot.StaffDesk) {
	a.AddStaff(chatID, desk)
}

// AddStaff connects one more staff group chat, with the desk its updates
// go to (one per commune of a province; one bot serves them all). Call
// before Run. It returns the group's poster for that desk's outbox.
func (a *Adapter) AddStaff(chatID int64, desk bot.StaffDesk) bot.StaffChat {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.staff == nil {
		a.staff = map[int64]*staffGroup{}
	}
	a.staff[chatID] = &staffGroup{chat: chatID, desk: desk}
	return StaffGroup{a: a, chat: chatID}
}

// staffOf returns the staff group of chat, nil when chat is none.
func (a *Adapter) staffOf(chat int64) *staffGroup {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.staff[chat]
}

// onlyStaff returns the staff group when exactly one is connected (the
// adapter's own Post and SetButtons write there).
func (a *Adapter) onlyStaff() *staffGroup {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.staff) != 1 {
		return nil
	}
	for _, sg := range a.staff {
		return sg
	}
	return nil
}

// staffUpdate handles an update of a staff group and reports whether it
// was one.
func (a *Adapter) staffUpdate(ctx context.Context, u *models.Update) bool {
	chat, ok := chatOf(u)
	if !ok {
		return false
	}
	sg := a.staffOf(chat)
	if sg == nil {
		return false
	}
	switch {
	case u.Message != nil:
		a.staffMessage(ctx, sg, u.Message)
	case u.CallbackQuery != nil:
		a.staffTap(ctx, sg, u.CallbackQuery)
	case u.MyChatMember != nil:
		switch u.MyChatMember.NewChatMember.Type {
		case models.ChatMemberTypeLeft, models.ChatMemberTypeBanned:
			sg.desk.StaffChatState(ctx, false)
		case models.ChatMemberTypeMember, models.ChatMemberTypeAdministrator, models.ChatMemberTypeOwner:
			sg.desk.StaffChatState(ctx, true)
		}
	}
	return true
}

// staffName is how a staff member is shown: their Telegram name, else
// their @username, else "Cán bộ" and the end of their Telegram id (staff
// are told apart even when the update carries no name).
func staffName(u *models.User) string {
	if u == nil {
		return ""
	}
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" && u.Username != "" {
		name = "@" + u.Username
	}
	if name == "" && u.ID != 0 {
		id := strconv.FormatInt(u.ID, 10)
		name = "Cán bộ …" + id[max(0, len(id)-4):]
	}
	return name
}

// staffMessage passes a staff member's reply to one of the bot's posts to
// the desk and shows the desk's notice, if any, under it.
func (a *Adapter) staffMessage(ctx context.Context, sg *staffGroup, m *models.Message) {
	if m.MigrateToChatID != 0 {
		a.log.Error("telegram: the staff group became a supergroup with a new chat id; set TROLYSO_STAFF_TELEGRAM_CHAT (in a province: the commune profile's staff_telegram_chat) to it and restart",
			"old_chat", sg.chat, "new_chat", m.MigrateToChatID)
		return
	}
	if m.From == nil || m.From.IsBot || m.ReplyToMessage == nil || m.ReplyToMessage.From == nil || m.ReplyToMessage.From.ID != a.botID {
		return // staff talking among themselves
	}
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = m.Caption
	}
	who := bot.StaffMember{Name: staffName(m.From), Via: bot.StaffViaTelegram}
	notice := sg.desk.StaffReply(ctx, strconv.Itoa(m.ReplyToMessage.ID), who, text)
	if notice == "" {
		return
	}
	if err := a.deliver(ctx, sg.chat, bot.Reply{Band: bot.BandCommand, Text: notice}, sendOptions{replyTo: m.ID}); err != nil {
		a.log.Warn("telegram: notice in the staff group not delivered", "err", a.scrub(err))
	}
}

// staffTap passes a button tap in the staff group to the desk and shows
// its notice to the staff member who tapped.
func (a *Adapter) staffTap(ctx context.Context, sg *staffGroup, cq *models.CallbackQuery) {
	notice := ""
	if cq.Data != "" && cq.From.ID != 0 && !cq.From.IsBot {
		notice = sg.desk.StaffTap(ctx, cq.Data, bot.StaffMember{Name: staffName(&cq.From), Via: bot.StaffViaTelegram})
	}
	err := a.call(ctx, 0, "answerCallbackQuery", func(ctx context.Context) error {
		_, err := a.b.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID, Text: notice})
		return err
	})
	if err != nil {
		a.log.Warn("telegram: answer callback query", "err", a.scrub(err))
	}
}

// Post implements bot.StaffChat for the only staff group connected (a
// one-commune install).
func (a *Adapter) Post(ctx context.Context, r bot.Reply, replyTo string) (string, error) {
	sg := a.onlyStaff()
	if sg == nil {
		return "", fmt.Errorf("telegram: no staff group: %w", bot.ErrUndeliverable)
	}
	return a.post(ctx, sg.chat, r, replyTo)
}

// SetButtons implements bot.StaffChat for the only staff group connected.
func (a *Adapter) SetButtons(ctx context.Context, msgID string, rows [][]bot.Button) error {
	sg := a.onlyStaff()
	if sg == nil {
		return fmt.Errorf("telegram: no staff group: %w", bot.ErrUndeliverable)
	}
	return a.setButtons(ctx, sg.chat, msgID, rows)
}

// StaffGroup posts to one staff group chat through the adapter (AddStaff
// returns it).
type StaffGroup struct {
	a    *Adapter
	chat int64
}

var _ bot.StaffChat = StaffGroup{}

// Post implements bot.StaffChat: it sends r to the group, as a reply to
// replyTo when set, and returns the id of the (last) message sent.
func (g StaffGroup) Post(ctx context.Context, r bot.Reply, replyTo string) (string, error) {
	return g.a.post(ctx, g.chat, r, replyTo)
}

// SetButtons implements bot.StaffChat: it replaces the keyboard of a
// message the bot posted in the group.
func (g StaffGroup) SetButtons(ctx context.Context, msgID string, rows [][]bot.Button) error {
	return g.a.setButtons(ctx, g.chat, msgID, rows)
}

// post sends r to the staff group chat, as a reply to replyTo when set,
// and returns the id of the (last) message sent.
func (a *Adapter) post(ctx context.Context, chat int64, r bot.Reply, replyTo string) (string, error) {
	var o sendOptions
	if replyTo != "" {
		o.replyTo, _ = strconv.Atoi(replyTo)
	}
	var id int
	o.sentID = &id
	// A post must not be repeated after an ambiguous failure: the outbox
	// reports it instead.
	ctx = context.WithValue(ctx, atMostOnceKey{}, true)
	if err := a.deliver(ctx, chat, r, o); err != nil {
		return "", err
	}
	return strconv.Itoa(id), nil
}

// setButtons replaces the keyboard of a message the bot posted in the
// staff group chat.
func (a *Adapter) setButtons(ctx context.Context, chat int64, msgID string, rows [][]bot.Button) error {
	id, err := strconv.Atoi(msgID)
	if err != nil {
		return fmt.Errorf("telegram: %q is not a message id: %w", msgID, bot.ErrUndeliverable)
	}
	kb := keyboard(rows)
	if kb == nil {
		kb = &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{}}
	}
	err = a.call(ctx, chat, "editMessageReplyMarkup", func(ctx context.Context) error {
		_, err := a.b.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: chat, MessageID: id, ReplyMarkup: kb})
		return err
	})
	if err != nil && strings.Contains(err.Error(), "message is not modified") {
		return nil
	}
	return err
}
