package vi

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Xin Chào", "xin chào"},
		{norm.NFD.String("Kích hoạt VNeID"), "kích hoạt vneid"},
		{"Ðảm baỏ", "đảm baỏ"}, // U+00D0 eth → Đ
		{"vne\u200bid\u200d", "vneid"},
		{"quên mk 😭😭 rồi", "quên mk rồi"},
		{"đượccccc khônggggg", "được không"},
		{"xoong boong", "xoong boong"}, // double letters stay
		{"  a \t b  ", "a b"},
		{"ＶＮｅＩＤ", "vneid"}, // full-width
		{"ѵneid", "ѵneid"}, // unknown look-alikes stay
		{"сccd", "cccd"},   // Cyrillic с
		{"", ""},
		{"❤️👍", ""},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Đăng ký chữ ký số như thế nào", "dang ki chu ki so nhu the nao"},
		{"chu ki so", "chu ki so"},
		{"Tiếng Việt: Đường phố Hồ Chí Minh, Nẵng, QUỐC", "tieng viet duong pho ho chi minh nang quoc"},
		{"Quý khách, quy định", "qui khach qui dinh"},
		{"thuý thúy tay huy", "thuy thuy tay huy"},
		{"lý lịch, lí lịch, mỹ", "li lich li lich mi"},
		{"CCCD ct01 VNeID", "cccd ct01 vneid"},
		{norm.NFD.String("Định danh điện tử"), "dinh danh dien tu"},
		{"khoá khóa hoà hòa", "khoa khoa hoa hoa"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestToneKey(t *testing.T) {
	same := [][]string{
		{"hoà", "hòa", "HOÀ", norm.NFD.String("hòa")},
		{"thuý", "thúy"},
		{"khoẻ", "khỏe"},
		{"khoá", "khóa"},
		{"quý", "qúy"},
		{"ký", "kí"},
		{"lý", "lí"},
	}
	for _, group := range same {
		want := ToneKey(group[0])
		for _, w := range group[1:] {
			if got := ToneKey(w); got != want {
				t.Errorf("ToneKey(%q) = %q, want %q (same as %q)", w, got, want, group[0])
			}
		}
	}
	diff := [][2]string{{"mật", "mất"}, {"cần", "căn"}, {"đâu", "đau"}, {"thuộc", "thuốc"}, {"hoà", "hoa"}}
	for _, p := range diff {
		if ToneKey(p[0]) == ToneKey(p[1]) {
			t.Errorf("ToneKey(%q) == ToneKey(%q) = %q", p[0], p[1], ToneKey(p[0]))
		}
	}
	tests := []struct{ in, want string }{
		{"hoà", "hoa2"}, {"người", "ngươi2"}, {"đăng", "đăng"}, {"thuý", "thuy1"},
		{"mật", "mât5"}, {"ngã", "nga4"}, {"hỏi", "hoi3"}, {"vneid", "vneid"},
	}
	for _, tt := range tests {
		if got := ToneKey(tt.in); got != tt.want {
			t.Errorf("ToneKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokenize(t *testing.T) {
	toks := Tokenize("Cài VNeID, nộp CT01 ở vneid.gov.vn!")
	var folds []string
	for _, tk := range toks {
		folds = append(folds, tk.Fold)
	}
	if got, want := strings.Join(folds, "|"), "cai|vneid|nop|ct01|o|vneid|gov|vn"; got != want {
		t.Errorf("folds = %s, want %s", got, want)
	}
	if !toks[0].Accented || toks[1].Accented {
		t.Errorf("accented flags wrong: %+v", toks[:2])
	}
}

func TestAccentedRatio(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"quên mật khẩu vneid", 0.75},
		{"quen mat khau vneid", 0},
		{"quen mật khau", 1.0 / 3},
		{"123", 0},
	}
	for _, tt := range tests {
		if got := AccentedRatio(Tokenize(tt.in), nil); got != tt.want {
			t.Errorf("AccentedRatio(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBigrams(t *testing.T) {
	got := strings.Join(Bigrams([]string{"chu", "ki", "so"}), "|")
	if got != "chu ki|ki so" {
		t.Errorf("Bigrams = %q", got)
	}
	if Bigrams([]string{"a"}) != nil {
		t.Error("Bigrams of one word should be nil")
	}
}

func canonText(l *Lexicon, s string) string {
	var f []string
	for _, t := range l.Canonical(Tokenize(s)) {
		f = append(f, t.Fold)
	}
	return strings.Join(f, " ")
}

func TestCanonical(t *testing.T) {
	domain, err := NewLexicon([][2]string{
		{"dvc", "dịch vụ công"}, {"cks", "chữ ký số"}, {"bhyt", "bảo hiểm y tế"}, {"gplx", "giấy phép lái xe"},
		{"vn eid|vneld|vneit|vnied", "vneid"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lex     *Lexicon
		in, out string
	}{
		{General, "quen mk vneid", "quen mat khau vneid"},
		{General, "ko nho tk", "khong nho tai khoan"},
		{General, "k nhận đc otp", "khong nhan duoc otp"},
		{General, "hok bit lam j", "khong biet lam gi"},
		{General, "khum dc ntn", "khong duoc nhu the nao"},
		{General, "hk có cccd", "khong co cccd"},
		{General, "kh đc", "khong duoc"},
		{General, "đc", "duoc"},
		{General, "dk muc 2", "duoc muc 2"}, // ambiguous: the first expansion
		// domain terms only with the base's lexicon
		{General, "doi sdt tren dvc", "doi so dien thoai tren dvc"},
		{domain, "doi sdt tren dvc", "doi so dien thoai tren dich vu cong"},
		{domain, "cks với bhyt và gplx", "chu ki so voi bao hiem y te va giay phep lai xe"},
		{domain, "vn eid", "vneid"},
		{domain, "vneld bị lỗi", "vneid bi loi"},
		{domain, "cài vneit", "cai vneid"},
	}
	for _, tt := range tests {
		if got := canonText(tt.lex, tt.in); got != tt.out {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.out)
		}
	}
	if _, err := NewLexicon([][2]string{{"x", ""}}, nil); err == nil {
		t.Error("an abbreviation without expansion was accepted")
	}
	if _, err := NewLexicon(nil, []string{"một"}); err == nil {
		t.Error("a one-member synonym group was accepted")
	}
}

func TestAbbreviateAndSynonym(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	toks := Tokenize("quên mật khẩu tài khoản thì làm sao")
	ab := General.Abbreviate(toks, 1, rng)
	if got := foldText(ab); strings.Contains(got, "mat khau") || strings.Contains(got, "tai khoan") {
		t.Errorf("Abbreviate(p=1) kept long forms: %q", got)
	}
	if got := foldText(General.Canonical(ab)); got != foldText(toks) {
		t.Errorf("Canonical(Abbreviate(x)) = %q, want %q", got, foldText(toks))
	}
	if got := General.Abbreviate(toks, 0, rng); foldText(got) != foldText(toks) {
		t.Errorf("Abbreviate(p=0) changed the text: %q", foldText(got))
	}
	syn, ok := General.Synonym(toks, rng)
	if !ok || foldText(syn) == foldText(toks) {
		t.Errorf("Synonym = %q, %v", foldText(syn), ok)
	}
	if _, ok := General.Synonym(Tokenize("xyz abc"), rng); ok {
		t.Error("Synonym found a group in text without one")
	}
}

func foldText(toks []Token) string {
	var f []string
	for _, t := range toks {
		f = append(f, t.Fold)
	}
	return strings.Join(f, " ")
}

func TestStripPoliteness(t *testing.T) {
	tests := []struct{ in, want string }{
		{"chào ad, cho em hỏi quên mật khẩu vneid thì làm sao ạ", "quen mat khau vneid thi lam sao"},
		{"Xin chào, cho mình hỏi cách đăng ký mức 2 với ạ, cảm ơn", "cach dang ki muc 2"},
		{"ad oi cho e hoi tai vneid o dau vay", "tai vneid o dau"},
		{"dạ vâng ạ", ""},
		{"cap lai the", "cap lai the"}, // "the" (thẻ) is not "thế"
		{"hello", ""},
		{"can nguoi huong dan tan nha", "can nguoi huong dan tan nha"},
		{"huong dan em nha", "huong dan em"},
	}
	for _, tt := range tests {
		toks, _ := StripPoliteness(Tokenize(tt.in))
		var f []string
		for _, t := range toks {
			f = append(f, t.Fold)
		}
		if got := strings.Join(f, " "); got != tt.want {
			t.Errorf("StripPoliteness(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSentences(t *testing.T) {
	got := Sentences(Clean("Chào ad. Nhà tôi ở thôn 3!\nQuên mật khẩu VNeID thì làm sao?"))
	if len(got) != 3 || got[2] != "quên mật khẩu vneid thì làm sao" {
		t.Errorf("Sentences = %q", got)
	}
}

func TestPhraseMatchLoose(t *testing.T) {
	p := ParsePhrase("mật khẩu")
	for _, in := range []string{"mat khau", "mật khẩu", "MẬT KHẨU", "mật khau"} {
		if !p.MatchAt(Tokenize(in), 0) {
			t.Errorf("%q should match %q", in, p.Text)
		}
	}
	if p.MatchAt(Tokenize("mất khẩu"), 0) {
		t.Errorf("mất khẩu should not match mật khẩu")
	}
}

// TestConcurrent exercises the package from many goroutines (run with
// -race): there must be no shared mutable state.
func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if Fold(norm.NFD.String("Đăng ký chữ ký số")) != "dang ki chu ki so" {
					t.Error("bad fold")
					return
				}
				General.Canonical(Tokenize("quen mk vneid cài app"))
				StripPoliteness(Tokenize("chào ad cho em hỏi ạ"))
			}
		}()
	}
	wg.Wait()
}

func TestClauses(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"chào cháu, bác quên mật khẩu", []string{"chào cháu", "bác quên mật khẩu"}},
		{"con cài vneid nhưng giờ quên mật khẩu", []string{"con cài vneid", "nhưng giờ quên mật khẩu"}},
		{"những gì cần mang", []string{"những gì cần mang"}},
		{"a: b – c,, ", []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		got := Clauses(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("Clauses(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsQuestion(t *testing.T) {
	tests := []struct {
		clause string
		want   bool
	}{
		{"bác tải ở đâu", true},
		{"đăng ký thế nào cho đúng hả em", true},
		{"có mất tiền không ạ", true},
		{"xin online có được ko", true},
		{"nhờ hướng dẫn giúp tôi các bước kích hoạt", true},
		{"con cháu bảo phải cài cái app định danh của công an", false},
		{"tôi không biết dùng điện thoại", false},
		{"hôm qua bà hàng xóm nhận được cuộc gọi", false},
	}
	for _, tt := range tests {
		if got := IsQuestion(Canonical(Tokenize(tt.clause))); got != tt.want {
			t.Errorf("IsQuestion(%q) = %v, want %v", tt.clause, got, tt.want)
		}
	}
}

func TestMessageClauses(t *testing.T) {
	got := MessageClauses(Clean("Chào em, bác mới mua điện thoại. Bác tải ở đâu, đăng ký thế nào? Cảm ơn"))
	want := []Clause{
		{"chào em", 0, false}, {"bác mới mua điện thoại", 0, false},
		{"bác tải ở đâu", 1, true}, {"đăng ký thế nào", 1, true},
		{"cảm ơn", 2, false},
	}
	if len(got) != len(want) {
		t.Fatalf("MessageClauses = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("clause %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
