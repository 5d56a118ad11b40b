package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/colecommune/trolyso/storage"
)

// snapshot is what a commune's dashboard could change, as text.
func snapshot(t *testing.T, db *storage.DB) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	rs, err := db.Reminders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		b.WriteString(r.Name + " " + strconv.FormatBool(r.Enabled) + " " + r.Cron + " " + r.Template + "\n")
	}
	js, err := db.AlertJobs(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		b.WriteString(j.Title + " " + j.Status + "\n")
	}
	ts, _ := db.Teams(ctx)
	for _, tm := range ts {
		b.WriteString(tm.Village + " " + tm.GroupChat + "\n")
	}
	b.WriteString(ticketState(t, db))
	return b.String()
}

// seedCommune gives a commune a declined question, a reminder, an alert
// job, a team and an open ticket, all marked with secret.
func seedCommune(t *testing.T, db *storage.DB, secret string) {
	t.Helper()
	ctx := context.Background()
	key := db.UserKey("web", secret)
	if _, err := db.RecordExchange(ctx, &storage.Exchange{UserKey: key, Channel: "web", Question: secret + " hỏi riêng", Normalized: strings.ToLower(secret) + " hoi rieng", Band: "decline"}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddReminder(ctx, &storage.Reminder{Name: secret + " nhắc", Cron: "0 8 * * 1", Template: secret, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	j := storage.AlertJob{Kind: storage.AlertNotice, Title: secret + " thông báo", Body: secret, Text: secret, CreatedBy: "test",
		ScheduledFor: time.Now().Add(24 * time.Hour), ExpiresAt: time.Now().Add(48 * time.Hour)}
	if err := db.CreateAlertJob(ctx, &j); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddTeam(ctx, "Thôn "+secret, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.OpenTicket(ctx, "web", key, []storage.NewTicketMessage{{Author: storage.AuthorResident, Text: secret + " cần cán bộ"}}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCommuneAdminIsolation(t *testing.T) {
	onBothBackends(t, testCommuneAdminIsolation)
}

// testCommuneAdminIsolation: a commune admin requests every /admin route
// of the real server (found in the source) with the ids of another
// commune's rows, and with that commune's slug where one is taken: no
// page shows the other commune's data and nothing of it changes. The
// province admin sees every commune (the secret is reachable, so its
// absence is meaningful).
func testCommuneAdminIsolation(t *testing.T, backend string) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := provinceConfig(t, backend, dir, writeCommunes(t))
	db, err := storage.OpenURL(ctx, cfg.dsn(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seedCommune(t, must(t, db, "co-le"), "COLEMINE")
	seedCommune(t, must(t, db, "yen-tu"), "YENTUSECRET")
	// A ticket id that exists in Yên Từ only.
	yt := must(t, db, "yen-tu")
	if _, _, err := yt.OpenTicket(ctx, "web", yt.UserKey("web", "other"), []storage.NewTicketMessage{{Author: storage.AuthorResident, Text: "YENTUSECRET thứ hai"}}, nil); err != nil {
		t.Fatal(err)
	}
	hash := func(pw string) string {
		h, _ := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		return string(h)
	}
	if _, err := db.AddAdmin(ctx, "lan", "co-le", hash("mat-khau-cua-lan"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddAdmin(ctx, "tinh", "", hash("mat-khau-cua-tinh"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddAdmin(ctx, "moi", "hoa-lu", hash("ma-mot-lan-123"), true); err != nil {
		t.Fatal(err)
	}
	db.Close()

	addr, _ := startServe(t, quietApp(t), cfg)
	// Taken once the server has seeded every commune's default reminders.
	before := snapshot(t, openCommune(t, cfg, "yen-tu"))
	base := "http://" + addr
	login := func(name, pw string) (*http.Client, string) {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		page := get(t, c, base+"/admin/login")
		tok := csrfIn(page)
		resp, err := c.PostForm(base+"/admin/login", url.Values{"csrf": {tok}, "name": {name}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %s: %d", name, resp.StatusCode)
		}
		return c, resp.Header.Get("Location")
	}

	// The commune admin.
	lan, where := login("lan", "mat-khau-cua-lan")
	if where != "/admin/" {
		t.Errorf("commune admin sent to %q", where)
	}
	home := get(t, lan, base+"/admin/unanswered?period=all")
	if !strings.Contains(home, "COLEMINE") || strings.Contains(home, "YENTUSECRET") {
		t.Fatalf("the commune admin's unanswered page: mine %v, other's %v", strings.Contains(home, "COLEMINE"), strings.Contains(home, "YENTUSECRET"))
	}
	// The requests to staff: the commune admin's own commune's only.
	if page := get(t, lan, base+"/admin/hoidap"); !strings.Contains(page, "COLEMINE") || strings.Contains(page, "YENTUSECRET") {
		t.Errorf("the commune admin's requests: mine %v, other's %v", strings.Contains(page, "COLEMINE"), strings.Contains(page, "YENTUSECRET"))
	}
	tok := csrfIn(home)
	if tok == "" {
		t.Fatal("no CSRF token on the dashboard")
	}
	otherIDs := idsOf(t, cfg, "yen-tu")
	routes := adminRoutes(t)
	checked := 0
	for _, route := range routes {
		method, path, ok := strings.Cut(route, " ")
		if !ok {
			method, path = "", route
		}
		path = strings.ReplaceAll(path, "{$}", "")
		for _, id := range otherIDs {
			p := regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, id)
			methods := []string{method}
			if method == "" {
				methods = []string{http.MethodGet, http.MethodPost}
			}
			for _, m := range methods {
				if p == "/admin/logout" {
					continue
				}
				form := url.Values{"csrf": {tok}, "commune": {"yen-tu"}, "id": {id}, "job": {id}, "ticket": {id}, "text": {"đã xử lý"},
					"count": {"1"}, "name": {"lan"}, "status": {"cancelled"}, "reply": {"xin chào"}, "staff": {"Lan"}}
				req, _ := http.NewRequest(m, base+p+"?period=all&commune=yen-tu&id="+id, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := lan.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				checked++
				if strings.Contains(string(body), "YENTUSECRET") {
					t.Errorf("%s %s (route %q) showed another commune's data (%d)", m, p, route, resp.StatusCode)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d requests checked", checked)
	}
	// The province pages and commune switch are refused to a commune admin.
	for _, p := range []string{"/admin/tinh", "/admin/tinh/baocao.csv"} {
		if code, _ := status(t, lan, base+p); code != http.StatusForbidden {
			t.Errorf("GET %s by a commune admin: %d", p, code)
		}
	}
	resp, _ := lan.PostForm(base+"/admin/chonxa", url.Values{"csrf": {tok}, "commune": {"yen-tu"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("commune switch by a commune admin: %d", resp.StatusCode)
	}
	if after := snapshot(t, openCommune(t, cfg, "yen-tu")); after != before {
		t.Errorf("another commune's data changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if page := get(t, lan, base+"/admin/unanswered?period=all"); strings.Contains(page, "YENTUSECRET") {
		t.Error("after the attempts the commune admin sees another commune")
	}

	// The province admin: the roll-up, then any commune.
	tinh, where := login("tinh", "mat-khau-cua-tinh")
	if where != "/admin/tinh" {
		t.Errorf("province admin sent to %q", where)
	}
	roll := get(t, tinh, base+"/admin/tinh?period=all")
	for _, name := range []string{"xã Cổ Lễ", "xã Yên Từ", "phường Hoa Lư", "YENTUSECRET hỏi riêng", "COLEMINE hỏi riêng"} {
		if !strings.Contains(roll, name) {
			t.Errorf("roll-up lacks %q", name)
		}
	}
	if code, csv := status(t, tinh, base+"/admin/tinh/baocao.csv?period=all"); code != 200 || !strings.Contains(csv, "Toàn tỉnh") {
		t.Errorf("province CSV: %d", code)
	}
	ptok := csrfIn(roll)
	resp, _ = tinh.PostForm(base+"/admin/chonxa", url.Values{"csrf": {ptok}, "commune": {"yen-tu"}})
	resp.Body.Close()
	if page := get(t, tinh, base+"/admin/unanswered?period=all"); !strings.Contains(page, "YENTUSECRET") || strings.Contains(page, "COLEMINE") {
		t.Error("the province admin does not see the commune chosen")
	}
	for _, p := range []string{"/admin/hoidap", "/admin/hoidap/2"} {
		if page := get(t, tinh, base+p); !strings.Contains(page, "YENTUSECRET") || strings.Contains(page, "COLEMINE") {
			t.Errorf("%s: the province admin does not see the requests of the commune chosen", p)
		}
	}

	// First login with a one-time code: only the password page until the
	// password is changed.
	moi, where := login("moi", "ma-mot-lan-123")
	if where != "/admin/doimatkhau" {
		t.Errorf("first login sent to %q", where)
	}
	if code, _ := status(t, moi, base+"/admin/"); code != http.StatusSeeOther {
		t.Errorf("dashboard before the password change: %d", code)
	}
	pw := get(t, moi, base+"/admin/doimatkhau")
	resp, _ = moi.PostForm(base+"/admin/doimatkhau", url.Values{"csrf": {csrfIn(pw)}, "current": {"ma-mot-lan-123"}, "password": {"mat-khau-moi-rieng"}, "again": {"mat-khau-moi-rieng"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change password: %d", resp.StatusCode)
	}
	if code, page := status(t, moi, base+"/admin/"); code != 200 || !strings.Contains(page, "phường Hoa Lư") {
		t.Errorf("dashboard after the password change: %d", code)
	}
}

func must(t *testing.T, db *storage.DB, slug string) *storage.DB {
	t.Helper()
	c, err := db.Commune(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func openCommune(t *testing.T, cfg *Config, slug string) *storage.DB {
	t.Helper()
	db, err := storage.OpenURL(context.Background(), cfg.dsn(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return must(t, db, slug)
}

// idsOf lists the ids of a commune's rows (reminders, runs, alert jobs,
// tickets), and one that exists nowhere.
func idsOf(t *testing.T, cfg *Config, slug string) []string {
	t.Helper()
	ctx := context.Background()
	c := openCommune(t, cfg, slug)
	seen := map[string]bool{"999999": true}
	rs, _ := c.Reminders(ctx)
	for _, r := range rs {
		seen[strconv.FormatInt(r.ID, 10)] = true
	}
	js, _ := c.AlertJobs(ctx, 100)
	for _, j := range js {
		seen[strconv.FormatInt(j.ID, 10)] = true
	}
	for _, st := range []string{storage.TicketOpen, storage.TicketClosed} {
		ts, _ := c.ListTickets(ctx, storage.TicketFilter{Status: st, Limit: 100})
		for _, x := range ts {
			seen[strconv.FormatInt(x.ID, 10)] = true
		}
	}
	var out []string
	for id := range seen {
		out = append(out, id)
	}
	return out
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func csrfIn(page string) string {
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	_, body := status(t, c, u)
	return body
}

func status(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
