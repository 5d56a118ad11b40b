package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
)

const (
	// MaxTextLen is Telegram's limit on a message text, in UTF-16 units.
	// Parts are measured on the HTML sent, an upper bound of the text
	// Telegram counts.
	MaxTextLen = 4096
	// maxAttempts bounds the tries of one API call (429 and network
	// errors).
	maxAttempts = 4
	// maxRetryAfter is the longest retry_after the adapter waits for;
	// beyond it the call fails.
	maxRetryAfter = 60 * time.Second
	// maxBackoff caps the wait between tries after a network error.
	maxBackoff = 8 * time.Second
)

// sendOptions tune one delivery.
type sendOptions struct {
	// replyTo quotes the user's message (groups).
	replyTo int
	// editID, when not zero, edits that message instead of sending a new
	// one (menu navigation); on failure a new message is sent.
	editID int
	// sentID, when set, receives the id of each message sent.
	sentID *int
}

// SendTo delivers a reply to a chat id (bot.Sender, used by reminders).
// A user who blocked the bot gives an error wrapping bot.ErrBlocked.
func (a *Adapter) SendTo(ctx context.Context, address string, r bot.Reply) error {
	chatID, err := strconv.ParseInt(strings.TrimSpace(address), 10, 64)
	if err != nil || chatID == 0 {
		return fmt.Errorf("telegram send: %q is not a chat id: %w", address, bot.ErrUndeliverable)
	}
	// Reminders must be delivered at most once: never repeat a send whose
	// request may already have reached Telegram.
	ctx = context.WithValue(ctx, atMostOnceKey{}, true)
	err = a.deliver(ctx, chatID, r, sendOptions{})
	// A group upgraded to a supergroup has a new id; Telegram refused the
	// message (nothing was sent), so follow the group and send once more.
	var moved *tgbot.MigrateError
	if errors.As(err, &moved) && moved.MigrateToChatID != 0 {
		newID := int64(moved.MigrateToChatID)
		to := strconv.FormatInt(newID, 10)
		if n, merr := a.store.MoveGroupChat(ctx, strconv.FormatInt(chatID, 10), to); merr != nil {
			a.log.Error("telegram: record the group's new chat id", "err", merr)
		} else {
			a.log.Info("telegram: group chat became a supergroup; following it", "teams", n)
		}
		return a.deliver(ctx, newID, r, sendOptions{})
	}
	return err
}

// atMostOnceKey marks a context whose sends must not be repeated after an
// ambiguous failure.
type atMostOnceKey struct{}

// ambiguous reports a network failure after which the request may or may
// not have reached Telegram (anything but a failure to connect). API error
// responses are not ambiguous: Telegram answered and did not send.
func ambiguous(err error) bool {
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return false
	}
	var op *net.OpError
	return !(errors.As(err, &op) && op.Op == "dial")
}

// deliver renders a reply and sends it, split into parts under
// MaxTextLen on paragraph boundaries, the keyboard under the last part.
func (a *Adapter) deliver(ctx context.Context, chatID int64, r bot.Reply, o sendOptions) error {
	if strings.TrimSpace(r.Text) == "" {
		return nil
	}
	kb := keyboard(r.Buttons)
	parts := splitMarkdown(r.Text, MaxTextLen)
	if o.editID != 0 && len(parts) == 1 {
		err := a.edit(ctx, chatID, o.editID, parts[0], kb)
		if err == nil || errors.Is(err, bot.ErrBlocked) {
			return err
		}
		if strings.Contains(err.Error(), "message is not modified") {
			return nil
		}
		a.log.Info("telegram: edit failed; sending a new message", "err", a.scrub(err))
	}
	for i, part := range parts {
		p := &tgbot.SendMessageParams{
			ChatID:             chatID,
			Text:               markup.TelegramHTML(part),
			ParseMode:          models.ParseModeHTML,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
		}
		if i == len(parts)-1 && kb != nil {
			p.ReplyMarkup = kb
		}
		if i == 0 && o.replyTo != 0 {
			p.ReplyParameters = &models.ReplyParameters{MessageID: o.replyTo, AllowSendingWithoutReply: true}
		}
		send := func(ctx context.Context) error {
			msg, err := a.b.SendMessage(ctx, p)
			if err == nil && msg != nil && o.sentID != nil {
				*o.sentID = msg.ID
			}
			return err
		}
		err := a.call(ctx, chatID, "sendMessage", send)
		if isParseError(err) {
			// Telegram refused our HTML: send the same part as plain text.
			a.log.Warn("telegram refused HTML; sending plain text", "err", a.scrub(err))
			p.Text, p.ParseMode = markup.Plain(part), ""
			err = a.call(ctx, chatID, "sendMessage", send)
		}
		if err != nil {
			return fmt.Errorf("telegram send message: %w", err)
		}
	}
	return nil
}

// edit replaces the text and keyboard of a message the bot sent.
func (a *Adapter) edit(ctx context.Context, chatID int64, msgID int, part string, kb *models.InlineKeyboardMarkup) error {
	p := &tgbot.EditMessageTextParams{
		ChatID:             chatID,
		MessageID:          msgID,
		Text:               markup.TelegramHTML(part),
		ParseMode:          models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
	}
	if kb != nil {
		p.ReplyMarkup = kb
	}
	edit := func(ctx context.Context) error {
		_, err := a.b.EditMessageText(ctx, p)
		return err
	}
	err := a.call(ctx, chatID, "editMessageText", edit)
	if isParseError(err) {
		p.Text, p.ParseMode = markup.Plain(part), ""
		err = a.call(ctx, chatID, "editMessageText", edit)
	}
	if err != nil {
		return fmt.Errorf("telegram edit message: %w", err)
	}
	return nil
}

// call runs one Bot API call within the rate limits, honouring 429
// retry_after and retrying network errors with bounded backoff. A 403
// becomes bot.ErrBlocked and is never retried; other 4xx are returned as
// they are.
func (a *Adapter) call(ctx context.Context, chatID int64, method string, fn func(context.Context) error) error {
	backoff := 500 * time.Millisecond
	var err error
	for attempt := 1; ; attempt++ {
		if werr := a.rates.wait(ctx, chatID); werr != nil {
			return fmt.Errorf("%s: wait for rate limit: %w", method, werr)
		}
		err = fn(ctx)
		if err == nil {
			return nil
		}
		if errors.Is(err, tgbot.ErrorForbidden) {
			return fmt.Errorf("%s: %w: %w", method, bot.ErrBlocked, err)
		}
		if permanent(err) || ctx.Err() != nil || attempt >= maxAttempts {
			return err
		}
		if once, _ := ctx.Value(atMostOnceKey{}).(bool); once && ambiguous(err) {
			return fmt.Errorf("%s: not retried: %w: %w", method, bot.ErrMaybeSent, err)
		}
		wait := backoff
		var tooMany *tgbot.TooManyRequestsError
		if errors.As(err, &tooMany) {
			wait = time.Duration(tooMany.RetryAfter) * time.Second
			if wait <= 0 {
				wait = time.Second
			}
			if wait > maxRetryAfter {
				return err
			}
			// Telegram asks the whole bot to slow down, not just this call.
			a.rates.pause(wait)
		} else {
			backoff = min(backoff*2, maxBackoff)
		}
		a.log.Warn("telegram call failed; retrying", "method", method, "attempt", attempt, "in", wait, "err", a.scrub(err))
		if serr := sleep(ctx, wait); serr != nil {
			return err
		}
	}
}

// permanent reports errors that retrying cannot fix.
func permanent(err error) bool {
	var migrate *tgbot.MigrateError
	return errors.Is(err, tgbot.ErrorBadRequest) || errors.Is(err, tgbot.ErrorUnauthorized) ||
		errors.Is(err, tgbot.ErrorNotFound) || errors.Is(err, tgbot.ErrorConflict) ||
		errors.As(err, &migrate) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// isParseError reports Telegram refusing the HTML of a message.
func isParseError(err error) bool {
	return err != nil && errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(strings.ToLower(err.Error()), "can't parse entities")
}

// keyboard builds the inline keyboard of a reply: payload buttons become
// callback buttons, link buttons URL buttons. Buttons Telegram would refuse
// (no label, payload over 64 bytes, non-http link) are left out.
func keyboard(rows [][]bot.Button) *models.InlineKeyboardMarkup {
	var out [][]models.InlineKeyboardButton
	for _, row := range rows {
		var r []models.InlineKeyboardButton
		for _, b := range row {
			label := strings.TrimSpace(b.Label)
			if label == "" {
				continue
			}
			switch {
			case b.URL != "":
				if !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "http://") {
					continue
				}
				r = append(r, models.InlineKeyboardButton{Text: label, URL: b.URL})
			case b.Payload != "" && len(b.Payload) <= bot.MaxPayloadLen:
				r = append(r, models.InlineKeyboardButton{Text: label, CallbackData: b.Payload})
			}
		}
		if len(r) > 0 {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: out}
}

// htmlLen is the length Telegram counts, measured on the rendered HTML.
func htmlLen(md string) int {
	return utf16Len(markup.TelegramHTML(md))
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// splitMarkdown cuts a Markdown text into parts whose Telegram HTML is at
// most limit long: on paragraph boundaries, then on line boundaries, then
// (for one huge line) on spaces or anywhere.
func splitMarkdown(md string, limit int) []string {
	md = strings.TrimSpace(md)
	if htmlLen(md) <= limit {
		return []string{md}
	}
	var parts []string
	var cur string
	flush := func() {
		if strings.TrimSpace(cur) != "" {
			parts = append(parts, strings.TrimSpace(cur))
		}
		cur = ""
	}
	add := func(piece, sep string, fits func(string) bool) bool {
		if cur == "" {
			if fits(piece) {
				cur = piece
				return true
			}
			return false
		}
		if cand := cur + sep + piece; fits(cand) {
			cur = cand
			return true
		}
		flush()
		if fits(piece) {
			cur = piece
			return true
		}
		return false
	}
	fits := func(s string) bool { return htmlLen(s) <= limit }
	for _, para := range strings.Split(md, "\n\n") {
		para = strings.Trim(para, "\n")
		if para == "" || add(para, "\n\n", fits) {
			continue
		}
		for _, line := range strings.Split(para, "\n") {
			if line == "" || add(line, "\n", fits) {
				continue
			}
			flush()
			parts = append(parts, splitLine(line, fits)...)
		}
		flush()
	}
	flush()
	return parts
}

// splitLine cuts one line too long for a message into the longest pieces
// that fit, preferring to cut at a space.
func splitLine(line string, fits func(string) bool) []string {
	var out []string
	for line != "" {
		if fits(line) {
			out = append(out, line)
			break
		}
		// Byte offsets of the rune boundaries; binary search for the
		// longest prefix that fits.
		idx := make([]int, 0, len(line)+1)
		for i := range line {
			idx = append(idx, i)
		}
		idx = append(idx, len(line))
		best, lo, hi := 1, 1, len(idx)-1
		for lo <= hi {
			mid := (lo + hi) / 2
			if fits(line[:idx[mid]]) {
				best, lo = mid, mid+1
			} else {
				hi = mid - 1
			}
		}
		cut := idx[best]
		if cut < len(line) && line[cut] == ' ' {
			// already at a word boundary
		} else if sp := strings.LastIndexByte(line[:cut], ' '); sp > cut/2 {
			cut = sp
		}
		if piece := strings.TrimSpace(line[:cut]); piece != "" {
			out = append(out, piece)
		}
		line = strings.TrimSpace(line[cut:])
	}
	return out
}

// sendLimiter keeps the bot under Telegram's limits: about 30 messages a
// second overall, one a second per private chat (short bursts allowed)
// and 20 a minute per group. The overall bucket (28 a second, burst 1: a margin under 30 for the jitter of a busy machine)
// never lets more than 30 messages into any one-second window, replies and
// bulk sends (alerts, reminders) together.
type sendLimiter struct {
	global *rate.Limiter
	// privateEvery and groupEvery are the per-chat intervals; burst the
	// per-chat burst.
	privateEvery, groupEvery time.Duration
	burst                    int
	mu                       sync.Mutex
	chats                    map[int64]*chatLimit
	sweep                    time.Time
	until                    time.Time // global pause after a 429
	// shared, when set, replaces the bot-wide bucket by slots shared with
	// every instance (SharedPacing); log reports its failures.
	shared SharedPacing
	log    *slog.Logger
}

// sharedEvery is the bot-wide interval between two messages of all
// instances together: 25 a second. A slot is taken before the message
// leaves, and an instance slowed between the two (a busy machine, a slow
// database answer) sends late, next to the following slot's message: the
// margin under Telegram's 30 absorbs that (measured: 28 a second let 31
// messages into one second across three instances on a loaded machine).
const sharedEvery = time.Second / 25

type chatLimit struct {
	lim  *rate.Limiter
	last time.Time
}

func newSendLimiter(shared SharedPacing, log *slog.Logger) *sendLimiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &sendLimiter{
		shared:       shared,
		log:          log,
		global:       rate.NewLimiter(28, 1),
		privateEvery: time.Second,
		groupEvery:   3 * time.Second,
		burst:        3,
		chats:        map[int64]*chatLimit{},
	}
}

// wait blocks until a message to chatID may be sent. Calls that send no
// message (chatID 0: answerCallbackQuery, getFile) are not limited.
func (s *sendLimiter) wait(ctx context.Context, chatID int64) error {
	if chatID == 0 {
		return nil
	}
	s.mu.Lock()
	now := time.Now()
	if now.Sub(s.sweep) > time.Minute {
		for id, c := range s.chats {
			if now.Sub(c.last) > 5*time.Minute {
				delete(s.chats, id)
			}
		}
		s.sweep = now
	}
	c := s.chats[chatID]
	if c == nil {
		every := s.privateEvery
		if chatID < 0 { // groups and supergroups have negative ids
			every = s.groupEvery
		}
		c = &chatLimit{lim: rate.NewLimiter(rate.Every(every), s.burst)}
		s.chats[chatID] = c
	}
	c.last = now
	s.mu.Unlock()
	if err := c.lim.Wait(ctx); err != nil {
		return err
	}
	if s.shared != nil {
		slot, err := s.shared.TakeTurn(ctx, "telegram", time.Now(), sharedEvery)
		if err == nil {
			return sleep(ctx, time.Until(slot))
		}
		// The database did not answer: keep to this instance's bucket.
		s.log.Warn("telegram: shared pacing unavailable; pacing this instance alone", "err", err)
	}
	// Take the bot-wide turn after any pause a 429 asked for; if a 429
	// paused the bot while this send waited for its turn, wait again.
	for {
		s.mu.Lock()
		pause := time.Until(s.until)
		s.mu.Unlock()
		if pause > 0 {
			if err := sleep(ctx, pause); err != nil {
				return err
			}
		}
		if err := s.global.Wait(ctx); err != nil {
			return err
		}
		s.mu.Lock()
		paused := time.Now().Before(s.until)
		s.mu.Unlock()
		if !paused {
			return nil
		}
	}
}

// pause holds every send for d (after a 429), on every instance when the
// pacing is shared.
func (s *sendLimiter) pause(d time.Duration) {
	if s.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.shared.PausePacing(ctx, "telegram", time.Now().Add(d)); err != nil {
			s.log.Warn("telegram: could not share a 429 pause", "err", err)
		}
		cancel()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := time.Now().Add(d); t.After(s.until) {
		s.until = t
	}
}
