package storage

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestCopyFromSQLite(t *testing.T) { forEachBackend(t, testCopyFromSQLite) }

// testCopyFromSQLite copies a commune's SQLite file into a commune of the
// backend under test (with another user-key secret), twice.
func testCopyFromSQLite(t *testing.T, tb testBackend) {
	ctx := context.Background()
	at := time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC)
	clock := func() time.Time { return at }
	src, err := Open(ctx, filepath.Join(t.TempDir(), "commune.db"), Options{Secret: "commune secret", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// A team member on Telegram (delivery address kept), a web resident.
	member := src.UserKey("telegram", "555")
	if err := src.SetAddress(ctx, "telegram", member, "555"); err != nil {
		t.Fatal(err)
	}
	web := src.UserKey("web", "session-1")
	team, err := src.AddTeam(ctx, "Thôn Đông", "-100")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.JoinTeam(ctx, "telegram", member, team.JoinCode, "Chị Lan"); err != nil {
		t.Fatal(err)
	}
	ex, err := src.RecordExchange(ctx, &Exchange{UserKey: web, Channel: "web", Question: "quên mật khẩu", Band: "answer", EntryID: "vneid"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Rate(ctx, web, ex, -1); err != nil {
		t.Fatal(err)
	}
	r := Reminder{Name: "Nhắc", Cron: "0 8 * * 1", Target: "teams:" + strconv.FormatInt(team.ID, 10), Template: "x", Enabled: true}
	if err := src.AddReminder(ctx, &r); err != nil {
		t.Fatal(err)
	}
	run, _, err := src.StartRun(ctx, r.ID, at, false, []NewDelivery{
		{Recipient: "user:" + member, UserID: 1, TeamID: team.ID, Text: "a"},
		{Recipient: "group:" + strconv.FormatInt(team.ID, 10), TeamID: team.ID, Text: "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = run

	dst, err := tb.Open(ctx, filepath.Join(t.TempDir(), "province.db"), Options{Secret: "province secret", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	commune, err := dst.Commune(ctx, "co-le")
	if err != nil {
		t.Fatal(err)
	}
	// The province already knows the member (they wrote to the province
	// bot before the copy): the copy merges them.
	newMember := dst.UserKey("telegram", "555")
	if _, err := commune.TouchUser(ctx, "telegram", newMember); err != nil {
		t.Fatal(err)
	}
	rep, err := commune.CopyFrom(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]CopyCount{}
	for _, c := range rep.Tables {
		counts[c.Table] = c
	}
	want := map[string][2]int{ // copied, merged
		"users": {1, 1}, "addresses": {1, 0}, "exchanges": {1, 0}, "ratings": {1, 0}, "teams": {1, 0},
		"team_members": {1, 0}, "reminders": {1, 0}, "reminder_runs": {1, 0}, "reminder_deliveries": {2, 0},
	}
	for tbl, w := range want {
		if c := counts[tbl]; c.Copied != w[0] || c.Merged != w[1] || c.Skipped != 0 {
			t.Errorf("%s: %+v, want copied %d merged %d", tbl, c, w[0], w[1])
		}
	}
	if rep.Rekeyed != 1 || rep.Kept != 1 {
		t.Errorf("rekeyed %d kept %d, want 1 and 1", rep.Rekeyed, rep.Kept)
	}
	// The member is the same person under the province's key.
	m, err := commune.Membership(ctx, newMember)
	if err != nil || m.Village != "Thôn Đông" || m.DisplayName != "Chị Lan" {
		t.Fatalf("membership under the new key: %+v, %v", m, err)
	}
	rs, _ := commune.Reminders(ctx)
	if len(rs) != 1 || rs[0].Target != "teams:"+strconv.FormatInt(m.TeamID, 10) {
		t.Errorf("reminder target not translated: %+v", rs)
	}
	runs, _ := commune.RecentRuns(ctx, 0, 10)
	if len(runs) != 1 {
		t.Fatalf("runs %+v", runs)
	}
	ds, _ := commune.RunDeliveries(ctx, runs[0].ID)
	if len(ds) != 2 {
		t.Fatalf("deliveries %+v", ds)
	}
	for _, d := range ds {
		if !d.Group() {
			if _, _, err := commune.AckDelivery(ctx, d.ID, newMember); err != nil {
				t.Errorf("the member cannot acknowledge their copied delivery: %v", err)
			}
		} else if d.Recipient != "group:"+strconv.FormatInt(m.TeamID, 10) {
			t.Errorf("group recipient %q", d.Recipient)
		}
	}
	day := [2]time.Time{at.Add(-time.Hour), at.Add(time.Hour)}
	if n, _ := commune.CountExchanges(ctx, day[0], day[1]); n != 1 {
		t.Errorf("%d exchanges in the commune", n)
	}
	if n, _ := dst.CountExchanges(ctx, day[0], day[1]); n != 0 {
		t.Errorf("%d exchanges outside the commune", n)
	}

	// Again: nothing new; then one more exchange in the source.
	rep2, err := commune.CopyFrom(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep2.Tables {
		if c.Copied != 0 || c.Skipped != 0 {
			t.Errorf("second copy of %s: %+v", c.Table, c)
		}
	}
	if _, err := src.RecordExchange(ctx, &Exchange{UserKey: web, Channel: "web", Question: "lần nữa", Band: "decline"}); err != nil {
		t.Fatal(err)
	}
	rep3, err := commune.CopyFrom(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep3.Tables {
		if c.Table == "exchanges" && (c.Copied != 1 || c.Had != 1) {
			t.Errorf("third copy of exchanges: %+v", c)
		}
	}
	if n, _ := commune.CountExchanges(ctx, day[0], day[1]); n != 2 {
		t.Errorf("%d exchanges after the third copy", n)
	}
}
