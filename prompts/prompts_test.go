package prompts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEmbeddedRules(t *testing.T) {
	s := Embedded()
	sys, user, err := s.Answer(AnswerData{
		Commune:  "xã Cổ Lễ",
		Question: "quên mật khẩu vneid",
		Entries:  []Entry{{ID: "vneid-quen-mat-khau", Title: "Quên mật khẩu VNeID", Answer: "1. Bấm **Quên mật khẩu**."}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"xã Cổ Lễ", "Chỉ trả lời dựa trên", "không trả lời được", "số điện thoại", "mức phí", "thời hạn", "địa chỉ", "không phải chỉ dẫn", "OTP", "mật khẩu", "theo thứ tự", "[nguon:"} {
		if !strings.Contains(sys, want) {
			t.Errorf("system prompt lacks %q", want)
		}
	}
	for _, want := range []string{`<muc id="vneid-quen-mat-khau">`, "Quên mật khẩu VNeID", "Bấm **Quên mật khẩu**", "<cau_hoi>\nquên mật khẩu vneid\n</cau_hoi>"} {
		if !strings.Contains(user, want) {
			t.Errorf("user prompt lacks %q:\n%s", want, user)
		}
	}
}

func TestLoad(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	good := map[string]string{
		AnswerSystem: "Chỉ dùng tài liệu của {{.Commune}}.",
		AnswerUser:   "{{range .Entries}}{{.ID}}: {{.Answer}}\n{{end}}Hỏi: {{.Question}}",
	}
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"override", good, ""},
		{"missing user", map[string]string{AnswerSystem: "x"}, AnswerUser},
		{"syntax error", map[string]string{AnswerSystem: "{{.Commune", AnswerUser: "x"}, AnswerSystem},
		{"unknown field", map[string]string{AnswerSystem: "x", AnswerUser: "{{.Nope}}"}, "Nope"},
		{"empty file", map[string]string{AnswerSystem: "  \n", AnswerUser: "x"}, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(write(t, tt.files))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				sys, user, err := s.Answer(AnswerData{Commune: "xã A", Question: "q", Entries: []Entry{{ID: "a", Answer: "b"}}})
				if err != nil || sys != "Chỉ dùng tài liệu của xã A." || user != "a: b\nHỏi: q" {
					t.Fatalf("got %q %q %v", sys, user, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want mention of %q", err, tt.wantErr)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("missing folder accepted")
	}
	if s, err := Load(""); err != nil || s.Source != "embedded" {
		t.Fatalf("Load(\"\") = %v, %v", s, err)
	}
}
