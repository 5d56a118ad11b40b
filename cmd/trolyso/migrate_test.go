package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/storage"
	"github.com/colecommune/trolyso/storage/storagetest"
)

// TestMigrateSQLiteToPostgres copies a commune's SQLite file into the
// province's PostgreSQL database with the CLI, twice: the second run adds
// nothing, and the data answer through the PostgreSQL store.
func TestMigrateSQLiteToPostgres(t *testing.T) {
	ctx := context.Background()
	pgURL := storagetest.URL(t, t.Name())
	file := filepath.Join(t.TempDir(), "co-le.db")
	src, err := storage.Open(ctx, file, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := src.UserKey("telegram", "77")
	if err := src.SetAddress(ctx, "telegram", key, "77"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := src.RecordExchange(ctx, &storage.Exchange{UserKey: key, Channel: "telegram", Question: "câu hỏi", Band: "answer", EntryID: "vneid"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.AddTeam(ctx, "Thôn Bắc", ""); err != nil {
		t.Fatal(err)
	}
	src.Close()

	env := map[string]string{"TROLYSO_DATABASE_URL": pgURL}
	run := func(args ...string) (string, int) {
		var out, errs bytes.Buffer
		a := &app{stdout: &out, stderr: &errs, getenv: func(k string) string { return env[k] }, now: time.Now}
		code := a.main(ctx, append([]string{"migrate", "sqlite-to-postgres"}, args...))
		return out.String() + errs.String(), code
	}
	out, code := run("--from", file, "--commune", "co-le")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{"exchanges", "residents: 1 keep their identity"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, code = run("--from", file, "--commune", "co-le", "--json")
	if code != 0 {
		t.Fatalf("second run: exit %d: %s", code, out)
	}
	var rep storage.CopyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, c := range rep.Tables {
		if c.Copied != 0 {
			t.Errorf("second run copied %d rows of %s", c.Copied, c.Table)
		}
		if c.Table == "exchanges" && c.Had != 5 {
			t.Errorf("second run: exchanges %+v", c)
		}
	}
	dst, err := storage.OpenURL(ctx, pgURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	commune, err := dst.Commune(ctx, "co-le")
	if err != nil {
		t.Fatal(err)
	}
	n, err := commune.CountExchanges(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil || n != 5 {
		t.Errorf("%d exchanges in the commune (%v)", n, err)
	}
	if _, err := commune.Team(ctx, "Thôn Bắc"); err != nil {
		t.Errorf("team: %v", err)
	}
	// Bad use is refused with a clear message.
	if out, code := run("--from", file, "--commune", "Cổ Lễ"); code == 0 || !strings.Contains(out, "slug") {
		t.Errorf("bad slug accepted: %d %s", code, out)
	}
	env = map[string]string{}
	if out, code := run("--from", file); code == 0 || !strings.Contains(out, "TROLYSO_DATABASE_URL") {
		t.Errorf("without a database URL: %d %s", code, out)
	}
}
