package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/storage"
)

// chatInfo is what replying needs to know about the chat of an update.
type chatInfo struct {
	id    int64
	group bool
}

func (c chatInfo) private() bool { return !c.group }

func isGroup(t models.ChatType) bool {
	return t == models.ChatTypeGroup || t == models.ChatTypeSupergroup
}

// userKey is the pseudonymous storage key of a Telegram user.
func (a *Adapter) userKey(userID int64) string {
	return a.store.UserKey(bot.ChannelTelegram, strconv.FormatInt(userID, 10))
}

// handleMessage answers a message: text goes to the engine; media get a
// "please type" reply; in groups only messages addressed to the bot count.
func (a *Adapter) handleMessage(ctx context.Context, m *models.Message) {
	if m.From == nil || m.From.IsBot {
		return
	}
	chat := chatInfo{id: m.Chat.ID}
	switch {
	case m.Chat.Type == models.ChatTypePrivate:
	case isGroup(m.Chat.Type):
		chat.group = true
	default:
		return // channels
	}
	text := m.Text
	var o sendOptions
	if chat.group {
		var ok bool
		if text, ok = a.addressedInGroup(m); !ok {
			return
		}
		o.replyTo = m.ID
	}
	userID := m.From.ID
	key := a.userKey(userID)
	if ok, notify := a.flood.allow(userID, a.now()); !ok {
		if notify {
			a.send(ctx, key, chat, bot.Reply{Band: bot.BandRefused, Text: textFlood}, o)
		}
		return
	}
	// Writing to the bot proves the user has not blocked it.
	if _, err := a.store.TouchUser(ctx, bot.ChannelTelegram, key); err != nil {
		a.log.Error("telegram: record user", "err", err)
	}
	msg := bot.Message{
		Channel: bot.ChannelTelegram,
		UserKey: key,
		Text:    text,
		Admin:   a.admins[userID],
		Group:   chat.group,
	}
	ctx = bot.WithDeliveryAddress(ctx, bot.DeliveryAddress{
		Channel: bot.ChannelTelegram,
		Address: strconv.FormatInt(chat.id, 10),
		Group:   chat.group,
	})
	heard := ""        // a transcribed voice question, shown back with the answer
	captioned := false // the question came as a photo or file caption
	if strings.TrimSpace(text) == "" {
		switch {
		case chat.private() && strings.TrimSpace(m.Caption) != "":
			msg.Text, captioned = m.Caption, true
		case m.Voice != nil && a.voice != nil:
			t, refusal, ok := a.transcribe(ctx, m.Voice)
			if !ok {
				a.send(ctx, key, chat, refusal, o)
				return
			}
			msg.Text, heard = t, t
		case hasMedia(m):
			a.send(ctx, key, chat, mediaReply(), o)
			return
		default:
			return // service messages (members joined, pins, …)
		}
	}
	// Address policy: the chat id is the only platform identifier kept,
	// and only where delivery needs it. A resident who opens the bot with
	// /start in a private chat may later be a team member receiving
	// reminders, so their private chat id is stored then; features that
	// need it at another moment (team registration) read it from the
	// context with bot.DeliveryAddressFrom and call SetAddress themselves.
	// Group chats and ordinary questions store nothing.
	if chat.private() && command(msg.Text) == "start" {
		if err := a.store.SetAddress(ctx, bot.ChannelTelegram, key, strconv.FormatInt(chat.id, 10)); err != nil {
			a.log.Error("telegram: store delivery address", "err", err)
		}
	}
	reply := a.eng.Handle(ctx, msg)
	if captioned {
		reply.Text = textCaptionNote + "\n\n" + reply.Text
	}
	if heard != "" {
		reply.Text = fmt.Sprintf(textYouAsked, markup.Escape(strings.TrimSpace(heard))) + "\n\n" + reply.Text
	}
	a.send(ctx, key, chat, reply, o)
}

// handleCallback answers a button tap. The query is always answered, so
// the button stops spinning; menu navigation edits the menu in place.
func (a *Adapter) handleCallback(ctx context.Context, cq *models.CallbackQuery) {
	chatID, _ := chatOf(&models.Update{CallbackQuery: cq})
	chat := chatInfo{id: chatID}
	var src *models.Message
	switch {
	case cq.Message.Type == models.MaybeInaccessibleMessageTypeMessage && cq.Message.Message != nil:
		src = cq.Message.Message
		chat.group = isGroup(src.Chat.Type)
	case cq.Message.InaccessibleMessage != nil:
		chat.group = isGroup(cq.Message.InaccessibleMessage.Chat.Type)
	}
	ok, notify := a.flood.allow(cq.From.ID, a.now())
	answer := &tgbot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID}
	if notify {
		answer.Text = markup.Plain(textFlood)
		answer.ShowAlert = true
	}
	if err := a.call(ctx, 0, "answerCallbackQuery", func(ctx context.Context) error {
		_, err := a.b.AnswerCallbackQuery(ctx, answer)
		return err
	}); err != nil {
		a.log.Warn("telegram: answer callback query", "err", a.scrub(err))
	}
	if !ok || cq.Data == "" || cq.From.ID == 0 || cq.From.IsBot {
		return
	}
	key := a.userKey(cq.From.ID)
	if _, err := a.store.TouchUser(ctx, bot.ChannelTelegram, key); err != nil {
		a.log.Error("telegram: record user", "err", err)
	}
	ctx = bot.WithDeliveryAddress(ctx, bot.DeliveryAddress{
		Channel: bot.ChannelTelegram,
		Address: strconv.FormatInt(chat.id, 10),
		Group:   chat.group,
	})
	reply := a.eng.Handle(ctx, bot.Message{
		Channel: bot.ChannelTelegram,
		UserKey: key,
		Payload: cq.Data,
		Admin:   a.admins[cq.From.ID],
		Group:   chat.group,
	})
	var o sendOptions
	// A menu reached from a menu replaces it; anything else (an answer,
	// or the menu asked for under an answer) is a new message so that the
	// answer stays readable in the history.
	if reply.Band == bot.BandMenu && src != nil && isNavigation(src.ReplyMarkup) {
		o.editID = src.ID
	}
	a.send(ctx, key, chat, reply, o)
	if o.editID == 0 && src != nil && cq.Data != "m" { // the menu button is no choice
		a.markChosen(ctx, chat.id, src, cq.Data)
	}
}

// chosenMark prefixes the label of the button last tapped in a message.
const chosenMark = "✅ "

// markChosen edits the keyboard of the message whose button was tapped so
// that the tapped button shows as chosen (a rating, a survey answer); a
// button marked before in that message loses the mark. It runs after the
// reply was sent, so that the reply is not delayed by the edit.
func (a *Adapter) markChosen(ctx context.Context, chatID int64, src *models.Message, data string) {
	kb, ok := chosenKeyboard(src.ReplyMarkup, data)
	if !ok {
		return
	}
	err := a.call(ctx, chatID, "editMessageReplyMarkup", func(ctx context.Context) error {
		_, err := a.b.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: chatID, MessageID: src.ID, ReplyMarkup: kb})
		return err
	})
	if err != nil && !strings.Contains(err.Error(), "message is not modified") {
		a.log.Info("telegram: mark the chosen button", "err", a.scrub(err))
	}
}

// chosenKeyboard returns kb with the button carrying data marked chosen
// and every other button unmarked; ok is false when nothing changes (no
// such button, or it is already the marked one).
func chosenKeyboard(kb *models.InlineKeyboardMarkup, data string) (*models.InlineKeyboardMarkup, bool) {
	if kb == nil || data == "" {
		return nil, false
	}
	out := &models.InlineKeyboardMarkup{InlineKeyboard: make([][]models.InlineKeyboardButton, len(kb.InlineKeyboard))}
	found, changed := false, false
	for i, row := range kb.InlineKeyboard {
		out.InlineKeyboard[i] = make([]models.InlineKeyboardButton, len(row))
		for j, b := range row {
			label, marked := strings.CutPrefix(b.Text, chosenMark)
			if b.CallbackData == data && b.CallbackData != "" {
				found = true
				changed = changed || !marked
				b.Text = chosenMark + label
			} else {
				changed = changed || marked
				b.Text = label
			}
			out.InlineKeyboard[i][j] = b
		}
	}
	return out, found && changed
}

// isNavigation reports a keyboard of topic or question buttons (a menu,
// topic list or clarify question).
func isNavigation(kb *models.InlineKeyboardMarkup) bool {
	if kb == nil {
		return false
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if strings.HasPrefix(b.CallbackData, "c:") || strings.HasPrefix(b.CallbackData, "e:") {
				return true
			}
		}
	}
	return false
}

// handleMemberUpdate follows the bot being blocked or unblocked in a
// private chat.
func (a *Adapter) handleMemberUpdate(ctx context.Context, u *models.ChatMemberUpdated) {
	if u.Chat.Type != models.ChatTypePrivate || u.From.ID == 0 {
		return
	}
	key := a.userKey(u.From.ID)
	switch u.NewChatMember.Type {
	case models.ChatMemberTypeBanned, models.ChatMemberTypeLeft:
		if err := a.store.SetActive(ctx, key, false); err != nil && !errors.Is(err, storage.ErrNotFound) {
			a.log.Error("telegram: mark user inactive", "err", err)
		}
	case models.ChatMemberTypeMember:
		if _, err := a.store.TouchUser(ctx, bot.ChannelTelegram, key); err != nil {
			a.log.Error("telegram: record user", "err", err)
		}
	}
}

// send delivers a reply in a chat; a private chat whose user blocked the
// bot marks the user inactive (no retries).
func (a *Adapter) send(ctx context.Context, key string, chat chatInfo, r bot.Reply, o sendOptions) {
	err := a.deliver(ctx, chat.id, r, o)
	if reason := bot.FailureReason(err); reason != "" {
		a.eng.Observer().DeliveryFailed(bot.ChannelTelegram, reason)
	}
	switch {
	case err == nil:
	case errors.Is(err, bot.ErrBlocked):
		a.log.Info("telegram: bot blocked; user marked inactive")
		if chat.private() && key != "" {
			if err := a.store.SetActive(ctx, key, false); err != nil && !errors.Is(err, storage.ErrNotFound) {
				a.log.Error("telegram: mark user inactive", "err", err)
			}
		}
	default:
		a.log.Warn("telegram: reply not delivered", "err", a.scrub(err))
	}
}

// addressedInGroup decides whether a group message is meant for the bot:
// it mentions @botname, replies to one of the bot's messages, or is a
// command addressed to the bot (/cmd@botname). It returns the text with
// the mention removed.
func (a *Adapter) addressedInGroup(m *models.Message) (string, bool) {
	a.mu.Lock()
	name := a.username
	a.mu.Unlock()
	text := m.Text
	if word, ok := strings.CutPrefix(firstWord(text), "/"); ok {
		_, at, hasAt := strings.Cut(word, "@")
		return text, hasAt && name != "" && strings.EqualFold(at, name)
	}
	replyToBot := m.ReplyToMessage != nil && m.ReplyToMessage.From != nil && m.ReplyToMessage.From.ID == a.botID
	cleaned, mentioned := stripMention(text, name)
	if mentioned || replyToBot {
		return cleaned, true
	}
	return "", false
}

// stripMention removes "@name" (case-insensitive, as a whole word) from
// text and reports whether it was there.
func stripMention(text, name string) (string, bool) {
	if name == "" {
		return text, false
	}
	lower := asciiLower(text) // keeps byte offsets, unlike strings.ToLower
	needle := "@" + name
	found := false
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(lower[i:], needle)
		if j < 0 {
			break
		}
		start, end := i+j, i+j+len(needle)
		if end < len(lower) && isNameByte(lower[end]) {
			b.WriteString(text[i:end])
			i = end
			continue
		}
		found = true
		b.WriteString(text[i:start])
		i = end
	}
	b.WriteString(text[i:])
	return strings.Join(strings.Fields(b.String()), " "), found
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \n\t"); i >= 0 {
		return s[:i]
	}
	return s
}

// command returns the lower-case name of a slash command ("/start@bot hi"
// → "start"), or "".
func command(text string) string {
	w, ok := strings.CutPrefix(firstWord(text), "/")
	if !ok {
		return ""
	}
	w, _, _ = strings.Cut(w, "@")
	return strings.ToLower(w)
}

// hasMedia reports a message carrying something other than text.
func hasMedia(m *models.Message) bool {
	return m.Sticker != nil || len(m.Photo) > 0 || m.Document != nil || m.Location != nil ||
		m.Venue != nil || m.Voice != nil || m.Audio != nil || m.Video != nil || m.VideoNote != nil ||
		m.Animation != nil || m.Contact != nil || m.Poll != nil || m.Dice != nil
}

func mediaReply() bot.Reply {
	return bot.Reply{Band: bot.BandRefused, Text: textMedia, Buttons: [][]bot.Button{{{Label: labelMenu, Payload: "m"}}}}
}
