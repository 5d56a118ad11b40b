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
