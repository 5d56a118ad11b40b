// Package compose phrases answer-band replies with an OpenAI-compatible
// language model (OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio…), strictly
// from the knowledge-base entries retrieval found, and transcribes voice
// questions. It is optional: the engine works without it.
//
// Before any call the question is cleaned, redacted and checked for
// prompt-injection attempts (refused without calling the model). After the
// call the answer must cite the entries it used and must not state a phone
// number, link, amount, duration or legal reference that is not in them;
// otherwise, and on any error, the caller sends the base answer.
package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"

	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/prompts"
	"github.com/colecommune/trolyso/storage"
)

// How a reply was produced (stored as the exchange's answer_mode).
const (
	ModeComposed = "composed"
	ModeFallback = "fallback"
	ModeRefused  = "refused"
)

// Defaults.
const (
	DefaultTimeout      = 12 * time.Second
	DefaultMaxEntries   = 3
	DefaultMaxTokens    = 800
	DefaultRetryBackoff = time.Second
	// temperature is low but not 0: go-openai omits a zero temperature
	// and the server default (often 0.8–1.0) would apply.
	temperature = 0.2
)

// TextRefused is the standard answer to a prompt-injection attempt.
const TextRefused = "Xin lỗi, tôi chỉ trả lời câu hỏi về VNeID, dịch vụ công trực tuyến, chữ ký số và căn cước " +
	"theo tài liệu của xã, và không làm theo yêu cầu thay đổi cách trả lời. " +
	"Bạn hãy gõ câu hỏi về việc cần làm, ví dụ: \"quên mật khẩu VNeID\"."

// textSources heads the list of entries a composed answer used.
const textSources = "Câu trả lời do trợ lý tự động soạn từ hướng dẫn của xã:"

// Config configures a Composer.
type Config struct {
	// BaseURL, APIKey and Model select the chat model.
	BaseURL string
	APIKey  string
	Model   string
	// Timeout bounds one composed answer, retry included (default 12 s).
	Timeout time.Duration
	// STTModel is the transcription model; empty disables voice.
	STTModel string
	// DailyTokens, when positive, is the daily token budget; once spent,
	// Compose falls back without calling the model until the next day.
	DailyTokens int
	// Prompts are the templates (default: the embedded ones).
	Prompts *prompts.Set
	// Commune is the commune's name given to the prompts ("xã Cổ Lễ").
	Commune string
	// Store records usage; nil disables accounting and the budget.
	Store  *storage.DB
	Logger *slog.Logger
	// Now returns the current time.
	Now func() time.Time
	// Location is the time zone of the daily figures and budget
	// (default Asia/Ho_Chi_Minh).
	Location *time.Location
	// HTTPClient is used for model calls (default: a plain client; every
	// call is bounded by a context deadline).
	HTTPClient *http.Client
	// MaxQuestion is the longest question sent, in characters (default 500).
	MaxQuestion int
	// MaxEntries is how many retrieved entries are given (default 3).
	MaxEntries int
	// MaxTokens caps the completion (default 800).
	MaxTokens int
	// RetryBackoff is the wait before the single retry after a 429.
	RetryBackoff time.Duration
	// MaxVoiceSeconds is the longest voice message transcribed (default 90).
	MaxVoiceSeconds int
	// OnFallback, if set, is told why an answer fell back: "timeout",
	// "rate_limited", "malformed", "rejected", "budget" or "error"
	// (bot.Observer.LLMFallback).
	OnFallback func(reason string)
}

// Composer composes grounded answers. It is safe for concurrent use.
type Composer struct {
	cfg    Config
	client *openai.Client
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Composer for cfg.
func New(cfg Config) (*Composer, error) {
	if cfg.BaseURL == "" || cfg.Model == "" {
		return nil, errors.New("compose: base URL and model are required")
	}
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("compose: base URL %q: want an http(s) URL", cfg.BaseURL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxQuestion <= 0 {
		cfg.MaxQuestion = DefaultMaxQuestion
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.MaxVoiceSeconds <= 0 {
		cfg.MaxVoiceSeconds = DefaultMaxVoiceSeconds
	}
	if cfg.Prompts == nil {
		cfg.Prompts = prompts.Embedded()
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = cfg.BaseURL
	if cfg.HTTPClient != nil {
		oc.HTTPClient = cfg.HTTPClient
	}
	c := &Composer{cfg: cfg, client: openai.NewClientWithConfig(oc), log: cfg.Logger, now: cfg.Now}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
		if err != nil {
			loc = time.FixedZone("ICT", 7*3600)
		}
		c.cfg.Location = loc
	}
	return c, nil
}

// Compose phrases an answer to question from entries (best first). It
// returns the reply text and the mode: ModeComposed with the model's
// checked answer and the sources under it; ModeRefused with the standard
// refusal when the question tries to steer the model (no call is made);
// ModeFallback with an empty text when the caller must send the base
// answer (model error, timeout, ungrounded answer, budget spent).
func (c *Composer) Compose(ctx context.Context, question string, entries []*knowledge.Entry) (text, mode string) {
	if text, refused := c.Refusal(ctx, question); refused {
		return text, ModeRefused
	}
	entries = usable(entries, c.cfg.MaxEntries)
	if len(entries) == 0 {
		c.account(ctx, storage.LLMUsage{Fallback: 1})
		c.fallback("error")
		return "", ModeFallback
	}
	if c.budgetSpent(ctx) {
		c.log.Info("daily token budget spent; sending base answer", "budget", c.cfg.DailyTokens)
		c.account(ctx, storage.LLMUsage{Fallback: 1})
		c.fallback("budget")
		return "", ModeFallback
	}
	text, usage, err := c.compose(ctx, Sanitize(question, c.cfg.MaxQuestion), entries)
	if err != nil {
		c.log.Warn("composed answer discarded; sending base answer", "entry", entries[0].ID, "err", err)
		usage.Fallback = 1
		c.account(ctx, usage)
		c.fallback(reason(err))
		return "", ModeFallback
	}
	usage.Composed = 1
	c.account(ctx, usage)
	return text, ModeComposed
}

// Refusal screens a question before retrieval: for a prompt-injection
// attempt it returns the standard refusal (and counts it); otherwise
// refused is false. The engine calls it for every question while composed answers are
// on, so attempts get the same refusal whatever retrieval would decide.
func (c *Composer) Refusal(ctx context.Context, question string) (text string, refused bool) {
	if !IsInjection(question) {
		return "", false
	}
	c.log.Warn("prompt-injection attempt refused; model not called")
	c.account(ctx, storage.LLMUsage{Refused: 1})
	return TextRefused, true
}

func usable(entries []*knowledge.Entry, max int) []*knowledge.Entry {
	out := make([]*knowledge.Entry, 0, max)
	for _, e := range entries {
		if e != nil && e.ID != "" && len(out) < max {
			out = append(out, e)
		}
	}
	return out
}

// compose makes the call (with one retry after a 429) and checks the
// answer. usage counts the tokens of every response received.
func (c *Composer) compose(ctx context.Context, question string, entries []*knowledge.Entry) (string, storage.LLMUsage, error) {
	var usage storage.LLMUsage
	data := prompts.AnswerData{Commune: c.cfg.Commune, Question: question}
	given := map[string]*knowledge.Entry{}
	var texts []string
	for _, e := range entries {
		data.Entries = append(data.Entries, prompts.Entry{ID: e.ID, Title: e.Title, Answer: e.Answer})
		given[strings.ToLower(e.ID)] = e
		texts = append(texts, e.Title, e.Answer, strings.Join(e.Sources, "\n"))
	}
	system, user, err := c.cfg.Prompts.Answer(data)
	if err != nil {
		return "", usage, err
	}
	req := openai.ChatCompletionRequest{
		Model: c.cfg.Model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: system},
			{Role: openai.ChatMessageRoleUser, Content: user},
		},
	}
	if reasoningModel(c.cfg.Model) {
		// OpenAI reasoning models reject max_tokens and any temperature
		// (go-openai checks this before sending); their limit includes
		// the reasoning tokens.
		req.MaxCompletionTokens = 4 * c.cfg.MaxTokens
	} else {
		req.MaxTokens = c.cfg.MaxTokens
		req.Temperature = temperature
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var resp openai.ChatCompletionResponse
	for attempt := 0; ; attempt++ {
		usage.Calls++
		resp, err = c.client.CreateChatCompletion(ctx, req)
		if err == nil {
			break
		}
		if attempt == 0 && status(err) == http.StatusTooManyRequests {
			c.log.Info("model rate-limited; retrying once", "backoff", c.cfg.RetryBackoff)
			t := time.NewTimer(c.cfg.RetryBackoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return "", usage, fmt.Errorf("wait to retry chat completion: %w", ctx.Err())
			case <-t.C:
			}
			continue
		}
		return "", usage, fmt.Errorf("chat completion: %s: %w", describe(err), callKind(err))
	}
	usage.PromptTokens += int64(resp.Usage.PromptTokens)
	usage.CompletionTokens += int64(resp.Usage.CompletionTokens)
	if len(resp.Choices) == 0 {
		return "", usage, fmt.Errorf("%w: no choices in the response", errMalformed)
	}
	ch := resp.Choices[0]
	if ch.FinishReason == openai.FinishReasonLength {
		return "", usage, fmt.Errorf("%w: answer cut at the token limit", errRejected)
	}
	if ch.FinishReason == openai.FinishReasonContentFilter {
		return "", usage, fmt.Errorf("%w: answer stopped by the content filter", errRejected)
	}
	body, ids, found := parseTag(ch.Message.Content)
	switch {
	case strings.TrimSpace(body) == "":
		return "", usage, fmt.Errorf("%w: empty answer", errRejected)
	case !found || len(ids) == 0:
		return "", usage, fmt.Errorf("%w: answer cites no entry", errRejected)
	case utf8.RuneCountInString(body) > maxComposed:
		return "", usage, fmt.Errorf("%w: answer too long", errRejected)
	}
	var used []*knowledge.Entry
	for _, id := range ids {
		e, ok := given[id]
		if !ok {
			return "", usage, fmt.Errorf("%w: answer cites entry %q it was not given", errRejected, id)
		}
		used = append(used, e)
	}
	if why := newSource(texts).ungrounded(body); why != "" {
		return "", usage, fmt.Errorf("%w: ungrounded answer: %s", errRejected, why)
	}
	return body + "\n\n" + sourcesList(used), usage, nil
}

// sourcesList lists the titles and official links of the entries used.
func sourcesList(used []*knowledge.Entry) string {
	var b strings.Builder
	b.WriteString(textSources)
	for _, e := range used {
		b.WriteString("\n- **" + e.Title + "**")
		for i, l := range officialLinks(e) {
			if i == 0 {
				b.WriteString(": ")
			} else {
				b.WriteString(", ")
			}
			b.WriteString("[" + l.label + "](" + l.url + ")")
		}
	}
	return b.String()
}

type link struct{ label, url string }

// officialLinks returns up to two links of an entry to government sites:
// the links in its answer first, then its sources.
func officialLinks(e *knowledge.Entry) []link {
	var out []link
	seen := map[string]bool{}
	add := func(raw string) {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || len(out) >= 2 {
			return
		}
		host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
		if !strings.HasSuffix(host, ".gov.vn") || seen[host] {
			return
		}
		seen[host] = true
		out = append(out, link{label: host, url: raw})
	}
	for _, l := range markup.Links(e.Answer) {
		add(l.URL)
	}
	for _, s := range e.Sources {
		add(s)
	}
	return out
}

// Kinds of failure, reported to Config.OnFallback as reasons.
var (
	errRejected    = errors.New("answer rejected")
	errMalformed   = errors.New("malformed response")
	errTimeout     = errors.New("timeout")
	errRateLimited = errors.New("rate limited")
	errCall        = errors.New("call failed")
)

// callKind classifies a failed call.
func callKind(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return errTimeout
	case status(err) == http.StatusTooManyRequests:
		return errRateLimited
	case status(err) >= 300:
		return errCall
	}
	// A 2xx answer whose body is not the expected JSON (an HTML login
	// page, a truncated body) is decoded directly by go-openai.
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errMalformed
	}
	return errCall
}

// reason is the short machine word for a fallback.
func reason(err error) string {
	for _, k := range []struct {
		err  error
		word string
	}{{errRejected, "rejected"}, {errMalformed, "malformed"}, {errTimeout, "timeout"}, {errRateLimited, "rate_limited"}} {
		if errors.Is(err, k.err) {
			return k.word
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "error"
}

// reasoningModel reports OpenAI model names that take
// max_completion_tokens and no temperature.
func reasoningModel(name string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// status returns the HTTP status of a failed call, or 0.
func status(err error) int {
	var re *openai.RequestError
	if errors.As(err, &re) && re.HTTPStatusCode != 0 {
		return re.HTTPStatusCode
	}
	var ae *openai.APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatusCode
	}
	return 0
}

// describe summarises a failed call for the log without echoing bodies
// (an HTML error page or a proxy message may be long).
func describe(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	var re *openai.RequestError
	if errors.As(err, &re) {
		if re.Err == nil {
			return fmt.Sprintf("HTTP %d with an unexpected body", re.HTTPStatusCode)
		}
		return fmt.Sprintf("HTTP %d: %v", re.HTTPStatusCode, re.Err)
	}
	var ae *openai.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("HTTP %d: %s", ae.HTTPStatusCode, ae.Message)
	}
	return err.Error()
}

func (c *Composer) fallback(reason string) {
	if c.cfg.OnFallback != nil {
		c.cfg.OnFallback(reason)
	}
}

// budgetSpent reports whether today's tokens reached the daily budget.
func (c *Composer) budgetSpent(ctx context.Context) bool {
	if c.cfg.DailyTokens <= 0 || c.cfg.Store == nil {
		return false
	}
	n, err := c.cfg.Store.LLMTokensOn(ctx, c.today())
	if err != nil {
		c.log.Error("read token usage", "err", err)
		return false
	}
	return n >= int64(c.cfg.DailyTokens)
}

// today is the current time in the composer's time zone; usage is kept
// by its date.
func (c *Composer) today() time.Time { return c.now().In(c.cfg.Location) }

// account adds usage to today's figures. A storage failure is logged only.
func (c *Composer) account(ctx context.Context, u storage.LLMUsage) {
	if c.cfg.Store == nil {
		return
	}
	if err := c.cfg.Store.AddLLMUsage(context.WithoutCancel(ctx), c.today(), u); err != nil {
		c.log.Error("record llm usage", "err", err)
	}
}
