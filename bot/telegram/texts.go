package telegram

// Vietnamese texts residents read (restricted Markdown, like the engine's).
const (
	textFlood = "Bạn đang gửi tin nhắn hơi nhanh. Bạn vui lòng chờ khoảng một phút rồi hỏi tiếp nhé."
	textMedia = "Xin lỗi, tôi chỉ đọc được tin nhắn chữ. Bạn hãy gõ câu hỏi, ví dụ: \"cách cài VNeID\", " +
		"hoặc bấm **Chủ đề** để chọn."
	textVoiceFailed  = "Xin lỗi, tôi chưa nghe rõ tin nhắn thoại. Bạn hãy gõ câu hỏi nhé."
	textVoiceTooLong = "Tin nhắn thoại dài quá. Bạn hãy nói ngắn gọn (dưới %d giây) hoặc gõ câu hỏi nhé."

	labelMenu = "📋 Chủ đề"
)

// textYouAsked shows a transcribed voice question back to the resident.
const textYouAsked = "Bạn hỏi: “%s”"

// textCaptionNote heads the answer to a question sent as a photo caption.
const textCaptionNote = "_Tôi chưa xem được ảnh hay tệp, nên trả lời theo lời nhắn kèm theo._"
