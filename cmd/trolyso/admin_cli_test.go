package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/colecommune/trolyso/storage"
)

func TestAdminAndCommuneCLI(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TROLYSO_DB": filepath.Join(dir, "p.db"), "TROLYSO_COMMUNES": writeCommunes(t)}
	code, out, errOut := alertCLI(t, env, "", "admin", "add", "lan", "--commune", "co-le")
	if code != 0 || !strings.Contains(out, "admin lan added (sees commune co-le)") {
		t.Fatalf("admin add: %d %s %s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	oneTime := lines[len(lines)-1]
	if code, _, _ := alertCLI(t, env, "mat-khau-rieng-cua-tinh\n", "admin", "add", "tinh", "--province", "--password-stdin"); code != 0 {
		t.Fatal("admin add --province")
	}
	for _, bad := range [][]string{
		{"admin", "add", "x"}, // neither --commune nor --province
		{"admin", "add", "x", "--commune", "a", "--province"}, // both
		{"admin", "add", "x", "--commune", "Cổ Lễ"},           // bad slug
		{"admin", "add", "lan", "--commune", "co-le"},         // exists
		{"admin", "passwd", "nobody"},                         // unknown
	} {
		if code, _, _ := alertCLI(t, env, "", bad...); code == 0 {
			t.Errorf("%v accepted", bad)
		}
	}
	if code, _, _ := alertCLI(t, env, "ngan\n", "admin", "passwd", "lan", "--password-stdin"); code == 0 {
		t.Error("a short password was accepted")
	}
	code, out, _ = alertCLI(t, env, "", "admin", "list")
	if code != 0 || !strings.Contains(out, "lan   co-le     one-time code, not yet changed") || !strings.Contains(out, "tinh  province  set") {
		t.Errorf("admin list:\n%s", out)
	}
	db, err := storage.Open(context.Background(), env["TROLYSO_DB"], storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.AdminByName(context.Background(), "lan")
	db.Close()
	if err != nil || !a.MustChange || bcrypt.CompareHashAndPassword([]byte(a.Hash), []byte(oneTime)) != nil {
		t.Errorf("the one-time password %q does not open the account: %v", oneTime, err)
	}
	// --xa: a command works on one commune's data.
	if code, out, errOut := alertCLI(t, env, "", "team", "add", "Thôn Đông", "--xa", "yen-tu"); code != 0 {
		t.Fatalf("team add --xa: %s %s", out, errOut)
	}
	if _, out, _ := alertCLI(t, env, "", "team", "list", "--xa", "yen-tu"); !strings.Contains(out, "Thôn Đông") {
		t.Errorf("team list --xa yen-tu:\n%s", out)
	}
	if _, out, _ := alertCLI(t, env, "", "team", "list", "--xa", "co-le"); strings.Contains(out, "Thôn Đông") {
		t.Errorf("another commune's team listed:\n%s", out)
	}
	if code, _, _ := alertCLI(t, env, "", "serve", "--xa", "co-le"); code != 2 {
		t.Errorf("serve --xa: exit %d", code)
	}
}
