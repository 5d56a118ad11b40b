package remind

import (
	"context"

	"github.com/colecommune/trolyso/storage"
)

// Defaults are the reminders every installation starts with. They are
// seeded once per database (by seed key): admins may edit, pause or delete
// them and they never come back.
var Defaults = []storage.Reminder{
	{
		SeedKey: "quarterly-report",
		Name:    "Báo cáo kết quả quý",
		Cron:    "0 8 15 3,6,9,12 *",
		Target:  "all",
		Enabled: true,
		Template: "📋 **Nhắc hạn báo cáo quý** – Tổ công nghệ số cộng đồng {{.Team}}\n\n" +
			"Đề nghị Tổ tổng hợp kết quả hướng dẫn người dân trong quý (kích hoạt tài khoản định danh điện tử VNeID mức 2, " +
			"nộp hồ sơ dịch vụ công trực tuyến, đăng ký chữ ký số) và gửi về UBND xã **trước ngày {{.Deadline}}** " +
			"(còn {{.DaysToDeadline}} ngày).\n\n" +
			"Khi đã nhận được tin này, xin bấm **✅ Đã nhận**.",
	},
	{
		SeedKey: "weekly-digest",
		Name:    "Điểm tin hằng tuần",
		Cron:    "30 7 * * 1",
		Target:  "all",
		Enabled: true,
		Template: "📊 **Điểm tin tuần** – Tổ công nghệ số cộng đồng {{.Team}}\n\n" +
			"- Tuần qua, trợ lý số nhận **{{.Questions}}** câu hỏi của người dân; **{{.Unanswered}}** câu chưa có câu trả lời.\n" +
			"- Mức hài lòng với câu trả lời: **{{.SatisfactionRate}}**.\n" +
			"- Yêu cầu gặp cán bộ xã đang chờ xử lý: **{{.OpenHandoffs}}**.\n" +
			"- Còn **{{.DaysToDeadline}}** ngày đến hạn báo cáo quý ({{.Deadline}}).\n" +
			"{{if .StaleEntries}}- Bộ câu hỏi thường gặp có **{{.StaleEntries}}** mục đã quá hạn hoặc sắp đến hạn rà soát; " +
			"cán bộ phụ trách xem trang “Cần rà soát” trên trang quản trị.\n{{end}}\n" +
			"Mời Tổ tiếp tục hướng dẫn bà con dùng VNeID và dịch vụ công trực tuyến. Xin bấm **✅ Đã nhận** khi đã đọc.",
	},
}

// SeedDefaults adds the default reminders not seeded before and returns how
// many it added.
func SeedDefaults(ctx context.Context, db *storage.DB) (int, error) {
	return db.SeedReminders(ctx, Defaults)
}
