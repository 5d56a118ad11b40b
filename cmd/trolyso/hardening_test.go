package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot/privacy"
)

func TestMetricsTokenConfig(t *testing.T) {
	checkConfig(t, map[string]string{}, []configCase{
		{"no token: /metrics open", map[string]string{}, ""},
		{"a good token", map[string]string{"TROLYSO_METRICS_TOKEN": "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=="}, ""},
		{"hex token", map[string]string{"TROLYSO_METRICS_TOKEN": "3f9a0c1d2e3f4a5b6c7d8e9f00112233"}, ""},
		{"too short", map[string]string{"TROLYSO_METRICS_TOKEN": "short"}, "TROLYSO_METRICS_TOKEN"},
		{"a space inside", map[string]string{"TROLYSO_METRICS_TOKEN": "abcdefgh ijklmnopqrs"}, "TROLYSO_METRICS_TOKEN"},
		{"a quote", map[string]string{"TROLYSO_METRICS_TOKEN": `abcdefghijklmnop"q`}, "TROLYSO_METRICS_TOKEN"},
	})
}

// TestMetricsToken: with TROLYSO_METRICS_TOKEN set, /metrics answers only
// to that bearer token (401 with a challenge otherwise), /healthz stays
// open, and the token never reaches the logs.
func TestMetricsToken(t *testing.T) {
	const token = "SECRETmetrics-token_0123456789"
	env := map[string]string{"TROLYSO_ADDR": "127.0.0.1:0", "TROLYSO_DB": t.TempDir() + "/m.db", "TROLYSO_METRICS_TOKEN": token, "TROLYSO_DEBUG": "1"}
	logs := &syncBuffer{}
	a := &app{getenv: func(k string) string { return env[k] }, now: time.Now, stdout: io.Discard, stderr: logs,
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: privacy.ReplaceAttr}))}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	addr, stop := startServe(t, a, cfg)
	get := func(path, auth string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
	}
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"no header", "/metrics", "", http.StatusUnauthorized},
		{"wrong token", "/metrics", "Bearer SECRETwrong-guess_0123456789", http.StatusUnauthorized},
		{"token prefix only", "/metrics", "Bearer " + token[:10], http.StatusUnauthorized},
		{"basic auth", "/metrics", "Basic " + token, http.StatusUnauthorized},
		{"token without scheme", "/metrics", token, http.StatusUnauthorized},
		{"right token", "/metrics", "Bearer " + token, http.StatusOK},
		{"healthz stays open", "/healthz", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, challenge, body := get(tt.path, tt.auth)
			if code != tt.want {
				t.Fatalf("GET %s = %d, want %d", tt.path, code, tt.want)
			}
			if code == http.StatusUnauthorized && !strings.HasPrefix(challenge, "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", challenge)
			}
			if tt.path == "/metrics" && code == http.StatusOK && !strings.Contains(body, "trolyso_messages_total") {
				t.Errorf("metrics body: %.200s", body)
			}
			if code == http.StatusUnauthorized && strings.Contains(body, "trolyso_") {
				t.Errorf("metrics served without the token: %.200s", body)
			}
		})
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); strings.Contains(out, token) || strings.Contains(out, "SECRETwrong") {
		t.Errorf("the token reached the logs:\n%s", grepLines(out, "SECRET"))
	}
}
