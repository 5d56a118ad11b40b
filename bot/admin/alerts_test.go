package admin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

const alertProfile = `placeholder: false
name: "xã Cổ Lễ"
province: "tỉnh Ninh Bình"
centre: {name: "Trung tâm Phục vụ hành chính công xã Cổ Lễ", address: "Số 1", hours: "7:30–17:00", phone: "0228 000 000"}
police: {name: "Công an xã Cổ Lễ", address: "Số 2", phone: "0228 111 111"}
teams:
  - {village: "Thôn Đông", leader: "A", phone: "0900 000 001"}
  - {village: "Thôn Tây", leader: "B", phone: "0900 000 002"}
`

// alertSite is a logged-in dashboard over a filled-in profile (villages).
func alertSite(t *testing.T) (*http.Client, string, *storage.DB) {
	t.Helper()
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), storage.Options{Secret: "s", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	profile, err := knowledge.ParseProfile([]byte(alertProfile))
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, testNow)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Store: db, Base: func() *knowledge.Base { return base }, Now: func() time.Time { return testNow }, Password: "đúng"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := client(t)
	if r := login(t, c, srv.URL, "đúng"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}
	return c, srv.URL, db
}

func addSubscribers(t *testing.T, db *storage.DB, channel string, n int, village string) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		id := fmt.Sprintf("%s-%s-%d", channel, village, i)
		key := db.UserKey(channel, id)
		if err := db.SetAddress(ctx, channel, key, id); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Subscribe(ctx, channel, key); err != nil {
			t.Fatal(err)
		}
		if village != "" {
			db.SetSubscriberVillage(ctx, key, village)
		}
	}
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestAlertComposePreviewConfirm(t *testing.T) {
	c, base, db := alertSite(t)
	ctx := context.Background()
	addSubscribers(t, db, "telegram", 2, "Thôn Đông")
	addSubscribers(t, db, "zalo", 1, "Thôn Tây")
	addSubscribers(t, db, "zalo", 4, "")

	_, home := get(t, c, base+"/admin/thongbao")
	token := csrfRe.FindStringSubmatch(home)[1]
	if !strings.Contains(home, `href="/admin/thongbao?mau=gia-danh-cong-an"`) || !strings.Contains(home, `value="Thôn Tây"`) {
		t.Fatalf("compose page lacks templates or villages")
	}
	_, tmpl := get(t, c, base+"/admin/thongbao?mau=gia-danh-cong-an")
	if !strings.Contains(tmpl, `value="Giả danh công an gọi điện đòi thông tin VNeID, mã OTP"`) || !strings.Contains(tmpl, "{{.Police.Name}}") {
		t.Errorf("template not loaded into the form")
	}

	form := url.Values{"csrf": {token}, "kind": {"notice"}, "title": {"Họp thôn <script>alert(1)</script>"},
		"body": {"Tối nay **19 giờ** tại nhà văn hoá. Hỏi thêm: {{.Centre.Phone}}"}, "villages": {"Thôn Đông", "Thôn Tây"}, "link": {"https://coledemo.gov.vn/hop"}}
	// Without the CSRF token nothing happens.
	noToken := url.Values{}
	for k, v := range form {
		if k != "csrf" {
			noToken[k] = v
		}
	}
	if r, _ := post(t, c, base+"/admin/thongbao/xem", noToken); r.StatusCode != http.StatusForbidden {
		t.Errorf("preview without token: %d", r.StatusCode)
	}
	// The confirmer's name is required.
	r, body := post(t, c, base+"/admin/thongbao/xem", form)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Nhập họ tên người xác nhận") {
		t.Fatalf("preview without a name: %d", r.StatusCode)
	}
	form.Set("by", "Nguyễn Thị Hoa")
	r, body = post(t, c, base+"/admin/thongbao/xem", form)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d\n%s", r.StatusCode, body)
	}
	for _, want := range []string{"3 người nhận (2 trên Telegram, 1 trên Zalo)", "<b>19 giờ</b>", "0228 000 000", `name="planned" value="3"`,
		"Họp thôn &lt;script&gt;", "[🔗 Xem chi tiết]"} {
		if !strings.Contains(body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, `name="confirm"`) {
		t.Error("preview has a raw script, or asks for the count under 500 recipients")
	}
	// The count changed since the preview: shown again, nothing recorded.
	form.Set("planned", "2")
	if r, body := post(t, c, base+"/admin/thongbao/gui", form); r.StatusCode != http.StatusConflict || !strings.Contains(body, "đã thay đổi") {
		t.Errorf("stale count: %d", r.StatusCode)
	}
	form.Set("planned", "3")
	r, _ = post(t, c, base+"/admin/thongbao/gui", form)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/admin/thongbao/") {
		t.Fatalf("send: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	js, _ := db.AlertJobs(ctx, 10)
	if len(js) != 1 {
		t.Fatalf("%d jobs recorded", len(js))
	}
	j := js[0]
	if j.Status != storage.JobScheduled || j.Planned != 3 || !strings.Contains(j.CreatedBy, "Nguyễn Thị Hoa") || !strings.Contains(j.CreatedBy, "bảng quản trị") ||
		strings.Join(j.Villages, ",") != "Thôn Đông,Thôn Tây" {
		t.Errorf("job = %+v", j)
	}
	// The job page: status and a cancel button; a scheduled job cannot be
	// paused, it can be cancelled.
	jobURL := base + r.Header.Get("Location")
	_, page := get(t, c, jobURL)
	if !strings.Contains(page, "đã hẹn giờ") || !strings.Contains(page, "/cancel") || !strings.Contains(page, "Nguyễn Thị Hoa") {
		t.Errorf("job page:\n%s", page)
	}
	if r, _ := post(t, c, fmt.Sprintf("%s/admin/thongbao/%d/pause", base, j.ID), url.Values{"csrf": {token}}); r.StatusCode != http.StatusConflict {
		t.Errorf("pausing a scheduled job: %d", r.StatusCode)
	}
	if r, _ := post(t, c, fmt.Sprintf("%s/admin/thongbao/%d/cancel", base, j.ID), url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Errorf("cancel without token: %d", r.StatusCode)
	}
	if r, _ := post(t, c, fmt.Sprintf("%s/admin/thongbao/%d/cancel", base, j.ID), url.Values{"csrf": {token}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("cancel: %d", r.StatusCode)
	}
	if j, _ := db.AlertJob(ctx, j.ID); j.Status != storage.JobCancelled {
		t.Errorf("after cancel: %s", j.Status)
	}
	if r, _ := get(t, c, base+"/admin/thongbao/999"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown job: %d", r.StatusCode)
	}
}

func TestAlertAboveFiveHundredNeedsTheTypedCount(t *testing.T) {
	c, base, db := alertSite(t)
	ctx := context.Background()
	addSubscribers(t, db, "telegram", 501, "")
	_, home := get(t, c, base+"/admin/thongbao")
	token := csrfRe.FindStringSubmatch(home)[1]
	form := url.Values{"csrf": {token}, "kind": {"scam"}, "title": {"Giả danh công an"}, "body": {"Không đọc OTP."}, "by": {"Trần Văn Nam"}}
	_, body := post(t, c, base+"/admin/thongbao/xem", form)
	if !strings.Contains(body, `name="confirm"`) || !strings.Contains(body, "Gõ số người nhận (501)") {
		t.Fatalf("no typed confirmation above 500:\n%s", body)
	}
	form.Set("planned", "501")
	for _, typed := range []string{"", "500", "có"} {
		form.Set("confirm", typed)
		if r, _ := post(t, c, base+"/admin/thongbao/gui", form); r.StatusCode != http.StatusBadRequest {
			t.Errorf("typed %q: %d", typed, r.StatusCode)
		}
	}
	if js, _ := db.AlertJobs(ctx, 10); len(js) != 0 {
		t.Fatalf("a job was recorded without the typed count")
	}
	form.Set("confirm", "501")
	if r, _ := post(t, c, base+"/admin/thongbao/gui", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("typed 501: %d", r.StatusCode)
	}
	js, _ := db.AlertJobs(ctx, 10)
	if len(js) != 1 || js[0].Planned != 501 {
		t.Errorf("jobs = %+v", js)
	}
	// The job page shows the progress bar once it runs.
	db.StartDueAlertJobs(ctx, testNow)
	resp, page := get(t, c, fmt.Sprintf("%s/admin/thongbao/%d", base, js[0].ID))
	if !regexp.MustCompile(`0/501 +gửi được 0, lỗi 0, còn 501`).MatchString(page) || resp.Header.Get("Refresh") == "" {
		t.Errorf("running job page (refresh %q):\n%s", resp.Header.Get("Refresh"), section(t, page, "report"))
	}
}
