package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

func TestCommuneCheckCLI(t *testing.T) {
	dir := t.TempDir()
	filled := strings.NewReplacer(
		"placeholder: true", "placeholder: false",
		`address: "[CẦN ĐIỀN: địa chỉ Trung tâm]"`, `address: "Số 1 đường Trần Hưng Đạo"`,
		`hours: "[CẦN ĐIỀN: giờ làm việc]"`, `hours: "Thứ Hai – Thứ Sáu, 7:30–17:00"`,
		`address: "[CẦN ĐIỀN: địa chỉ Công an xã]"`, `address: "Số 3 đường Trần Hưng Đạo"`,
		`phone: "[CẦN ĐIỀN: số điện thoại]"`, `phone: "0228 3800 001"`,
		`village: "[CẦN ĐIỀN: tên thôn]"`, `village: "Thôn Đông"`,
		`leader: "[CẦN ĐIỀN: tổ trưởng]"`, `leader: "Nguyễn Văn An"`,
	).Replace(string(knowledge.EmbeddedProfile()))
	ok := filepath.Join(dir, "ok.yaml")
	os.WriteFile(ok, []byte(filled), 0o644)
	half := filepath.Join(dir, "half.yaml")
	os.WriteFile(half, []byte(strings.Replace(filled, `hours: "Thứ Hai – Thứ Sáu, 7:30–17:00"`, `hours: ""`, 1)), 0o644)

	tests := []struct {
		name   string
		args   []string
		code   int
		want   []string
		absent []string
	}{
		{"embedded placeholder profile", []string{"commune", "check"}, 1,
			[]string{"9 detail(s) still to fill in", "centre.phone: số điện thoại của Trung tâm", "police.address:", "teams[3].village:", "placeholder: vẫn là true"}, nil},
		{"filled profile", []string{"commune", "check", ok}, 0, []string{ok + ": ok"}, []string{"fill in"}},
		{"one empty value", []string{"commune", "check", half}, 1, []string{"1 detail(s)", "centre.hours: giờ làm việc của Trung tâm"}, []string{"centre.phone"}},
		{"missing file", []string{"commune", "check", filepath.Join(dir, "nope.yaml")}, 1, nil, nil},
		{"no subcommand", []string{"commune"}, 2, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out, a) {
					t.Errorf("stdout has %q:\n%s", a, out)
				}
			}
		})
	}
}

// TestServeWarnsAboutUnfinishedProfile: the start-up log names every
// missing commune detail.
func TestServeWarnsAboutUnfinishedProfile(t *testing.T) {
	env := map[string]string{"TROLYSO_DB": filepath.Join(t.TempDir(), "t.db"), "TROLYSO_ADDR": "127.0.0.1:0"}
	var logs syncBuffer
	a := &app{stdout: &bytes.Buffer{}, stderr: &logs, getenv: func(k string) string { return env[k] }, now: time.Now,
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	startServe(t, a, cfg)
	for _, want := range []string{"COMMUNE PROFILE UNFINISHED", "missing=9", "field=centre.phone", "field=teams[1].village"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, logs.String())
		}
	}
}
