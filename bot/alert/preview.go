package alert

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/storage"
)

// Preview is an alert exactly as each channel gets it.
type Preview struct {
	// TelegramHTML is the text of the Telegram message (HTML parse mode);
	// GroupHTML the one team groups get (disaster warnings).
	TelegramHTML string
	GroupHTML    string
	// ZaloText is the text of the Zalo message (Zalo shows no formatting).
	ZaloText string
	// WebHTML is how /canhbao and the web chat's pin show it.
	WebHTML string
	// Buttons are the link buttons under the message (Telegram URL
	// buttons, Zalo oa.open.url buttons).
	Buttons []bot.Button
}

// PreviewOf renders a job's messages for every channel.
func PreviewOf(j storage.AlertJob) Preview {
	p := Preview{
		TelegramHTML: markup.TelegramHTML(j.Text),
		ZaloText:     norm.NFC.String(markup.Plain(j.Text)),
		WebHTML:      markup.HTML(j.GroupText),
	}
	if j.Kind == storage.AlertDisaster {
		p.GroupHTML = markup.TelegramHTML(j.GroupText)
	}
	for _, row := range bot.AlertButtons(j.Link, j.Image) {
		p.Buttons = append(p.Buttons, row...)
	}
	return p
}

// KindText names a kind in Vietnamese.
func KindText(kind string) string {
	switch kind {
	case storage.AlertScam:
		return "Cảnh báo lừa đảo"
	case storage.AlertDisaster:
		return "Cảnh báo thiên tai"
	case storage.AlertNotice:
		return "Thông báo"
	}
	return kind
}

// StatusText names a job status in Vietnamese.
func StatusText(status string) string {
	switch status {
	case storage.JobScheduled:
		return "đã hẹn giờ"
	case storage.JobRunning:
		return "đang gửi"
	case storage.JobPaused:
		return "tạm dừng"
	case storage.JobDone:
		return "đã gửi xong"
	case storage.JobCancelled:
		return "đã huỷ"
	}
	return status
}

// StateText names a delivery state in Vietnamese.
func StateText(state string) string {
	switch state {
	case storage.DeliverySent:
		return "đã gửi"
	case storage.DeliveryPending:
		return "chờ gửi"
	case storage.DeliverySending:
		return "đang gửi"
	case storage.DeliveryFailed:
		return "gửi lỗi"
	case storage.DeliveryBlocked:
		return "đã chặn trợ lý / bỏ theo dõi (đã huỷ đăng ký)"
	case storage.DeliveryUndeliverable:
		return "không gửi được (ngoài thời hạn nhắn tin của kênh, hoặc không có địa chỉ)"
	case storage.DeliveryUnknown:
		return "không rõ – có thể đã gửi (dừng giữa chừng; không gửi lại)"
	case storage.DeliveryCancelled:
		return "huỷ trước khi gửi"
	case storage.DeliverySkipped:
		return "bỏ qua (đã huỷ đăng ký trước khi gửi)"
	}
	return state
}

// TargetText describes who a job goes to, in Vietnamese.
func TargetText(j storage.AlertJob) string {
	if j.Kind == storage.AlertDisaster {
		return "mọi người đăng ký (mọi thôn, mọi kênh) và nhóm Telegram của mọi tổ công nghệ số"
	}
	who := "mọi người đăng ký"
	if len(j.Villages) > 0 {
		who = "người đăng ký ở " + strings.Join(j.Villages, ", ")
	}
	if len(j.Channels) > 0 {
		who += " trên " + strings.Join(j.Channels, ", ")
	}
	return who
}

// CountText describes a recipient count by channel, in Vietnamese.
func CountText(c storage.AlertCount) string {
	var parts []string
	for _, ch := range []string{bot.ChannelTelegram, bot.ChannelZalo} {
		if n := c.ByChannel[ch]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d trên %s", n, strings.ToUpper(ch[:1])+ch[1:]))
		}
	}
	if n := c.ByChannel["group"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d nhóm Telegram của tổ công nghệ số", n))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d người nhận", c.Total)
	}
	return fmt.Sprintf("%d người nhận (%s)", c.Total, strings.Join(parts, ", "))
}

// WritePreview prints a job's summary and its messages per channel as
// plain text (the CLI).
func WritePreview(w io.Writer, j storage.AlertJob, c storage.AlertCount) {
	p := PreviewOf(j)
	fmt.Fprintf(w, "%s: %s\n", KindText(j.Kind), j.Title)
	fmt.Fprintf(w, "Gửi tới: %s — %s\n", TargetText(j), CountText(c))
	fmt.Fprintf(w, "Gửi lúc: %s; hiệu lực đến: %s\n", bot.VNTime(j.ScheduledFor), bot.VNTime(j.ExpiresAt))
	if len(j.Entries) > 0 {
		fmt.Fprintf(w, "Thêm vào câu trả lời của: %s\n", strings.Join(j.Entries, ", "))
	}
	buttons := func() {
		for _, b := range p.Buttons {
			fmt.Fprintf(w, "  [%s] → %s\n", b.Label, b.URL)
		}
	}
	fmt.Fprintln(w, "\n── Telegram (HTML, as sent) ──")
	fmt.Fprintln(w, p.TelegramHTML)
	buttons()
	if p.GroupHTML != "" {
		fmt.Fprintln(w, "\n── Telegram groups of the teams (HTML, as sent) ──")
		fmt.Fprintln(w, p.GroupHTML)
		buttons()
	}
	fmt.Fprintln(w, "\n── Zalo (plain text, as sent) ──")
	fmt.Fprintln(w, p.ZaloText)
	buttons()
	fmt.Fprintln(w)
}
