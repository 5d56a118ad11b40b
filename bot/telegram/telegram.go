// Package telegram is trolyso's Telegram channel: it turns Bot API updates
// into bot.Message values for the engine and renders bot.Reply values as
// Telegram messages (HTML parse mode, inline keyboards), over
// github.com/go-telegram/bot.
//
// Updates arrive by long polling (the default; any webhook is deleted
// first, since the library does not do it) or by webhook (Config.WebhookURL
// set; our own handler checks the secret token, which the library's handler
// does not enforce). Either way every update is committed to the durable
// inbox (bot/inbox) before Telegram is told it arrived: the webhook answers
// 200 only after the commit, and long polling (our own getUpdates loop: the
// library's moves its offset before handlers run) asks for the next offset
// only once the batch is committed. Workers answer one chat's updates in
// the order sent while other chats proceed in parallel; updates left
// pending by a crash are answered first at the next start, or taken over
// by another instance on the same database (bot/inbox).
package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/inbox"
	"github.com/colecommune/trolyso/storage"
)

// Defaults.
const (
	// DefaultPollTimeout is how long one getUpdates call may wait.
	DefaultPollTimeout = 50 * time.Second
	// DefaultFloodLimit is how many updates a user may send per minute.
	DefaultFloodLimit = 20
	// DefaultWebhookPath is used when the webhook URL has no path.
	DefaultWebhookPath = "/telegram/webhook"

	// DefaultWorkers bounds the chats answered at once; most of a reply's
	// time is spent waiting for the send limits.
	DefaultWorkers = 64
	// processTimeout bounds the handling of one update, retries included.
	processTimeout = 2 * time.Minute
	// shutdownGrace is how long queued updates may still be answered after
	// Run's context ends.
	shutdownGrace = 15 * time.Second
	// maxWebhookBody bounds a webhook request body.
	maxWebhookBody = 1 << 20
)

// allowedUpdates are the update types the bot asks Telegram for.
var allowedUpdates = []string{"message", "callback_query", "my_chat_member"}

// Config holds the adapter's settings and dependencies.
type Config struct {
	Token string
	// APIURL is the Bot API server (default https://api.telegram.org).
	APIURL string
	// WebhookURL and WebhookSecret switch to webhook mode.
	WebhookURL    string
	WebhookSecret string
	// AdminIDs are the Telegram user ids of the commune's admins.
	AdminIDs []int64

	Engine bot.Handler
	Store  *storage.DB
	Logger *slog.Logger
	// Now returns the current time (flood limiter); tests inject a clock.
	Now func() time.Time
	// HTTPClient talks to the Bot API; its Timeout must exceed
	// PollTimeout. Default: a client with PollTimeout + 15 s.
	HTTPClient *http.Client
	// PollTimeout is the long-polling wait (default DefaultPollTimeout).
	PollTimeout time.Duration
	// FloodLimit is the number of updates a user may send per minute
	// (default DefaultFloodLimit).
	FloodLimit int
	// Voice, when set, transcribes voice notes into text questions. When
	// nil, voice notes get the same "please type" reply as other media.
	Voice VoiceHandler
	// InboxCapacity bounds the updates accepted and not yet answered
	// (default inbox.DefaultCapacity); beyond it the webhook answers 503
	// and long polling waits, so that Telegram keeps them.
	InboxCapacity int
	// InboxOwner names this instance in the inbox's claims, as in job
	// leases (default: a fresh name; see bot/inbox).
	InboxOwner string
	// SharedPacing, when set, spaces the bot's messages across every
	// instance on one database (several servers share one bot's limit of
	// about 30 messages a second); per-chat limits stay per instance.
	SharedPacing SharedPacing
}

// SharedPacing hands out the bot's send slots to every instance
// (storage.DB implements it).
type SharedPacing interface {
	TakeTurn(ctx context.Context, name string, now time.Time, every time.Duration) (time.Time, error)
	PausePacing(ctx context.Context, name string, until time.Time) error
}

// Adapter is the Telegram channel. It implements bot.Sender.
type Adapter struct {
	cfg    Config
	b      *tgbot.Bot
	eng    bot.Handler
	store  *storage.DB
	log    *slog.Logger
	now    func() time.Time
	client *http.Client
	admins map[int64]bool
	botID  int64
	voice  VoiceHandler

	mu       sync.Mutex
	username string // the bot's @username, lower case, from getMe

	// inbox holds the accepted updates until they are answered; at
	// shutdown they may be answered for grace more.
	inbox *inbox.Inbox
	grace time.Duration

	flood *floodLimiter
	rates *sendLimiter
	// staff are the commune staff's group chats by chat id, when
	// configured (staff.go).
	staff map[int64]*staffGroup
}

var _ bot.Sender = (*Adapter)(nil)

// New creates the adapter. It does not contact Telegram; Run does.
func New(cfg Config) (*Adapter, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("telegram: empty bot token")
	}
	if cfg.Engine == nil || cfg.Store == nil {
		return nil, errors.New("telegram: engine and store are required")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = "https://api.telegram.org"
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = DefaultPollTimeout
	}
	if cfg.PollTimeout < 2*time.Second {
		cfg.PollTimeout = 2 * time.Second // getUpdates timeout is PollTimeout-1s
	}
	if cfg.FloodLimit <= 0 {
		cfg.FloodLimit = DefaultFloodLimit
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.PollTimeout + 15*time.Second}
	}
	if cfg.WebhookURL != "" && cfg.WebhookSecret == "" {
		return nil, errors.New("telegram: webhook mode needs a secret token")
	}
	a := &Adapter{
		cfg:    cfg,
		eng:    cfg.Engine,
		store:  cfg.Store,
		log:    cfg.Logger.With("channel", bot.ChannelTelegram),
		now:    cfg.Now,
		client: cfg.HTTPClient,
		admins: map[int64]bool{},
		voice:  cfg.Voice,
		flood:  newFloodLimiter(cfg.FloodLimit, time.Minute),
		grace:  shutdownGrace,
		rates:  newSendLimiter(cfg.SharedPacing, cfg.Logger),
	}
	for _, id := range cfg.AdminIDs {
		a.admins[id] = true
	}
	// The library is used to send; updates are received by our own
	// webhook handler and getUpdates loop (poll.go).
	b, err := tgbot.New(cfg.Token,
		tgbot.WithServerURL(cfg.APIURL),
		tgbot.WithSkipGetMe(), // Run calls getMe itself, with retries
		tgbot.WithHTTPClient(cfg.PollTimeout, cfg.HTTPClient),
		tgbot.WithErrorsHandler(func(err error) {
			a.log.Warn("telegram library error", "err", a.scrub(err))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: create client: %w", err)
	}
	a.b = b
	a.botID = b.ID() // the token starts with the bot's user id
	// Updates left pending by the previous run are queued now, ahead of
	// any new one; they are answered once getMe told the bot's name.
	a.inbox, err = inbox.New(inbox.Config{
		Store:    cfg.Store,
		Channel:  bot.ChannelTelegram,
		Handle:   a.answerItem,
		Logger:   a.log,
		Now:      cfg.Now,
		Capacity: cfg.InboxCapacity,
		Workers:  DefaultWorkers,
		Gated:    true,
		Owner:    cfg.InboxOwner,
	})
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	if err := a.inbox.Start(context.Background()); err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	return a, nil
}

// Webhook reports whether the adapter runs in webhook mode.
func (a *Adapter) Webhook() bool { return a.cfg.WebhookURL != "" }

// WebhookPath is the local HTTP path for a webhook URL: its path, or
// DefaultWebhookPath when it has none.
func WebhookPath(webhookURL string) string {
	u, err := url.Parse(webhookURL)
	if err != nil || u.Path == "" || u.Path == "/" {
		return DefaultWebhookPath
	}
	return u.Path
}

// Run connects to Telegram and receives updates until ctx ends: long
// polling (after deleting any webhook) or, in webhook mode, registering the
// webhook and waiting while WebhookHandler receives updates. It returns nil
// when ctx ends, after the replies in flight are sent (bounded), and an
// error when the token is refused.
func (a *Adapter) Run(ctx context.Context) error {
	defer a.shutdown()
	err := a.run(ctx)
	if ctx.Err() != nil {
		return nil // stopped while starting: not a failure
	}
	return err
}

func (a *Adapter) run(ctx context.Context) error {
	me, err := retryStartup(ctx, a, "getMe", func(ctx context.Context) (*models.User, error) {
		return a.b.GetMe(ctx)
	})
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.username = strings.ToLower(me.Username)
	a.mu.Unlock()
	a.inbox.Open()
	go a.prune(ctx)
	if a.Webhook() {
		_, err := retryStartup(ctx, a, "setWebhook", func(ctx context.Context) (bool, error) {
			return a.b.SetWebhook(ctx, &tgbot.SetWebhookParams{
				URL:            a.cfg.WebhookURL,
				SecretToken:    a.cfg.WebhookSecret,
				AllowedUpdates: allowedUpdates,
			})
		})
		if err != nil {
			return err
		}
		a.log.Info("telegram bot started (webhook)", "bot", me.Username, "path", WebhookPath(a.cfg.WebhookURL))
		<-ctx.Done()
		return nil
	}
	// The library never deletes a webhook, and getUpdates fails with 409
	// while one is set.
	if _, err := retryStartup(ctx, a, "deleteWebhook", func(ctx context.Context) (bool, error) {
		return a.b.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{})
	}); err != nil {
		return err
	}
	a.log.Info("telegram bot started (long polling)", "bot", me.Username)
	return a.poll(ctx)
}

// prune deletes the keys of old handled updates, hourly, until ctx ends.
func (a *Adapter) prune(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := a.inbox.Prune(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("telegram: prune inbox", "err", err)
		} else if n > 0 {
			a.log.Debug("telegram: pruned inbox", "items", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Wait blocks until the updates accepted so far are answered (tests).
func (a *Adapter) Wait() { a.inbox.Wait() }

// shutdown stops accepting updates and lets the accepted ones be answered
// for shutdownGrace; what is left is answered at the next start or by
// another instance.
func (a *Adapter) shutdown() {
	a.inbox.Open() // updates accepted before getMe failed still get an answer
	a.inbox.Close(a.grace)
}

// retryStartup runs a start-up call with bounded exponential backoff on
// network and server errors; a refused token is fatal.
func retryStartup[T any](ctx context.Context, a *Adapter, what string, fn func(context.Context) (T, error)) (T, error) {
	delay := time.Second
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		v, err := fn(cctx)
		cancel()
		if err == nil {
			return v, nil
		}
		if errors.Is(err, tgbot.ErrorUnauthorized) || errors.Is(err, tgbot.ErrorNotFound) {
			return v, fmt.Errorf("telegram %s: bot token refused: %s", what, a.scrub(err))
		}
		if ctx.Err() != nil {
			return v, ctx.Err()
		}
		var tooMany *tgbot.TooManyRequestsError
		wait := delay
		if errors.As(err, &tooMany) && tooMany.RetryAfter > 0 {
			wait = time.Duration(tooMany.RetryAfter) * time.Second
		}
		a.log.Warn("telegram start-up call failed; retrying", "call", what, "in", wait, "err", a.scrub(err))
		if err := sleep(ctx, wait); err != nil {
			return v, err
		}
		delay = min(delay*2, time.Minute)
	}
}

// WebhookHandler receives updates in webhook mode. Unlike the library's
// handler it answers 401 to a request without the right secret token, 400
// to a body that is not an update, 503 when the inbox is full or the
// adapter is stopping (Telegram delivers it again later), and 200 once the
// update is committed to the inbox (or was already).
func (a *Adapter) WebhookHandler() http.Handler {
	want := sha256.Sum256([]byte(a.cfg.WebhookSecret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Compare digests so that the comparison takes the same time
		// whatever the length of the presented token.
		got := sha256.Sum256([]byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token")))
		if a.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			a.log.Warn("telegram webhook: wrong or missing secret token", "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		it, ok, err := a.item(body)
		if err != nil {
			a.log.Warn("telegram webhook: malformed update", "bytes", len(body))
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if !ok {
			w.WriteHeader(http.StatusOK) // nothing we answer; acknowledged
			return
		}
		switch _, err := a.inbox.Add(r.Context(), it); {
		case err == nil:
			w.WriteHeader(http.StatusOK)
		case errors.Is(err, inbox.ErrFull), errors.Is(err, inbox.ErrClosed):
			// Telegram delivers it again later; it is not lost.
			a.log.Warn("telegram webhook: update refused for now", "why", err.Error())
			w.Header().Set("Retry-After", "5")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		default:
			a.log.Error("telegram webhook: store update", "err", err)
			http.Error(w, "try again", http.StatusInternalServerError)
		}
	})
}

// process handles one update; nothing a user sends may crash the process.
func (a *Adapter) process(ctx context.Context, u *models.Update) {
	ctx, cancel := context.WithTimeout(ctx, processTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("telegram: panic while handling update", "update", u.ID, "panic", fmt.Sprint(r))
		}
	}()
	if a.staffUpdate(ctx, u) {
		return
	}
	switch {
	case u.Message != nil:
		a.handleMessage(ctx, u.Message)
	case u.CallbackQuery != nil:
		a.handleCallback(ctx, u.CallbackQuery)
	case u.MyChatMember != nil:
		a.handleMemberUpdate(ctx, u.MyChatMember)
	}
}

// chatOf returns the chat an update belongs to (its ordering key).
func chatOf(u *models.Update) (int64, bool) {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID, true
	case u.CallbackQuery != nil:
		cq := u.CallbackQuery
		switch {
		case cq.Message.Type == models.MaybeInaccessibleMessageTypeMessage && cq.Message.Message != nil:
			return cq.Message.Message.Chat.ID, true
		case cq.Message.Type == models.MaybeInaccessibleMessageTypeInaccessibleMessage && cq.Message.InaccessibleMessage != nil:
			return cq.Message.InaccessibleMessage.Chat.ID, true
		}
		return cq.From.ID, cq.From.ID != 0 // private chat id == user id
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID, true
	}
	return 0, false
}

// scrub removes the bot token from an error text before it is logged.
func (a *Adapter) scrub(err error) string {
	if err == nil {
		return ""
	}
	return strings.ReplaceAll(err.Error(), a.cfg.Token, "***")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// floodLimiter allows each user limit updates per window; the first
// refused update gets a notice, the following ones silence.
type floodLimiter struct {
	limit  int
	window time.Duration
	mu     sync.Mutex
	users  map[int64]*floodState
	sweep  time.Time
}

type floodState struct {
	lim        *rate.Limiter
	mutedUntil time.Time
	last       time.Time
}

func newFloodLimiter(limit int, window time.Duration) *floodLimiter {
	return &floodLimiter{limit: limit, window: window, users: map[int64]*floodState{}}
}

// allow reports whether the user may be answered now, and whether they
// must be told that they are going too fast. After the notice the user is
// ignored for a whole window, so a flood gets exactly one notice.
func (f *floodLimiter) allow(user int64, now time.Time) (ok, notify bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Sub(f.sweep) > f.window {
		for id, st := range f.users {
			if now.Sub(st.last) > 2*f.window && now.After(st.mutedUntil) {
				delete(f.users, id)
			}
		}
		f.sweep = now
	}
	st := f.users[user]
	if st == nil {
		st = &floodState{lim: rate.NewLimiter(rate.Every(f.window/time.Duration(f.limit)), f.limit)}
		f.users[user] = st
	}
	st.last = now
	if now.Before(st.mutedUntil) {
		return false, false
	}
	if st.lim.AllowN(now, 1) {
		return true, false
	}
	st.mutedUntil = now.Add(f.window)
	return false, true
}
