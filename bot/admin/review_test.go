package admin

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/colecommune/trolyso/knowledge"
)

// reviewBase is a base whose entries' review dates sit around testNow
// (14/08/2026, 10:00 in Vietnam).
func reviewBase(t *testing.T, files map[string]string) *knowledge.Base {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	profile, _ := knowledge.LoadProfile("")
	b, err := knowledge.Load(fsys, profile, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func reviewFile(id, title, updated, reviewBy string, sources ...string) string {
	s := "---\nid: " + id + "\ntitle: '" + title + "'\ncategory: dvc\nquestions: [hỏi một, hỏi hai, hỏi ba, hỏi bốn]\nsources:\n"
	for _, u := range sources {
		s += "  - '" + u + "'\n"
	}
	s += "updated: " + updated + "\n"
	if reviewBy != "" {
		s += "review_by: " + reviewBy + "\n"
	}
	return s + "---\nNội dung.\n"
}

// longURL is a source whose address is too long to show whole.
var longURL = "https://www.baochinhphu.vn/" + strings.Repeat("rat-dai-", 12) + ".htm"

// TestReviewPage lists the entries past or within 30 days of their review
// date, longest overdue first, with their sources as safe links, and the
// navigation of every page counts them.
func TestReviewPage(t *testing.T) {
	base := reviewBase(t, map[string]string{
		"late.md":  reviewFile("late", "Quá hạn một ngày", "2026-02-01", "2026-08-13", "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html"),
		"today.md": reviewFile("today", "Đến hạn hôm nay", "2026-02-01", "2026-08-14", "https://vneid.gov.vn/"),
		"soon.md":  reviewFile("soon", "Còn ba mươi ngày", "2026-02-01", "2026-09-13", "https://baochinhphu.vn/a.htm", "https://bocongan.gov.vn/b", longURL),
		"later.md": reviewFile("later", "Còn ba mươi mốt ngày", "2026-02-01", "2026-09-14", "https://chinhphu.vn/"),
		"def.md":   reviewFile("def", "Hạn mặc định", "2026-02-10", "", "https://xaydungchinhsach.chinhphu.vn/c.htm"), // due 10/08/2026
		"evil.md": reviewFile("evil", "<script>alert(1)</script> Mục & lạ", "2026-02-01", "2026-08-01",
			`https://example.org/a?x="><script>alert(2)</script>&y=1`),
	})
	srv, _ := setup(t, Config{Password: "mật khẩu dài", Base: func() *knowledge.Base { return base }})
	c := client(t)
	if resp, _ := get(t, c, srv.URL+"/admin/review"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/admin/login" {
		t.Fatalf("unauthenticated /admin/review: %d → %s, want the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	login(t, c, srv.URL, "mật khẩu dài")
	resp, body := get(t, c, srv.URL+"/admin/review")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	rows := regexp.MustCompile(`<tr id="review-([a-z-]+)">`).FindAllStringSubmatch(body, -1)
	var order []string
	for _, m := range rows {
		order = append(order, m[1])
	}
	if got := strings.Join(order, " "); got != "evil def late today soon" {
		t.Errorf("listed %q, want evil def late today soon (longest overdue first; later is 31 days away)", got)
	}
	row := func(id string) string {
		i := strings.Index(body, `<tr id="review-`+id+`">`)
		if i < 0 {
			return ""
		}
		end := strings.Index(body[i:], "</tr>")
		return body[i : i+end]
	}
	tests := []struct {
		id   string
		want []string
	}{
		{"late", []string{"Quá hạn một ngày", "late.md", "01/02/2026", "13/08/2026", "Quá hạn 1 ngày",
			`<a href="https://dichvucong.gov.vn/p/home/dvc-trang-chu.html" target="_blank" rel="noopener noreferrer"`,
			`>dichvucong.gov.vn/p/home/dvc-trang-chu.html</a>`}},
		{"today", []string{"14/08/2026", "Đến hạn hôm nay", `<a href="https://vneid.gov.vn/"`}},
		{"soon", []string{"13/09/2026", "Còn 30 ngày", `href="https://baochinhphu.vn/a.htm"`, `href="https://bocongan.gov.vn/b"`,
			`<a href="` + longURL + `" target="_blank" rel="noopener noreferrer" title="` + longURL + `">baochinhphu.vn/` + strings.Repeat("rat-dai-", 5) + "rat-…</a>"}},
		{"def", []string{"10/08/2026", "mặc định: 6 tháng sau ngày cập nhật", "Quá hạn 4 ngày"}},
		{"evil", []string{"&lt;script&gt;alert(1)&lt;/script&gt; Mục &amp; lạ", "Quá hạn 13 ngày",
			`<a href="https://example.org/a?x=%22%3e%3cscript%3ealert%282%29%3c/script%3e&amp;y=1" target="_blank" rel="noopener noreferrer"`}},
	}
	for _, tt := range tests {
		r := row(tt.id)
		for _, w := range tt.want {
			if !strings.Contains(r, w) {
				t.Errorf("row %s lacks %q:\n%s", tt.id, w, r)
			}
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, `"><script`) {
		t.Errorf("unescaped markup from an entry reached the page:\n%s", row("evil"))
	}
	for _, a := range regexp.MustCompile(`<a href="http[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(a, `rel="noopener noreferrer"`) || strings.Count(a, `"`) != 8 {
			t.Errorf("source link %s: want an escaped href with rel=noopener", a)
		}
	}
	for _, w := range []string{"5 mục", "3 mục đã quá hạn", "hôm nay 14/08/2026", "Mục đến hạn tiếp theo: Còn ba mươi mốt ngày – ngày 14/09/2026", "trolyso kb check --links"} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}

	// Every page links to it, with the count.
	for _, path := range []string{"/admin/", "/admin/unanswered", "/admin/lowest", "/admin/reminders", "/admin/review"} {
		_, body := get(t, c, srv.URL+path)
		if !strings.Contains(body, `<a href="/admin/review" id="nav-review"`) || !strings.Contains(body, `Cần rà soát <span class="count">5</span></a>`) {
			t.Errorf("%s: navigation lacks the review link with its count", path)
		}
	}
}

func TestReviewPageNothingDue(t *testing.T) {
	base := reviewBase(t, map[string]string{
		"a.md": reviewFile("a", "Mục A", "2026-08-01", "2026-12-31", "https://vneid.gov.vn/"),
		"b.md": reviewFile("b", "Mục B", "2026-08-01", "2026-10-01", "https://vneid.gov.vn/"),
	})
	srv, _ := setup(t, Config{Password: "mật khẩu dài", Base: func() *knowledge.Base { return base }})
	c := client(t)
	login(t, c, srv.URL, "mật khẩu dài")
	_, body := get(t, c, srv.URL+"/admin/review")
	for _, w := range []string{"Không có mục nào quá hạn hoặc sẽ đến hạn rà soát trong 30 ngày tới", "Mục đến hạn tiếp theo: Mục B – ngày 01/10/2026",
		`id="nav-review" class="on">Cần rà soát</a>`} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q:\n%s", w, body)
		}
	}
	if strings.Contains(body, `<table id="review"`) {
		t.Error("an empty table is shown")
	}
}
