// Package metrics exposes trolyso's operational figures in the Prometheus
// text format: messages by channel, replies by band, ratings, LLM
// fallbacks, delivery failures and latency histograms. Each server creates
// its own registry (New), so tests and several servers in one process never
// share counters.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/colecommune/trolyso/bot"
)

// latencyBuckets cover a knowledge-base answer (well under a millisecond
// plus a SQLite commit) up to a slow composed answer (seconds).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20}

// Metrics is one server's set of metrics. It implements bot.Observer.
type Metrics struct {
	reg        *prometheus.Registry
	messages   *prometheus.CounterVec
	replies    *prometheus.CounterVec
	ratings    *prometheus.CounterVec
	fallbacks  *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	httpDur    *prometheus.HistogramVec
}

var _ bot.Observer = (*Metrics)(nil)

// New returns metrics registered on a fresh registry, with the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyso_messages_total",
			Help: "Messages (text or button taps) handled, by channel.",
		}, []string{"channel", "kind"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyso_replies_total",
			Help: "Replies given, by channel and band (answer, clarify, decline, smalltalk, menu, command, refused).",
		}, []string{"channel", "band"}),
		ratings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyso_ratings_total",
			Help: "Ratings of answers, by channel and value (up, down).",
		}, []string{"channel", "value"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyso_llm_fallbacks_total",
			Help: "Composed answers that fell back to the knowledge-base text, by reason.",
		}, []string{"reason"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyso_delivery_failures_total",
			Help: "Replies and reminders a channel could not deliver, by channel and reason.",
		}, []string{"channel", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trolyso_reply_seconds",
			Help:    "Time the engine took to answer a message, by channel.",
			Buckets: latencyBuckets,
		}, []string{"channel"}),
		httpDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trolyso_http_request_seconds",
			Help:    "HTTP request latency, by route and status code.",
			Buckets: latencyBuckets,
		}, []string{"route", "code"}),
	}
	m.reg.MustRegister(m.messages, m.replies, m.ratings, m.fallbacks, m.deliveries, m.latency, m.httpDur,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Start the usual series at zero, so that dashboards and rate()
	// see them before the first event.
	for _, ch := range []string{bot.ChannelWeb, bot.ChannelTelegram, bot.ChannelZalo} {
		for _, kind := range []string{"text", "button"} {
			m.messages.WithLabelValues(ch, kind)
		}
		for _, v := range []string{"up", "down"} {
			m.ratings.WithLabelValues(ch, v)
		}
		m.latency.WithLabelValues(ch)
		if ch != bot.ChannelWeb {
			for _, reason := range []string{"blocked", "undeliverable", "timeout", "error"} {
				m.deliveries.WithLabelValues(ch, reason)
			}
		}
	}
	return m
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Handled implements bot.Observer.
func (m *Metrics) Handled(msg bot.Message, r bot.Reply, d time.Duration) {
	ch := label(msg.Channel)
	kind := "text"
	if msg.Payload != "" {
		kind = "button"
	}
	m.messages.WithLabelValues(ch, kind).Inc()
	m.replies.WithLabelValues(ch, label(string(r.Band))).Inc()
	m.latency.WithLabelValues(ch).Observe(d.Seconds())
}

// Rated implements bot.Observer.
func (m *Metrics) Rated(channel string, value int) {
	v := "down"
	if value > 0 {
		v = "up"
	}
	m.ratings.WithLabelValues(label(channel), v).Inc()
}

// LLMFallback implements bot.Observer.
func (m *Metrics) LLMFallback(reason string) { m.fallbacks.WithLabelValues(label(reason)).Inc() }

// DeliveryFailed implements bot.Observer.
func (m *Metrics) DeliveryFailed(channel, reason string) {
	m.deliveries.WithLabelValues(label(channel), label(reason)).Inc()
}

// Instrument wraps an HTTP handler, observing its latency under route.
func (m *Metrics) Instrument(route string, h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerDuration(m.httpDur.MustCurryWith(prometheus.Labels{"route": route}), h)
}

// Sender wraps a channel's bot.Sender so that failed deliveries are
// counted: bot.ErrBlocked as "blocked", bot.ErrUndeliverable as
// "undeliverable", a cancelled context not at all, anything else "error".
func (m *Metrics) Sender(channel string, s bot.Sender) bot.Sender {
	return &sender{m: m, channel: channel, next: s}
}

type sender struct {
	m       *Metrics
	channel string
	next    bot.Sender
}

func (s *sender) SendTo(ctx context.Context, address string, r bot.Reply) error {
	err := s.next.SendTo(ctx, address, r)
	if err != nil {
		if reason := FailureReason(err); reason != "" {
			s.m.DeliveryFailed(s.channel, reason)
		}
	}
	return err
}

// FailureReason classifies a delivery error for the delivery-failure
// counter; it returns "" for a cancelled or expired context of our own.
func FailureReason(err error) string {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, bot.ErrBlocked):
		return "blocked"
	case errors.Is(err, bot.ErrUndeliverable):
		return "undeliverable"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	default:
		return "error"
	}
}

// label keeps label values short and non-empty, so that a bug elsewhere
// cannot explode the number of series.
func label(s string) string {
	if s == "" {
		return "none"
	}
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.ToValidUTF8(s, "?")
}
