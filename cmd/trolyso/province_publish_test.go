package main

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/colecommune/trolyso/storage"
)

func TestProvincePublish(t *testing.T) {
	onBothBackends(t, testProvincePublish)
}

// testProvincePublish: two instances of a province deployment on one
// store, each with its own copy of TROLYSO_COMMUNES. Cổ Lễ's admin turns
// a closed request into an entry on the first instance: the file lands in
// Cổ Lễ's folder only, Cổ Lễ answers with it and the other communes do
// not, the publish log is Cổ Lễ's only, and the second instance writes the
// file into its own Cổ Lễ folder and answers with it too. Yên Từ's admin
// cannot write into Cổ Lễ's folder or the province base by any form
// value; the province admin, acting in Hoa Lư, replaces a province entry
// for Hoa Lư alone.
func testProvincePublish(t *testing.T, backend string) {
	ctx := context.Background()
	dir := t.TempDir()
	start := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC) // 09:00 in Vietnam
	t0 := time.Now()
	clock := func() time.Time { return start.Add(time.Since(t0)) }
	a := &app{getenv: func(string) string { return "" }, now: clock, log: slog.New(slog.DiscardHandler), stdout: io.Discard, stderr: io.Discard}
	config := func(communes string) *Config {
		cfg := provinceConfig(t, backend, dir, communes)
		cfg.HandoffIdle, cfg.HandoffRepost = 24*time.Hour, 2*time.Hour
		return cfg
	}
	foldersA, foldersB := writeCommunes(t), writeCommunes(t)
	cfgA, cfgB := config(foldersA), config(foldersB)

	db, err := storage.OpenURL(ctx, cfgA.dsn(), storage.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	for name, commune := range map[string]string{"lan": "co-le", "tu": "yen-tu", "tinh": ""} {
		h, _ := bcrypt.GenerateFromPassword([]byte("mat-khau-"+name+"-123"), bcrypt.MinCost)
		if _, err := db.AddAdmin(ctx, name, commune, string(h), false); err != nil {
			t.Fatal(err)
		}
	}
	// Cổ Lễ's request #1, answered by staff and closed.
	coLe := must(t, db, "co-le")
	tk, _, err := coLe.OpenTicket(ctx, "web", coLe.UserKey("web", "dan-1"),
		[]storage.NewTicketMessage{{Author: storage.AuthorResident, Text: "Nhà văn hóa thôn Đông mở cửa mấy giờ?"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := coLe.AddStaffReply(ctx, tk.ID, "Hùng", "dashboard", "Nhà văn hóa thôn Đông mở cửa từ 7 giờ đến 21 giờ hằng ngày.", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := coLe.CloseTicket(ctx, tk.ID, "Hùng", "done", "", nil); err != nil {
		t.Fatal(err)
	}
	db.Close()

	addrA, _ := startServe(t, a, cfgA)
	addrB, _ := startServe(t, a, cfgB)
	login := func(name string) (*http.Client, string) {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		// A publish into a commune's folder trains that commune's own
		// index before it answers (6 s on an idle machine, 47 s under
		// -race, more while CI runs other packages on the same two
		// cores): the timeout only guards against a hang.
		c := &http.Client{Jar: jar, Timeout: 5 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		tok := csrfIn(get(t, c, "http://"+addrA+"/admin/login"))
		resp, err := c.PostForm("http://"+addrA+"/admin/login", url.Values{"csrf": {tok}, "name": {name}, "password": {"mat-khau-" + name + "-123"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %s: %d", name, resp.StatusCode)
		}
		return c, csrfIn(get(t, c, "http://"+addrA+"/admin/hoidap"))
	}
	publish := func(c *http.Client, form url.Values) (int, string) {
		t.Helper()
		form.Set("action", "publish")
		form.Set("staff", "Cán bộ thử")
		resp, err := c.PostForm("http://"+addrA+"/admin/hoidap/draft", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location") + string(b)
	}
	ask := func(addr, slug, q string) (string, string) {
		t.Helper()
		out := askCommune(t, addr, slug, q)
		id, _ := out["entry_id"].(string)
		text, _ := out["html"].(string)
		return id, text
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }

	// The editor opens from Cổ Lễ's ticket, pre-filled, publishing into
	// the commune's folder.
	lan, tok := login("lan")
	page := get(t, lan, "http://"+addrA+"/admin/hoidap/draft?ticket=1")
	if !strings.Contains(page, "Nhà văn hóa thôn Đông mở cửa mấy giờ") || !strings.Contains(page, `id="commune-note"`) || strings.Contains(page, `id="embedded-note"`) {
		t.Fatalf("the draft page from Cổ Lễ's ticket:\n%s", page)
	}
	updated := regexp.MustCompile(`name="updated" id="f-updated" value="([0-9-]+)"`).FindStringSubmatch(page)
	if updated == nil || updated[1] != "2026-11-20" {
		t.Fatalf("the draft's date: %v", updated)
	}
	entry := func(id, marker string) url.Values {
		return url.Values{"csrf": {tok}, "ticket": {"1"}, "id": {id}, "title": {"Giờ mở cửa nhà văn hóa thôn"}, "category": {"lien-he"},
			"questions": {"Nhà văn hóa thôn Đông mở cửa mấy giờ?\nnha van hoa thon mo cua luc nao\ngiờ mở cửa của nhà văn hóa thôn\nnhà văn hóa thôn có mở buổi tối không"},
			"body":      {"Nhà văn hóa thôn mở cửa từ 7 giờ đến 21 giờ hằng ngày. " + marker}, "sources": {"https://ninhbinh.gov.vn"}, "updated": {updated[1]}}
	}
	const q = "nhà văn hóa thôn mở cửa lúc mấy giờ"
	if id, _ := ask(addrA, "co-le", q); id == "nha-van-hoa-thon" {
		t.Fatal("answered before the entry was published")
	}
	code, where := publish(lan, entry("nha-van-hoa-thon", "COLERIENG"))
	if code != http.StatusSeeOther || !strings.HasPrefix(where, "/admin/hoidap/log?published=nha-van-hoa-thon.md") {
		t.Fatalf("publish: %d %s", code, where)
	}
	file := filepath.Join(foldersA, "co-le", "nha-van-hoa-thon.md")
	if !exists(file) {
		t.Fatal("the entry is not in Cổ Lễ's folder")
	}
	for _, p := range []string{filepath.Join(foldersA, "nha-van-hoa-thon.md"), filepath.Join(foldersA, "yen-tu", "nha-van-hoa-thon.md"), filepath.Join(foldersA, "hoa-lu")} {
		if exists(p) {
			t.Errorf("publishing in Cổ Lễ wrote %s", p)
		}
	}
	if id, text := ask(addrA, "co-le", q); id != "nha-van-hoa-thon" || !strings.Contains(text, "COLERIENG") {
		t.Errorf("Cổ Lễ does not answer with its new entry: %q %q", id, text)
	}
	for _, slug := range []string{"yen-tu", "hoa-lu"} {
		if id, text := ask(addrA, slug, q); id == "nha-van-hoa-thon" || strings.Contains(text, "COLERIENG") {
			t.Errorf("%s answers with Cổ Lễ's entry", slug)
		}
	}
	// The log: Cổ Lễ's store, linked to its ticket; shown to Cổ Lễ's
	// admin, not to Yên Từ's.
	check, err := storage.OpenURL(ctx, cfgA.dsn(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	logOf := func(slug string) []storage.Publish {
		t.Helper()
		ps, err := must(t, check, slug).Publishes(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	if ps := logOf("co-le"); len(ps) != 1 || ps[0].File != "nha-van-hoa-thon.md" || ps[0].TicketID != 1 || ps[0].StaffName == "" {
		t.Errorf("Cổ Lễ's publish log: %+v", ps)
	}
	if tk, err := must(t, check, "co-le").Ticket(ctx, 1); err != nil || tk.EntryID != "nha-van-hoa-thon" {
		t.Errorf("Cổ Lễ's ticket #1 is not linked to the entry: %+v %v", tk, err)
	}
	for _, slug := range []string{"", "yen-tu", "hoa-lu"} {
		if ps := logOf(slug); len(ps) != 0 {
			t.Errorf("store %q logged Cổ Lễ's publish: %+v", slug, ps)
		}
	}
	if page := get(t, lan, "http://"+addrA+"/admin/hoidap/log"); !strings.Contains(page, "nha-van-hoa-thon.md") {
		t.Error("Cổ Lễ's publish log page lacks the publish")
	}

	// The second instance writes the file into its own Cổ Lễ folder and
	// answers with it; its other communes do not.
	if !poll(func() bool { id, _ := ask(addrB, "co-le", q); return id == "nha-van-hoa-thon" }) {
		t.Fatal("the second instance never answered with the entry published on the first")
	}
	if b, err := os.ReadFile(filepath.Join(foldersB, "co-le", "nha-van-hoa-thon.md")); err != nil || !strings.Contains(string(b), "COLERIENG") {
		t.Errorf("the second instance's Cổ Lễ folder: %v", err)
	}
	if id, _ := ask(addrB, "yen-tu", q); id == "nha-van-hoa-thon" || exists(filepath.Join(foldersB, "yen-tu", "nha-van-hoa-thon.md")) {
		t.Error("the second instance's Yên Từ took Cổ Lễ's entry")
	}

	// Yên Từ's admin: whatever the form says (Cổ Lễ's ticket number, Cổ
	// Lễ's file, a path out of the folder), a publish lands in Yên Từ's
	// folder and log; Cổ Lễ's file and log and the province base stay.
	tu, tuTok := login("tu")
	if page := get(t, tu, "http://"+addrA+"/admin/hoidap/log"); strings.Contains(page, "nha-van-hoa-thon") {
		t.Error("Yên Từ's admin sees Cổ Lễ's publish log")
	}
	before, _ := os.ReadFile(file)
	for _, f := range []string{"../co-le/nha-van-hoa-thon.md", "nha-van-hoa-thon.md", "../../nha-van-hoa-thon.md", "/tmp/x.md"} {
		form := entry("nha-van-hoa-thon", "YENTUGHIDE")
		form.Set("csrf", tuTok)
		form.Set("file", f)
		// The first publishes the entry into Yên Từ's folder, the second
		// edits that file; the others are new drafts with an id Yên Từ
		// has now, refused as duplicates.
		code, where := publish(tu, form)
		if code != http.StatusSeeOther && code != http.StatusBadRequest || code == http.StatusSeeOther && !strings.Contains(where, "published=nha-van-hoa-thon.md") {
			t.Fatalf("Yên Từ's publish with file %q: %d %s", f, code, where)
		}
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
		t.Error("Yên Từ's admin changed Cổ Lễ's file")
	}
	if b, err := os.ReadFile(filepath.Join(foldersA, "yen-tu", "nha-van-hoa-thon.md")); err != nil || !strings.Contains(string(b), "YENTUGHIDE") {
		t.Errorf("Yên Từ's publish is not in its folder: %v", err)
	}
	for _, p := range []string{filepath.Join(foldersA, "nha-van-hoa-thon.md"), filepath.Join(filepath.Dir(foldersA), "nha-van-hoa-thon.md"), "/tmp/x.md"} {
		if exists(p) {
			t.Errorf("a publish escaped the commune's folder: %s", p)
		}
	}
	if ps := logOf("co-le"); len(ps) != 1 {
		t.Errorf("Cổ Lễ's log after Yên Từ's publishes: %d rows", len(ps))
	}
	ps := logOf("yen-tu")
	if len(ps) != 2 {
		t.Errorf("Yên Từ's log: %d rows, want 2", len(ps))
	}
	for _, p := range ps {
		if p.File != "nha-van-hoa-thon.md" || p.TicketID != 0 {
			t.Errorf("Yên Từ's log: %+v (Cổ Lễ's ticket number must not link to a Yên Từ ticket)", p)
		}
	}
	if _, text := ask(addrA, "co-le", q); !strings.Contains(text, "COLERIENG") || strings.Contains(text, "YENTUGHIDE") {
		t.Errorf("Cổ Lễ's answer after Yên Từ's publishes: %q", text)
	}

	// The province admin in Hoa Lư replaces a province entry for Hoa Lư
	// only (its folder is created).
	tinh, _ := login("tinh")
	roll := get(t, tinh, "http://"+addrA+"/admin/tinh")
	resp, err := tinh.PostForm("http://"+addrA+"/admin/chonxa", url.Values{"csrf": {csrfIn(roll)}, "commune": {"hoa-lu"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	page = get(t, tinh, "http://"+addrA+"/admin/hoidap/draft?entry=vneid-cai-dat")
	field := func(name string) string {
		m := regexp.MustCompile(`name="` + name + `"[^>]*value="([^"]*)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s in the editor", name)
		}
		return html.UnescapeString(m[1])
	}
	ta := func(name string) string {
		m := regexp.MustCompile(`(?s)name="` + name + `"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s in the editor", name)
		}
		return html.UnescapeString(m[1])
	}
	form := url.Values{"csrf": {csrfIn(page)}, "file": {field("file")}, "id": {"vneid-cai-dat"}, "title": {field("title")}, "category": {"vneid"},
		"questions": {ta("questions")}, "body": {ta("body") + "\n\nHOALURIENG: cán bộ phường hỗ trợ cài đặt tại bộ phận một cửa."},
		"sources": {ta("sources")}, "updated": {updated[1]}}
	if code, where := publish(tinh, form); code != http.StatusSeeOther {
		t.Fatalf("the province admin's publish in Hoa Lư: %d %s", code, where)
	}
	if !exists(filepath.Join(foldersA, "hoa-lu", "vneid-cai-dat.md")) {
		t.Fatal("the replacement is not in Hoa Lư's folder")
	}
	const vq = "cai vneid tren iphone the nao"
	if id, text := ask(addrA, "hoa-lu", vq); id != "vneid-cai-dat" || !strings.Contains(text, "HOALURIENG") {
		t.Errorf("Hoa Lư's answer: %q %q", id, text)
	}
	if id, text := ask(addrA, "co-le", vq); id != "vneid-cai-dat" || strings.Contains(text, "HOALURIENG") {
		t.Errorf("Cổ Lễ's answer after Hoa Lư's replacement: %q %q", id, text)
	}
	if ps := logOf("hoa-lu"); len(ps) != 1 || ps[0].File != "vneid-cai-dat.md" {
		t.Errorf("Hoa Lư's log: %+v", ps)
	}
}
