package admin

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// copyBase writes the embedded knowledge base into a new folder.
func copyBase(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(knowledge.EmbeddedBase(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(knowledge.EmbeddedBase(), p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// hoidapEnv is the dashboard with a handoff desk and an engine on one
// store, logged in.
type hoidapEnv struct {
	srv     *httptest.Server
	db      *storage.DB
	eng     *bot.Engine
	desk    *handoff.Desk
	c       *http.Client
	csrf    string
	reloads int
	base    *knowledge.Base
}

func newHoidap(t *testing.T, kbDir string) *hoidapEnv {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return testNow }
	profile, _ := knowledge.LoadProfile("")
	load := func() (*knowledge.Base, error) {
		fsys := knowledge.EmbeddedBase()
		if kbDir != "" {
			var err error
			if fsys, err = knowledge.DirBase(kbDir); err != nil {
				return nil, err
			}
		}
		return knowledge.Load(fsys, profile, testNow)
	}
	base, err := load()
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "a.db"), storage.Options{Secret: "s", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &hoidapEnv{db: db, base: base}
	e.eng = bot.New(bot.Config{Store: db, Now: now}, base)
	if e.desk, err = handoff.New(ctx, handoff.Config{Store: db, Base: e.eng.Base, Now: now, Web: true}); err != nil {
		t.Fatal(err)
	}
	e.desk.Register(e.eng)
	h, err := New(Config{Store: db, Base: e.eng.Base, Password: "mật-khẩu-đúng", Now: now, Desk: e.desk, KBDir: kbDir,
		Reload: func() error {
			b, err := load()
			if err != nil {
				return err
			}
			// serve's first step of a reload: a quick index with the bands
			// of the one it replaces (serve then calibrates in the
			// background). A full calibration here took ten minutes of
			// this package's CI time under the race detector.
			bands := e.eng.Index().Bands()
			ix, err := knowledge.NewIndexContext(ctx, b, knowledge.IndexOptions{Bands: &bands})
			if err != nil {
				return err
			}
			e.eng.SetIndexed(b, ix)
			e.reloads++
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.c = client(t)
	login(t, e.c, e.srv.URL, "mật-khẩu-đúng")
	_, body := get(t, e.c, e.srv.URL+"/admin/hoidap")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf on /admin/hoidap:\n%s", body)
	}
	e.csrf = m[1]
	return e
}

func (e *hoidapEnv) post(t *testing.T, path string, v url.Values) (*http.Response, string) {
	t.Helper()
	v.Set("csrf", e.csrf)
	resp, err := e.c.PostForm(e.srv.URL+path, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *hoidapEnv) ask(t *testing.T, sid, text string) bot.Reply {
	return e.eng.Handle(context.Background(), bot.Message{Channel: bot.ChannelWeb, UserKey: e.db.UserKey(bot.ChannelWeb, sid), Text: text})
}

func TestHoidapTicketPages(t *testing.T) {
	e := newHoidap(t, "")
	e.ask(t, "s1", "xin giấy phép xây dựng nhà ở thế nào")
	if r := e.ask(t, "s1", "/canbo"); !strings.Contains(r.Text, "#1") {
		t.Fatalf("/canbo = %q", r.Text)
	}
	e.ask(t, "s1", "nhà cấp 4 có cần xin phép không, số tôi 0912345678")

	_, body := get(t, e.c, e.srv.URL+"/admin/hoidap")
	if !strings.Contains(body, `href="/admin/hoidap/1"`) || !strings.Contains(body, "chưa ai nhận") || !strings.Contains(body, "Trang web") {
		t.Fatalf("open list:\n%s", body)
	}
	_, body = get(t, e.c, e.srv.URL+"/admin/hoidap/1")
	for _, want := range []string{"xin giấy phép xây dựng nhà ở thế nào", "Trợ lý chưa trả lời được", "nhà cấp 4", "Trả lời người dân"} {
		if !strings.Contains(body, want) {
			t.Errorf("ticket page lacks %q", want)
		}
	}
	if strings.Contains(body, "0912345678") {
		t.Error("the resident's phone number is shown")
	}
	// A reply without a name is refused, the text kept in the box.
	resp, body := e.post(t, "/admin/hoidap/1/reply", url.Values{"text": {"Nhà cấp 4 ở nông thôn thường được miễn."}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "nhập tên") || !strings.Contains(body, "thường được miễn") {
		t.Fatalf("reply without a name: %d", resp.StatusCode)
	}
	resp, _ = e.post(t, "/admin/hoidap/1/reply", url.Values{"text": {"Nhà cấp 4 ở nông thôn thường được miễn."}, "staff": {"Chị Hoa"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", resp.StatusCode)
	}
	msgs, open, _ := e.desk.WebMessages(context.Background(), e.db.UserKey(bot.ChannelWeb, "s1"))
	if !open || len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Cán bộ xã (Chị Hoa) trả lời") {
		t.Fatalf("the resident's page gets %+v", msgs)
	}
	_, body = get(t, e.c, e.srv.URL+"/admin/hoidap/1?ok=reply")
	if !strings.Contains(body, "Chị Hoa (trang quản trị)") || !strings.Contains(body, "✓ đã gửi cho người dân") || !strings.Contains(body, "Chị Hoa</strong> đang xử lý") {
		t.Errorf("ticket page after the reply:\n%s", body)
	}
	// The name is remembered for the next actions.
	if resp, _ := e.post(t, "/admin/hoidap/1/close", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d", resp.StatusCode)
	}
	if tk, _ := e.db.Ticket(context.Background(), 1); tk.Open() || tk.ClosedBy != "Chị Hoa" {
		t.Errorf("ticket = %+v", tk)
	}
	resp, body = e.post(t, "/admin/hoidap/1/reply", url.Values{"text": {"thêm"}, "staff": {"Chị Hoa"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "đã đóng") {
		t.Errorf("reply to a closed ticket: %d", resp.StatusCode)
	}
	// Closed requests are found without diacritics, and by number.
	for _, q := range []string{"nha cap 4", "#1", "MIỄN"} {
		_, body = get(t, e.c, e.srv.URL+"/admin/hoidap/closed?q="+url.QueryEscape(q))
		if !strings.Contains(body, `href="/admin/hoidap/1"`) {
			t.Errorf("search %q does not find request 1", q)
		}
	}
	_, body = get(t, e.c, e.srv.URL+"/admin/hoidap/closed?q=vneid")
	if strings.Contains(body, `href="/admin/hoidap/1"`) {
		t.Error("search for something else finds request 1")
	}
	// The draft starts from the request.
	_, body = get(t, e.c, e.srv.URL+"/admin/hoidap/draft?ticket=1")
	for _, want := range []string{"Xin giấy phép xây dựng nhà ở thế nào", "nhà cấp 4 có cần xin phép không", "thường được miễn", `value="xin-giay-phep-xay-dung-nha-o-the-nao"`, "2026-08-14", "kb export --dir"} {
		if !strings.Contains(body, want) {
			t.Errorf("draft lacks %q", want)
		}
	}
	_, body = get(t, e.c, e.srv.URL+"/admin/hoidap")
	if !strings.Contains(body, "👍 0 / 👎 0") || !strings.Contains(body, "<span class=\"big\">1</span>") {
		t.Errorf("figures:\n%s", body)
	}
	_, body = get(t, e.c, e.srv.URL+"/admin/?period=month")
	if !strings.Contains(body, `id="handoff-summary"`) || !strings.Contains(body, "1 yêu cầu, 1 được trả lời") {
		t.Errorf("overview lacks the handoff figures")
	}
}

func TestDraftCheckPublishAndHistory(t *testing.T) {
	dir := copyBase(t)
	e := newHoidap(t, dir)
	form := url.Values{
		"title":     {"Xin giấy phép xây dựng nhà ở"},
		"id":        {"xay-dung-nha-o"},
		"category":  {""},
		"questions": {"xin giấy phép xây dựng\nnhà cấp 4 có cần xin phép không"},
		"body":      {"Bạn nộp hồ sơ tại {{.Centre.Name}}, số 0912 345 678."},
		"sources":   {"khong-phai-duong-dan"},
		"updated":   {"2026-08-14"},
	}
	check := func(v url.Values) checkResult {
		t.Helper()
		v.Set("csrf", e.csrf)
		resp, err := e.c.PostForm(e.srv.URL+"/admin/hoidap/draft/check", v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r checkResult
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&r) != nil {
			t.Fatalf("check: %d", resp.StatusCode)
		}
		return r
	}
	r := check(form)
	if r.OK || !strings.Contains(problemFor(r, "category"), "Chưa chọn chủ đề") || !strings.Contains(problemFor(r, "questions"), "cần ít nhất 4") ||
		!strings.Contains(problemFor(r, "sources"), "không phải đường dẫn") {
		t.Fatalf("problems = %+v", r.Problems)
	}
	for _, p := range r.Problems {
		if !strings.HasPrefix(p.Raw, "xay-dung-nha-o.md:") {
			t.Errorf("raw problem %q is not in kb check's form", p.Raw)
		}
	}
	if len(r.Suggestions) != 1 || !strings.Contains(r.Suggestions[0].Message, "0912 345 678") {
		t.Errorf("suggestions = %+v", r.Suggestions)
	}
	// Publishing an invalid draft is refused; nothing is written.
	resp, body := e.post(t, "/admin/hoidap/draft", withAction(form, "publish", "Anh Nam"))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "chưa xuất bản") {
		t.Fatalf("invalid publish: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "xay-dung-nha-o.md")); err == nil {
		t.Fatal("an invalid draft was written")
	}
	form.Set("category", "dvc")
	form.Set("questions", "xin giấy phép xây dựng\nnhà cấp 4 có cần xin phép không\nthủ tục cấp phép xây nhà\nxây nhà ở nông thôn có phải xin phép")
	form.Set("sources", "https://dichvucong.gov.vn")
	form.Set("body", "Bạn nộp hồ sơ tại {{.Centre.Name}}.")
	if r := check(form); !r.OK {
		t.Fatalf("valid draft has problems: %+v", r.Problems)
	}
	// kb check's review dates: passed is an error, within 30 days a
	// warning (testNow is 2026-08-14).
	late := withAction(form, "", "")
	late.Set("review_by", "2026-08-01")
	if r := check(late); r.OK || !strings.Contains(problemFor(r, "review_by"), "trước ngày cập nhật") {
		t.Errorf("review date before the update: %+v", r.Problems)
	}
	late.Set("updated", "2026-01-05")
	if r := check(late); r.OK || !strings.Contains(problemFor(r, "review_by"), "đã qua 13 ngày") {
		t.Errorf("passed review date: %+v", r.Problems)
	}
	late.Set("review_by", "2026-08-24")
	if r := check(late); !r.OK || !strings.Contains(problemFor(r, "review_by"), "Còn 10 ngày") {
		t.Errorf("near review date: %+v", r)
	}
	// A new entry with an existing id: the duplicate is found against the
	// rest of the base, and the existing file is never replaced.
	dup := withAction(form, "", "")
	dup.Set("id", "vneid-cai-dat")
	if r := check(dup); r.OK || r.Replaces || !strings.Contains(problemFor(r, "id"), "đã có ở tệp vneid-cai-dat.md") {
		t.Errorf("duplicate id not found: %+v", r)
	}
	resp, _ = e.post(t, "/admin/hoidap/draft", withAction(form, "publish", "Anh Nam"))
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "published=xay-dung-nha-o.md") {
		t.Fatalf("publish: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if e.reloads != 1 {
		t.Errorf("reloads = %d", e.reloads)
	}
	if _, ok := e.eng.Base().Entry("xay-dung-nha-o"); !ok {
		t.Error("the engine does not have the new entry")
	}
	// The file passes the check of the whole folder and reads back as
	// the same entry.
	if ps := knowledge.Check(os.DirFS(dir), e.base.Profile, testNow); ps.Errors() {
		t.Fatalf("kb check after publish: %v", ps)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "xay-dung-nha-o.md"))
	en, ps := knowledge.ParseEntry("xay-dung-nha-o.md", data, e.base.Profile, testNow)
	if en == nil || ps.Errors() || en.Title != "Xin giấy phép xây dựng nhà ở" || len(en.Questions) != 4 || en.Category != "dvc" ||
		en.Body != "Bạn nộp hồ sơ tại {{.Centre.Name}}." || !slices.Equal(en.Sources, []string{"https://dichvucong.gov.vn"}) {
		t.Fatalf("parsed back: %+v %v", en, ps)
	}
	again, _ := knowledge.Format(en)
	if string(again) != string(data) {
		t.Errorf("the file does not round-trip:\n%s\n---\n%s", data, again)
	}
	// Publishing a change keeps the previous version.
	form.Set("body", "Bạn nộp hồ sơ tại {{.Centre.Name}} hoặc trực tuyến.")
	form.Set("file", "xay-dung-nha-o.md")
	if r := check(form); !r.OK || !r.Replaces {
		t.Fatalf("update check: %+v", r)
	}
	if resp, _ := e.post(t, "/admin/hoidap/draft", withAction(form, "publish", "Chị Hoa")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second publish: %d", resp.StatusCode)
	}
	backups, _ := filepath.Glob(filepath.Join(dir, "_history", "xay-dung-nha-o-*.md.bak"))
	if len(backups) != 1 {
		t.Fatalf("backups = %v", backups)
	}
	if b, _ := os.ReadFile(backups[0]); string(b) != string(data) {
		t.Error("the backup is not the previous version")
	}
	if ps := knowledge.Check(os.DirFS(dir), e.base.Profile, testNow); ps.Errors() {
		t.Fatalf("kb check with the history folder: %v", ps)
	}
	logs, _ := e.db.Publishes(context.Background(), 10)
	if len(logs) != 2 || logs[0].StaffName != "Chị Hoa" || logs[0].Previous != string(data) || logs[1].Previous != "" || logs[1].StaffName != "Anh Nam" {
		t.Fatalf("publish log = %+v", logs)
	}
	_, body = get(t, e.c, e.srv.URL+"/admin/hoidap/log?published=xay-dung-nha-o.md")
	if !strings.Contains(body, "Đã xuất bản") || !strings.Contains(body, "Chị Hoa") || !strings.Contains(body, "_history") {
		t.Errorf("log page:\n%s", body)
	}
	// The placeholder suggestion replaces the written-out value.
	p := e.base.Profile
	form.Set("body", "Gọi "+p.Centre.Name+" nhé.")
	_, body = e.post(t, "/admin/hoidap/draft", withAction(form, "ph:1", ""))
	if !strings.Contains(body, "Gọi {{.Centre.Name}} nhé.") {
		t.Errorf("placeholder not applied:\n%s", body)
	}
}

func TestDraftOnEmbeddedBase(t *testing.T) {
	e := newHoidap(t, "")
	form := url.Values{"title": {"Mục thử"}, "id": {"muc-thu"}, "category": {"dvc"}, "questions": {"a\nb\nc\nd"},
		"body": {"Nội dung."}, "sources": {"https://example.org"}, "updated": {"2026-08-14"}}
	resp, body := e.post(t, "/admin/hoidap/draft", withAction(form, "publish", "An"))
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "kb export --dir") {
		t.Fatalf("publish on the embedded base: %d", resp.StatusCode)
	}
	resp, body = e.post(t, "/admin/hoidap/draft", withAction(form, "download", "An"))
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "muc-thu.md") || !strings.HasPrefix(body, "---\nid: muc-thu\n") {
		t.Fatalf("download: %d %q", resp.StatusCode, body)
	}
	// The editor page allows its own script, nothing else.
	resp, _ = get(t, e.c, e.srv.URL+"/admin/hoidap/draft")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP = %q", csp)
	}
	resp, js := get(t, e.c, e.srv.URL+"/admin/hoidap/editor.js")
	if resp.StatusCode != 200 || !strings.Contains(js, "/admin/hoidap/draft/check") || strings.Contains(js, "innerHTML") {
		t.Errorf("editor.js: %d", resp.StatusCode)
	}
}

func withAction(v url.Values, action, staff string) url.Values {
	out := url.Values{}
	for k, x := range v {
		out[k] = x
	}
	out.Set("action", action)
	if staff != "" {
		out.Set("staff", staff)
	}
	return out
}

func problemFor(r checkResult, field string) string {
	var out []string
	for _, p := range r.Problems {
		if p.Field == field {
			out = append(out, p.Message)
		}
	}
	return strings.Join(out, "; ")
}
