package handoff

import (
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot/remind/spec"
)

func vnTime(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, spec.Location())
}

func TestParseHours(t *testing.T) {
	for _, tc := range []struct {
		text   string
		want   string
		parsed bool
	}{
		{"Sáng 7h30–11h30, chiều 13h30–17h00, từ thứ Hai đến thứ Sáu", "Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00", true},
		{"Thứ 2 - thứ 6: 7:30-11:30 và 13:30-17:00; sáng thứ Bảy 7h30 - 11h30",
			"Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00; Thứ Bảy: 07:30–11:30", true},
		{"Sang 7h-11h30, chieu 13h-16h30 (thu 2 - 6)", "Thứ Hai – Thứ Sáu: 07:00–11:30, 13:00–16:30", true},
		{"T2–T7 từ 7 giờ 30 đến 17 giờ", "Thứ Hai – Thứ Bảy: 07:30–17:00", true},
		{"7h30 - 17h", "Thứ Hai – Thứ Sáu: 07:30–17:00", true},
		{"Hằng ngày 8h-20h", "Thứ Hai – Chủ nhật: 08:00–20:00", true},
		{"giờ hành chính các ngày làm việc", "Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00", false},
		{"", "Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00", false},
		{"thứ 2 đến thứ 6", "Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00", false},
		{"17h - 7h", "Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00", false}, // backwards: not a span
	} {
		h := ParseHours(tc.text)
		if got := h.Describe(); got != tc.want || h.Parsed != tc.parsed {
			t.Errorf("ParseHours(%q) = %q (parsed %v), want %q (parsed %v)", tc.text, got, h.Parsed, tc.want, tc.parsed)
		}
	}
}

func TestWorkingTime(t *testing.T) {
	h := DefaultHours()
	// Friday 16:00 → Monday 09:30: 1 h Friday + 2 h Monday.
	fri := vnTime(2026, 3, 20, 16, 0)
	mon := vnTime(2026, 3, 23, 9, 30)
	if got := h.Elapsed(fri, mon); got != 3*time.Hour {
		t.Errorf("Elapsed Fri 16:00 → Mon 09:30 = %s, want 3h", got)
	}
	if got := h.Elapsed(mon, fri); got != 0 {
		t.Errorf("Elapsed backwards = %s", got)
	}
	// The lunch break does not count.
	if got := h.Elapsed(vnTime(2026, 3, 23, 11, 0), vnTime(2026, 3, 23, 14, 0)); got != time.Hour {
		t.Errorf("Elapsed over lunch = %s, want 1h", got)
	}
	for _, tc := range []struct {
		at   time.Time
		open bool
		next time.Time
	}{
		{vnTime(2026, 3, 23, 8, 0), true, vnTime(2026, 3, 23, 8, 0)},
		{vnTime(2026, 3, 23, 12, 0), false, vnTime(2026, 3, 23, 13, 30)},
		{vnTime(2026, 3, 20, 17, 30), false, vnTime(2026, 3, 23, 7, 30)},
		{vnTime(2026, 3, 21, 10, 0), false, vnTime(2026, 3, 23, 7, 30)},
		{vnTime(2026, 3, 23, 6, 0), false, vnTime(2026, 3, 23, 7, 30)},
	} {
		if got := h.Open(tc.at); got != tc.open {
			t.Errorf("Open(%s) = %v", tc.at, got)
		}
		if got := h.NextOpen(tc.at); !got.Equal(tc.next) {
			t.Errorf("NextOpen(%s) = %s, want %s", tc.at, got, tc.next)
		}
	}
	// The same instant in UTC gives the same answers.
	if !h.Open(vnTime(2026, 3, 23, 8, 0).UTC()) {
		t.Error("Open depends on the time's zone")
	}
	if got := WhenText(vnTime(2026, 3, 23, 7, 30), vnTime(2026, 3, 20, 17, 30)); got != "07:30 Thứ Hai 23/03" {
		t.Errorf("WhenText = %q", got)
	}
	if got := WhenText(vnTime(2026, 3, 23, 13, 30), vnTime(2026, 3, 23, 12, 0)); got != "13:30 hôm nay" {
		t.Errorf("WhenText = %q", got)
	}
}

func TestAsksForPerson(t *testing.T) {
	for text, want := range map[string]bool{
		"gặp cán bộ":                                 true,
		"gap can bo":                                 true,
		"Cho tôi gặp cán bộ ạ":                       true,
		"nói chuyện với người thật":                  true,
		"noi chuyen voi nguoi that duoc khong":       true,
		"tôi muốn hỏi cán bộ xã":                     true,
		"cho em gặp tư vấn viên với":                 true,
		"bạn là người thật à":                        false,
		"cán bộ xã làm việc mấy giờ":                 false,
		"muốn gặp cán bộ tư pháp để đăng ký kết hôn": false,
		"quên mật khẩu vneid":                        false,
		"":                                           false,
	} {
		if got := AsksForPerson(text); got != want {
			t.Errorf("AsksForPerson(%q) = %v, want %v", text, got, want)
		}
	}
}
