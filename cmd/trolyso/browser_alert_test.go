package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/colecommune/trolyso/bot/alert"
	"github.com/colecommune/trolyso/storage"
)

// TestBrowserPinsDisasterWarning: once the server has sent a disaster
// warning, the web chat shows it pinned above the conversation (its text
// escaped), with a link to /canhbao.
func TestBrowserPinsDisasterWarning(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium not installed: " + err.Error() + " (.ci/run installs Debian's chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	dbPath := filepath.Join(t.TempDir(), "pin.db")
	cfg := &Config{Addr: "127.0.0.1:0", DB: dbPath, MaxLen: 1000, WebRate: 600, LLM: LLMConfig{Timeout: time.Second}}
	a := quietApp(t)
	addr, _ := startServe(t, a, cfg)
	db, err := storage.Open(context.Background(), dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kb, err := a.loadBase("", "")
	if err != nil {
		t.Fatal(err)
	}
	j, err := alert.Build(alert.Spec{Kind: "disaster", Title: "Lũ sông Hồng lên nhanh", Expires: "6h",
		Body: "Sơ tán khỏi **bãi sông** ngay. <img src=x onerror=alert(1)>"}, kb, time.Now(), "kiểm thử")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAlertJob(context.Background(), &j); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the server to send the warning", func() bool {
		got, err := db.AlertJob(context.Background(), j.ID)
		return err == nil && got.Published()
	})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(800, 1000),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var dialogs atomic.Int32
	if err := chromedp.Listen(bctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(bctx, time.Minute)
	defer tcancel()
	if err := chromedp.Do(tctx,
		chromedp.Navigate("http://"+addr+"/"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#ghim strong') !== null`, chromedp.WithPollingTimeout(20*time.Second)),
	); err != nil {
		t.Fatalf("no pinned warning on the web chat: %v", err)
	}
	pin, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#ghim")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pin, "CẢNH BÁO THIÊN TAI: Lũ sông Hồng lên nhanh") || !strings.Contains(pin, "<img src=x onerror=alert(1)>") ||
		!strings.Contains(pin, "Xem tất cả cảnh báo") {
		t.Errorf("pinned text = %q", pin)
	}
	imgs, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('#ghim img').length`))
	if err != nil || imgs != 0 || dialogs.Load() != 0 {
		t.Errorf("injected markup rendered: %d images, %d dialogs, %v", imgs, dialogs.Load(), err)
	}
	// The chat itself still works under the pin.
	if err := chromedp.Do(tctx, chromedp.Poll[chromedp.Void](`document.querySelectorAll('#log .msg.bot').length >= 1`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Errorf("no welcome message: %v", err)
	}
}
