package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserPhoneAndDesktop checks, in headless Chromium at a 390 px
// phone width and at a desktop width, what residents and staff trip over:
// the privacy warning is shown, a new answer opens at its start with the
// question just above it, the chosen rating is marked, the survey asks in
// two steps with the question in view, and no page (chat or admin) scrolls
// sideways. Screenshots of both sizes go to $TROLYSO_ARTIFACTS (or a
// temporary folder).
func TestBrowserPhoneAndDesktop(t *testing.T) {
	requireChromium(t)
	artifacts := os.Getenv("TROLYSO_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TROLYSO_DB":             filepath.Join(t.TempDir(), "sizes.db"),
		"TROLYSO_ADDR":           "127.0.0.1:0",
		"TROLYSO_ADMIN_PASSWORD": "mật khẩu thử",
	}
	var logs syncBuffer
	a := &app{stdout: &bytes.Buffer{}, stderr: &logs, getenv: func(k string) string { return env[k] }, now: time.Now,
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, a, cfg)
	base := "http://" + addr
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 900))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	tctx, tcancel := context.WithTimeout(bctx, 3*time.Minute)
	defer tcancel()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	truth := func(what, expr string) {
		t.Helper()
		ok, err := chromedp.Run(tctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", what, err)
		}
		if !ok {
			detail, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`JSON.stringify({w: innerWidth, h: innerHeight, sw: document.documentElement.scrollWidth, y: scrollY})`))
			t.Errorf("%s: false (%s)", what, detail)
		}
	}
	bots := func(n int) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](`document.querySelectorAll('#log .msg.bot').length >= `+strconv.Itoa(n), chromedp.WithPollingTimeout(20*time.Second))
	}
	viewShot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join(artifacts, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	// noSideways: the page is not wider than the screen.
	const noSideways = `document.documentElement.scrollWidth <= innerWidth`
	var inViewAt func(sel, at string) string
	// inView: the top of the last element matching sel is on the screen,
	// above the fixed form.
	inView := func(sel string) string { return inViewAt(sel, "all.length-1") }
	// inViewFirst: the same for the first element matching sel.
	inViewFirst := func(sel string) string { return inViewAt(sel, "0") }
	inViewAt = func(sel, at string) string {
		return `(function(){const all=document.querySelectorAll(` + strconv.Quote(sel) + `); const e=all[` + at + `]; if(!e) return false; const r=e.getBoundingClientRect();` +
			` const form=document.getElementById('ask'); const bottom = form ? form.getBoundingClientRect().top : innerHeight;` +
			` return r.top >= -1 && r.top < bottom - 20;})()`
	}

	loggedIn := false
	for _, size := range []struct {
		name   string
		w, h   int64
		mobile bool
	}{
		{"phone", 390, 844, true},
		{"desktop", 1280, 900, false},
	} {
		t.Run(size.name, func(t *testing.T) {
			opts := []chromedp.EmulateViewportOption{}
			if size.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch,
					chromedp.EmulateOrientation(emulation.ScreenOrientationTypePortraitPrimary, 0), chromedp.EmulateScale(2))
			}
			do("set the viewport", chromedp.EmulateViewport(size.w, size.h, opts...))

			// Web chat.
			do("open the chat", chromedp.Navigate(base+"/"), bots(1))
			truth("the privacy warning is shown", `(function(){const n=document.getElementById('privacy-note'); const r=n.getBoundingClientRect();`+
				` return getComputedStyle(n).display!=='none' && r.width>0 && r.right<=innerWidth+1 && r.bottom<=innerHeight+1;})()`)
			do("ask a long question",
				chromedp.SendKeys(chromedp.CSS("#q"), "quên mật khẩu vneid thì làm sao"),
				chromedp.Click(chromedp.CSS("#send")), bots(2))
			truth("the question is in view", inView(`#log .msg.user`))
			truth("the answer's title is in view", inViewFirst(`#log .msg.bot:last-child .body b`))
			truth("the chat does not scroll sideways", noSideways)
			viewShot("chat-answer-" + size.name + ".png")

			up := `#log .msg.bot:last-child button[data-payload$=":+"]`
			// A resident scrolls down to the buttons under the answer.
			do("tap 👍", chromedp.Evaluate[chromedp.Void](`document.querySelector('`+up+`').scrollIntoView({block: 'center'})`),
				chromedp.Click(chromedp.CSS(up)), bots(3))
			truth("👍 is marked chosen", `(function(){const b=document.querySelectorAll('#log .msg.bot')[1].querySelector('button[data-payload$=":+"]');`+
				` const d=document.querySelectorAll('#log .msg.bot')[1].querySelector('button[data-payload$=":-"]');`+
				` return b.classList.contains('chosen') && b.getAttribute('aria-pressed')==='true' && !d.classList.contains('chosen');})()`)
			truth("the reply names the rating", `document.querySelector('#log .msg.bot:last-child .body').textContent.includes('Đã ghi nhận: 👍 Hài lòng')`)

			do("start the survey", chromedp.Click(chromedp.CSS("#survey")), bots(4))
			truth("step 1 lists only services", `(function(){const bs=[...document.querySelectorAll('#log .msg.bot:last-child button')];`+
				` return bs.length>=5 && bs.every(b=>b.dataset.payload.startsWith('sv:s:')) && !bs.some(b=>b.textContent.includes('?'));})()`)
			truth("step 1's question is in view", inView(`#log .msg.bot:last-child .body`))
			viewShot("survey-step1-" + size.name + ".png")
			service := `#log .msg.bot:last-child button[data-payload^="sv:s:"]`
			do("choose a service", chromedp.Evaluate[chromedp.Void](`document.querySelector('`+service+`').scrollIntoView({block: 'center'})`),
				chromedp.Click(chromedp.CSS(service)), bots(5))
			truth("step 2 asks how satisfied, in view", `document.querySelector('#log .msg.bot:last-child .body').textContent.includes('bước 2/2')`)
			truth("step 2's question is in view", inView(`#log .msg.bot:last-child .body`))
			truth("the chosen service is marked", `document.querySelectorAll('#log .msg.bot')[3].querySelectorAll('.choice.chosen').length === 1`)
			viewShot("survey-step2-" + size.name + ".png")
			truth("the survey does not scroll sideways", noSideways)

			// Admin pages.
			if !loggedIn {
				do("log in", chromedp.Navigate(base+"/admin/login"),
					chromedp.WaitVisible(chromedp.CSS("#password")),
					chromedp.SendKeys(chromedp.CSS("#password"), "mật khẩu thử"),
					chromedp.Click(chromedp.CSS("#login")),
					chromedp.WaitVisible(chromedp.CSS("#weekly-chart")))
				loggedIn = true
			}
			now := time.Now()
			quarter := strconv.Itoa(now.Year()) + "Q" + strconv.Itoa((int(now.Month())-1)/3+1)
			for _, pg := range []struct{ name, path, ready string }{
				{"overview", "/admin/", "#weekly-chart"},
				{"unanswered", "/admin/unanswered", "#unanswered"},
				{"lowest", "/admin/lowest", "#lowest"},
				{"reminders", "/admin/reminders", "#runs"},
				{"alerts", "/admin/thongbao", "#compose"},
				{"report", "/admin/report?format=html&quarter=" + quarter, "table"},
				{"requests to staff", "/admin/hoidap", "#open-tickets"},
				{"closed requests", "/admin/hoidap/closed", "#closed-tickets"},
				{"entry editor", "/admin/hoidap/draft", "#draft-form"},
				{"publish log", "/admin/hoidap/log", "#publish-log"},
				{"login", "/admin/login", "body"},
			} {
				do("open "+pg.path, chromedp.Navigate(base+pg.path), chromedp.WaitVisible(chromedp.CSS(pg.ready)))
				truth(pg.path+" fits the screen's width", noSideways)
				if pg.name == "overview" {
					truth("the unfinished-profile banner is shown", `!!document.getElementById('profile-banner')`)
					truth("the next reminder is in the overview", `document.getElementById('reminders-summary').textContent.includes('Lần nhắc tới')`)
					truth("one rating is not enough data", `document.getElementById('answers-verdict').textContent.includes('chưa đủ dữ liệu')`)
				}
				if pg.name == "overview" || pg.name == "reminders" || pg.name == "entry editor" {
					png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
					if err != nil {
						t.Fatal(err)
					}
					path := filepath.Join(artifacts, "admin-"+pg.name+"-"+size.name+".png")
					os.WriteFile(path, png, 0o644)
					t.Logf("screenshot: %s", path)
				}
			}
		})
	}
}
