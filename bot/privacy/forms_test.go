package privacy

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedactWhateverTheSeparator: phone and identity numbers are masked
// whatever separates their digits, with or without the country code, and
// when written out in words.
func TestRedactWhateverTheSeparator(t *testing.T) {
	tests := []struct{ name, in, want string }{
		// The forms that reached the database as typed (issue 12).
		{"double spaces", "sđt 0912  345  678 nhé", "sđt " + PhoneMask + " nhé"},
		{"brackets and dash", "gọi (091) 234-5678 giúp tôi", "gọi " + PhoneMask + " giúp tôi"},
		{"underscores", "0912_345_678", PhoneMask},
		{"slashes", "số tôi 0912/345/678", "số tôi " + PhoneMask},
		// More separators and groupings.
		{"triple spaces", "0912   345   678", PhoneMask},
		{"dots 3-3-4", "091.234.5678", PhoneMask},
		{"dashes 4-3-3", "0912-345-678", PhoneMask},
		{"spaced dashes", "0912 - 345 - 678", PhoneMask},
		{"pairs", "09 12 34 56 78", PhoneMask},
		{"one digit at a time", "0 9 1 2 3 4 5 6 7 8", PhoneMask},
		{"mixed space and dash", "091 234-5678", PhoneMask},
		{"mixed dot and space", "0912.345 678", PhoneMask},
		{"brackets and spaces", "(0912) 345 678", PhoneMask},
		{"en dash", "0912–345–678", PhoneMask},
		{"fullwidth slash", "0912／345／678", PhoneMask},
		{"in brackets", "liên hệ (0912345678) ạ", "liên hệ " + PhoneMask + " ạ"},
		{"glued to a word", "sdt0912345678", "sdt" + PhoneMask},
		{"after a colon", "SĐT:0912.345.678.", "SĐT:" + PhoneMask + "."},
		{"two numbers", "0912345678 hoặc 0987 654 321", PhoneMask + " hoặc " + PhoneMask},
		{"two numbers slash", "0912345678/0987654321", PhoneMask + "/" + PhoneMask},
		{"number then a count", "0912 345 678 2 lần", PhoneMask + " 2 lần"},
		// Country code.
		{"+84 spaced", "+84 912 345 678", PhoneMask},
		{"+84 dotted", "+84.912.345.678", PhoneMask},
		{"84 no plus", "84 912 345 678", PhoneMask},
		{"(+84)", "(+84) 912-345-678", PhoneMask},
		{"+84 (0)", "+84 (0) 912 345 678", PhoneMask},
		{"0084", "0084 912 345 678", PhoneMask},
		{"+84 glued", "+84912345678", PhoneMask},
		{"84 glued", "84912345678", PhoneMask},
		// Landlines (02x + 8 digits) and old 11-digit mobiles.
		{"landline area code", "02293 123456", PhoneMask},
		{"landline brackets", "(0229) 3 123 456", PhoneMask},
		{"landline Hanoi", "024.3823.4567", PhoneMask},
		{"old mobile", "0168 123 4567", PhoneMask},
		// Identity numbers: 12-digit Căn cước, 9-digit CMND.
		{"cccd 3-3-3-3", "cccd 001 203 004 567", "cccd " + IDMask},
		{"cccd dots", "001.203.004.567", IDMask},
		{"cccd dashes", "001-203-004-567", IDMask},
		{"cccd slashes", "001/203/004/567", IDMask},
		{"cccd underscores", "001_203_004_567", IDMask},
		{"cccd 4-4-4", "0012 0300 4567", IDMask},
		{"cccd double spaces", "001  203  004  567", IDMask},
		{"cccd plain", "số định danh 001203004567", "số định danh " + IDMask},
		{"cmnd 3-3-3", "cmnd 123 456 789", "cmnd " + IDMask},
		{"cmnd dots", "cmnd 123.456.789", "cmnd " + IDMask},
		{"cmnd plain", "cmnd cũ 123456789", "cmnd cũ " + IDMask},
		{"cccd after a date", "cấp ngày 12/05/2021, số 001203004567", "cấp ngày 12/05/2021, số " + IDMask},
		// Written out in words, with and without diacritics, or mixed.
		{"words", "số em là không chín một hai ba bốn năm sáu bảy tám", "số em là " + PhoneMask},
		{"words without diacritics", "khong chin mot hai ba bon nam sau bay tam", PhoneMask},
		{"words with commas", "Không chín một hai, ba bốn năm, sáu bảy tám ạ", PhoneMask + " ạ"},
		{"words and digits", "09 một hai 345 678", PhoneMask},
		{"cccd in words", "không không một hai không ba không không bốn năm sáu bảy", IDMask},
		// Other data.
		{"email", "mail tôi: Nguyen.Van.A@gmail.com", "mail tôi: " + EmailMask},
		{"long digits", "stk 1234567890123456", "stk " + DigitMask},
		{"account in blocks", "stk 1903 6547 8910 11", "stk " + DigitMask},
		{"phone in a link query", "https://example.vn/tra-cuu?sdt=0912345678&x=1", "https://example.vn/tra-cuu?sdt=" + PhoneMask + "&x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Redact(got); again != got {
				t.Errorf("Redact is not idempotent: %q → %q", got, again)
			}
		})
	}
}

// TestRedactKeepsWhatIsNotPersonal: dates, amounts, years, document
// numbers, procedure codes, hotlines and links stay readable.
func TestRedactKeepsWhatIsNotPersonal(t *testing.T) {
	for _, s := range []string{
		"ngày 1/7/2025", "từ 01/07/2025 - 31/12/2025", "01-01-2026 đến 15-12-2026", "2025-07-01",
		"hạn 15.12.2025", "sinh ngày 09/12/1958", "từ 1/7 đến 31/12", "tháng 7/2025",
		"phí 1.500.000 - 2.000.000 đồng", "150.000.000 đồng", "2.000 đ/trang, tối đa 200.000 đ/bản",
		"1.234.567.890 VND", "giá 999.999.999đ", "lệ phí 50.000",
		"năm 2024 2025 2026", "giai đoạn 2021-2025", "2019 - 2024",
		"Thông tư 226/2016/TT-BTC", "Nghị định 69/2024/NĐ-CP", "Nghị quyết 66.7/2025/NQ-CP", "Luật số 26/2023/QH15",
		"thủ tục 1.001612", "mã thủ tục 2.002402.000.00.00.H42", "hồ sơ 000.00.15.H42-250101-0001",
		"tổng đài 1900 0368", "gọi 113 hoặc 114", "hotline 1800.1091",
		"đủ 14, 25, 40, 60 tuổi", "8–20 giờ", "từ 7h30 đến 17h00", "08:00 - 17:00", "mức 2", "6 số passcode",
		"https://baochinhphu.vn/nhung-dieu-can-biet-251119105109462.htm",
		"https://thanhnien.vn/cap-tai-khoan-dinh-danh-dien-tu-rieng-tu-01-7-2024-186-98151-article.html?layout=amp",
		"sau ba năm tôi mới về", "năm nay bác bảy mươi tám tuổi", "một hai ba bốn",
		"version 1.2.3", "tỉ lệ 95%", "2,5 triệu",
	} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q: nothing should be masked", s, got)
		}
	}
}

// TestNoFalsePositives measures the false-positive rate of Redact on text
// that holds no personal data: every line of the knowledge base (front
// matter with its source links, and answers) and every question of the
// development set and of the held-out and out-of-scope sets. The rate
// must be 0.
func TestNoFalsePositives(t *testing.T) {
	var files []string
	for _, pat := range []string{"../../knowledge/base/*.md", "../../knowledge/base/*.yaml", "../../knowledge/testdata/*.tsv", "testdata/dev-questions.txt"} {
		m, err := filepath.Glob(pat)
		if err != nil || len(m) == 0 {
			t.Fatalf("no files for %s: %v", pat, err)
		}
		files = append(files, m...)
	}
	var lines, withDigits, masked int
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if strings.HasSuffix(name, ".tsv") || strings.HasSuffix(name, ".txt") {
				line, _, _ = strings.Cut(line, "\t") // the question only
			}
			lines++
			if strings.ContainsAny(line, "0123456789") {
				withDigits++
			}
			if got := Redact(line); got != line {
				masked++
				t.Errorf("%s:%d: false positive:\n  %s\n→ %s", name, n, line, got)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("false positives: %d of %d lines (%d with digits) in %d files", masked, lines, withDigits, len(files))
	if lines < 2000 || withDigits < 200 {
		t.Fatalf("measured on too little text: %d lines, %d with digits", lines, withDigits)
	}
}

// TestStripRemovesMasks: text redacted before it was stored (an inbox
// payload) matches the knowledge base as the raw text does.
func TestStripRemovesMasks(t *testing.T) {
	for _, s := range []string{
		"quên mật khẩu vneid, sđt 0912 345 678",
		"cccd 001203004567 bị khoá",
		"mail a@b.vn hỏi về chữ ký số",
		"không chín một hai ba bốn năm sáu bảy tám là số của tôi",
	} {
		if a, b := Strip(s), Strip(Redact(s)); a != b {
			t.Errorf("Strip(%q) = %q but Strip(Redact) = %q", s, a, b)
		}
		if strings.Contains(Strip(s), "[") {
			t.Errorf("Strip(%q) = %q still holds a mask", s, Strip(s))
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	qs := []string{
		"quên mật khẩu vneid thì làm thế nào ạ",
		"Chào cháu, bác năm nay 70 tuổi rồi, con trai đi làm xa có cài cho bác cái VNeID nhưng giờ bác quên mất mật khẩu",
		"sđt 0912 345 678, cccd 001203004567, cần đổi số điện thoại trên vneid",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Redact(qs[i%len(qs)])
	}
}

// FuzzRedact: Redact never panics, is idempotent, and leaves no run of 9
// or more digits outside web addresses.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"0912  345  678", "(091) 234-5678", "+84 (0) 912 345 678", "01/07/2025 - 31/12/2025",
		"không chín một hai ba bốn năm sáu bảy tám", "1.500.000 đồng", "a@b.vn 001203004567", "(((+84", "9 9 9 9 9 9 9 9 9 9 9 9 9 9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Redact(s)
		if again := Redact(r); again != r {
			t.Fatalf("not idempotent: %q → %q → %q", s, r, again)
		}
		if strings.Contains(r, "://") || strings.Contains(strings.ToLower(r), "www.") {
			return
		}
		run := 0
		for i := 0; i < len(r); i++ {
			if r[i] >= '0' && r[i] <= '9' {
				if run++; run >= 9 {
					t.Fatalf("Redact(%q) = %q keeps 9 digits in a row", s, r)
				}
			} else {
				run = 0
			}
		}
	})
}
