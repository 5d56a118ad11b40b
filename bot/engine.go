package bot

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// DefaultMaxLen is the longest message (in characters) the engine accepts.
const DefaultMaxLen = 1000

// Config holds the engine's dependencies.
type Config struct {
	Store  *storage.DB
	Logger *slog.Logger
	// Now returns the current time; tests inject a clock.
	Now func() time.Time
	// MaxLen is the longest accepted message in characters.
	MaxLen int
	// Observer, if set, receives monitoring events (bot/metrics).
	Observer Observer
	// Composer, if set, phrases answer-band replies with a language model
	// (bot/compose); see also SetComposer.
	Composer Composer
	// Index, if set, is the already built index of the base given to New
	// (the server builds it with a model cache; tests share one).
	Index *knowledge.Index
}

// Engine answers messages from any channel. It is safe for concurrent use.
type Engine struct {
	store  *storage.DB
	log    *slog.Logger
	now    func() time.Time
	maxLen int
	obs    Observer
	kb     atomic.Pointer[kbState]
	// composer is read by every answer; set it before serving.
	composer Composer

	commands map[string]Command
	payloads map[string]PayloadHandler
	// interceptors see free text before the knowledge base does (for
	// example a comment the engine asked for); the first that handles the
	// message wins.
	interceptors []Interceptor
	// alerts holds the links offered for subscribing and the caches of
	// alerts.go.
	alerts alertState
	// decorators adjust every reply of Handle (bot/handoff adds its button
	// to declines and menus).
	decorators []Decorator
}

type kbState struct {
	base  *knowledge.Base
	index *knowledge.Index
}

// Command handles a slash command; args is the text after the command.
type Command struct {
	Handle func(ctx context.Context, m Message, args string) Reply
	// Admin commands are refused, exactly like unknown commands, for
	// everyone who is not an admin.
	Admin bool
	// Help is a one-line description shown by /help for admins.
	Help string
}

// PayloadHandler handles a button tap; args are the payload's fields after
// the prefix ("r:12:+" → prefix "r", args ["12", "+"]).
type PayloadHandler func(ctx context.Context, m Message, args []string) Reply

// Interceptor may handle free text before it is treated as a question.
type Interceptor func(ctx context.Context, m Message) (Reply, bool)

// Decorator may adjust a reply of Handle before it leaves the engine.
type Decorator func(ctx context.Context, m Message, r *Reply)

// New returns an engine answering from base.
func New(cfg Config, base *knowledge.Base) *Engine {
	e := &Engine{
		store:    cfg.Store,
		log:      cfg.Logger,
		now:      cfg.Now,
		maxLen:   cfg.MaxLen,
		obs:      cfg.Observer,
		composer: cfg.Composer,
		commands: map[string]Command{},
		payloads: map[string]PayloadHandler{},
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.maxLen <= 0 {
		e.maxLen = DefaultMaxLen
	}
	if e.obs == nil {
		e.obs = NopObserver{}
	}
	if cfg.Index != nil {
		e.SetIndexed(base, cfg.Index)
	} else {
		e.SetBase(base)
	}
	e.registerCore()
	return e
}

// SetBase swaps in a new knowledge base, building its index (training its
// model unless the binary holds it); messages being answered keep the base
// they started with. See SetIndexed to build the index elsewhere.
func (e *Engine) SetBase(b *knowledge.Base) {
	e.SetIndexed(b, knowledge.NewIndex(b))
}

// SetIndexed swaps in a new knowledge base with its built index (hot
// reload: the previous base keeps answering while the new index trains).
func (e *Engine) SetIndexed(b *knowledge.Base, ix *knowledge.Index) {
	e.kb.Store(&kbState{base: b, index: ix})
}

// ReplaceIndex swaps in a new index for base b only if b is still the
// base in use (a reload's calibrated index must not replace a newer base),
// and reports whether it did.
func (e *Engine) ReplaceIndex(b *knowledge.Base, ix *knowledge.Index) bool {
	for {
		cur := e.kb.Load()
		if cur.base != b {
			return false
		}
		if e.kb.CompareAndSwap(cur, &kbState{base: b, index: ix}) {
			return true
		}
	}
}

// Index returns the index in use.
func (e *Engine) Index() *knowledge.Index { return e.kb.Load().index }

// Base returns the knowledge base in use.
func (e *Engine) Base() *knowledge.Base { return e.kb.Load().base }

// HandleCommand registers a slash command (name without the slash).
func (e *Engine) HandleCommand(name string, c Command) { e.commands[name] = c }

// HandlePayload registers the handler of payloads starting with prefix+":".
func (e *Engine) HandlePayload(prefix string, h PayloadHandler) { e.payloads[prefix] = h }

// Intercept registers an interceptor for free text.
func (e *Engine) Intercept(i Interceptor) { e.interceptors = append(e.interceptors, i) }

// Decorate registers a decorator of every reply Handle gives.
func (e *Engine) Decorate(d Decorator) { e.decorators = append(e.decorators, d) }

func (e *Engine) registerCore() {
	e.registerTeams()
	e.registerRatings()
	e.registerAlerts()
	e.HandleCommand("start", Command{Handle: func(ctx context.Context, m Message, _ string) Reply { return e.Welcome() }})
	e.HandleCommand("help", Command{Handle: func(ctx context.Context, m Message, _ string) Reply { return e.help(m) }})
	e.HandleCommand("menu", Command{Handle: func(ctx context.Context, m Message, _ string) Reply { return e.Menu() }})
	e.HandlePayload("m", func(ctx context.Context, m Message, _ []string) Reply { return e.Menu() })
	e.HandlePayload("c", func(ctx context.Context, m Message, args []string) Reply {
		if len(args) != 1 {
			return e.unknownButton()
		}
		return e.Topic(args[0])
	})
	e.HandlePayload("e", func(ctx context.Context, m Message, args []string) Reply {
		if len(args) != 1 {
			return e.unknownButton()
		}
		return e.answerEntry(ctx, m, args[0])
	})
}

// Handle answers one message. It never fails: problems become polite replies
// and are logged.
func (e *Engine) Handle(ctx context.Context, m Message) (reply Reply) {
	start := time.Now()
	defer func() { e.obs.Handled(m, reply, time.Since(start)) }()
	defer func() {
		defer func() {
			if r := recover(); r != nil {
				e.log.Error("panic while decorating a reply", "channel", m.Channel, "panic", fmt.Sprint(r))
			}
		}()
		for _, d := range e.decorators {
			d(ctx, m, &reply)
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("panic while handling message", "channel", m.Channel, "panic", fmt.Sprint(r))
			reply = Reply{Band: BandRefused, Text: textError}
		}
	}()
	if m.Time.IsZero() {
		m.Time = e.now()
	}
	if m.Payload != "" {
		return e.handlePayload(ctx, m)
	}
	text := cleanText(m.Text)
	if text == "" {
		return Reply{Band: BandRefused, Text: textEmpty, Buttons: menuRow()}
	}
	if n := utf8.RuneCountInString(text); n > e.maxLen {
		return Reply{Band: BandRefused, Text: fmt.Sprintf(textTooLong, e.maxLen)}
	}
	m.Text = text
	if strings.HasPrefix(text, "/") {
		return e.handleCommand(ctx, m)
	}
	for _, i := range e.interceptors {
		if r, ok := i(ctx, m); ok {
			return r
		}
	}
	return e.Ask(ctx, m)
}

// cleanText makes arbitrary input safe to process: valid UTF-8, no control
// characters except newlines, trimmed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func (e *Engine) handleCommand(ctx context.Context, m Message) Reply {
	// The command word ends at any whitespace: phones often put a newline
	// between "/dangky" and the code.
	word, args := m.Text[1:], ""
	if i := strings.IndexFunc(word, unicode.IsSpace); i >= 0 {
		word, args = word[:i], word[i:]
	}
	word, _, _ = strings.Cut(word, "@") // "/start@trolyso_bot"
	c, ok := e.commands[strings.ToLower(word)]
	if !ok || (c.Admin && (!m.Admin || m.Group)) { // admin output (join codes) never goes to a group
		return Reply{Band: BandCommand, Text: textUnknownCmd, Buttons: menuRow()}
	}
	return c.Handle(ctx, m, strings.TrimSpace(args))
}

func (e *Engine) handlePayload(ctx context.Context, m Message) Reply {
	p := cleanText(m.Payload)
	if len(p) > MaxPayloadLen {
		return e.unknownButton()
	}
	parts := strings.Split(p, ":")
	h, ok := e.payloads[parts[0]]
	if !ok {
		return e.unknownButton()
	}
	return h(ctx, m, parts[1:])
}

func (e *Engine) unknownButton() Reply {
	return Reply{Band: BandCommand, Text: textUnknownButton, Buttons: menuRow()}
}

// Welcome is the greeting with the topic menu (/start, follow events).
func (e *Engine) Welcome() Reply {
	return Reply{Band: BandMenu, Text: e.render(textWelcome), Buttons: append(e.alertMenuRow(), e.categoryButtons()...)}
}

// Menu is the topic menu.
func (e *Engine) Menu() Reply {
	return Reply{Band: BandMenu, Text: textMenu, Buttons: append(e.categoryButtons(), e.alertMenuRow()...)}
}

func (e *Engine) help(m Message) Reply {
	text := textHelp
	if m.Admin {
		var b strings.Builder
		for _, name := range slices.Sorted(maps.Keys(e.commands)) {
			if c := e.commands[name]; c.Admin {
				fmt.Fprintf(&b, "\n- /%s – %s", name, c.Help)
			}
		}
		if b.Len() > 0 {
			text += "\n\nLệnh quản trị:" + b.String()
		}
	}
	return Reply{Band: BandMenu, Text: text, Buttons: menuRow()}
}

func (e *Engine) categoryButtons() [][]Button {
	base := e.Base()
	var rows [][]Button
	var row []Button
	for _, c := range base.Categories {
		if len(base.InCategory(c.ID)) == 0 {
			continue
		}
		row = append(row, Button{Label: c.Label, Payload: "c:" + c.ID})
		if len(row) == 2 {
			rows = append(rows, row)
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// Topic lists the questions of one menu category as buttons.
func (e *Engine) Topic(cat string) Reply {
	c, ok := e.Base().Category(cat)
	if !ok {
		return e.unknownButton()
	}
	entries := e.Base().InCategory(cat)
	if len(entries) == 0 {
		return Reply{Band: BandMenu, Text: textTopicEmpty, Buttons: menuRow()}
	}
	rows := make([][]Button, 0, len(entries)+1)
	for _, en := range entries {
		rows = append(rows, entryRow(en))
	}
	rows = append(rows, menuRow()...)
	return Reply{Band: BandMenu, Text: fmt.Sprintf(textTopic, c.Label), Buttons: rows}
}

func menuRow() [][]Button { return [][]Button{{{Label: labelMenu, Payload: "m"}}} }

// render fills commune-profile placeholders in an engine text.
func (e *Engine) render(tmpl string) string {
	out, err := knowledge.Render(tmpl, e.Base().Profile)
	if err != nil {
		e.log.Error("render text", "err", err)
		return tmpl
	}
	return out
}

// Ask answers free text from the knowledge base, recording the exchange.
func (e *Engine) Ask(ctx context.Context, m Message) Reply {
	if r, ok := e.refuse(ctx, m); ok {
		return r
	}
	return e.answerDecision(ctx, m, e.kb.Load().index.Decide(privacy.Strip(m.Text)))
}

// answerDecision replies to free text as the knowledge base decided,
// recording the exchange.
func (e *Engine) answerDecision(ctx context.Context, m Message, d knowledge.Decision) Reply {
	ex := &storage.Exchange{
		UserKey:    m.UserKey,
		Channel:    m.Channel,
		Question:   privacy.Redact(m.Text),
		Normalized: privacy.Redact(d.Normalized),
		Band:       string(d.Band),
		CreatedAt:  m.Time,
	}
	if len(d.Matches) > 0 {
		ex.Score = d.Matches[0].Score
		if d.Band == knowledge.BandAnswer {
			ex.EntryID = d.Matches[0].Entry.ID
		}
	}
	var (
		reply Reply
		also  [][]Button // entries offered under an answer
	)
	switch d.Band {
	case knowledge.BandAnswer:
		reply = e.answerReply(d.Matches[0].Entry)
		e.compose(ctx, m, d.Matches, ex, &reply)
		if reply.Band == BandAnswer && len(d.Also) > 0 {
			also = alsoRows(d.Also)
			reply.Text += "\n\n" + textAlso
		}
	case knowledge.BandClarify:
		reply = Reply{Band: BandClarify, Text: textClarify}
		for _, mt := range d.Matches {
			ex.Candidates = append(ex.Candidates, mt.Entry.ID)
			reply.Buttons = append(reply.Buttons, entryRow(mt.Entry))
		}
		reply.Buttons = append(reply.Buttons, menuRow()...)
	case knowledge.BandSmallTalk:
		reply = e.smallTalk(d.SmallTalk)
		ex.Score = 0
	default:
		reply = Reply{Band: BandDecline, Text: e.render(textDecline), Buttons: menuRow()}
		if len(d.Matches) > 0 {
			// Keep the closest entry for the unanswered-question review.
			ex.Candidates = []string{d.Matches[0].Entry.ID}
		}
	}
	if len(d.Matches) > 0 && reply.Band == BandAnswer {
		reply.Score = d.Matches[0].Score
	}
	e.record(ctx, ex, &reply, also)
	e.alertsOnAnswer(ctx, m, &reply)
	// One line per message is Debug: at hundreds of messages a second the
	// writes to the log serialise every request on the handler's lock; the
	// exchanges table and /metrics hold the same.
	e.log.Debug("answered", "channel", m.Channel, "band", ex.Band, "entry", ex.EntryID, "score", ex.Score)
	return reply
}

// answerEntry shows one entry chosen from a menu or a clarify question.
func (e *Engine) answerEntry(ctx context.Context, m Message, id string) Reply {
	en, ok := e.Base().Entry(id)
	if !ok {
		return e.unknownButton()
	}
	reply := e.answerReply(en)
	ex := &storage.Exchange{
		UserKey:    m.UserKey,
		Channel:    m.Channel,
		Question:   en.Title,
		Normalized: "e:" + en.ID,
		Band:       string(BandAnswer),
		EntryID:    en.ID,
		Score:      1,
		CreatedAt:  m.Time,
	}
	e.record(ctx, ex, &reply, nil)
	e.alertsOnAnswer(ctx, m, &reply)
	return reply
}

func (e *Engine) answerReply(en *knowledge.Entry) Reply {
	return Reply{
		Band:    BandAnswer,
		Text:    "**" + en.Title + "**\n\n" + en.Answer,
		EntryID: en.ID,
	}
}

// record stores the exchange and adds the buttons that refer to it, with
// also (entries offered under an answer) between the rating row and the
// menu. A storage failure is logged, never shown: the resident still gets
// the answer (without rating buttons, which would have nothing to refer to).
func (e *Engine) record(ctx context.Context, ex *storage.Exchange, reply *Reply, also [][]Button) {
	if e.store != nil && ex.UserKey != "" {
		if id, err := e.store.RecordExchange(ctx, ex); err != nil {
			e.log.Error("record exchange", "err", err)
		} else {
			reply.ExchangeID = id
		}
	}
	reply.Buttons = append(reply.Buttons, e.answerButtons(reply, also)...)
}

// answerButtons are the buttons under an answer.
func (e *Engine) answerButtons(reply *Reply, also [][]Button) [][]Button {
	if reply.Band != BandAnswer {
		return nil
	}
	rows := append(ratingRow(reply.ExchangeID), also...)
	return append(rows, menuRow()...)
}

// alsoRows are the buttons of the entries offered under an answer the
// engine is not sure of.
func alsoRows(also []knowledge.Match) [][]Button {
	var rows [][]Button
	for _, m := range also {
		rows = append(rows, entryRow(m.Entry))
	}
	return rows
}

// entryRow is a row with one button that answers with en (a topic list,
// a clarification, an entry offered under an answer).
func entryRow(en *knowledge.Entry) []Button {
	return []Button{{Label: en.Title, Payload: "e:" + en.ID}}
}

func (e *Engine) smallTalk(kind knowledge.SmallTalk) Reply {
	var t string
	switch kind {
	case "thanks":
		t = textThanks
	case "who":
		t = textWho
	case "help":
		return Reply{Band: BandSmallTalk, Text: textHelp, Buttons: e.categoryButtons()}
	case "bye":
		t = textBye
	default:
		t = textGreeting
	}
	return Reply{Band: BandSmallTalk, Text: e.render(t), Buttons: e.categoryButtons()}
}

// FormatID renders an id for payloads.
func FormatID(id int64) string { return strconv.FormatInt(id, 10) }
