package knowledge

import (
	"strings"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// Small-talk phrases by kind. A message is small talk when it consists only
// of these phrases and filler words.
var smallTalkTable = map[SmallTalk]string{
	SmallTalkGreeting: "xin chào|chào|chào bạn|hello|helo|hi|hey|alo|a lô|chào buổi sáng|" +
		"chào buổi chiều|chào buổi tối|good morning|hí|ê|chào ad|chào admin|em chào|cháu chào|" +
		"chào em|chào anh|chào chị|chào cô|chào chú|chào bác|có ai không|có ai ở đây không|ad ơi|admin ơi",
	SmallTalkThanks: "cảm ơn|cám ơn|thanks|thank|thank you|tks|thks|thx|camon|cảm ơn nhiều|" +
		"đa tạ|biết rồi|hiểu rồi|rõ rồi|được rồi|ok|oke|okay|okie|vâng|dạ vâng|tuyệt|hay quá|" +
		"tốt quá|cảm ơn bạn|em cảm ơn|xin cảm ơn|thank bạn|ok bạn",
	SmallTalkWho: "bạn là ai|bạn là gì|em là ai|bạn tên gì|bạn tên là gì|ai đấy|ai vậy|ai đó|" +
		"bạn là người hay máy|bạn là robot|bạn là bot|bot là gì|bạn là chatbot|" +
		"giới thiệu về bạn|bạn là người thật|bạn có phải người thật|bạn là trợ lý|đây là ai|" +
		"bạn là người|là ai|trợ lý số là gì|trợ lý số là ai",
	SmallTalkHelp: "help|giúp|giúp tôi|giúp tôi với|giúp với|giúp em|giúp em với|giúp mình với|" +
		"giúp cháu với|hướng dẫn|trợ giúp|menu|bạn làm được gì|bạn giúp được gì|bạn biết gì|" +
		"tôi cần giúp đỡ|cần giúp đỡ|cứu|cứu với|hỗ trợ|tôi cần hỗ trợ|bắt đầu|start|chức năng|" +
		"bạn có thể làm gì|bạn làm gì được|hỏi gì được|tôi hỏi được gì|có thể hỏi gì|" +
		"cần hỗ trợ|giúp đỡ|hỗ trợ tôi|hỗ trợ em|hướng dẫn tôi|hướng dẫn em|tôi cần giúp",
	SmallTalkBye: "tạm biệt|bye|bai|bye bye|goodbye|hẹn gặp lại|bái bai|chào nhé|chào tạm biệt",
}

// smallTalkFiller may surround small-talk phrases.
var smallTalkFiller = "ạ|nhé|nha|nhá|bạn|ad|admin|em|anh|chị|ơi|nhiều|rất|lắm|à|ừ|dạ|bot|" +
	"mình|tôi|cháu|trợ lý|với|nhiều nhé|cô|chú|bác|nhe|vậy|thế|hả|ạ ạ|rồi|nhá|luôn|trợ lý số|" +
	"xin|vui lòng|làm ơn|nhé bạn|ạ nhé"

// smallTalkPriority orders kinds when a message mixes several.
var smallTalkPriority = []SmallTalk{SmallTalkWho, SmallTalkHelp, SmallTalkThanks, SmallTalkBye, SmallTalkGreeting}

type stValue struct {
	kind   SmallTalk // "" for filler
	filler bool
}

var smallTalkSet *vi.PhraseSet[stValue]

// oosCues are topics the assistant never answers (weather, prices, lottery,
// health advice, football, recipes, poems, jokes...). A cue declines a
// message unless the best entry itself contains the cue words.
// The value is true for strict cues, which match only tokens typed with
// the same diacritics (single accented syllables such as "đau" must not
// match "dau" = "đâu").
var oosCues *vi.PhraseSet[bool]

// oosPairs are out-of-scope questions recognised by two cues anywhere in
// the message: the base covers receiving a pension through a bank, not how
// much it is.
var oosPairs []struct{ a, b *vi.PhraseSet[struct{}] }

// channelCues are out-of-scope cues naming a messaging or social app;
// they do not decline a message with a scamContext cue.
var channelCues = phraseSetOf("zalo|facebook|tiktok|youtube|messenger|viber|telegram|fb")

// scamContext: links, one-time codes, scams and the assistant's own
// topics (VNeID, identity cards).
var scamContext = phraseSetOf("link|đường link|đường dẫn|otp|mã otp|mã xác thực|mã xác nhận|lừa|lừa đảo|bị lừa|" +
	"giả danh|giả mạo|mạo danh|app giả|ứng dụng giả|người lạ|số lạ|tin nhắn lạ|xưng công an|" +
	"vneid|định danh|định danh điện tử|căn cước|cccd|mật khẩu vneid|chiếm đoạt|chiếm tài khoản")

var oosPairList = [][2]string{
	{"lương hưu|lương|trợ cấp|phụ cấp|tiền hỗ trợ", "bao nhiêu|được mấy|mấy triệu|tăng lên|tăng bao nhiêu|" +
		"được tăng|bao giờ tăng|khi nào tăng|tăng lương|tính lương|cách tính|tính như thế nào|tính thế nào|mức hưởng|mức lương|mức trợ cấp"},
	{"bằng lái|giấy phép lái xe", "hết hạn|quá hạn|cấp lại|làm lại|gia hạn|học"},
	// Bank cards: the base covers receiving money through a bank account,
	// not lost or blocked bank cards.
	{"thẻ atm|thẻ ngân hàng|thẻ tín dụng|thẻ visa|agribank|vietcombank|vietinbank|bidv|techcombank|" +
		"mb bank|mbbank|sacombank|vpbank|tpbank|acb", "mất|bị mất|đánh rơi|khóa thẻ|làm lại thẻ|cấp lại thẻ|" +
		"làm lại|cấp lại|quên mã pin|nuốt thẻ|hết hạn"},
}

// oosList: "!" marks a strict multi-syllable cue; single accented
// syllables are always strict.
var oosList = "giá vàng|vàng miếng|vàng sjc|xổ số|sổ xố|xổ xố|kết quả xổ số|lô đề|!số đề|xsmb|xsmn|" +
	"thời tiết|dự báo thời tiết|trời mưa|mưa|nắng|bão|nhiệt độ|bóng đá|đá bóng|đội tuyển|" +
	"trận đấu|tỷ số|world cup|ngoại hạng|cầu thủ|thuốc|uống thuốc|đau|bệnh|đau bụng|đau đầu|" +
	"dạ dày|sốt|cảm cúm|bác sĩ|chữa bệnh|nấu|món ăn|công thức nấu|phở|nấu ăn|bài thơ|làm thơ|thơ|" +
	"bài hát|truyện cười|chuyện cười|kể chuyện|kể chuyện cười|đố vui|tỷ giá|!đô la|usd|" +
	"chứng khoán|cổ phiếu|bitcoin|tiền ảo|giá xăng|giá lúa|giá heo|giá lợn|giá cả|giá rau|" +
	"giá điện thoại|điện thoại nào tốt|phim|ca sĩ|người yêu|" +
	"tình yêu|tử vi|phong thủy|xem bói|cung hoàng đạo|bài tập|giải toán|toán|" +
	"dịch sang tiếng anh|bầu cử mỹ|du lịch|khách sạn|vé máy bay|" +
	"nhà hàng|quán ăn|mặc gì|game|chơi game|chửi|" +
	// Near-domain topics the base does not cover (declined unless the
	// best entry mentions them).
	"hộ chiếu|sổ đỏ|sổ hồng|sang tên|thuế|nộp thuế|biển số|phạt nguội|ly hôn|hộ nghèo|" +
	"nghĩa vụ quân sự|tiền điện|tiền nước|học phí|điểm thi|chuyển khoản nhầm|facebook|" +
	"bị hack|khám bệnh|bệnh viện|giấy phép xây dựng|xây nhà|trồng|xem tuổi|chủ tịch nước|" +
	"wifi|mạng chậm|thứ mấy|vay vốn|vay tiền|lương cơ bản|xuất khẩu lao động|" +
	"đất đai|tranh chấp|kiện|di chúc|thừa kế|zalo|xe điện|tiktok|youtube|shopee|lazada|" +
	// Land titles.
	"cấp sổ đỏ|làm sổ đỏ|sổ đỏ lần đầu|cấp giấy chứng nhận quyền sử dụng đất|quyền sử dụng đất|" +
	"tách thửa|thửa đất|chuyển mục đích sử dụng đất|đất nông nghiệp|đo đạc đất|mua bán đất|" +
	// Taxes.
	"mã số thuế|thuế thu nhập|quyết toán thuế|hoàn thuế|khai thuế|thuế môn bài|thuế đất|tncn|" +
	// Driving licences, vehicles and traffic fines.
	"thi bằng lái|học lái xe|sát hạch|bằng lái hết hạn|bằng lái xe hết hạn|bằng lái quá hạn|" +
	"giấy phép lái xe hết hạn|đổi bằng lái xe ô tô|bằng lái ô tô|xe mới mua|mua xe mới|sang tên xe|" +
	"xe máy mới mua|ô tô mới mua|đăng ký xe mới|đăng ký biển số|cấp biển|vi phạm giao thông|lỗi giao thông|nộp phạt|tiền phạt|mức phạt|bị phạt bao nhiêu|" +
	"phạt bao nhiêu|nồng độ cồn|vượt đèn đỏ|mũ bảo hiểm|bảo hiểm xe|đăng kiểm|" +
	// Social and health insurance, benefits not covered.
	"gia hạn thẻ bảo hiểm y tế|gia hạn bảo hiểm y tế|mua bảo hiểm y tế|bảo hiểm y tế hộ gia đình|" +
	"đóng bảo hiểm|rút bảo hiểm xã hội|bảo hiểm xã hội một lần|bảo hiểm xã hội tự nguyện|" +
	"sổ bảo hiểm xã hội|chế độ thai sản|tiền thai sản|hưởng thai sản|thất nghiệp|người có công|" +
	"bảo hiểm nhân thọ|xin trợ cấp|đăng ký trợ cấp|hồ sơ trợ cấp|hưởng trợ cấp|xin hỗ trợ|" +
	// Divorce and family law.
	"thủ tục ly hôn|ly hôn thuận tình|ly hôn đơn phương|đơn ly hôn|xin ly hôn|muốn ly hôn|ly dị|" +
	"quyền nuôi con|" +
	// Schools and exams.
	"thi vào lớp|ôn thi|thi tốt nghiệp|điểm chuẩn|tuyển sinh|" +
	// Telecoms, transport and shopping.
	"gói cước|nạp thẻ|nạp tiền điện thoại|taxi|grab|" +
	"xe ôm|vé xe|vé tàu|trả góp|" +
	// Health.
	"chữa|khỏi bệnh|huyết áp|tiểu đường|cảm cúm|cúm|ho lâu|nên ăn gì|" +
	// Weather, prices.
	"trời có|nắng nóng|rét|lạnh không|giá thịt|giá cà phê|giá xăng|lãi suất"

func init() {
	m := map[string]stValue{}
	for kind, list := range smallTalkTable {
		for _, p := range strings.Split(list, "|") {
			m[p] = stValue{kind: kind}
		}
	}
	for _, p := range strings.Split(smallTalkFiller, "|") {
		if _, ok := m[p]; !ok {
			m[p] = stValue{filler: true}
		}
	}
	smallTalkSet = vi.NewPhraseSet(m)
	om := map[string]bool{}
	for _, p := range strings.Split(oosList, "|") {
		strict := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		ph := vi.ParsePhrase(p)
		if len(ph.Toks) == 1 && ph.Toks[0].Accented {
			strict = true
		}
		if p != "" {
			om[p] = strict
		}
	}
	oosCues = vi.NewPhraseSet(om)
	for _, p := range oosPairList {
		oosPairs = append(oosPairs, struct{ a, b *vi.PhraseSet[struct{}] }{phraseSetOf(p[0]), phraseSetOf(p[1])})
	}
}

func phraseSetOf(list string) *vi.PhraseSet[struct{}] {
	m := map[string]struct{}{}
	for _, p := range strings.Split(list, "|") {
		if p = strings.TrimSpace(p); p != "" {
			m[p] = struct{}{}
		}
	}
	return vi.NewPhraseSet(m)
}

// smallTalkKind returns the kind of a message made only of small-talk
// phrases and fillers, or "".
func smallTalkKind(toks []vi.Token) SmallTalk {
	found := map[SmallTalk]bool{}
	for i := 0; i < len(toks); {
		v, n := smallTalkSet.Longest(toks, i)
		if n == 0 {
			return ""
		}
		if !v.filler {
			found[v.kind] = true
		}
		i += n
	}
	for _, k := range smallTalkPriority {
		if found[k] {
			return k
		}
	}
	return ""
}
