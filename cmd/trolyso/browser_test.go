package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// TestBrowserRatingAndDashboard drives the real server in headless
// Chromium: a resident asks a question (after an XSS attempt that must show
// as text), taps 👍, then an admin logs in to /admin and sees the rating
// counted and the chart drawn. Screenshots go to $TROLYSO_ARTIFACTS (or a
// temporary folder) and their paths are logged.
func TestBrowserRatingAndDashboard(t *testing.T) {
	requireChromium(t)
	artifacts := os.Getenv("TROLYSO_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{
		"TROLYSO_DB":             filepath.Join(t.TempDir(), "e2e.db"),
		"TROLYSO_ADDR":           "127.0.0.1:0",
		"TROLYSO_ADMIN_PASSWORD": "mật khẩu thử",
	}
	var logs bytes.Buffer
	a := &app{stdout: &logs, stderr: &logs, getenv: func(k string) string { return env[k] }, now: time.Now,
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, a, cfg)
	base := "http://" + addr
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1000, 1400),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	// The first Run starts the browser: no timeout on its context.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Any JavaScript dialog means injected script ran: note it, dismiss it.
	dialogs := make(chan string, 8)
	if err := chromedp.Listen(bctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case dialogs <- d.Message:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(bctx, 2*time.Minute)
	defer tcancel()
	var opened atomic.Int32
	go func() {
		for {
			select {
			case <-tctx.Done():
				return
			case <-dialogs:
				opened.Add(1)
				chromedp.Run(tctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
					return err
				}))
			}
		}
	}()

	waitBots := func(n int) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](`document.querySelectorAll('#log .msg.bot').length >= `+strconv.Itoa(n), chromedp.WithPollingTimeout(20*time.Second))
	}
	evalInt := func(expr string) int {
		t.Helper()
		n, err := chromedp.Run(tctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return n
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	const xss = `<img src=x onerror=alert(1)>`
	err = chromedp.Do(tctx,
		chromedp.Navigate(base+"/"),
		waitBots(1),
		chromedp.SendKeys(chromedp.CSS("#q"), xss),
		chromedp.Click(chromedp.CSS("#send")),
		waitBots(2),
	)
	if err != nil {
		t.Fatalf("chat with an XSS attempt: %v", err)
	}
	if got := text("#log .msg.user"); got != xss {
		t.Fatalf("the XSS attempt shows as %q, want the literal text", got)
	}
	if n := evalInt(`document.querySelectorAll('#log img').length`); n != 0 {
		t.Fatalf("%d <img> elements in the chat log: typed HTML was rendered", n)
	}

	up := `#log .msg.bot:last-child button[data-payload$=":+"]`
	err = chromedp.Do(tctx,
		chromedp.SendKeys(chromedp.CSS("#q"), "cài VNeID thế nào"),
		chromedp.Click(chromedp.CSS("#send")),
		waitBots(3),
		chromedp.WaitVisible(chromedp.CSS(up)),
		chromedp.Click(chromedp.CSS(up)),
		waitBots(4),
	)
	if err != nil {
		t.Fatalf("ask and tap 👍: %v", err)
	}
	if got := text("#log .msg.bot:last-child .body"); !strings.Contains(got, "Cảm ơn bạn đã đánh giá") {
		t.Fatalf("reply to 👍: %q", got)
	}
	shot(t, tctx, artifacts, "chat.png")

	err = chromedp.Do(tctx,
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)
	if err != nil {
		t.Fatalf("open /admin/: %v", err)
	}
	if loc, err := chromedp.Run(tctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/admin/login") {
		t.Fatalf("unauthenticated /admin/ went to %s (%v), want the login page", loc, err)
	}
	err = chromedp.Do(tctx,
		chromedp.SendKeys(chromedp.CSS("#password"), "mật khẩu thử"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#weekly-chart")),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	if got := text("#answers-count"); got != "1/1" {
		t.Fatalf("dashboard counts %q satisfied/rated answers, want 1/1", got)
	}
	if n := evalInt(`document.querySelectorAll('svg#weekly-chart rect').length`); n < 1 {
		t.Fatal("weekly chart has no bar")
	}
	if n := evalInt(`document.querySelectorAll('svg#topic-chart rect').length`); n < 1 {
		t.Fatal("topic chart has no bar")
	}
	if n := evalInt(`document.querySelectorAll('img').length`); n != 0 {
		t.Fatalf("%d <img> on the dashboard: the declined XSS question was not escaped", n)
	}
	shot(t, tctx, artifacts, "admin.png")
	if len(dialogs) > 0 || opened.Load() > 0 {
		t.Fatal("a JavaScript dialog opened: injected script ran")
	}
}

// requireChromium skips a browser test, saying loudly what was not
// checked, when Chromium is missing or -short is given; under CI (CI set
// and not "false") it fails instead: CI must run the browser tests.
func requireChromium(t *testing.T) {
	t.Helper()
	why := ""
	if _, err := os.Stat(chromiumPath); err != nil {
		why = "Chromium is not installed at " + chromiumPath + " (install it: apt-get install chromium fonts-noto-color-emoji; .ci/run does)"
	} else if testing.Short() {
		why = "-short was given"
	}
	if why == "" {
		return
	}
	msg := "!!! BROWSER TEST NOT RUN: " + why + ". The web chat and the admin dashboard were NOT checked in a browser. !!!"
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal(msg + " CI is set: failing instead of skipping.")
	}
	t.Skip(msg)
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
