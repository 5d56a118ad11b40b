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

	"github.com/colecommune/trolyso/knowledge"
)

// TestBrowserReviewPage opens "Cần rà soát" in headless Chromium on the
// day after the shipped base's latest review date, so that every entry is
// listed with its real (long) source addresses: the page must fit a 390 px
// phone and a desktop, and every source must be a link opening safely in a
// new tab.
func TestBrowserReviewPage(t *testing.T) {
	requireChromium(t)
	artifacts := os.Getenv("TROLYSO_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := knowledge.Load(knowledge.EmbeddedBase(), nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var latest time.Time
	for _, e := range b.Entries {
		if e.ReviewBy.After(latest) {
			latest = e.ReviewBy
		}
	}
	after := vn(latest.Year(), latest.Month(), latest.Day()+1, 9, 0)
	env := map[string]string{
		"TROLYSO_DB":             filepath.Join(t.TempDir(), "review.db"),
		"TROLYSO_ADDR":           "127.0.0.1:0",
		"TROLYSO_ADMIN_PASSWORD": "mật khẩu thử",
	}
	var logs syncBuffer
	a := &app{stdout: &bytes.Buffer{}, stderr: &logs, getenv: func(k string) string { return env[k] },
		now: func() time.Time { return after }, log: slog.New(slog.NewTextHandler(&logs, nil))}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, a, cfg)
	base := "http://" + addr

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
	tctx, tcancel := context.WithTimeout(bctx, 2*time.Minute)
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
			detail, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`JSON.stringify({w: innerWidth, sw: document.documentElement.scrollWidth})`))
			t.Errorf("%s: false (%s)", what, detail)
		}
	}
	do("log in", chromedp.Navigate(base+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), "mật khẩu thử"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#weekly-chart")))
	truth("the navigation counts every entry", `document.querySelector('#nav-review .count').textContent === '`+strconv.Itoa(len(b.Entries))+`'`)
	for _, size := range []struct {
		name   string
		w, h   int64
		mobile bool
	}{
		{"phone", 390, 844, true},
		{"desktop", 1280, 900, false},
	} {
		t.Run(size.name, func(t *testing.T) {
			var opts []chromedp.EmulateViewportOption
			if size.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch,
					chromedp.EmulateOrientation(emulation.ScreenOrientationTypePortraitPrimary, 0), chromedp.EmulateScale(2))
			}
			do("set the viewport", chromedp.EmulateViewport(size.w, size.h, opts...))
			do("open the review page", chromedp.Navigate(base+"/admin/review"), chromedp.WaitVisible(chromedp.CSS("#review")))
			truth("every entry is listed", `document.querySelectorAll('#review tr[id^="review-"]').length === `+strconv.Itoa(len(b.Entries)))
			truth("every source is a link opening in a new tab without opener",
				`(function(){const as=[...document.querySelectorAll('#review ul.sources a')]; return as.length >= `+strconv.Itoa(len(b.Entries))+
					` && as.every(a => a.href.startsWith('http') && a.target === '_blank' && a.rel.split(' ').includes('noopener'));})()`)
			truth("the page does not scroll sideways", `document.documentElement.scrollWidth <= innerWidth`)
			shot(t, tctx, artifacts, "admin-review-"+size.name+".png")
		})
	}
}
