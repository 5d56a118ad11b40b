// Package bot is trolyso's channel-neutral conversation engine: a resident's
// message goes in, a reply with text and buttons comes out. Channels
// (bot/web, bot/telegram, bot/zalo) translate their wire formats to and
// from these types; the engine never imports a channel.
package bot

import (
	"context"
	"errors"
	"time"
)

// Channel names, also stored with every exchange.
const (
	ChannelWeb      = "web"
	ChannelTelegram = "telegram"
	ChannelZalo     = "zalo"
	ChannelCLI      = "cli"
)

// Message is one input from a user: typed text, or the payload of a button
// they tapped (exactly one of Text and Payload is normally set).
type Message struct {
	Channel string
	// UserKey is the pseudonymous key of the user (see storage.DB.UserKey);
	// channels never pass raw platform ids to the engine.
	UserKey string
	Text    string
	Payload string
	// Admin is set by the channel when the sender is a configured admin.
	Admin bool
	// Group is set when the message came from a group chat.
	Group bool
	Time  time.Time
}

// Band says how the engine handled a message.
type Band string

// Bands of a reply. Answer, Clarify, Decline and SmallTalk come from the
// knowledge-base decision; the rest are conversation mechanics.
const (
	BandAnswer    Band = "answer"
	BandClarify   Band = "clarify"
	BandDecline   Band = "decline"
	BandSmallTalk Band = "smalltalk"
	BandMenu      Band = "menu"    // welcome, menus, help
	BandCommand   Band = "command" // results of commands and button taps
	BandRefused   Band = "refused" // unsafe or unusable input, politely refused
)

// Reply is what the engine answers. Text is restricted Markdown (paragraphs,
// numbered and bullet lists, **bold**, [links](https://…)); channels render
// it with bot/markup.
type Reply struct {
	Band    Band
	Text    string
	Buttons [][]Button
	// EntryID and Score describe the knowledge-base match, when there is one.
	EntryID string
	Score   float64
	// ExchangeID is the stored exchange this reply belongs to (0 if none);
	// rating buttons refer to it.
	ExchangeID int64
}

// Button is a choice offered with a reply: tapping it sends Payload back as
// Message.Payload. A button with URL opens a link instead.
type Button struct {
	Label   string
	Payload string
	URL     string
}

// MaxPayloadLen is the longest payload a button may carry (Telegram's
// callback_data limit).
const MaxPayloadLen = 64

// Sender delivers a reply to an address of one channel without a prior
// message from the user (reminders, nudges). Address is what the channel
// stored with storage.DB.SetAddress, or a group chat id. Implementations
// honour the platform's rate limits and retry-after hints themselves.
type Sender interface {
	SendTo(ctx context.Context, address string, r Reply) error
}

// Delivery errors a Sender returns (wrapped) so callers can react.
var (
	// ErrBlocked: the user blocked the bot or left; mark them inactive and
	// do not retry.
	ErrBlocked = errors.New("recipient blocked the bot")
	// ErrUndeliverable: the platform does not allow this message now (for
	// example outside Zalo's messaging window); report it, do not retry.
	ErrUndeliverable = errors.New("message cannot be delivered now")
	// ErrMaybeSent: the request may have reached the platform before it
	// failed (a timeout or a broken connection after sending); the message
	// may have been delivered. Record it as unknown and never send it
	// again.
	ErrMaybeSent = errors.New("message may have been delivered")
)
