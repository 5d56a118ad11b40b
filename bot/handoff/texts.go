package handoff

// Vietnamese texts residents and staff read. Resident texts are restricted
// Markdown (bot.Reply); %d is the ticket number unless said otherwise.
const (
	// LabelAsk is the button that opens a handoff request.
	LabelAsk = "🙋 Hỏi cán bộ xã"
	labelEnd = "⏹ Kết thúc trò chuyện với cán bộ"
	labelUp  = "👍 Cán bộ đã giúp được"
	labelDn  = "👎 Chưa giúp được"

	textIntro = "🙋 **Đã chuyển yêu cầu của bạn tới cán bộ xã** (yêu cầu số **#%d**).\n\n" +
		"- Cán bộ %s làm việc: %s.%s\n" +
		"- %s\n" +
		"- Từ bây giờ, tin nhắn bạn gõ sẽ được chuyển cho **cán bộ xã** (người thật), không phải trợ lý tự động. " +
		"Cán bộ trả lời ngay tại đây.\n" +
		"- ⚠️ **Không gửi số căn cước, mật khẩu hay mã OTP** cho bất kỳ ai, kể cả cán bộ.\n\n" +
		"Bạn hãy gõ câu hỏi hoặc thêm chi tiết. Gõ /ketthuc (hoặc bấm nút bên dưới) khi muốn quay lại trợ lý tự động."
	textIntroClosedNow = " Hiện đang ngoài giờ làm việc: cán bộ sẽ xem từ **%s**."
	textUsualTime      = "Thường cán bộ trả lời trong khoảng **%s** (trong giờ làm việc)."
	textUsualUnknown   = "Cán bộ trả lời trong giờ làm việc, thường trong ngày."
	textAlreadyOpen    = "Bạn đang trò chuyện với **cán bộ xã** (yêu cầu **#%d**). Tin nhắn bạn gõ sẽ được chuyển cho cán bộ. " +
		"Gõ /ketthuc khi muốn quay lại trợ lý tự động."
	textForwarded = "📨 Đã chuyển tới cán bộ xã (yêu cầu #%d). Bạn đang trò chuyện với **cán bộ**, không phải trợ lý tự động; gõ /ketthuc để quay lại trợ lý."
	textThrottled = "Bạn gửi nhiều tin quá nhanh. Các tin tiếp theo trong một phút tới sẽ không được chuyển cho cán bộ; " +
		"bạn hãy gộp lại thành một tin ngắn nhé."
	textModeNote = "\n\n💬 _Bạn vẫn đang kết nối với cán bộ xã (yêu cầu #%d): tin nhắn gõ tiếp sẽ được chuyển cho cán bộ. Gõ /ketthuc để quay lại trợ lý tự động._"
	textEnded    = "Đã kết thúc cuộc trò chuyện với cán bộ xã (yêu cầu #%d). Từ bây giờ **trợ lý tự động** trả lời bạn."
	textNotOpen  = "Bạn không có cuộc trò chuyện nào với cán bộ xã. Bạn đang nói chuyện với **trợ lý tự động**; gõ /canbo nếu muốn hỏi cán bộ."
	textAskRate  = "\n\nCán bộ xã đã giúp được bạn chưa? Bấm một nút bên dưới."
	textRated    = "Cảm ơn bạn đã đánh giá! Ý kiến của bạn giúp xã phục vụ tốt hơn."
	textNoRate   = "Không ghi nhận được đánh giá này: chỉ người đã hỏi mới đánh giá được, sau khi cán bộ đã trả lời."
	textInGroup  = "Để hỏi cán bộ xã, bạn hãy nhắn **riêng** cho trợ lý (không gửi trong nhóm), rồi gõ /canbo."
	textOff      = "Kênh này chưa kết nối được với cán bộ xã. Bạn vui lòng liên hệ trực tiếp {{.Centre.Name}}: {{.Centre.Address}}; điện thoại: {{.Centre.Phone}}."
	textError    = "Xin lỗi, hệ thống đang bận. Bạn thử lại sau ít phút nhé."

	// textStaffReply heads a staff answer delivered to the resident: %s is
	// the staff member's name, the second %s the answer.
	textStaffReply = "👩‍💼 **Cán bộ xã (%s) trả lời** yêu cầu #%d:\n\n%s\n\n" +
		"_Bạn có thể gõ tiếp để trả lời cán bộ, hoặc gõ /ketthuc khi xong._"
	textClosedByStaff = "Cán bộ xã đã **kết thúc** cuộc trò chuyện (yêu cầu #%d). Từ bây giờ **trợ lý tự động** trả lời bạn; " +
		"cần hỏi cán bộ lần nữa thì gõ /canbo."
	textClosedIdle = "Cuộc trò chuyện với cán bộ xã (yêu cầu #%d) đã **tự kết thúc** vì %s không có tin nhắn mới. " +
		"Từ bây giờ **trợ lý tự động** trả lời bạn; cần hỏi cán bộ lần nữa thì gõ /canbo."
	textIdleThenBot = "Cuộc trò chuyện với cán bộ xã (yêu cầu #%d) đã tự kết thúc vì %s không có tin nhắn mới, " +
		"nên tin này được **trợ lý tự động** trả lời:\n\n"
)

// Staff-group texts (restricted Markdown; the group is read by staff).
const (
	labelClaim      = "🙋 Nhận xử lý"
	labelClose      = "✅ Đóng"
	labelClaimedBy  = "👤 %s đang xử lý"
	labelClosedBy   = "🔒 Đã đóng (%s)"
	textCardHead    = "🙋 **Yêu cầu #%d** – %s – chờ %s"
	textCardRepost  = "🔁 **Nhắc lại:** chưa ai nhận xử lý sau %s làm việc.\n\n"
	textCardNone    = "(Người dân chưa gõ câu hỏi; tin nhắn tiếp theo sẽ được chuyển vào đây.)"
	textCardFoot    = "↩️ **Trả lời tin nhắn này** (Reply) để gửi câu trả lời cho người dân. Mọi tin nhắn của người dân đã được che số căn cước, số điện thoại."
	textCardMore    = "… (còn %d tin trước đó, xem trên trang quản trị)"
	textStaffPosted = "💬 **#%d – người dân:** %s"
	textStaffMirror = "↩️ **#%d – %s trả lời (trang quản trị):** %s"
	textStaffClosed = "🔒 **#%d** đã đóng: %s."
	textStaffClaim  = "👤 **#%d**: %s nhận xử lý (trang quản trị)."
	textStaffLost   = "⚠️ **#%d**: câu trả lời %s"

	noticeClosed      = "⚠️ Yêu cầu #%d đã đóng, tin nhắn này **không** được gửi cho người dân. Người dân cần hỏi tiếp thì gõ /canbo để mở yêu cầu mới."
	noticeNotRequest  = "⚠️ Tin bạn trả lời không thuộc yêu cầu nào, nên tin nhắn này **không** được gửi cho người dân. Để trả lời người dân, hãy bấm Trả lời (Reply) vào tin báo yêu cầu (tin có dòng “Yêu cầu #…”) hoặc vào tin người dân gửi."
	noticeTooLong     = "⚠️ Tin trả lời quá dài (tối đa %d ký tự), chưa gửi. Hãy chia thành vài tin ngắn hơn."
	noticeEmpty       = "⚠️ Tin trả lời không có chữ nào, chưa gửi (ảnh, tệp chưa chuyển được cho người dân)."
	noticeClaimed     = "Bạn đã nhận xử lý yêu cầu #%d."
	noticeClaimedAlso = "Bạn đang xử lý yêu cầu #%d."
	noticeClosedNow   = "Đã đóng yêu cầu #%d."
	noticeWasClosed   = "Yêu cầu #%d đã đóng trước đó."
	noticeGone        = "Không tìm thấy yêu cầu này."
	noticeInfo        = "Yêu cầu #%d: %s."
)

// Close notes recorded in the conversation.
const (
	noteClosedStaff    = "%s đã đóng yêu cầu"
	noteClosedResident = "người dân đã kết thúc (/ketthuc)"
	noteClosedIdle     = "tự đóng sau %s không có tin nhắn"
)

// Delivery problems, told to staff in the group and the dashboard.
var problemTexts = map[string]string{
	"undeliverable-zalo": "chưa đến được người dân qua Zalo: người dân nhắn OA lần cuối đã quá thời hạn Zalo cho phép OA nhắn lại. " +
		"Hãy gọi điện cho người dân nếu biết số; tin sẽ tự gửi lại khi người dân nhắn tiếp cho OA.",
	"undeliverable": "chưa đến được người dân (kênh không cho gửi lúc này). Hãy gọi điện cho người dân nếu biết số; " +
		"tin sẽ tự gửi lại khi người dân nhắn tiếp.",
	"blocked": "không gửi được: người dân đã chặn trợ lý hoặc bỏ theo dõi OA. Hãy liên hệ bằng cách khác (gọi điện) nếu biết số.",
	"failed":  "không gửi được sau nhiều lần thử. Bấm \"Gửi lại\" trên trang quản trị, hoặc gọi điện cho người dân.",
	"unknown": "có thể chưa đến người dân (máy chủ dừng đúng lúc đang gửi). Hỏi lại người dân, hoặc bấm \"Gửi lại\" trên trang quản trị.",
}
