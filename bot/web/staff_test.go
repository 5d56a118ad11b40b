package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/bot/web"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

type poll struct {
	Messages []web.Response `json:"messages"`
	Open     bool           `json:"open"`
}

// A web-chat resident asks for staff, then fetches the staff answer with
// the session cookie; nobody else gets it, and it comes once.
func TestStaffMessagesByPoll(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 3, 17, 2, 0, 0, 0, time.UTC) }
	profile, _ := knowledge.LoadProfile("")
	base, err := knowledge.Load(knowledge.EmbeddedBase(), profile, now())
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(ctx, t.TempDir()+"/web.db", storage.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eng := bot.New(bot.Config{Store: db, Now: now}, base)
	desk, err := handoff.New(ctx, handoff.Config{Store: db, Base: eng.Base, Now: now, Web: true})
	if err != nil {
		t.Fatal(err)
	}
	desk.Register(eng)
	mux := http.NewServeMux()
	web.New(web.Config{Engine: eng, Store: db, Now: now}).Routes(mux)
	web.MountStaff(mux, web.StaffConfig{Store: db, Inbox: desk, Now: now})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}

	get := func(c *http.Client) poll {
		t.Helper()
		resp, err := c.Get(srv.URL + "/api/staff")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p poll
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&p) != nil {
			t.Fatalf("GET /api/staff: %d", resp.StatusCode)
		}
		return p
	}
	if p := get(c); p.Open || len(p.Messages) != 0 {
		t.Fatalf("before any request: %+v", p)
	}
	resp, err := c.Post(srv.URL+"/api/message", "application/json", strings.NewReader(`{"text":"/canbo"}`))
	if err != nil {
		t.Fatal(err)
	}
	var r web.Response
	json.NewDecoder(resp.Body).Decode(&r)
	resp.Body.Close()
	if r.Band != "handoff" || !strings.Contains(r.Text, "#1") {
		t.Fatalf("/canbo = %+v", r)
	}
	if p := get(c); !p.Open || len(p.Messages) != 0 {
		t.Fatalf("open, nothing yet: %+v", p)
	}
	if _, err := desk.Reply(ctx, 1, bot.StaffMember{Name: "Chị Hoa", Via: bot.StaffViaDashboard}, "Chào bạn <script>alert(1)</script>"); err != nil {
		t.Fatal(err)
	}
	// Another browser (no cookie, or a made-up one) gets nothing.
	if p := get(&http.Client{}); len(p.Messages) != 0 || p.Open {
		t.Errorf("a client without the cookie got %+v", p)
	}
	other, _ := cookiejar.New(nil)
	u := srv.URL + "/"
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	other.SetCookies(req.URL, []*http.Cookie{{Name: "trolyso_sid", Value: strings.Repeat("ab", 16)}})
	if p := get(&http.Client{Jar: other}); len(p.Messages) != 0 {
		t.Errorf("a made-up session got %+v", p)
	}
	p := get(c)
	if !p.Open || len(p.Messages) != 1 || !strings.Contains(p.Messages[0].HTML, "Chị Hoa") || strings.Contains(p.Messages[0].HTML, "<script>") {
		t.Fatalf("staff message: %+v", p)
	}
	if p := get(c); len(p.Messages) != 0 {
		t.Errorf("the same message came twice: %+v", p)
	}
	if _, err := desk.Close(ctx, 1, bot.StaffMember{Name: "Chị Hoa", Via: bot.StaffViaDashboard}); err != nil {
		t.Fatal(err)
	}
	p = get(c)
	if p.Open || len(p.Messages) != 1 || len(p.Messages[0].Buttons) != 1 || p.Messages[0].Buttons[0][0].Payload != "hr:1:+" {
		t.Fatalf("close notice: %+v", p)
	}
}
