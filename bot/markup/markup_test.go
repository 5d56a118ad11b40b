package markup

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	src := "**Quên mật khẩu**\n\nBạn làm như sau:\n\n1. Mở **VNeID**.\n2. Bấm [Quên mật khẩu](https://vneid.gov.vn) <script>alert(1)</script>\n\n- a & b < c"
	tests := []struct {
		name   string
		got    string
		want   []string
		absent []string
	}{
		{"html", HTML(src),
			[]string{"<p><b>Quên mật khẩu</b></p>", "<ol><li>Mở <b>VNeID</b>.</li>", `<a href="https://vneid.gov.vn" target="_blank" rel="noopener noreferrer">Quên mật khẩu</a>`, "&lt;script&gt;", "a &amp; b &lt; c"},
			[]string{"<script>"}},
		{"telegram", TelegramHTML(src),
			[]string{"<b>Quên mật khẩu</b>\n\nBạn làm như sau:", "1. Mở <b>VNeID</b>.\n2. Bấm", `<a href="https://vneid.gov.vn">Quên mật khẩu</a>`, "&lt;script&gt;", "• a &amp; b &lt; c"},
			[]string{"<script>", "<p>", "<ol>"}},
		{"plain", Plain(src),
			[]string{"Quên mật khẩu\n\nBạn làm như sau:", "1. Mở VNeID.", "Quên mật khẩu (https://vneid.gov.vn)", "• a & b < c"},
			[]string{"**", "<b>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range tt.want {
				if !strings.Contains(tt.got, w) {
					t.Errorf("missing %q in:\n%s", w, tt.got)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(tt.got, a) {
					t.Errorf("unexpected %q in:\n%s", a, tt.got)
				}
			}
		})
	}
}

func TestUnsafeLinkDropped(t *testing.T) {
	got := HTML(`[bấm](javascript:alert(1))`)
	if strings.Contains(got, "javascript") || strings.Contains(got, "<a") {
		t.Errorf("unsafe link rendered: %s", got)
	}
}

func TestLinks(t *testing.T) {
	ls := Links("Vào [Cổng DVC](https://dichvucong.gov.vn) hoặc <https://vneid.gov.vn>")
	if len(ls) != 2 || ls[0].URL != "https://dichvucong.gov.vn" || ls[0].Label != "Cổng DVC" || ls[1].URL != "https://vneid.gov.vn" {
		t.Errorf("Links = %+v", ls)
	}
}

func TestEscape(t *testing.T) {
	in := `**đậm** [x](javascript:1) <b>1. a_b\c`
	if got := Plain(Escape(in)); got != in {
		t.Errorf("plain = %q, want the text unchanged", got)
	}
	for _, got := range []string{HTML(Escape(in)), TelegramHTML(Escape(in))} {
		if strings.Contains(got, "<b>") || strings.Contains(got, "<a ") || !strings.Contains(got, "**đậm** [x](javascript:1) &lt;b&gt;1. a_b\\c") {
			t.Errorf("escaped text was formatted: %q", got)
		}
	}
}

// TestNestedLists: every item of a nested list is indented under its
// parent in the text renderers (Telegram, Zalo, the terminal), at any
// depth, and nested <ul>/<ol> are kept in the web chat's HTML.
func TestNestedLists(t *testing.T) {
	tests := []struct {
		name, src                string
		plain, telegram, htmlOut string
	}{
		{
			name:     "three villages under a bullet",
			src:      "Liên hệ:\n\n- **Trung tâm**: x\n- **Tổ**:\n  - Thôn 1: A – 1\n  - Thôn 2: B – 2\n  - Thôn 3: C – 3\n- Cuối",
			plain:    "Liên hệ:\n\n• Trung tâm: x\n• Tổ:\n   • Thôn 1: A – 1\n   • Thôn 2: B – 2\n   • Thôn 3: C – 3\n• Cuối",
			telegram: "Liên hệ:\n\n• <b>Trung tâm</b>: x\n• <b>Tổ</b>:\n   • Thôn 1: A – 1\n   • Thôn 2: B – 2\n   • Thôn 3: C – 3\n• Cuối",
			htmlOut:  "<p>Liên hệ:</p>\n<ul><li><b>Trung tâm</b>: x</li><li><b>Tổ</b>:<br><ul><li>Thôn 1: A – 1</li><li>Thôn 2: B – 2</li><li>Thôn 3: C – 3</li></ul></li><li>Cuối</li></ul>",
		},
		{
			name:     "bullets under numbered steps",
			src:      "1. Mở app\n   - a\n   - b\n2. Bấm **Gửi**",
			plain:    "1. Mở app\n   • a\n   • b\n2. Bấm Gửi",
			telegram: "1. Mở app\n   • a\n   • b\n2. Bấm <b>Gửi</b>",
			htmlOut:  "<ol><li>Mở app<br><ul><li>a</li><li>b</li></ul></li><li>Bấm <b>Gửi</b></li></ol>",
		},
		{
			name:     "three levels",
			src:      "- A\n  - B1\n    - C1\n    - C2\n  - B2\n- D",
			plain:    "• A\n   • B1\n      • C1\n      • C2\n   • B2\n• D",
			telegram: "• A\n   • B1\n      • C1\n      • C2\n   • B2\n• D",
			htmlOut:  "<ul><li>A<br><ul><li>B1<br><ul><li>C1</li><li>C2</li></ul></li><li>B2</li></ul></li><li>D</li></ul>",
		},
		{
			name:     "numbered list nested in numbered list keeps its numbers",
			src:      "1. X\n   1. x1\n   2. x2\n2. Y",
			plain:    "1. X\n   1. x1\n   2. x2\n2. Y",
			telegram: "1. X\n   1. x1\n   2. x2\n2. Y",
			htmlOut:  "<ol><li>X<br><ol><li>x1</li><li>x2</li></ol></li><li>Y</li></ol>",
		},
		{
			name:     "second paragraph and soft break stay inside the item",
			src:      "- Một\n  dòng hai\n\n  Đoạn hai\n- Hai",
			plain:    "• Một\n   dòng hai\n   Đoạn hai\n• Hai",
			telegram: "• Một\n   dòng hai\n   Đoạn hai\n• Hai",
			htmlOut:  "<ul><li>Một\ndòng hai<br>Đoạn hai</li><li>Hai</li></ul>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct{ renderer, got, want string }{
				{"Plain", Plain(tt.src), tt.plain},
				{"TelegramHTML", TelegramHTML(tt.src), tt.telegram},
				{"HTML", HTML(tt.src), tt.htmlOut},
			} {
				if c.got != c.want {
					t.Errorf("%s:\n got %q\nwant %q", c.renderer, c.got, c.want)
				}
			}
		})
	}
}
