// Package metrics exposes trolyso's operational figures in the Prometheus
// text format: messages by channel, replies by band, ratings, LLM
// fallbacks, delivery failures and latency histograms. Each server creates
// its own registry (New), so tests and several servers in one process never
// share counters.
package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
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
	// communeReplies and communeRatings label a province's figures by
	// commune (bounded by the communes configured).
	communeReplies *prometheus.CounterVec
	communeRatings *prometheus.CounterVec
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
	m.communeReplies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trolyso_commune_replies_total",
		Help: "Replies given in a province deployment, by commune and band.",
	}, []string{"commune", "band"})
	m.communeRatings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trolyso_commune_ratings_total",
		Help: "Ratings of answers in a province deployment, by commune and value (up, down).",
	}, []string{"commune", "value"})
	m.reg.MustRegister(m.messages, m.replies, m.ratings, m.fallbacks, m.deliveries, m.latency, m.httpDur, m.communeReplies, m.communeRatings,
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

// RequireBearer lets through only requests carrying "Authorization: Bearer
// <token>"; others get 401 with a WWW-Authenticate challenge. The token is
// compared in constant time (as SHA-256 digests, so that its length does
// not show either).
func RequireBearer(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
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

// Middleware observes the latency of every request served by mux, labelled
// with the mux pattern that matched (so the number of series stays that of
// the registered routes) and the status code.
func (m *Metrics) Middleware(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		mux.ServeHTTP(sw, r)
		route := r.Pattern // set by the mux on r
		if route == "" {
			route = "unmatched"
		}
		if len(route) > 80 {
			route = route[:80]
		}
		m.httpDur.WithLabelValues(strings.ToValidUTF8(route, "?"), strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.code, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flush,
// deadlines).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

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

// FailureReason classifies a delivery error (see bot.FailureReason).
func FailureReason(err error) string { return bot.FailureReason(err) }

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

// Commune returns the observer of one commune's engine in a province
// deployment: every event goes to m as usual, and replies and ratings are
// also counted under the commune's label.
func (m *Metrics) Commune(slug string) bot.Observer {
	for _, v := range []string{"up", "down"} {
		m.communeRatings.WithLabelValues(slug, v)
	}
	return communeObserver{Metrics: m, slug: slug}
}

type communeObserver struct {
	*Metrics
	slug string
}

func (c communeObserver) Handled(msg bot.Message, r bot.Reply, d time.Duration) {
	c.Metrics.Handled(msg, r, d)
	c.communeReplies.WithLabelValues(c.slug, label(string(r.Band))).Inc()
}

func (c communeObserver) Rated(channel string, value int) {
	c.Metrics.Rated(channel, value)
	v := "down"
	if value > 0 {
		v = "up"
	}
	c.communeRatings.WithLabelValues(c.slug, v).Inc()
}
