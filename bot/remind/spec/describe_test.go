package spec

import "testing"

func TestDescribe(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"0 8 15 3,6,9,12 *", "08:00 ngày 15 các tháng 3, 6, 9, 12"},
		{"30 7 * * 1", "07:30 thứ Hai hằng tuần"},
		{"0 8 * * *", "08:00 hằng ngày"},
		{"0 8 1 * *", "08:00 ngày 1 hằng tháng"},
		{"0 17 * * 1-5", "17:00 thứ Hai đến thứ Sáu hằng tuần"},
		{"0 9 * * 0,6", "09:00 Chủ nhật, thứ Bảy hằng tuần"},
		{"0 7,19 * * *", "lúc 07:00 và 19:00 hằng ngày"},
		{"*/15 * * * *", "phút 0, 15, 30, 45 mỗi giờ hằng ngày"},
		{"* * * * *", "mỗi phút hằng ngày"},
		{"0 8 20 12 *", "08:00 ngày 20 tháng 12"},
		{"0 8 * 1 *", "08:00 mỗi ngày tháng 1"},
		{"0 8 1,15 * 1", "08:00 ngày 1, 15 hoặc thứ Hai"},
		{"0 8-17 * * *", "phút 0 các giờ 8–17 hằng ngày"},
		{"5 8 1-3 * *", "08:05 ngày 1–3 hằng tháng"},
		{"not cron", ""},
		{"0 0 30 2 *", ""},
	}
	for _, tt := range tests {
		if got := Describe(tt.expr); got != tt.want {
			t.Errorf("Describe(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
