package privacy

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"cccd 12 digits", "số cccd của tôi là 001234567890 nhé", "số cccd của tôi là " + IDMask + " nhé"},
		{"cmnd 9 digits", "cmnd cũ 123456789", "cmnd cũ " + IDMask},
		{"cccd with spaces", "0012 3456 7890", IDMask},
		{"mobile", "gọi 0912345678 giúp", "gọi " + PhoneMask + " giúp"},
		{"mobile dotted", "sdt 0912.345.678", "sdt " + PhoneMask},
		{"mobile spaced", "sđt: 091 234 5678", "sđt: " + PhoneMask},
		{"mobile +84", "+84912345678", PhoneMask},
		{"mobile 84", "84912345678", PhoneMask},
		{"landline", "02293 123456", PhoneMask},
		{"email", "mail tôi: Nguyen.Van.A@gmail.com", "mail tôi: " + EmailMask},
		{"short numbers stay", "tôi 65 tuổi, mức 2, năm 2025", "tôi 65 tuổi, mức 2, năm 2025"},
		{"date stays", "ngày 1/7/2025", "ngày 1/7/2025"},
		{"otp stays for storage", "mã 123456", "mã 123456"},
		{"long digits", "stk 1234567890123456", "stk " + DigitMask},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactForModel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mã otp là 482913", "mã otp là " + OTPMask},
		{"passcode 1234", "passcode " + OTPMask},
		{"cccd 001234567890", "cccd " + IDMask},
		{"năm 2025 tôi 70 tuổi", "năm 2025 tôi 70 tuổi"},
		{"mã 9876", "mã " + OTPMask},
	}
	for _, tt := range tests {
		if got := RedactForModel(tt.in); got != tt.want {
			t.Errorf("RedactForModel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReplaceAttrRedactsLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr}))
	log.Info("question", "text", "số tôi 0912345678, cccd 001234567890, a@b.vn")
	out := buf.String()
	for _, leak := range []string{"0912345678", "001234567890", "a@b.vn"} {
		if strings.Contains(out, leak) {
			t.Errorf("log leaked %q: %s", leak, out)
		}
	}
}

func TestStrip(t *testing.T) {
	if got := Strip("quên mật khẩu, cccd 001234567890"); strings.Contains(got, "0012") || strings.Contains(got, "[") || !strings.HasPrefix(got, "quên mật khẩu, cccd") {
		t.Errorf("Strip = %q", got)
	}
	if got := Strip("không có gì"); got != "không có gì" {
		t.Errorf("Strip changed clean text: %q", got)
	}
}
