// Package zalo is the Zalo Official Account channel: a webhook receives the
// OA's events (verified by X-ZEvent-Signature), commits them to the durable
// inbox (bot/inbox: deduplicated by message id in the same statement)
// before answering 200, workers answer them in order per user, the engine
// answers, and
// replies go out through the OA customer-service message API v3 with an
// access token that is refreshed before expiry and on error -216.
//
// Buttons are template buttons of type oa.query.hide whose payload is
// PayloadPrefix + the engine payload; Zalo has no callback event, so a tap
// comes back as user_send_text with that text and becomes Message.Payload.
// Every payload button is also numbered, and the resident may type the
// number instead ("Gõ 6 …"): buttons beyond MaxButtons, or all of them when
// Zalo refuses the template, are listed as numbered lines.
//
// Zalo only lets an OA message a user within a period after the user's last
// interaction. The last inbound time is kept per user; SendTo refuses with
// bot.ErrUndeliverable outside Config.Window (default 7 days, the paid
// "tư vấn" window reported by third-party notes; free replies may be
// limited to 48 hours — unconfirmed, see ../shared/libs.md §5).
//
// Delivery addresses: replies take the Zalo user id from the event, so it
// is not stored for every resident. The handler puts it in the context
// (bot.WithDeliveryAddress) and features that must write first later (team
// members' /dangky) store it with storage.DB.SetAddress; SendTo's address
// is that Zalo user id.
//
// All wire shapes are in wire.go.
package zalo

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/inbox"
	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/storage"
)

var (
	errBlocked       = bot.ErrBlocked
	errUndeliverable = bot.ErrUndeliverable
)

// Defaults.
const (
	DefaultMaxEventAge  = 10 * time.Minute
	DefaultWindow       = 7 * 24 * time.Hour
	DefaultOfferTTL     = 24 * time.Hour
	DefaultRefreshEarly = time.Hour
	maxBodyBytes        = 64 << 10
	maxFutureSkew       = 5 * time.Minute
	eventRetention      = 48 * time.Hour
	// shutdownGrace is how long accepted events may still be answered
	// after Run's context ends; then their contexts are cancelled, and
	// what is left is answered at the next start or by another instance.
	shutdownGrace = 15 * time.Second
	// defaultConcurrency bounds the users answered at once.
	defaultConcurrency = 16
)

// Config configures the channel.
type Config struct {
	Engine bot.Handler
	Store  *storage.DB
	Logger *slog.Logger
	// HTTPClient talks to the Zalo API (default: 15 s timeout).
	HTTPClient *http.Client
	Now        func() time.Time

	AppID        string // ZALO_APP_ID
	AppSecret    string // ZALO_APP_SECRET, for token refresh
	OASecretKey  string // ZALO_OA_SECRET_KEY, for webhook signatures
	AccessToken  string // first tokens, used only if SQLite has none
	RefreshToken string
	APIURL       string // e.g. https://openapi.zalo.me
	OAuthURL     string // e.g. https://oauth.zaloapp.com

	// MaxEventAge rejects webhook events whose timestamp is older.
	MaxEventAge time.Duration
	// Window is how long after a user's last message the OA may write to
	// them (SendTo refuses beyond it).
	Window time.Duration
	// OfferTTL is how long typed numbers map to the last offered buttons.
	OfferTTL time.Duration
	// RefreshEarly refreshes the access token this long before expiry
	// (capped at a tenth of the token's lifetime).
	RefreshEarly time.Duration
	// RefreshCheck is how often the proactive refresh loop looks (1 min).
	RefreshCheck time.Duration
	// NoTemplateButtons sends every choice as numbered text.
	NoTemplateButtons bool
	// Concurrency bounds the users answered at once (default 16).
	Concurrency int
	// InboxCapacity bounds the events accepted and not yet answered
	// (default inbox.DefaultCapacity); beyond it the webhook answers 503,
	// so that Zalo delivers them again.
	InboxCapacity int
	// InboxOwner names this instance in the inbox's claims, as in job
	// leases (default: a fresh name; see bot/inbox).
	InboxOwner string
	// InboxOwnerGone tells whether another instance is known to be gone
	// (default: a process on this machine that no longer exists).
	InboxOwnerGone func(string) bool
	// AdminIDs are the Zalo user ids (as the OA sees them, sender.id) of
	// the commune's admins: their messages may use admin-only commands.
	AdminIDs []string
}

// Channel is the Zalo OA channel. It is an http.Handler (the webhook) and
// a bot.Sender.
type Channel struct {
	cfg   Config
	eng   bot.Handler
	store *storage.DB
	log   *slog.Logger
	http  *http.Client
	now   func() time.Time
	tok   *tokens
	// inbox holds the accepted events until they are answered; its
	// contexts are cancelled grace after Run's context ends, so a hung Zalo
	// API cannot hold shutdown.
	inbox *inbox.Inbox
	// admins holds the configured admins' Zalo user ids.
	admins map[string]bool
	grace  time.Duration
}

var _ bot.Sender = (*Channel)(nil)

// New checks cfg and seeds the token store from the configured tokens when
// SQLite has none.
func New(ctx context.Context, cfg Config) (*Channel, error) {
	if cfg.Engine == nil || cfg.Store == nil {
		return nil, errors.New("zalo: engine and store are required")
	}
	if cfg.AppID == "" || cfg.OASecretKey == "" {
		return nil, errors.New("zalo: app id and OA secret key are required")
	}
	if cfg.APIURL == "" || cfg.OAuthURL == "" {
		return nil, errors.New("zalo: API and OAuth URLs are required")
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	cfg.OAuthURL = strings.TrimRight(cfg.OAuthURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxEventAge <= 0 {
		cfg.MaxEventAge = DefaultMaxEventAge
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.OfferTTL <= 0 {
		cfg.OfferTTL = DefaultOfferTTL
	}
	if cfg.RefreshEarly <= 0 {
		cfg.RefreshEarly = DefaultRefreshEarly
	}
	if cfg.RefreshCheck <= 0 {
		cfg.RefreshCheck = time.Minute
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = defaultConcurrency
	}
	log := cfg.Logger.With("channel", bot.ChannelZalo)
	c := &Channel{
		cfg:    cfg,
		eng:    cfg.Engine,
		store:  cfg.Store,
		log:    log,
		http:   cfg.HTTPClient,
		now:    cfg.Now,
		grace:  shutdownGrace,
		admins: map[string]bool{},
		tok: &tokens{
			store:     cfg.Store,
			http:      cfg.HTTPClient,
			log:       log,
			now:       cfg.Now,
			oauthURL:  cfg.OAuthURL,
			appID:     cfg.AppID,
			appSecret: cfg.AppSecret,
			early:     cfg.RefreshEarly,
			backoff:   30 * time.Second,
		},
	}
	for _, id := range cfg.AdminIDs {
		if id = strings.TrimSpace(id); id != "" {
			c.admins[id] = true
		}
	}
	var err error
	c.inbox, err = inbox.New(inbox.Config{
		Store:     cfg.Store,
		Channel:   bot.ChannelZalo,
		Handle:    c.answerItem,
		Logger:    log,
		Now:       cfg.Now,
		Capacity:  cfg.InboxCapacity,
		Workers:   cfg.Concurrency,
		Retention: c.retention(),
		Owner:     cfg.InboxOwner,
		OwnerGone: cfg.InboxOwnerGone,
	})
	if err != nil {
		return nil, fmt.Errorf("zalo: %w", err)
	}
	if cfg.AccessToken != "" || cfg.RefreshToken != "" {
		// The expiry of configured tokens is unknown: Zalo's -216 tells.
		if _, err := cfg.Store.SeedZaloTokens(ctx, storage.ZaloTokens{Access: cfg.AccessToken, Refresh: cfg.RefreshToken, UpdatedAt: cfg.Now().UTC()}); err != nil {
			return nil, err
		}
	} else if _, err := cfg.Store.ZaloTokens(ctx); err != nil {
		return nil, fmt.Errorf("zalo: no tokens configured or stored: %w", err)
	}
	// Events left pending by the previous run are answered first.
	if err := c.inbox.Start(ctx); err != nil {
		return nil, fmt.Errorf("zalo: %w", err)
	}
	return c, nil
}

// Run refreshes the access token ahead of expiry and prunes the keys of
// old handled events until ctx ends, then lets the accepted events be
// answered for at most the shutdown grace (what is left is answered at the
// next start or by another instance).
func (c *Channel) Run(ctx context.Context) error {
	defer c.shutdown()
	tick := time.NewTicker(c.cfg.RefreshCheck)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		if err := c.tok.RefreshIfDue(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("zalo proactive token refresh", "err", err)
		}
		if now := c.now(); now.Sub(lastPrune) >= time.Hour {
			lastPrune = now
			if n, err := c.inbox.Prune(ctx); err != nil {
				c.log.Error("prune zalo inbox", "err", err)
			} else if n > 0 {
				c.log.Debug("pruned zalo inbox", "rows", n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// shutdown refuses new events and lets the accepted ones be answered for
// the grace.
func (c *Channel) shutdown() { c.inbox.Close(c.grace) }

func (c *Channel) retention() time.Duration {
	if r := 2 * c.cfg.MaxEventAge; r > eventRetention {
		return r
	}
	return eventRetention
}

// Wait blocks until the events accepted so far have been answered (tests).
func (c *Channel) Wait() { c.inbox.Wait() }

// ServeHTTP is the webhook (POST /zalo/webhook).
func (c *Channel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	sig := strings.TrimSpace(r.Header.Get(SignatureHeader))
	if sig == "" {
		c.log.Warn("zalo webhook: missing signature", "remote", r.RemoteAddr)
		http.Error(w, "missing signature", http.StatusUnauthorized)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		c.log.Warn("zalo webhook: malformed body", "err", err)
		http.Error(w, "malformed JSON", http.StatusBadRequest)
		return
	}
	appID := string(ev.AppID)
	if appID == "" {
		appID = c.cfg.AppID
	}
	want := Signature(appID, body, string(ev.Timestamp), c.cfg.OASecretKey)
	if !hmac.Equal([]byte(strings.ToLower(sig)), []byte(want)) || appID != c.cfg.AppID {
		c.log.Warn("zalo webhook: bad signature", "remote", r.RemoteAddr)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if ev.EventName == "" {
		http.Error(w, "missing event_name", http.StatusBadRequest)
		return
	}
	ms, err := strconv.ParseInt(string(ev.Timestamp), 10, 64)
	if err != nil || ms <= 0 {
		http.Error(w, "missing or bad timestamp", http.StatusBadRequest)
		return
	}
	at := time.UnixMilli(ms)
	now := c.now()
	if age := now.Sub(at); age > c.cfg.MaxEventAge || age < -maxFutureSkew {
		c.log.Warn("zalo webhook: stale event refused", "event", ev.EventName, "age", age.Round(time.Second).String())
		http.Error(w, "stale event", http.StatusBadRequest)
		return
	}

	var key, user string
	switch ev.EventName {
	case EventUserSendText:
		user = string(ev.Sender.ID)
		if user == "" || ev.Message.MsgID == "" {
			http.Error(w, "missing sender.id or message.msg_id", http.StatusBadRequest)
			return
		}
		key = "msg:" + string(ev.Message.MsgID)
	case EventFollow, EventUnfollow:
		user = string(ev.Follower.ID)
		if user == "" {
			user = string(ev.Sender.ID)
		}
		if user == "" {
			http.Error(w, "missing follower.id", http.StatusBadRequest)
			return
		}
		// No message id: the user and time identify the event. Hashed, so
		// that the key kept after answering holds no platform id.
		sum := sha256.Sum256([]byte(user + ":" + string(ev.Timestamp)))
		key = ev.EventName + ":" + hex.EncodeToString(sum[:12])
	default:
		c.log.Info("zalo webhook: event ignored", "event", ev.EventName)
		w.WriteHeader(http.StatusOK)
		return
	}
	if retry := r.Header.Get(RetryHeader); retry != "" {
		c.log.Debug("zalo webhook: redelivery", "num_retry", retry)
	}
	payload, err := json.Marshal(storedEvent(ev, user))
	if err != nil {
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	// Answer Zalo once the event is committed; the reply goes out after,
	// in order per user. A redelivery of a committed event is a no-op.
	fresh, err := c.inbox.Add(r.Context(), storage.InboxItem{Key: key, Chat: user, Payload: payload, ReceivedAt: now})
	switch {
	case err == nil:
		if !fresh[0] {
			c.log.Info("zalo webhook: repeated delivery ignored", "event", ev.EventName)
		}
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, inbox.ErrFull), errors.Is(err, inbox.ErrClosed):
		// Zalo delivers it again; it is not lost.
		c.log.Warn("zalo webhook: event refused for now", "why", err.Error())
		http.Error(w, "busy", http.StatusServiceUnavailable)
	default:
		c.log.Error("zalo webhook: store event", "err", err)
		http.Error(w, "try again", http.StatusInternalServerError)
	}
}

// storedEvent is what the inbox keeps of an event: the fields answering
// reads, with the resident's text redacted (never the raw body).
func storedEvent(ev Event, user string) Event {
	var s Event
	s.EventName, s.Timestamp = ev.EventName, ev.Timestamp
	s.Sender.ID = flexString(user)
	s.Message.MsgID = ev.Message.MsgID
	s.Message.Text = privacy.Redact(ev.Message.Text)
	return s
}

// answerItem answers one event from the inbox.
func (c *Channel) answerItem(ctx context.Context, it storage.InboxItem) {
	var ev Event
	if err := json.Unmarshal(it.Payload, &ev); err != nil {
		c.log.Error("zalo: stored event unreadable; skipped", "item", it.ID, "err", err)
		return
	}
	ms, _ := strconv.ParseInt(string(ev.Timestamp), 10, 64)
	c.process(ctx, ev, string(ev.Sender.ID), time.UnixMilli(ms))
}

// process answers one accepted event.
func (c *Channel) process(ctx context.Context, ev Event, user string, at time.Time) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	key := c.store.UserKey(bot.ChannelZalo, user)
	log := c.log.With("user", key, "event", ev.EventName)
	if ctx.Err() != nil {
		log.Warn("zalo: shutting down; the event is answered at the next start")
		return
	}
	switch ev.EventName {
	case EventUserSendText, EventFollow:
		// Every inbound event opens the messaging window. The Zalo id is
		// not stored here (replies take it from the event); features that
		// must write first later (team reminders) store it from the
		// delivery address in ctx, as on every channel.
		if err := c.store.ZaloInbound(ctx, key, "", c.now()); err != nil {
			log.Error("record inbound", "err", err)
		}
		var reply bot.Reply
		if ev.EventName == EventFollow {
			reply = c.eng.Welcome()
		} else {
			msg := c.message(ctx, key, ev.Message.Text, at)
			msg.Admin = c.admins[user]
			hctx := bot.WithDeliveryAddress(ctx, bot.DeliveryAddress{Channel: bot.ChannelZalo, Address: user})
			reply = c.eng.Handle(hctx, msg)
		}
		if err := c.deliver(ctx, user, key, reply); err != nil {
			if reason := bot.FailureReason(err); reason != "" {
				c.eng.Observer().DeliveryFailed(bot.ChannelZalo, reason)
			}
			log.Error("send reply", "err", err)
		}
	case EventUnfollow:
		if err := c.store.SetZaloFollowed(ctx, key, false); err != nil {
			log.Error("mark unfollowed", "err", err)
		}
		if err := c.store.SetZaloOffer(ctx, key, nil); err != nil {
			log.Error("clear offer", "err", err)
		}
		log.Info("resident unfollowed the OA")
	}
}
