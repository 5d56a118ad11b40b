package admin

import (
	"strings"
	"testing"

	"github.com/colecommune/trolyso/knowledge"
)

// TestUnfinishedProfileBanner: every dashboard page says that the commune
// profile is unfinished and lists what is missing, until it is complete.
func TestUnfinishedProfileBanner(t *testing.T) {
	complete := strings.NewReplacer("placeholder: true", "placeholder: false", "[CẦN ĐIỀN: ", "", "]", "").
		Replace(string(knowledge.EmbeddedProfile()))
	tests := []struct {
		name    string
		profile string
		banner  bool
	}{
		{"shipped placeholders", string(knowledge.EmbeddedProfile()), true},
		{"complete", complete, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := knowledge.ParseProfile([]byte(tt.profile))
			if err != nil {
				t.Fatal(err)
			}
			base, err := knowledge.Load(knowledge.EmbeddedBase(), p, testNow)
			if err != nil {
				t.Fatal(err)
			}
			srv, _ := setup(t, Config{Password: "mật khẩu dài", Base: func() *knowledge.Base { return base }})
			c := client(t)
			login(t, c, srv.URL, "mật khẩu dài")
			for _, path := range []string{"/admin/", "/admin/unanswered", "/admin/lowest", "/admin/reminders"} {
				resp, body := get(t, c, srv.URL+path)
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d", path, resp.StatusCode)
				}
				has := strings.Contains(body, `id="profile-banner"`)
				if has != tt.banner {
					t.Errorf("%s: banner shown = %v, want %v", path, has, tt.banner)
				}
				if tt.banner && (!strings.Contains(body, "còn thiếu 9 mục") || !strings.Contains(body, "<code>centre.phone</code>") || !strings.Contains(body, "trolyso commune check")) {
					t.Errorf("%s: banner does not list the missing details:\n%s", path, body)
				}
			}
		})
	}
}
