package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/metrics"
)

type fakeSender struct{ err error }

func (f fakeSender) SendTo(context.Context, string, bot.Reply) error { return f.err }

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return string(b)
}

func TestMetricsExposition(t *testing.T) {
	m := metrics.New()
	m.Handled(bot.Message{Channel: bot.ChannelWeb, Text: "quên mật khẩu"}, bot.Reply{Band: bot.BandAnswer}, 3*time.Millisecond)
	m.Handled(bot.Message{Channel: bot.ChannelWeb, Text: "abc"}, bot.Reply{Band: bot.BandDecline}, time.Millisecond)
	m.Handled(bot.Message{Channel: bot.ChannelTelegram, Payload: "m"}, bot.Reply{Band: bot.BandMenu}, time.Millisecond)
	m.Rated(bot.ChannelWeb, 1)
	m.Rated(bot.ChannelWeb, -1)
	m.Rated(bot.ChannelWeb, -1)
	m.LLMFallback("timeout")
	ctx := context.Background()
	for _, err := range []error{
		nil,
		fmt.Errorf("send: %w", bot.ErrBlocked),
		fmt.Errorf("send: %w", bot.ErrUndeliverable),
		errors.New("boom"),
		context.Canceled,
	} {
		m.Sender(bot.ChannelZalo, fakeSender{err}).SendTo(ctx, "1", bot.Reply{})
	}
	h := m.Instrument("api_message", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/message", nil))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mw := m.Middleware(mux)
	mw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	mw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/khong-co", nil))

	out := scrape(t, m)
	for _, want := range []string{
		`trolyso_messages_total{channel="web",kind="text"} 2`,
		`trolyso_messages_total{channel="telegram",kind="button"} 1`,
		`trolyso_replies_total{band="answer",channel="web"} 1`,
		`trolyso_replies_total{band="decline",channel="web"} 1`,
		`trolyso_ratings_total{channel="web",value="up"} 1`,
		`trolyso_ratings_total{channel="web",value="down"} 2`,
		`trolyso_llm_fallbacks_total{reason="timeout"} 1`,
		`trolyso_delivery_failures_total{channel="zalo",reason="blocked"} 1`,
		`trolyso_delivery_failures_total{channel="zalo",reason="undeliverable"} 1`,
		`trolyso_delivery_failures_total{channel="zalo",reason="error"} 1`,
		`trolyso_reply_seconds_bucket{channel="web",le="0.005"} 2`,
		`trolyso_reply_seconds_count{channel="telegram"} 1`,
		`trolyso_http_request_seconds_count{code="200",route="api_message"} 1`,
		`trolyso_http_request_seconds_count{code="200",route="GET /healthz"} 1`,
		`trolyso_http_request_seconds_count{code="404",route="unmatched"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("exposition:\n%s", out)
	}
}

// Two servers in one process must not share counters (no global registry).
func TestMetricsRegistriesIndependent(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.LLMFallback("error")
	if out := scrape(t, b); strings.Contains(out, "trolyso_llm_fallbacks_total{") {
		t.Errorf("second registry sees the first one's counter:\n%s", out)
	}
}

func TestLabelValuesAreSafe(t *testing.T) {
	m := metrics.New()
	// Invalid UTF-8 and over-long labels must not panic the registry.
	m.DeliveryFailed("\xff\xfe", strings.Repeat("ố", 40))
	m.Handled(bot.Message{}, bot.Reply{}, 0)
	if out := scrape(t, m); !strings.Contains(out, `trolyso_replies_total{band="none",channel="none"} 1`) {
		t.Errorf("empty labels not reported as none:\n%s", out)
	}
}
