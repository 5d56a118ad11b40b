package bot

// Vietnamese texts residents and team members read. Keep them short and
// plain; answers themselves come from the knowledge base.
const (
	textWelcome = "Xin chào! Tôi là **trợ lý số tự động** của {{.Name}} (không phải cán bộ trực). " +
		"Tôi hướng dẫn cách dùng **VNeID**, **dịch vụ công trực tuyến**, **chữ ký số** và **căn cước**.\n\n" +
		"Bạn cứ gõ câu hỏi (có dấu hay không dấu đều được), hoặc chọn một chủ đề bên dưới."
	textHelp = "Cách dùng trợ lý số:\n\n" +
		"- Gõ câu hỏi ngắn, ví dụ: \"quên mật khẩu VNeID\", \"đăng ký khai sinh online\".\n" +
		"- Bấm **Chủ đề** để xem các câu hỏi thường gặp.\n" +
		"- Sau mỗi câu trả lời, bấm 👍 hoặc 👎 để góp ý.\n" +
		"- Gõ /theodoi để nhận cảnh báo lừa đảo và thông báo của xã (trên Telegram, Zalo); /huytheodoi để thôi nhận.\n\n" +
		"Tôi là trợ lý tự động, không thay cán bộ. Không bao giờ gửi mã OTP, mật khẩu hay passcode cho bất kỳ ai."
	textMenu          = "Bạn muốn hỏi về chủ đề nào?"
	textTopic         = "Các câu hỏi thường gặp về **%s**:"
	textTopicEmpty    = "Chủ đề này chưa có câu hỏi nào."
	textClarify       = "Có phải bạn muốn hỏi một trong các điều sau? Bấm vào câu đúng ý bạn:"
	textAlso          = "*Nếu câu trả lời chưa đúng ý bạn, có thể bạn muốn hỏi một điều bên dưới.*"
	textEmpty         = "Bạn hãy gõ câu hỏi, ví dụ: \"cách cài VNeID\". Hoặc bấm **Chủ đề** để chọn."
	textTooLong       = "Tin nhắn dài quá (tối đa %d ký tự). Bạn hãy gõ ngắn gọn câu hỏi chính nhé."
	textUnknownCmd    = "Tôi chưa hiểu lệnh này. Bạn gõ câu hỏi, hoặc gõ /help để xem hướng dẫn."
	textUnknownButton = "Lựa chọn này không còn dùng được. Bạn gõ lại câu hỏi hoặc bấm **Chủ đề** nhé."
	textError         = "Xin lỗi, hệ thống đang bận. Bạn thử lại sau ít phút nhé."

	textDecline = "Xin lỗi, câu này tôi chưa có thông tin chính xác để trả lời. " +
		"Tôi chỉ hướng dẫn về VNeID, dịch vụ công trực tuyến, chữ ký số và căn cước.\n\n" +
		"Để được giúp trực tiếp, bạn liên hệ:\n\n" +
		"- **{{.Centre.Name}}**: {{.Centre.Address}}; giờ làm việc: {{.Centre.Hours}}; điện thoại: {{.Centre.Phone}}\n" +
		"- **Tổ công nghệ số cộng đồng** ở thôn của bạn:\n{{range .Teams}}  - {{.Village}}: {{.Leader}} – {{.Phone}}\n{{end}}\n" +
		"Câu hỏi của bạn đã được ghi lại để cán bộ bổ sung câu trả lời."

	textGreeting = "Xin chào! Tôi là trợ lý số tự động của {{.Name}}. Bạn cần hỏi gì về VNeID, dịch vụ công trực tuyến, chữ ký số hay căn cước?"
	textThanks   = "Không có gì ạ! Nếu cần hỏi thêm, bạn cứ nhắn cho tôi."
	textWho      = "Tôi là **trợ lý số tự động** (chương trình máy tính, không phải người) của {{.Name}}. " +
		"Tôi trả lời từ bộ câu hỏi thường gặp do cán bộ xã biên soạn. Việc cần giải quyết cụ thể, bạn liên hệ {{.Centre.Name}}."
	textBye = "Chào bạn! Khi cần, bạn cứ nhắn lại cho tôi nhé."

	labelMenu = "📋 Chủ đề"
)
