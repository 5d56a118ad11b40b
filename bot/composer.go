package bot

import (
	"context"

	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// How an answer-band reply was produced (Composer modes, stored as the
// exchange's answer_mode).
const (
	AnswerBase     = "base"
	AnswerComposed = "composed"
	AnswerFallback = "fallback"
	AnswerRefused  = "refused"
)

// Composer phrases an answer-band reply with a language model, strictly
// from the retrieved entries (bot/compose implements it). Compose returns
// the reply text and the mode: AnswerComposed (text replaces the entry's
// own), AnswerRefused (text is a refusal: the question tried to steer the
// model) or AnswerFallback (text is empty: send the base answer). It never
// fails otherwise and must answer within its own timeout.
type Composer interface {
	Compose(ctx context.Context, question string, entries []*knowledge.Entry) (text, mode string)
}

// Guard is implemented by composers that screen every question before
// retrieval (prompt-injection attempts get a standard refusal and are
// counted, whatever band retrieval would choose).
type Guard interface {
	Refusal(ctx context.Context, question string) (text string, refused bool)
}

// maxComposeEntries is how many retrieved entries a Composer is given.
const maxComposeEntries = 3

// SetComposer enables (or, with nil, disables) composed answers. Call it
// before the engine serves messages.
func (e *Engine) SetComposer(c Composer) { e.composer = c }

// refuse answers a question the composer's guard refuses, recording it as
// a refused exchange. ok is false when there is no guard or it lets the
// question through.
func (e *Engine) refuse(ctx context.Context, m Message) (Reply, bool) {
	g, ok := e.composer.(Guard)
	if !ok {
		return Reply{}, false
	}
	text, refused := g.Refusal(ctx, m.Text)
	if !refused {
		return Reply{}, false
	}
	reply := Reply{Band: BandRefused, Text: text, Buttons: menuRow()}
	e.record(ctx, &storage.Exchange{
		UserKey:    m.UserKey,
		Channel:    m.Channel,
		Question:   privacy.Redact(m.Text),
		Band:       string(BandRefused),
		AnswerMode: AnswerRefused,
		CreatedAt:  m.Time,
	}, &reply, nil)
	e.log.Debug("answered", "channel", m.Channel, "band", BandRefused)
	return reply, true
}

// compose lets the composer, when there is one, rephrase an answer-band
// reply; clarify and decline replies never reach it.
func (e *Engine) compose(ctx context.Context, m Message, matches []knowledge.Match, ex *storage.Exchange, reply *Reply) {
	if e.composer == nil || len(matches) == 0 {
		return
	}
	entries := make([]*knowledge.Entry, 0, maxComposeEntries)
	for _, mt := range matches {
		if len(entries) == maxComposeEntries {
			break
		}
		entries = append(entries, mt.Entry)
	}
	text, mode := e.composer.Compose(ctx, m.Text, entries)
	switch mode {
	case AnswerComposed:
		if text == "" {
			ex.AnswerMode = AnswerFallback
			return
		}
		reply.Text = text
		ex.AnswerMode = AnswerComposed
	case AnswerRefused:
		*reply = Reply{Band: BandRefused, Text: text, Buttons: menuRow()}
		ex.Band = string(BandRefused)
		ex.EntryID, ex.Score = "", 0
		ex.AnswerMode = AnswerRefused
	default:
		ex.AnswerMode = AnswerFallback
	}
}
