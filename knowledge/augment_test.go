package knowledge

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/colecommune/trolyso/knowledge/vi"
)

func TestVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	toks := vi.Tokenize("Quên mật khẩu tài khoản VNeID thì làm sao")
	vs := variants(toks, vi.General, allVariants, rng)
	if len(vs) < 4 {
		t.Fatalf("%d variants, want at least 4", len(vs))
	}
	if got := foldJoin(vs[0]); got != "quen mat khau tai khoan vneid thi lam sao" {
		t.Errorf("first variant %q is not the question itself", got)
	}
	seen := map[string]bool{}
	unaccented := false
	for _, v := range vs {
		k := toneJoin(v)
		if seen[k] {
			t.Errorf("duplicate variant %q", k)
		}
		seen[k] = true
		if vi.AccentedRatio(v, nil) == 0 {
			unaccented = true
		}
	}
	if !unaccented {
		t.Error("no variant without diacritics")
	}
}

func TestTyposChangeOneSyllable(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	toks := vi.Tokenize("đăng ký thường trú trực tuyến")
	changed := 0
	for i := 0; i < 200; i++ {
		out := typos(toks, 1, rng)
		if len(out) != len(toks) {
			t.Fatalf("typos changed the number of syllables: %q", foldJoin(out))
		}
		diff := 0
		for k := range out {
			if out[k].Text != toks[k].Text {
				diff++
			}
		}
		if diff > 1 {
			t.Fatalf("one typo changed %d syllables: %q", diff, toneJoin(out))
		}
		changed += diff
	}
	if changed < 150 {
		t.Errorf("only %d of 200 typo variants differ", changed)
	}
}

func TestRetone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		r := retone("ký", rng)
		if vi.Fold(r) != "ki" {
			t.Fatalf("retone(ký) = %q changed the letters", r)
		}
		seen[r] = true
	}
	if len(seen) < 4 {
		t.Errorf("retone produced only %v", seen)
	}
	if r := retone("mưa", rng); !strings.Contains(vi.StripDiacritics(r), "mua") {
		t.Errorf("retone(mưa) = %q", r)
	}
}

func TestPassages(t *testing.T) {
	body := "**Passcode** là mã 6 số. Nếu quên:\n\n1. Đăng nhập [VNeID](https://vneid.gov.vn) bằng mật khẩu.\n" +
		"2. Bấm **Quên passcode**.\n\nGọi {{.Centre.Phone}} nếu cần. Ok."
	ps := passages(body)
	var got []string
	for _, p := range ps {
		got = append(got, foldJoin(p))
	}
	// "Nếu quên:" and "Ok." have fewer than three syllables.
	want := []string{"passcode la ma 6 so", "dang nhap vneid bang mat khau", "bam quen passcode", "goi neu can"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("passages = %q\nwant       %q", got, want)
	}
}
