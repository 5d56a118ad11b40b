package knowledge

import (
	"testing"

	"github.com/colecommune/trolyso/knowledge/vi"
)

func TestLexicalRanksQuestionsAndPassages(t *testing.T) {
	tok := vi.Tokenize
	docs := []lexDoc{
		{entry: 0, toks: tok("quên mật khẩu vneid")},
		{entry: 0, toks: tok("lấy lại mật khẩu")},
		{entry: 1, toks: tok("quên passcode vneid")},
		{entry: 2, toks: tok("đăng ký khai sinh cho con")},
		{entry: 2, passage: true, toks: tok("mang giấy chứng sinh của bệnh viện đến ủy ban")},
	}
	lx := newLexical(docs, 3)
	sc := lx.scratch()
	tests := []struct {
		q    string
		want int32
	}{
		{"quen mat khau vneid", 0},
		{"quên passcode", 1},
		{"giấy chứng sinh bệnh viện", 2}, // only in a passage
	}
	for _, tt := range tests {
		r := lx.rank(tok(tt.q), 3, sc)
		if len(r) == 0 || r[0].entry != tt.want {
			t.Errorf("rank(%q) = %+v, want entry %d first", tt.q, r, tt.want)
		}
		for i := 1; i < len(r); i++ {
			if r[i].score > r[i-1].score {
				t.Errorf("rank(%q) not sorted: %+v", tt.q, r)
			}
		}
	}
	// a passage match weighs less than the same words in a question
	q := lx.rank(tok("khai sinh"), 1, sc)[0].score
	p := lx.rank(tok("chứng sinh"), 1, sc)[0].score
	if !(q > p) {
		t.Errorf("question score %.3f should beat passage score %.3f", q, p)
	}
	if r := lx.rank(tok("xổ số"), 3, sc); len(r) != 0 {
		t.Errorf("unrelated query ranked %+v", r)
	}
	// scratch is left clean: the same query twice gives the same scores
	a, b := lx.rank(tok("quên vneid"), 3, sc), lx.rank(tok("quên vneid"), 3, sc)
	if len(a) != len(b) || a[0] != b[0] {
		t.Errorf("scratch not reset: %+v vs %+v", a, b)
	}
}
