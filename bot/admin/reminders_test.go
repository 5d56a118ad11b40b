package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/storage"
)

// seeded is what seedReminders put in the database.
type seeded struct {
	team     storage.Team
	reminder storage.Reminder
	run      storage.Run
	keys     []string // members' user keys (must never be shown)
	platform []string // members' platform ids (must never be shown)
}

const groupChat = "-1009876543210"

// seedReminders adds two teams (one with a Telegram group chat), four
// members, a weekly reminder and one run of it: An acknowledged, Bình was
// sent the reminder but did not acknowledge, Cường had blocked the bot, Dũng
// could not be reached, and the team's group chat got it too.
func seedReminders(t *testing.T, db *storage.DB) seeded {
	t.Helper()
	ctx := context.Background()
	var s seeded
	var err error
	if s.team, err = db.AddTeam(ctx, "Thôn Đông", groupChat); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddTeam(ctx, "Thôn Bắc", ""); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Văn Dũng"} {
		platform := fmt.Sprint(700000001 + i)
		key := db.UserKey("telegram", platform)
		if _, err := db.JoinTeam(ctx, "telegram", key, s.team.JoinCode, name); err != nil {
			t.Fatal(err)
		}
		s.keys, s.platform = append(s.keys, key), append(s.platform, platform)
	}
	s.reminder = storage.Reminder{Name: "Điểm tin hằng tuần", Cron: "30 7 * * 1", Target: "all", Template: "Chào tổ {{.Team}}", Enabled: true}
	if err := db.AddReminder(ctx, &s.reminder); err != nil {
		t.Fatal(err)
	}
	ms, err := db.ActiveMembers(ctx, nil)
	if err != nil || len(ms) != 4 {
		t.Fatalf("members %v %v", ms, err)
	}
	var ds []storage.NewDelivery
	for _, m := range ms {
		ds = append(ds, storage.NewDelivery{Recipient: "user:" + m.UserKey, UserID: m.UserID, TeamID: m.TeamID, Text: "Chào tổ"})
	}
	ds = append(ds, storage.NewDelivery{Recipient: fmt.Sprintf("group:%d", s.team.ID), TeamID: s.team.ID, Text: "Chào tổ"})
	slot := time.Date(2026, 8, 10, 0, 30, 0, 0, time.UTC) // Monday 07:30 in Vietnam
	if s.run, _, err = db.StartRun(ctx, s.reminder.ID, slot, true, ds); err != nil {
		t.Fatal(err)
	}
	planned, err := db.RunDeliveries(ctx, s.run.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range planned {
		state := storage.DeliverySent
		switch d.DisplayName {
		case "Lê Văn Cường":
			state = storage.DeliveryBlocked
		case "Phạm Văn Dũng":
			state = storage.DeliveryUndeliverable
		}
		if _, err := db.ClaimDelivery(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishDelivery(ctx, d.ID, state, ""); err != nil {
			t.Fatal(err)
		}
		if d.DisplayName == "Nguyễn Văn An" {
			if _, _, err := db.AckDelivery(ctx, d.ID, d.UserKey); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.FinishRun(ctx, s.run.ID); err != nil {
		t.Fatal(err)
	}
	return s
}

func loggedIn(t *testing.T) (*http.Client, string, *storage.DB) {
	t.Helper()
	srv, db := setup(t, Config{Password: "đúng"})
	c := client(t)
	if r := login(t, c, srv.URL, "đúng"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}
	return c, srv.URL, db
}

// section returns the HTML of the element with the id, up to its table end.
func section(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no #%s in:\n%s", id, body)
	}
	j := strings.Index(body[i:], "</table>")
	if j < 0 {
		t.Fatalf("#%s not closed", id)
	}
	return body[i : i+j]
}

func TestRemindersPage(t *testing.T) {
	c, base, db := loggedIn(t)
	s := seedReminders(t, db)

	r, body := get(t, c, base+"/admin/reminders")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("reminders page: %d\n%s", r.StatusCode, body)
	}
	if !strings.Contains(body, `id="nav-reminders" class="on">Tổ công nghệ số &amp; lịch nhắc</a>`) {
		t.Errorf("navigation link missing or not marked current")
	}
	teams := section(t, body, "teams")
	for _, want := range []string{"<td>Thôn Đông</td><td><code>" + s.team.JoinCode + "</code></td><td class=\"n\">4</td><td>Có</td>", "<td>Thôn Bắc</td>"} {
		if !strings.Contains(teams, want) {
			t.Errorf("teams table lacks %q:\n%s", want, teams)
		}
	}
	rem := section(t, body, fmt.Sprintf("reminder-%d", s.reminder.ID))
	// testNow is Friday 14/08/2026 10:00 in Vietnam: next Monday 07:30.
	for _, want := range []string{"Điểm tin hằng tuần", "07:30 thứ Hai hằng tuần<br><code class=\"muted\">30 7 * * 1</code>", "thành viên mọi tổ", "Đang bật", "17/08/2026 07:30",
		fmt.Sprintf(`action="/admin/reminders/%d/pause"`, s.reminder.ID)} {
		if !strings.Contains(rem, want) {
			t.Errorf("reminder row lacks %q:\n%s", want, rem)
		}
	}
	runs := section(t, body, "runs")
	// 3 of 5 sent (An acknowledged; Bình and the group chat did not), Cường
	// blocked, Dũng undeliverable.
	want := fmt.Sprintf(`<a href="/admin/runs/%d">#%d Điểm tin hằng tuần</a>`, s.run.ID, s.run.ID)
	if !strings.Contains(runs, want) || !strings.Contains(runs, "10/08/2026 07:30 <span class=\"late\">(gửi muộn)</span>") ||
		!strings.Contains(runs, `<td class="n">3/5</td><td class="n">1</td><td class="n">2</td><td class="n">0</td><td class="n">1</td><td class="n">1</td>`) {
		t.Errorf("runs table:\n%s", runs)
	}
	for _, secret := range append(append([]string{groupChat}, s.keys...), s.platform...) {
		if strings.Contains(body, secret) {
			t.Errorf("reminders page shows the platform id or key %q", secret)
		}
	}
}

func TestReminderPauseResume(t *testing.T) {
	c, base, db := loggedIn(t)
	s := seedReminders(t, db)
	ctx := context.Background()
	_, body := get(t, c, base+"/admin/reminders")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no csrf token on the reminders page")
	}
	token := m[1]
	id := s.reminder.ID
	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		want   bool // enabled afterwards
	}{
		{"pause without token", fmt.Sprintf("/admin/reminders/%d/pause", id), url.Values{}, http.StatusForbidden, true},
		{"pause with a wrong token", fmt.Sprintf("/admin/reminders/%d/pause", id), url.Values{"csrf": {strings.Repeat("0", len(token))}}, http.StatusForbidden, true},
		{"pause", fmt.Sprintf("/admin/reminders/%d/pause", id), url.Values{"csrf": {token}}, http.StatusSeeOther, false},
		{"pause again", fmt.Sprintf("/admin/reminders/%d/pause", id), url.Values{"csrf": {token}}, http.StatusSeeOther, false},
		{"resume with a wrong token", fmt.Sprintf("/admin/reminders/%d/resume", id), url.Values{"csrf": {"x"}}, http.StatusForbidden, false},
		{"resume", fmt.Sprintf("/admin/reminders/%d/resume", id), url.Values{"csrf": {token}}, http.StatusSeeOther, true},
		{"unknown reminder", "/admin/reminders/999/pause", url.Values{"csrf": {token}}, http.StatusNotFound, true},
		{"bad id", "/admin/reminders/abc/pause", url.Values{"csrf": {token}}, http.StatusBadRequest, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.PostForm(base+tt.path, tt.form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("POST %s: %d, want %d", tt.path, resp.StatusCode, tt.status)
			}
			if tt.status == http.StatusSeeOther && !strings.HasPrefix(resp.Header.Get("Location"), "/admin/reminders") {
				t.Fatalf("redirect to %q", resp.Header.Get("Location"))
			}
			r, err := db.Reminder(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Enabled != tt.want {
				t.Fatalf("enabled = %v after %s, want %v", r.Enabled, tt.name, tt.want)
			}
		})
		if t.Failed() {
			return
		}
	}
	// A paused reminder shows as such, with a resume button and no next run.
	if err := db.SetReminderEnabled(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, c, base+"/admin/reminders")
	rem := section(t, body, fmt.Sprintf("reminder-%d", id))
	if !strings.Contains(rem, "Tạm dừng</span>") || !strings.Contains(rem, fmt.Sprintf(`action="/admin/reminders/%d/resume"`, id)) ||
		!strings.Contains(rem, `<td class="n">—</td>`) || strings.Contains(rem, "/pause") {
		t.Fatalf("paused reminder row:\n%s", rem)
	}
}

func TestRunDetail(t *testing.T) {
	c, base, db := loggedIn(t)
	s := seedReminders(t, db)

	r, body := get(t, c, fmt.Sprintf("%s/admin/runs/%d", base, s.run.ID))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("run page: %d\n%s", r.StatusCode, body)
	}
	if !strings.Contains(body, fmt.Sprintf("Lần gửi #%d – Điểm tin hằng tuần", s.run.ID)) ||
		!strings.Contains(body, "Đã gửi 3/5; đã nhận: 1; chưa nhận: 2; gửi lỗi: 0; đã chặn trợ lý: 1; không gửi được: 1.") {
		t.Errorf("run summary:\n%s", body)
	}
	tests := []struct {
		section string
		want    []string
		not     []string
	}{
		{"acked", []string{"<td>Thôn Đông – Nguyễn Văn An</td><td>Telegram</td><td>đã gửi</td>"}, []string{"Bình", "Cường", "Dũng", "nhóm chung"}},
		{"waiting", []string{"<td>Thôn Đông – Trần Thị Bình</td><td>Telegram</td><td>đã gửi</td>", "<td>Thôn Đông – nhóm chung</td><td>Nhóm Telegram</td>"},
			[]string{"An", "Cường", "Dũng"}},
		{"problems", []string{"<td>Thôn Đông – Lê Văn Cường</td><td>Telegram</td><td>đã chặn trợ lý</td>", "Phạm Văn Dũng</td><td>Telegram</td><td>không gửi được"},
			[]string{"Nguyễn", "Bình"}},
	}
	for _, tt := range tests {
		sec := section(t, body, tt.section)
		for _, w := range tt.want {
			if !strings.Contains(sec, w) {
				t.Errorf("#%s lacks %q:\n%s", tt.section, w, sec)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(sec, n) {
				t.Errorf("#%s shows %q:\n%s", tt.section, n, sec)
			}
		}
	}
	// The acknowledged row has its time; the waiting ones show none.
	if acked := section(t, body, "acked"); strings.HasSuffix(strings.TrimSpace(acked), `<td class="n">—</td></tr>`) {
		t.Errorf("acknowledged row without a time:\n%s", acked)
	}
	if waiting := section(t, body, "waiting"); strings.Count(waiting, `<td class="n">—</td></tr>`) != 2 {
		t.Errorf("waiting rows should have no acknowledgement time:\n%s", waiting)
	}
	for _, secret := range append(append([]string{groupChat}, s.keys...), s.platform...) {
		if strings.Contains(body, secret) {
			t.Errorf("run page shows the platform id or key %q", secret)
		}
	}
	for _, p := range []string{"/admin/runs/999", "/admin/runs/abc", "/admin/runs/-1"} {
		if r, _ := get(t, c, base+p); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
	}
}

// TestOverviewShowsReminders: the overview names the next reminder (with
// its schedule in words), the last run and its acknowledgement rate.
func TestOverviewShowsReminders(t *testing.T) {
	c, base, db := loggedIn(t)
	card := func() string {
		t.Helper()
		_, body := get(t, c, base+"/admin/")
		i := strings.Index(body, `id="reminders-summary"`)
		if i < 0 {
			t.Fatalf("no reminder card in the overview:\n%s", body)
		}
		return body[i : i+strings.Index(body[i:], "</section>")]
	}
	if got := card(); !strings.Contains(got, "Không có lịch nhắc nào đang bật") || !strings.Contains(got, "Chưa có lần gửi nhắc nào") {
		t.Errorf("empty card:\n%s", got)
	}
	s := seedReminders(t, db)
	got := card()
	// testNow is Friday 14/08/2026 10:00 in Vietnam: next Monday 07:30.
	// The run: An acknowledged; Bình and the group chat were sent it; two
	// could not be reached: 1 of 3 sent acknowledged.
	for _, want := range []string{"Lần nhắc tới: <strong>17/08/2026 07:30</strong>", "Điểm tin hằng tuần (07:30 thứ Hai hằng tuần;",
		fmt.Sprintf(`href="/admin/runs/%d"`, s.run.ID), "giờ hẹn 10/08/2026 07:30", "đã gửi 3/5, đã nhận 1", `<strong id="ack-rate">33,3%</strong>`} {
		if !strings.Contains(got, want) {
			t.Errorf("reminder card lacks %q:\n%s", want, got)
		}
	}
	if err := db.SetReminderEnabled(context.Background(), s.reminder.ID, false); err != nil {
		t.Fatal(err)
	}
	if got := card(); !strings.Contains(got, "Không có lịch nhắc nào đang bật") || !strings.Contains(got, "33,3%") {
		t.Errorf("card after pausing:\n%s", got)
	}
}
