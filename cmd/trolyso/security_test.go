package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/bot/zalo"
)

// adminRoutes finds every route pattern under /admin registered anywhere
// in the source tree (mux.Handle / mux.HandleFunc), so that a new admin
// route is covered by TestAdminRoutesRefuseUnauthenticated without editing
// it.
func adminRoutes(t *testing.T) []string {
	t.Helper()
	re := regexp.MustCompile(`\.Handle(?:Func)?\("((?:[A-Z]+ )?/admin[^"]*)"`)
	seen := map[string]bool{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// secretEnv is a configuration with every secret set to a recognisable
// value; the values must never appear in the logs.
var secretEnv = map[string]string{
	"TELEGRAM_BOT_TOKEN":      "424242:SECRETtelegramTOKENvalue_abcdefghij",
	"TELEGRAM_WEBHOOK_URL":    "https://bot.example.vn/tg/hook",
	"TELEGRAM_WEBHOOK_SECRET": "SECRETwebhookVALUE_0123456789",
	"ZALO_APP_ID":             "4242",
	"ZALO_APP_SECRET":         "SECRETzaloAPPsecret0123",
	"ZALO_OA_SECRET_KEY":      "SECRETzaloOAkey0123456",
	"ZALO_ACCESS_TOKEN":       "SECRETzaloACCESStoken0123",
	"ZALO_REFRESH_TOKEN":      "SECRETzaloREFRESHtoken0123",
	"OPENAI_API_KEY":          "sk-SECRETopenaiKEY0123456789",
	"TROLYSO_LLM_MODEL":       "test-model",
	"TROLYSO_LLM_TIMEOUT":     "1s",
	"TROLYSO_ADMIN_PASSWORD":  "SECRETadminPASSWORD-đúng",
}

// startSecretServer runs serve in-process with every secret configured,
// the upstream APIs failing, and debug logs captured.
func startSecretServer(t *testing.T) (addr string, logs *syncBuffer, stop func()) {
	t.Helper()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/getMe") {
			fmt.Fprint(w, `{"ok":true,"result":{"id":424242,"is_bot":true,"first_name":"Bot","username":"cole_bot"}}`)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/setWebhook") {
			fmt.Fprint(w, `{"ok":true,"result":true}`)
			return
		}
		// Echo what was asked, as some real APIs do in their errors.
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"ok":false,"error_code":401,"description":"Unauthorized: %s %s","error":{"message":"bad key %s"}}`,
			r.URL.Path, r.Header.Get("access_token"), r.Header.Get("Authorization"))
	}))
	t.Cleanup(upstream.Close)
	env := map[string]string{
		"TROLYSO_ADDR": "127.0.0.1:0", "TROLYSO_DB": t.TempDir() + "/sec.db", "TROLYSO_WEB_RATE": "10000",
		"TELEGRAM_API_URL": upstream.URL, "ZALO_API_URL": upstream.URL, "ZALO_OAUTH_URL": upstream.URL,
		"OPENAI_BASE_URL": upstream.URL + "/v1",
	}
	for k, v := range secretEnv {
		env[k] = v
	}
	logs = &syncBuffer{}
	a := &app{getenv: func(k string) string { return env[k] }, now: time.Now, stdout: io.Discard, stderr: logs,
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: privacy.ReplaceAttr}))}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	addr, stopServe := startServe(t, a, cfg)
	stop = func() {
		if err := stopServe(); err != nil {
			t.Errorf("serve: %v\n%s", err, logs)
		}
	}
	return addr, logs, stop
}

func noRedirectClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestAdminRoutesRefuseUnauthenticated requests every /admin route of the
// real server without a session, with a forged session and with a wrong
// password: none reaches a dashboard page.
func TestAdminRoutesRefuseUnauthenticated(t *testing.T) {
	routes := adminRoutes(t)
	if len(routes) < 3 {
		t.Fatalf("found only %v admin routes in the source", routes)
	}
	addr, _, _ := startSecretServer(t)
	c := noRedirectClient()
	open := map[string]bool{"GET /admin/login": true, "POST /admin/login": true, "GET /admin": true}
	for _, route := range routes {
		method, path, ok := strings.Cut(route, " ")
		if !ok {
			method, path = "", route
		}
		path = strings.ReplaceAll(path, "{$}", "")
		path = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, "x")
		if strings.HasSuffix(route, "/admin/") { // catch-all subtree
			path += "khong-co-trang-nay"
		}
		methods := []string{method}
		if method == "" {
			methods = []string{http.MethodGet, http.MethodPost}
		}
		for _, m := range methods {
			if open[m+" "+path] {
				continue
			}
			for _, cookie := range []string{"", strings.Repeat("ab", 32)} {
				req, _ := http.NewRequest(m, "http://"+addr+path, strings.NewReader(url.Values{"csrf": {"x"}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if cookie != "" {
					for _, name := range []string{"trolyso_admin", "trolyso_admin_session", "admin_session", "session"} {
						req.AddCookie(&http.Cookie{Name: name, Value: cookie})
					}
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				loc := resp.Header.Get("Location")
				refused := resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized ||
					resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotFound ||
					(resp.StatusCode == http.StatusSeeOther && strings.HasSuffix(loc, "/admin/login")) ||
					// The mux redirects a subtree root to its slash form,
					// itself a refused route.
					((resp.StatusCode == http.StatusTemporaryRedirect || resp.StatusCode == http.StatusPermanentRedirect) && loc == "/admin/")
				if !refused || strings.Contains(string(body), "Hài lòng") {
					t.Errorf("%s %s (route %q, forged cookie %v) unauthenticated: %d %q", m, path, route, cookie != "", resp.StatusCode, loc)
				}
			}
		}
	}
	// A wrong password does not log in.
	resp, err := c.Get("http://" + addr + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	form := url.Values{"password": {"SECRETwrongPASSWORDtry"}}
	for _, ck := range resp.Cookies() {
		form.Set("csrf", ck.Value)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/admin/" {
		t.Error("wrong password logged in")
	}
}

// TestSecretsNeverLogged runs the server with every secret configured and
// failing upstream APIs (whose errors echo what they were sent), exercises
// the channels, bad webhooks, the model and a failed admin login with
// debug logging on, and greps the logs for every secret value.
func TestSecretsNeverLogged(t *testing.T) {
	addr, logs, stop := startSecretServer(t)
	c := noRedirectClient()
	post := func(path, body string, hdr map[string]string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	post("/api/message", `{"text":"quên mật khẩu vneid"}`, nil)
	tg := `{"update_id":9,"message":{"message_id":3,"date":1,"chat":{"id":77,"type":"private"},"from":{"id":77,"is_bot":false,"first_name":"A"},"text":"quên mật khẩu vneid"}}`
	post("/tg/hook", tg, map[string]string{"X-Telegram-Bot-Api-Secret-Token": secretEnv["TELEGRAM_WEBHOOK_SECRET"]})
	post("/tg/hook", tg, map[string]string{"X-Telegram-Bot-Api-Secret-Token": "SECRETwrongWEBHOOKguess"})
	ts := fmt.Sprint(time.Now().UnixMilli())
	zb := `{"app_id":"4242","user_id_by_app":"1","event_name":"user_send_text","timestamp":"` + ts +
		`","sender":{"id":"777"},"recipient":{"id":"9"},"message":{"msg_id":"m1","text":"quên mật khẩu vneid"}}`
	post("/zalo/webhook", zb, map[string]string{zalo.SignatureHeader: zalo.Signature("4242", []byte(zb), ts, secretEnv["ZALO_OA_SECRET_KEY"])})
	post("/zalo/webhook", zb, map[string]string{zalo.SignatureHeader: "mac=SECRETforgedSIGNATURE"})
	form := url.Values{"password": {"SECRETwrongPASSWORDtry"}, "csrf": {"x"}}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
	}
	// Let the channels try (and fail) to deliver, then stop.
	time.Sleep(1500 * time.Millisecond)
	stop()

	out := logs.String()
	if !strings.Contains(out, "web chat listening") {
		t.Fatalf("logs not captured:\n%s", out)
	}
	secrets := []string{"SECRETwrongWEBHOOKguess", "SECRETforgedSIGNATURE", "SECRETwrongPASSWORDtry"}
	for _, v := range secretEnv {
		if strings.Contains(v, "SECRET") {
			secrets = append(secrets, v)
		}
	}
	_, tokenSecret, _ := strings.Cut(secretEnv["TELEGRAM_BOT_TOKEN"], ":")
	secrets = append(secrets, tokenSecret)
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("logs contain the secret %q:\n%s", s, grepLines(out, s))
		}
	}
	if !strings.Contains(strings.ToLower(out), "telegram") {
		t.Errorf("no Telegram log lines: the channel did not run?\n%s", out)
	}
}

// TestHealthzAndMetrics checks the operator endpoints of a real server:
// /healthz answers ok, and /metrics (Prometheus text format) counts
// messages, replies by band and latency after a question.
func TestHealthzAndMetrics(t *testing.T) {
	addr, _, _ := startSecretServer(t)
	c := noRedirectClient()
	get := func(path string) (int, string, string) {
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, _, body := get("/healthz"); code != http.StatusOK || !strings.HasPrefix(body, "ok\ndatabase: sqlite ok ") {
		t.Errorf("/healthz: %d %q", code, body)
	}
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	resp, err := c.Post("http://"+addr+"/api/message", "application/json", strings.NewReader(`{"text":"quên mật khẩu vneid"}`))
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		ExchangeID int64 `json:"exchange_id"`
	}
	json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if answer.ExchangeID == 0 {
		t.Fatal("answer without exchange id")
	}
	resp, err = c.Post("http://"+addr+"/api/message", "application/json", strings.NewReader(fmt.Sprintf(`{"payload":"r:%d:+"}`, answer.ExchangeID)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code, ctype, body := get("/metrics")
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("/metrics: %d %q", code, ctype)
	}
	for _, want := range []string{
		`trolyso_messages_total{channel="web",kind="text"} 1`,
		`trolyso_messages_total{channel="web",kind="button"} 1`,
		`trolyso_ratings_total{channel="web",value="up"} 1`,
		`trolyso_replies_total{band="answer",channel="web"} 1`,
		`trolyso_reply_seconds_count{channel="web"} 2`,
		`trolyso_http_request_seconds_count{code="200",route="POST /api/message"} 2`,
		`trolyso_http_request_seconds_count{code="200",route="GET /healthz"} 1`,
		"# TYPE trolyso_ratings_total counter",
		"# TYPE trolyso_llm_fallbacks_total counter",
		"# TYPE trolyso_delivery_failures_total counter",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(body, "trolyso_"))
	}
}
