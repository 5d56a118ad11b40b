package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserHandoffAndEditor drives the real server in headless Chromium
// through the whole loop on the web chat: a question the bot declines, the
// "🙋 Hỏi cán bộ xã" button, a follow-up, a staff member's reply from the
// dashboard shown when the resident comes back to the page, the close, and
// the draft-entry editor — validation errors shown as staff type, fixed,
// published into TROLYSO_KB — after which the bot answers the question
// from the new entry. Screenshots go to $TROLYSO_ARTIFACTS.
func TestBrowserHandoffAndEditor(t *testing.T) {
	requireChromium(t)
	artifacts := os.Getenv("TROLYSO_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	kb := filepath.Join(t.TempDir(), "kb")
	env := map[string]string{
		"TROLYSO_DB":             filepath.Join(t.TempDir(), "handoff.db"),
		"TROLYSO_ADDR":           "127.0.0.1:0",
		"TROLYSO_ADMIN_PASSWORD": "mật khẩu thử",
		"TROLYSO_KB":             kb,
		// The test polls the web chat API while the published entry trains.
		"TROLYSO_WEB_RATE": "100000",
	}
	var logs syncBuffer
	a := &app{stdout: &bytes.Buffer{}, stderr: &logs, getenv: func(k string) string { return env[k] }, now: time.Now,
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	if code := a.main(context.Background(), []string{"kb", "export", "--dir", kb}); code != 0 {
		t.Fatalf("kb export --dir: exit %d\n%s", code, logs.String())
	}
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

	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1100, 1400))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// A bound for the whole walk, which includes waiting for the
	// published entry's training (see poll).
	tctx, tcancel := context.WithTimeout(bctx, 6*time.Minute)
	defer tcancel()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	until := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v\npage:\n%s", what, err, text)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	bots := func(n int) string {
		return `document.querySelectorAll('#log .msg.bot').length >= ` + strconv.Itoa(n)
	}
	const lastBot = `(document.querySelector('#log .msg.bot:last-child .body') || {textContent: ''}).textContent`

	// The resident: a declined question, then the handoff button.
	const question = "xin giấy phép xây dựng nhà ở"
	do("open the chat", chromedp.Navigate(base+"/"))
	until("the welcome", bots(1))
	do("ask", chromedp.SendKeys(chromedp.CSS("#q"), question), chromedp.Click(chromedp.CSS("#send")))
	until("the decline with the handoff button", `!!document.querySelector('#log .msg.bot.band-decline:last-child button[data-payload="hb"]')`)
	do("tap 🙋 Hỏi cán bộ xã", chromedp.Click(chromedp.CSS(`#log .msg.bot:last-child button[data-payload="hb"]`)))
	until("the handoff notice", lastBot+`.includes('Đã chuyển yêu cầu của bạn tới cán bộ xã')`)
	do("write to staff", chromedp.SendKeys(chromedp.CSS("#q"), "nhà cấp 4 ở nông thôn có phải xin phép không"), chromedp.Click(chromedp.CSS("#send")))
	until("the forwarding notice", lastBot+`.includes('Đã chuyển tới cán bộ xã')`)
	shot(t, tctx, artifacts, "handoff-chat.png")

	// Staff in the dashboard.
	do("log in", chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), "mật khẩu thử"), chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#weekly-chart")))
	do("open the requests", chromedp.Navigate(base+"/admin/hoidap"), chromedp.WaitVisible(chromedp.CSS("#open-tickets")))
	if got := text("#open-tickets"); !strings.Contains(got, "#1") || !strings.Contains(got, "nhà cấp 4") {
		t.Fatalf("open requests:\n%s", got)
	}
	const answer = "Nhà cấp 4 ở nông thôn thường được miễn giấy phép; bác hỏi thêm bộ phận một cửa nhé."
	do("answer", chromedp.Click(chromedp.CSS(`a[href="/admin/hoidap/1"]`)), chromedp.WaitVisible(chromedp.CSS("#reply-text")),
		chromedp.SendKeys(chromedp.CSS("#reply-text"), answer),
		chromedp.SetValue(chromedp.CSS(`#reply-form input[name="staff"]`), "Chị Hoa"),
		chromedp.Click(chromedp.CSS("#reply-send")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	if got := text("#conversation"); !strings.Contains(got, "thường được miễn") || !strings.Contains(got, "đang chờ gửi") {
		t.Fatalf("conversation after the answer:\n%s", got)
	}
	shot(t, tctx, artifacts, "handoff-admin-ticket.png")

	// The resident comes back to the page: the answer is there.
	do("back to the chat", chromedp.Navigate(base+"/"))
	until("the staff answer", `[...document.querySelectorAll('#log .msg.bot.staff .body')].some(b => b.textContent.includes('Cán bộ xã (Chị Hoa) trả lời') && b.textContent.includes('thường được miễn'))`)
	shot(t, tctx, artifacts, "handoff-chat-answer.png")
	do("the dashboard shows it delivered", chromedp.Navigate(base+"/admin/hoidap/1"), chromedp.WaitVisible(chromedp.CSS("#conversation")))
	if got := text("#conversation"); !strings.Contains(got, "đã gửi cho người dân") {
		t.Errorf("delivery not shown:\n%s", got)
	}

	// Close, then turn the answer into an entry.
	do("close", chromedp.Click(chromedp.CSS("#close")), chromedp.WaitVisible(chromedp.CSS("#make-entry")),
		chromedp.Click(chromedp.CSS("#make-entry")), chromedp.WaitVisible(chromedp.CSS("#draft-form")))
	q, _ := chromedp.Run(tctx, chromedp.Value(chromedp.CSS("#f-questions")))
	b, _ := chromedp.Run(tctx, chromedp.Value(chromedp.CSS("#f-body")))
	if !strings.Contains(q, question) || !strings.Contains(q, "nhà cấp 4") || !strings.Contains(b, "thường được miễn") {
		t.Fatalf("draft not pre-filled: questions %q, body %q", q, b)
	}
	got := text("#problems")
	for _, want := range []string{"Chưa chọn chủ đề", "cần ít nhất 4", "Chưa có nguồn"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	until("fields marked", `!!document.querySelector('#f-category[aria-invalid="true"]')`)
	shot(t, tctx, artifacts, "handoff-editor-errors.png")
	// Staff type: the check follows.
	do("fill the draft",
		chromedp.SetValue(chromedp.CSS("#f-category"), "thu-tuc-khac"),
		chromedp.SendKeys(chromedp.CSS("#f-sources"), "ftp://sai"))
	until("a bad source reported as typed", `document.getElementById('problems').textContent.includes('ftp://sai') && !document.getElementById('problems').textContent.includes('Chưa chọn chủ đề')`)
	do("fix the draft",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-sources').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#f-sources"), "https://dichvucong.gov.vn"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-questions').value += '\nthủ tục xin phép xây nhà\ncấp phép xây dựng nhà ở riêng lẻ'`),
		chromedp.SendKeys(chromedp.CSS("#f-tags"), "xây dựng"))
	until("the draft valid", `document.getElementById('check-status').textContent.includes('Hợp lệ') && !document.querySelector('[aria-invalid="true"]')`)
	shot(t, tctx, artifacts, "handoff-editor-valid.png")
	do("publish", chromedp.Click(chromedp.CSS("#publish")), chromedp.WaitVisible(chromedp.CSS("#published")))
	if got := text("#published"); !strings.Contains(got, ".md") {
		t.Errorf("publish notice = %q", got)
	}

	// The entry is trained in the background, the previous index
	// answering meanwhile; once in service, the bot answers the question
	// from it.
	waitUntil(t, "the published entry in service", func() bool { return askWeb(t, addr, question)["entry_id"] == "xin-giay-phep-xay-dung-nha-o" })
	do("ask again", chromedp.Navigate(base+"/"))
	until("the welcome", bots(1))
	do("ask", chromedp.SendKeys(chromedp.CSS("#q"), question), chromedp.Click(chromedp.CSS("#send")))
	until("the new entry answering", `[...document.querySelectorAll('#log .msg.bot.band-answer .body')].some(b => b.textContent.includes('Xin giấy phép xây dựng nhà ở') && b.textContent.includes('thường được miễn'))`)
	shot(t, tctx, artifacts, "handoff-new-entry.png")

	// The written file passes kb check (on its own with the base's
	// categories, so that other entries' review dates do not matter).
	var published string
	if ms, _ := filepath.Glob(filepath.Join(kb, "*.md")); true {
		for _, m := range ms {
			if b, err := os.ReadFile(m); err == nil && strings.Contains(string(b), "thường được miễn") {
				published = m
			}
		}
	}
	if published == "" {
		t.Fatal("no published file in the base folder")
	}
	alone := t.TempDir()
	for _, f := range []string{filepath.Join(kb, "_base.yaml"), published} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(alone, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	a.stdout = &out
	if code := a.main(context.Background(), []string{"kb", "check", alone}); code != 0 {
		t.Fatalf("kb check of the published file: exit %d\n%s", code, out.String())
	}
}
