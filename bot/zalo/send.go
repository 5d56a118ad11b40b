package zalo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/storage"
)

// Vietnamese texts of the numbered fallback.
const (
	textPickMore = "Hoặc gõ số để chọn:"
	textPick     = "Gõ số để chọn:"
)

// message turns the text of a user_send_text into an engine message: a
// tapped button (PayloadPrefix + payload), a typed number of the last
// offered choices, or free text. Text is normalised to NFC.
func (c *Channel) message(ctx context.Context, key, raw string, at time.Time) bot.Message {
	text := strings.TrimSpace(norm.NFC.String(strings.ToValidUTF8(raw, "")))
	m := bot.Message{Channel: bot.ChannelZalo, UserKey: key, Time: at}
	if p, ok := tapPayload(text); ok {
		m.Payload = p
		return m
	}
	if n, ok := choiceNumber(text); ok {
		payloads, offered, err := c.store.ZaloOffer(ctx, key)
		switch {
		case err == nil && c.now().Sub(offered) <= c.cfg.OfferTTL && n <= len(payloads):
			m.Payload = payloads[n-1]
			return m
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			c.log.Error("read offered choices", "err", err)
		}
	}
	m.Text = text
	return m
}

// tapPayload recognises the text of a tapped button: PayloadPrefix, then a
// payload of the engine's grammar (a lowercase prefix, optional ":args",
// no spaces, at most bot.MaxPayloadLen bytes).
func tapPayload(text string) (string, bool) {
	p, ok := strings.CutPrefix(text, PayloadPrefix)
	if !ok || p == "" || len(p) > bot.MaxPayloadLen || strings.ContainsFunc(p, unicode.IsSpace) {
		return "", false
	}
	prefix, _, _ := strings.Cut(p, ":")
	if prefix == "" {
		return "", false
	}
	for _, r := range prefix {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", false
		}
	}
	return p, true
}

// choiceNumber recognises a typed choice number ("2", "2.", " 12 ").
func choiceNumber(text string) (int, bool) {
	text = strings.TrimSuffix(strings.TrimSpace(text), ".")
	if text == "" || len(text) > 2 {
		return 0, false
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// rendered is a reply ready for Zalo: messages in order (the last one
// carries the template buttons) and the payloads of the numbered choices.
type rendered struct {
	messages []outMessage
	payloads []string
	// buttonLines are the template buttons as numbered lines (fallback).
	buttonLines []string
}

// render converts a reply. With buttons, up to MaxButtons become template
// buttons titled "n. label"; the others are listed as numbered lines.
func render(r bot.Reply, buttons bool) rendered {
	text := nfc(markup.Plain(r.Text))
	var out rendered
	var wire []wireButton
	var lines []string
	for _, row := range r.Buttons {
		for _, b := range row {
			label := nfc(b.Label)
			switch {
			case b.URL != "":
				if buttons && len(wire) < MaxButtons {
					wire = append(wire, urlButton(title(label), b.URL))
					out.buttonLines = append(out.buttonLines, label+": "+b.URL)
				} else {
					lines = append(lines, label+": "+b.URL)
				}
			case b.Payload != "":
				out.payloads = append(out.payloads, b.Payload)
				n := len(out.payloads)
				if buttons && len(wire) < MaxButtons {
					wire = append(wire, queryButton(title(fmt.Sprintf("%d. %s", n, label)), b.Payload))
					out.buttonLines = append(out.buttonLines, fmt.Sprintf("%d. %s", n, label))
				} else {
					lines = append(lines, fmt.Sprintf("%d. %s", n, label))
				}
			}
		}
	}
	if len(lines) > 0 {
		head := textPick
		if len(wire) > 0 {
			head = textPickMore
		}
		if text != "" {
			text += "\n\n"
		}
		text += head + "\n" + strings.Join(lines, "\n")
	}
	if strings.TrimSpace(text) == "" {
		text = "…"
	}
	for _, chunk := range splitText(text, MaxTextLen) {
		out.messages = append(out.messages, outMessage{Text: chunk})
	}
	if len(wire) > 0 {
		out.messages[len(out.messages)-1].Attachment = &attachment{
			Type:    attachmentTemplate,
			Payload: attachmentPayload{TemplateType: templateType, Buttons: wire},
		}
	}
	return out
}

func nfc(s string) string { return norm.NFC.String(strings.ToValidUTF8(s, "")) }

func title(s string) string {
	if utf8.RuneCountInString(s) <= MaxButtonTitle {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:MaxButtonTitle-1])) + "…"
}

// textLen counts UTF-16 code units (the stricter of the plausible ways
// Zalo counts characters).
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// splitText cuts s into pieces of at most max units, at paragraph breaks,
// else line breaks, else spaces, else anywhere (never inside a rune).
func splitText(s string, max int) []string {
	var out []string
	for textLen(s) > max {
		cut := prefixLen(s, max) // bytes of the longest prefix that fits
		head := s[:cut]
		at := -1
		for _, sep := range []string{"\n\n", "\n", " "} {
			if i := strings.LastIndex(head, sep); i > 0 {
				at = i
				break
			}
		}
		if at <= 0 {
			at = cut
		}
		if p := strings.TrimRight(s[:at], " \n"); p != "" {
			out = append(out, p)
		}
		s = strings.TrimLeft(s[at:], " \n")
	}
	if s = strings.TrimSpace(s); s != "" || len(out) == 0 {
		out = append(out, s)
	}
	return out
}

func prefixLen(s string, max int) int {
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > max {
			return i
		}
	}
	return len(s)
}

// deliver sends a reply to a Zalo user and remembers its numbered choices.
// When Zalo refuses the template buttons, the reply is sent again as
// numbered text.
func (c *Channel) deliver(ctx context.Context, user, key string, r bot.Reply) error {
	out := render(r, !c.cfg.NoTemplateButtons)
	// Store the choices before sending: the resident may answer at once.
	if err := c.store.SetZaloOffer(ctx, key, out.payloads); err != nil {
		c.log.Error("store offered choices", "err", err)
	}
	for i, m := range out.messages {
		err := c.post(ctx, user, m)
		if err == nil {
			continue
		}
		var ae *APIError
		if m.Attachment != nil && i == len(out.messages)-1 && errors.As(err, &ae) && ae.Status == http.StatusOK &&
			!isTokenError(ae.Code) && !errors.Is(err, errBlocked) && !errors.Is(err, errUndeliverable) {
			c.log.Warn("zalo refused template buttons; sending numbered text", "err", err)
			var rest []outMessage
			if len(out.messages) == 1 {
				rest = render(r, false).messages
			} else {
				// Earlier parts went out already: send this part bare and
				// the button choices as a numbered list after it.
				rest = []outMessage{{Text: m.Text}, {Text: textPick + "\n" + strings.Join(out.buttonLines, "\n")}}
			}
			for _, pm := range rest {
				if err := c.post(ctx, user, pm); err != nil {
					return fmt.Errorf("send reply without buttons: %w", err)
				}
			}
			return nil
		}
		return fmt.Errorf("send reply part %d of %d: %w", i+1, len(out.messages), err)
	}
	return nil
}

// SendTo delivers a reply to a Zalo user id without a prior message
// (reminders). It refuses with bot.ErrUndeliverable outside the messaging
// window and bot.ErrBlocked for users who unfollowed the OA.
func (c *Channel) SendTo(ctx context.Context, address string, r bot.Reply) error {
	if address == "" {
		return fmt.Errorf("zalo send: empty address: %w", errUndeliverable)
	}
	key := c.store.UserKey(bot.ChannelZalo, address)
	u, err := c.store.ZaloUser(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("zalo send: the user never wrote to the OA: %w", errUndeliverable)
	}
	if err != nil {
		return fmt.Errorf("zalo send: %w", err)
	}
	if !u.Followed {
		return fmt.Errorf("zalo send: the user unfollowed the OA: %w", errBlocked)
	}
	if since := c.now().Sub(u.LastInbound); u.LastInbound.IsZero() || since > c.cfg.Window {
		return fmt.Errorf("zalo send: last message from the user %s ago, outside the %s messaging window: %w",
			since.Round(time.Minute), c.cfg.Window, errUndeliverable)
	}
	if err := c.deliver(ctx, address, key, r); err != nil {
		return fmt.Errorf("zalo send: %w", err)
	}
	return nil
}

// post sends one message, refreshing the token and retrying once when Zalo
// says it is invalid.
func (c *Channel) post(ctx context.Context, user string, m outMessage) error {
	tok, err := c.tok.Token(ctx)
	if err != nil {
		return err
	}
	err = c.postOnce(ctx, tok, user, m)
	var ae *APIError
	if !errors.As(err, &ae) || !isTokenError(ae.Code) {
		return err
	}
	c.log.Warn("zalo rejected the access token; refreshing", "code", ae.Code)
	c.tok.Invalidate(tok)
	if tok, err = c.tok.Token(ctx); err != nil {
		return fmt.Errorf("after error %d: %w", ae.Code, err)
	}
	return c.postOnce(ctx, tok, user, m)
}

func (c *Channel) postOnce(ctx context.Context, tok, user string, m outMessage) error {
	var body sendRequest
	body.Recipient.UserID = user
	body.Message = m
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.APIURL+PathCSMessage, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("post message: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerAccessTok, tok)
	resp, err := c.http.Do(req)
	if err != nil {
		if maybeSent(err) {
			return fmt.Errorf("post message: %w: %w", bot.ErrMaybeSent, err)
		}
		return fmt.Errorf("post message: %w", err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return fmt.Errorf("post message: read answer: %w: %w", bot.ErrMaybeSent, err)
	}
	var ar apiResponse
	jerr := json.Unmarshal(rb, &ar)
	if resp.StatusCode != http.StatusOK {
		return &APIError{Status: resp.StatusCode, Code: ar.Error, Message: firstNonEmpty(ar.Message, http.StatusText(resp.StatusCode))}
	}
	if jerr != nil {
		return fmt.Errorf("post message: undecodable answer: %w", jerr)
	}
	if ar.Error != 0 {
		return &APIError{Status: resp.StatusCode, Code: ar.Error, Message: ar.Message}
	}
	return nil
}

// maybeSent reports a failure after which the request may have reached
// Zalo (anything but a failure to connect).
func maybeSent(err error) bool {
	var op *net.OpError
	return !(errors.As(err, &op) && op.Op == "dial")
}
