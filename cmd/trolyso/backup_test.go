package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackupCLIWhileServing: `trolyso backup FILE` copies the database a
// running server holds open, with its latest exchanges.
func TestBackupCLIWhileServing(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "live.db")
	env := map[string]string{"TROLYSO_DB": dbPath, "TROLYSO_ADDR": "127.0.0.1:0"}
	var logs syncBuffer
	a := &app{stdout: &bytes.Buffer{}, stderr: &logs, getenv: func(k string) string { return env[k] }, now: time.Now,
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, a, cfg)
	for _, q := range []string{"quên mật khẩu vneid", "giá vàng hôm nay"} {
		resp, err := http.Post("http://"+addr+"/api/message", "application/json", strings.NewReader(`{"text":"`+q+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST /api/message: %d", resp.StatusCode)
		}
	}
	dest := filepath.Join(dir, "backups", "copy.db")
	code, out, errOut := runCLI(t, dbPath, "backup", dest)
	if code != 0 || !strings.Contains(out, "backed up to "+dest) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if n := recorded(t, dest); n != 2 {
		t.Fatalf("backup holds %d exchanges, want 2", n)
	}
	if code, _, _ := runCLI(t, dbPath, "backup"); code != 2 {
		t.Errorf("backup without a file: exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, filepath.Join(dir, "nope.db"), "backup", filepath.Join(dir, "x.db")); code != 1 {
		t.Errorf("backup of a missing database: exit %d, want 1", code)
	}
}
