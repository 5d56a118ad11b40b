package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

var testNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

const testProfile = `placeholder: false
name: "xã Cổ Lễ"
province: "tỉnh Ninh Bình"
centre: {name: "Trung tâm Phục vụ hành chính công xã Cổ Lễ", address: "Số 1", hours: "7:30–17:00", phone: "0228 000 000"}
police: {name: "Công an xã Cổ Lễ", address: "Số 2", phone: "0228 111 111"}
teams:
  - {village: "Thôn Đông", leader: "A", phone: "0900 000 001"}
  - {village: "Thôn Tây", leader: "B", phone: "0900 000 002"}
`

func testBase(t testing.TB) *knowledge.Base {
	t.Helper()
	p, err := knowledge.ParseProfile([]byte(testProfile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := knowledge.Load(knowledge.EmbeddedBase(), p, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseAndFormat(t *testing.T) {
	src := "\ufeff---\r\nkind: scam\r\ntitle: Giả danh công an\r\nentries: [vneid-lua-dao]\r\nsources:\r\n  - https://a.vn\r\n---\r\nGác máy, gọi {{.Police.Name}}.\r\n"
	s, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != "scam" || s.Title != "Giả danh công an" || len(s.Entries) != 1 || s.Body != "Gác máy, gọi {{.Police.Name}}." || len(s.Sources) != 1 {
		t.Fatalf("parsed %+v", s)
	}
	out, err := Format(s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil || again.Title != s.Title || again.Body != s.Body || again.Entries[0] != "vneid-lua-dao" {
		t.Fatalf("round trip: %+v, %v\n%s", again, err, out)
	}
	for _, bad := range []string{
		"kind: scam\ntitle: x\n",               // no front matter
		"---\nkind: scam\ntitle: x\n",          // not closed
		"---\nkind: scam\ntitel: x\n---\nbody", // misspelt key
		"---\nkind: [\n---\nbody",              // not YAML
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestBuildChecksEverything(t *testing.T) {
	base := testBase(t)
	good := Spec{Kind: "scam", Title: "Giả danh công an gọi điện", Body: "Gọi ngay **{{.Police.Name}}** ({{.Police.Phone}}).",
		Entries: []string{"vneid-lua-dao", "vneid-lua-dao"}, Villages: []string{"thôn  đông"}, Channels: []string{"Zalo"}, Link: "https://a.gov.vn/x"}
	j, err := Build(good, base, testNow, "Nguyễn Văn A")
	if err != nil {
		t.Fatalf("good spec refused: %v", err)
	}
	if !strings.Contains(j.Body, "**Công an xã Cổ Lễ** (0228 111 111)") {
		t.Errorf("profile not filled in: %q", j.Body)
	}
	if strings.Join(j.Villages, "|") != "Thôn Đông" || strings.Join(j.Channels, "|") != "zalo" || len(j.Entries) != 1 || j.Priority != 1 {
		t.Errorf("job = %+v", j)
	}
	if !j.ExpiresAt.Equal(testNow.Add(30*24*time.Hour)) || !j.ScheduledFor.Equal(testNow) {
		t.Errorf("schedule %v, expiry %v", j.ScheduledFor, j.ExpiresAt)
	}
	if !strings.Contains(j.Text, "CẢNH BÁO LỪA ĐẢO – xã Cổ Lễ") || !strings.Contains(j.Text, "/huytheodoi") || strings.Contains(j.GroupText, "/huytheodoi") {
		t.Errorf("texts:\n%s\n---\n%s", j.Text, j.GroupText)
	}
	d, err := Build(Spec{Kind: "disaster", Title: "Bão", Body: "Sơ tán.", Villages: []string{"Thôn Tây"}, Channels: []string{"zalo"}, Expires: "72h"}, base, testNow, "A")
	if err != nil || d.Priority != 0 || d.Villages != nil || d.Channels != nil || !d.ExpiresAt.Equal(testNow.Add(72*time.Hour)) {
		t.Errorf("disaster = %+v, %v (want priority 0, everyone, 72h)", d, err)
	}
	at := testNow.Add(2 * time.Hour)
	sch, err := Build(Spec{Kind: "notice", Title: "Lịch", Body: "x", At: at, Expires: "2026-12-01"}, base, testNow, "A")
	if err != nil || !sch.ScheduledFor.Equal(at) || sch.ExpiresAt.UTC().Format(time.RFC3339) != "2026-12-01T17:00:00Z" {
		t.Errorf("scheduled = %v / %v, %v", sch.ScheduledFor, sch.ExpiresAt, err)
	}
	long := strings.Repeat("Chữ ", 600)
	for _, tt := range []struct {
		name string
		s    Spec
		by   string
		want string
	}{
		{"no kind", Spec{Title: "x", Body: "y"}, "A", "kind is not given"},
		{"bad kind", Spec{Kind: "spam", Title: "x", Body: "y"}, "A", `kind "spam"`},
		{"no title", Spec{Kind: "scam", Body: "y"}, "A", "title is empty"},
		{"long title", Spec{Kind: "scam", Title: strings.Repeat("a", 151), Body: "y"}, "A", "title has 151"},
		{"no body", Spec{Kind: "scam", Title: "x"}, "A", "text (after the second ---) is empty"},
		{"no one confirms", Spec{Kind: "scam", Title: "x", Body: "y"}, " ", "who confirms"},
		{"bad link", Spec{Kind: "scam", Title: "x", Body: "y", Link: "javascript:alert(1)"}, "A", "link"},
		{"bad image", Spec{Kind: "scam", Title: "x", Body: "y", Image: "ftp://a/b.png"}, "A", "image"},
		{"unknown entry", Spec{Kind: "scam", Title: "x", Body: "y", Entries: []string{"khong-co"}}, "A", `no knowledge-base entry "khong-co"`},
		{"unknown village", Spec{Kind: "notice", Title: "x", Body: "y", Villages: []string{"Thôn Bắc"}}, "A", "is not one of Thôn Đông, Thôn Tây"},
		{"bad channel", Spec{Kind: "notice", Title: "x", Body: "y", Channels: []string{"sms"}}, "A", `"sms": want telegram or zalo`},
		{"bad placeholder", Spec{Kind: "notice", Title: "x", Body: "{{.Nope}}"}, "A", "text:"},
		{"too long for zalo", Spec{Kind: "notice", Title: "x", Body: long}, "A", "one Zalo message"},
		{"in the past", Spec{Kind: "notice", Title: "x", Body: "y", At: testNow.Add(-time.Hour)}, "A", "in the past"},
		{"bad expiry", Spec{Kind: "notice", Title: "x", Body: "y", Expires: "soon"}, "A", `expires "soon"`},
		{"expired at once", Spec{Kind: "notice", Title: "x", Body: "y", Expires: "2020-01-01"}, "A", "expires before"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.s, base, testNow, tt.by)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	// Every problem is reported at once.
	_, err = Build(Spec{Kind: "spam", Link: "x"}, base, testNow, "")
	if p, ok := err.(Problems); !ok || len(p) < 4 {
		t.Errorf("problems = %v", err)
	}
}

func TestPreviewPerChannel(t *testing.T) {
	base := testBase(t)
	j, err := Build(Spec{Kind: "disaster", Title: "Bão <số 3>", Body: "Sơ tán khỏi **bãi sông** & <b>ngay</b>.", Link: "https://a.gov.vn"}, base, testNow, "A")
	if err != nil {
		t.Fatal(err)
	}
	p := PreviewOf(j)
	if !strings.Contains(p.TelegramHTML, "<b>bãi sông</b>") || !strings.Contains(p.TelegramHTML, "&lt;b&gt;ngay&lt;/b&gt;") || !strings.Contains(p.TelegramHTML, "Bão &lt;số 3&gt;") {
		t.Errorf("telegram = %q", p.TelegramHTML)
	}
	if strings.Contains(p.ZaloText, "**") || strings.Contains(p.ZaloText, "&lt;") || !strings.Contains(p.ZaloText, "bãi sông") {
		t.Errorf("zalo = %q", p.ZaloText)
	}
	if p.GroupHTML == "" || strings.Contains(p.GroupHTML, "huytheodoi") {
		t.Errorf("group = %q", p.GroupHTML)
	}
	if len(p.Buttons) != 1 || p.Buttons[0].URL != "https://a.gov.vn" {
		t.Errorf("buttons = %+v", p.Buttons)
	}
	var b strings.Builder
	WritePreview(&b, j, storage.AlertCount{Total: 3, ByChannel: map[string]int{"telegram": 1, "zalo": 1, "group": 1}})
	for _, want := range []string{"── Telegram (HTML, as sent) ──", "── Zalo (plain text, as sent) ──", "── Telegram groups", "3 người nhận (1 trên Telegram, 1 trên Zalo, 1 nhóm", "[🔗 Xem chi tiết] → https://a.gov.vn"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("preview lacks %q:\n%s", want, b.String())
		}
	}
}

func TestParseTimeAndExpiry(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"2026-12-01 07:30", "2026-12-01T00:30:00Z"},
		{"2026-12-01T07:30", "2026-12-01T00:30:00Z"},
		{"2026-12-01T07:30:00+07:00", "2026-12-01T00:30:00Z"},
	} {
		got, err := ParseTime(tt.in)
		if err != nil || got.UTC().Format(time.RFC3339) != tt.want {
			t.Errorf("ParseTime(%q) = %v, %v", tt.in, got, err)
		}
	}
	if _, err := ParseTime("mai"); err == nil {
		t.Error("ParseTime accepted a word")
	}
	for _, bad := range []string{"0d", "-3h", "x", "99999d"} {
		if _, err := ParseExpiry(bad, "scam", testNow); err == nil {
			t.Errorf("ParseExpiry(%q) accepted", bad)
		}
	}
}
