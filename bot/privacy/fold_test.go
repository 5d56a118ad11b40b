package privacy

import "testing"

// Look-alike digits and invisible separators must not let a number past
// redaction.
func TestRedactLookAlikes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"căn cước ００１２０３００４５６７", "căn cước " + IDMask},
		{"sđt 0987\u200b654\u200d321 cần đổi", "sđt " + PhoneMask + " cần đổi"},
		{"số 0987\u00a0654\u00a0321", "số " + PhoneMask},
		{"số 0987–654–321", "số " + PhoneMask},
		{"\ufeff001203004567", IDMask},
		{"٠١٢٣٤٥٦٧٨٩٠١", IDMask},  // Arabic-Indic digits, 12 of them
		{"𝟎𝟗𝟖𝟕𝟔𝟓𝟒𝟑𝟐𝟏", PhoneMask}, // mathematical bold digits
		{"mail ａｎｈ＠ｇｍａｉｌ．ｃｏｍ nhé", "mail " + EmailMask + " nhé"},
		// Nothing to redact: the text stays exactly as written.
		{"ｖｎｅｉｄ năm ２０２６\u200b", "ｖｎｅｉｄ năm ２０２６\u200b"},
		{"quên mật khẩu", "quên mật khẩu"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDigitValue(t *testing.T) {
	for _, zero := range []rune{'0', '٠', '۰', '०', '০', '０', '𝟎', '𝟘', '𝟢', '𝟬', '𝟶'} {
		for i := rune(0); i < 10; i++ {
			if zero == '0' {
				continue
			}
			if got := digitValue(zero + i); got != i {
				t.Errorf("digitValue(%q) = %d, want %d", zero+i, got, i)
			}
		}
	}
}
