package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliNow is 2026-03-01 09:00 in Vietnam.
var cliNow = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// runCLI runs trolyso with args against the database at db and returns
// the exit code, stdout and stderr.
func runCLI(t *testing.T, db string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{
		stdin:  strings.NewReader(""),
		stdout: &out,
		stderr: &errb,
		getenv: func(k string) string {
			if k == "TROLYSO_DB" {
				return db
			}
			return ""
		},
		now: func() time.Time { return cliNow },
	}
	code := a.main(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestTeamAddPrintsCodeLast(t *testing.T) {
	t.Setenv("TZ", "UTC")
	db := filepath.Join(t.TempDir(), "t.db")
	code, out, errOut := runCLI(t, db, "team", "add", "Thôn Đông", "--group", "-100123")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	joinCode := lines[len(lines)-1]
	if !regexp.MustCompile(`^[A-Z2-9]{6}$`).MatchString(joinCode) {
		t.Fatalf("last line %q is not a join code; output:\n%s", joinCode, out)
	}
	if code, _, errOut := runCLI(t, db, "team", "add", "Thôn Đông"); code == 0 || !strings.Contains(errOut, "already exists") {
		t.Errorf("duplicate village: exit %d, %s", code, errOut)
	}
	_, out, _ = runCLI(t, db, "team", "list")
	if !strings.Contains(out, "Thôn Đông") || !strings.Contains(out, joinCode) || !strings.Contains(out, "-100123") {
		t.Errorf("team list:\n%s", out)
	}

	yml := filepath.Join(t.TempDir(), "teams.yaml")
	os.WriteFile(yml, []byte("- village: Thôn Đông\n  telegram_group: \"-100999\"\n- village: Thôn Tây\n"), 0o600)
	code, out, errOut = runCLI(t, db, "team", "import", yml)
	if code != 0 || !strings.Contains(out, "updated") || !strings.Contains(out, "added") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, db, "team", "members", "Thôn Tây")
	if code != 0 || !strings.Contains(out, "Thôn Tây") {
		t.Errorf("members: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, db, "team", "members", "Thôn Không Có"); code != 1 {
		t.Errorf("members of a missing team: exit %d", code)
	}
}

func TestRemindPreviewCron(t *testing.T) {
	t.Setenv("TZ", "UTC")
	db := filepath.Join(t.TempDir(), "t.db")
	code, out, errOut := runCLI(t, db, "remind", "preview", "--cron", "0 8 15 3,6,9,12 *")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "2026-03-15T08:00:00+07:00\n2026-06-15T08:00:00+07:00\n2026-09-15T08:00:00+07:00\n2026-12-15T08:00:00+07:00\n2027-03-15T08:00:00+07:00\n"
	if out != want {
		t.Errorf("preview:\n%s\nwant:\n%s", out, want)
	}
	// With a template, the rendered text follows.
	code, out, errOut = runCLI(t, db, "remind", "preview", "--cron", "0 8 15 3,6,9,12 *", "--template", "Tổ {{.Team}}: hạn {{.Deadline}}, còn {{.DaysToDeadline}} ngày; hài lòng {{.SatisfactionRate}}")
	if code != 0 || !strings.HasSuffix(out, "\n\nTổ Thôn Mẫu: hạn 20/03/2026, còn 5 ngày; hài lòng chưa có đánh giá\n") {
		t.Errorf("preview with template: exit %d\n%s%s", code, out, errOut)
	}
}

func TestRemindCommands(t *testing.T) {
	t.Setenv("TZ", "UTC")
	db := filepath.Join(t.TempDir(), "t.db")
	// The two defaults are seeded on first use.
	code, out, errOut := runCLI(t, db, "remind", "list")
	if code != 0 || !strings.Contains(out, "Báo cáo kết quả quý") || !strings.Contains(out, "2026-03-15T08:00:00+07:00") ||
		!strings.Contains(out, "Điểm tin hằng tuần") || !strings.Contains(out, "2026-03-02T07:30:00+07:00") {
		t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad cron", []string{"--name", "x", "--cron", "0 8 * *", "--template", "hi"}, "want exactly 5"},
		{"unknown field", []string{"--name", "x", "--cron", "0 8 * * *", "--template", "Chào {{.Thon}}"}, "unknown field .Thon"},
		{"bad target", []string{"--name", "x", "--cron", "0 8 * * *", "--template", "hi", "--target", "teams:9"}, "no team 9"},
	} {
		code, _, errOut := runCLI(t, db, append([]string{"remind", "add"}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want it to mention %q", tc.name, code, errOut, tc.want)
		}
	}
	code, out, errOut = runCLI(t, db, "remind", "add", "--name", "Họp tổ", "--cron", "0 19 * * 5", "--target", "groups", "--template", "Tối nay họp tổ {{.Team}}")
	if code != 0 || !strings.Contains(out, "reminder 3 added; next run 2026-03-06T19:00:00+07:00") {
		t.Fatalf("add: exit %d\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{{"pause", "3"}, {"resume", "3"}, {"rm", "1"}} {
		if code, _, errOut := runCLI(t, db, append([]string{"remind"}, args...)...); code != 0 {
			t.Errorf("remind %v: exit %d %s", args, code, errOut)
		}
	}
	_, out, _ = runCLI(t, db, "remind", "list")
	if strings.Contains(out, "Báo cáo kết quả quý") {
		t.Errorf("a removed default came back:\n%s", out)
	}
	if code, _, errOut := runCLI(t, db, "remind", "pause", "99"); code != 1 || !strings.Contains(errOut, "no reminder 99") {
		t.Errorf("pause 99: exit %d %s", code, errOut)
	}
	code, out, _ = runCLI(t, db, "remind", "preview", "3")
	if code != 0 || !strings.Contains(out, "2026-03-06T19:00:00+07:00") || !strings.Contains(out, "Tối nay họp tổ") {
		t.Errorf("preview 3: exit %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, db, "remind", "status"); code != 0 || !strings.Contains(out, "no reminder has run yet") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
}

func TestRemindEdit(t *testing.T) {
	t.Setenv("TZ", "UTC")
	db := filepath.Join(t.TempDir(), "t.db")
	// Reminder 2 is the seeded weekly digest (Mondays 07:30).
	code, out, errOut := runCLI(t, db, "remind", "edit", "2", "--cron", "0 7 * * 2")
	if code != 0 || !strings.Contains(out, "reminder 2 updated; next run 2026-03-03T07:00:00+07:00") {
		t.Fatalf("edit cron: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, db, "remind", "list")
	if code != 0 || !strings.Contains(out, "Điểm tin hằng tuần") || !strings.Contains(out, "0 7 * * 2") {
		t.Errorf("list after edit (name kept, cron changed):\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"2", "--template", "{{.Nope}}"}, "unknown field .Nope", 1},
		{[]string{"2", "--cron", "61 7 * * *"}, "minute", 1},
		{[]string{"99", "--name", "x"}, "no reminder 99", 1},
		{[]string{"2"}, "at least one of", 2},
	} {
		code, _, errOut := runCLI(t, db, append([]string{"remind", "edit"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("edit %v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
