package knowledge

import (
	"testing"

	"github.com/colecommune/trolyso/knowledge/vi"
)

func TestSpeller(t *testing.T) {
	base := []string{"đăng ký kết hôn", "phản ánh kiến nghị", "quên mật khẩu", "tài khoản bị khóa", "nộp hồ sơ"}
	var texts [][]vi.Token
	for _, s := range base {
		texts = append(texts, vi.Tokenize(s))
	}
	sp := newSpeller(texts)
	tests := []struct{ in, want string }{
		{"đăng kí kết hôm", "dang ki ket hon"}, // a changed letter
		{"muốn phảm ánh", "muon phan anh"},
		{"quen mat khua", "quen mat khau"}, // two letters swapped
		{"tai khaon bi khoa", "tai khoan bi khoa"},
		{"nộp hồ sơơ", "nop ho so"},        // collapsed by Clean: unchanged
		{"ket qua xo so", "ket qua xo so"}, // two-letter words are left alone
		{"giá vàng hôm nay", "gia vang hom nay"},
		{"kết hôn", "ket hon"}, // known pairs are never touched
	}
	for _, tt := range tests {
		got, _ := sp.correct(vi.Tokenize(tt.in))
		if foldJoin(got) != tt.want {
			t.Errorf("correct(%q) = %q, want %q", tt.in, foldJoin(got), tt.want)
		}
	}
}
