package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/knowledge/vi"
	"github.com/colecommune/trolyso/storage"
)

// Ratings: every answer carries 👍/👎 buttons ("r:<exchangeID>:+" and
// "r:<exchangeID>:-"). After 👎 the engine offers reasons
// ("rr:<exchangeID>:<code>") and takes the resident's next free text within
// CommentWindow as a comment. After 👍 on a dvc entry it offers the service
// survey (bot/survey.go) at most once per SurveyEvery.

const (
	// CommentWindow is how long the next free text counts as a comment.
	CommentWindow = 10 * time.Minute
	// SurveyEvery is how often at most the survey is offered to a resident.
	SurveyEvery = 30 * 24 * time.Hour
	// maxCommentLen is the longest comment kept, in characters.
	maxCommentLen = 500

	pendingRatingComment = "rating_comment"
	pendingSurveyComment = "survey_comment"
)

const (
	labelUp         = "👍 Hài lòng"
	labelDown       = "👎 Chưa hài lòng"
	labelSkip       = "Bỏ qua"
	labelSurvey     = "📝 Đánh giá dịch vụ công"
	textRatedUp     = "Đã ghi nhận: **👍 Hài lòng**. Cảm ơn bạn đã đánh giá! Rất vui vì câu trả lời giúp được bạn."
	textRatedDn     = "Đã ghi nhận: **👎 Chưa hài lòng**. Cảm ơn bạn đã góp ý. Câu trả lời chưa tốt ở điểm nào? Bạn chọn một lý do bên dưới, hoặc gõ vài chữ góp ý (không bắt buộc, không ghi số điện thoại hay số căn cước)."
	textReason      = "Đã ghi nhận lý do. Nếu muốn, bạn gõ thêm góp ý ngắn trong vài phút tới; hoặc bấm **Bỏ qua**."
	textComment     = "Cảm ơn bạn! Góp ý đã được ghi lại để cán bộ xã hoàn thiện câu trả lời. Bạn cứ gõ câu hỏi khác nếu cần."
	textCommentKept = "(Đã ghi lại tin nhắn này làm góp ý cho câu trả lời trước.)"
	textSkipped     = "Vâng. Bạn cứ gõ câu hỏi khác, hoặc bấm **Chủ đề** để xem các câu hỏi thường gặp."
	textNoRate      = "Không ghi nhận được đánh giá này: chỉ đánh giá được câu trả lời đã gửi cho chính bạn."
	textOfferSvy    = "\n\nBạn vừa dùng dịch vụ công trực tuyến? Xin dành ít giây đánh giá mức độ hài lòng của bạn để xã phục vụ tốt hơn."
)

// ratingRow is the 👍/👎 row under an answer stored as exchange id.
func ratingRow(id int64) [][]Button {
	if id == 0 {
		return nil
	}
	p := "r:" + FormatID(id) + ":"
	return [][]Button{{{Label: labelUp, Payload: p + "+"}, {Label: labelDown, Payload: p + "-"}}}
}

func (e *Engine) registerRatings() {
	e.HandlePayload("r", e.rate)
	e.HandlePayload("rr", e.rateReason)
	e.HandlePayload("x", e.skipPending)
	e.Intercept(e.takeComment)
	e.registerSurvey()
	e.registerStats()
}

func (e *Engine) rate(ctx context.Context, m Message, args []string) Reply {
	if len(args) != 2 || (args[1] != "+" && args[1] != "-") {
		return e.unknownButton()
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || id <= 0 {
		return e.unknownButton()
	}
	if e.store == nil || m.UserKey == "" {
		return Reply{Band: BandCommand, Text: textNoRate, Buttons: menuRow()}
	}
	value := 1
	if args[1] == "-" {
		value = -1
	}
	res, err := e.store.Rate(ctx, m.UserKey, id, value)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrNotYours), errors.Is(err, storage.ErrNotRatable):
		e.log.Info("rating refused", "channel", m.Channel, "exchange", id, "why", err)
		return Reply{Band: BandCommand, Text: textNoRate, Buttons: menuRow()}
	case err != nil:
		e.log.Error("rate answer", "exchange", id, "err", err)
		return Reply{Band: BandCommand, Text: textError, Buttons: menuRow()}
	}
	e.log.Debug("answer rated", "channel", m.Channel, "exchange", id, "entry", res.EntryID, "value", value, "previous", res.Previous)
	if res.Previous != value {
		e.obs.Rated(m.Channel, value)
	}
	if value < 0 {
		e.setPending(ctx, m, pendingRatingComment, FormatID(id))
		rows := [][]Button{}
		var row []Button
		for _, r := range stats.Reasons {
			row = append(row, Button{Label: r.Label, Payload: "rr:" + FormatID(id) + ":" + r.Code})
			if len(row) == 2 {
				rows, row = append(rows, row), nil
			}
		}
		rows = append(rows, []Button{{Label: labelSkip, Payload: "x"}})
		return Reply{Band: BandCommand, Text: textRatedDn, Buttons: rows}
	}
	if res.Previous == -1 {
		e.clearPending(ctx, m)
	}
	reply := Reply{Band: BandCommand, Text: textRatedUp, Buttons: menuRow()}
	if res.Previous != 1 && e.isService(res.EntryID) {
		ok, err := e.store.OfferSurvey(ctx, m.Channel, m.UserKey, m.Time, SurveyEvery)
		if err != nil {
			e.log.Error("offer survey", "err", err)
		} else if ok {
			reply.Text += textOfferSvy
			reply.Buttons = append([][]Button{{{Label: labelSurvey, Payload: "sv"}}}, reply.Buttons...)
		}
	}
	return reply
}

// isService reports whether an entry explains a public service.
func (e *Engine) isService(entryID string) bool {
	en, ok := e.Base().Entry(entryID)
	return ok && en.Service != ""
}

func (e *Engine) rateReason(ctx context.Context, m Message, args []string) Reply {
	if len(args) != 2 || stats.ReasonLabel(args[1]) == args[1] {
		return e.unknownButton()
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || e.store == nil {
		return e.unknownButton()
	}
	err = e.store.SetRatingReason(ctx, m.UserKey, id, args[1])
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrNotYours), errors.Is(err, storage.ErrNotRatable):
		return Reply{Band: BandCommand, Text: textNoRate, Buttons: menuRow()}
	case err != nil:
		e.log.Error("set rating reason", "exchange", id, "err", err)
		return Reply{Band: BandCommand, Text: textError, Buttons: menuRow()}
	}
	e.setPending(ctx, m, pendingRatingComment, FormatID(id))
	return Reply{Band: BandCommand, Text: textReason, Buttons: [][]Button{{{Label: labelSkip, Payload: "x"}, {Label: labelMenu, Payload: "m"}}}}
}

func (e *Engine) skipPending(ctx context.Context, m Message, _ []string) Reply {
	e.clearPending(ctx, m)
	return Reply{Band: BandCommand, Text: textSkipped, Buttons: menuRow()}
}

func (e *Engine) setPending(ctx context.Context, m Message, kind, data string) {
	if e.store == nil || m.UserKey == "" {
		return
	}
	if err := e.store.SetPending(ctx, m.UserKey, storage.Pending{Kind: kind, Data: data, Expires: m.Time.Add(CommentWindow)}); err != nil {
		e.log.Error("set pending state", "err", err)
	}
}

func (e *Engine) clearPending(ctx context.Context, m Message) {
	if e.store == nil || m.UserKey == "" {
		return
	}
	if err := e.store.ClearPending(ctx, m.UserKey); err != nil {
		e.log.Error("clear pending state", "err", err)
	}
}

// takeComment treats free text as the comment the engine asked for, when
// one is pending.
func (e *Engine) takeComment(ctx context.Context, m Message) (Reply, bool) {
	if e.store == nil || m.UserKey == "" {
		return Reply{}, false
	}
	if has, err := e.store.HasPending(ctx, m.UserKey); err != nil || !has {
		return Reply{}, false
	}
	p, ok, err := e.store.TakePending(ctx, m.UserKey, m.Time)
	if err != nil {
		e.log.Error("take pending state", "err", err)
		return Reply{}, false
	}
	if !ok {
		return Reply{}, false
	}
	id, err := strconv.ParseInt(p.Data, 10, 64)
	if err != nil {
		return Reply{}, false
	}
	comment := privacy.Redact(truncate(m.Text, maxCommentLen))
	switch p.Kind {
	case pendingRatingComment:
		err = e.store.SetRatingComment(ctx, m.UserKey, id, comment)
	case pendingSurveyComment:
		err = e.store.SetSurveyComment(ctx, m.UserKey, id, comment)
	default:
		return Reply{}, false
	}
	if errors.Is(err, storage.ErrNotFound) {
		// The rating changed to 👍 meanwhile: treat the text as a question.
		return Reply{}, false
	}
	if err != nil {
		e.log.Error("store comment", "kind", p.Kind, "err", err)
		return Reply{Band: BandCommand, Text: textError, Buttons: menuRow()}, true
	}
	e.log.Info("comment stored", "channel", m.Channel, "kind", p.Kind)
	// A resident who asks a new question instead of commenting gets it
	// handled as a question — answered, clarified or declined with the
	// contacts, and recorded (so a declined one reaches the unanswered
	// list) — and the text is kept as the comment too.
	if r, ok := e.askIfQuestion(ctx, m); ok {
		r.Text = textCommentKept + "\n\n" + r.Text
		return r, true
	}
	return Reply{Band: BandCommand, Text: textComment, Buttons: menuRow()}, true
}

// askIfQuestion answers text that came where a comment was expected when
// it reads as a question: the knowledge base answers or clarifies it, or
// it asks something (a question mark, a question word, a request for
// guidance). Plain remarks ("khó hiểu quá", "cảm ơn") are only comments.
func (e *Engine) askIfQuestion(ctx context.Context, m Message) (Reply, bool) {
	if r, ok := e.refuse(ctx, m); ok {
		return r, true
	}
	// Only a message that reads as a question is one: a remark ("nhanh,
	// rõ ràng") may share words with an entry without asking about it.
	if !asksSomething(m.Text) {
		return Reply{}, false
	}
	d := e.kb.Load().index.Decide(privacy.Strip(m.Text))
	if d.Band == knowledge.BandSmallTalk {
		return Reply{}, false
	}
	return e.answerDecision(ctx, m, d), true
}

// asksSomething reports whether text reads as a question: a sentence
// ending with a question mark, or a clause with a question word, a yes/no
// ending or a request for guidance (knowledge/vi).
func asksSomething(text string) bool {
	for _, c := range vi.MessageClauses(vi.Clean(privacy.Strip(text))) {
		if c.Asked || vi.IsQuestion(vi.TokenizeClean(c.Text)) {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…"
}
