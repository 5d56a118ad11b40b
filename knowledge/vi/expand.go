package vi

import (
	"strconv"
	"strings"
)

// Alt is one reading of a query slot: a syllable sequence and its weight
// relative to the original wording (1 = as typed).
type Alt struct {
	Toks   []Token
	Weight float64
}

// Slot is one position of an expanded query: the tokens as typed (Orig)
// and the ways to read them (Alts; Alts[0] is the preferred reading).
type Slot struct {
	Orig []Token
	Alts []Alt
}

// Fold returns the fold of the preferred reading.
func (s Slot) Fold() string {
	if len(s.Alts) == 0 {
		return ""
	}
	parts := make([]string, len(s.Alts[0].Toks))
	for i, t := range s.Alts[0].Toks {
		parts[i] = t.Fold
	}
	return strings.Join(parts, " ")
}

type expansion []Alt

// abbreviations maps teencode and domain abbreviations (keys separated by
// "|") to expansions ("phrase:weight" separated by ";"; weight 1 when
// omitted). A single expansion replaces the token on both the knowledge
// base and the query side; several expansions (ambiguous abbreviations) are
// added side by side on the query side, and the first one is used for the
// knowledge base. "=" as an expansion keeps the token as typed.
var abbreviationTable = [][2]string{
	{"k|ko|kô|kg|kh|khg|hk|hok|hôk|khum|khôg|khog|hem|hum|hổng|hông|k0|kog|kođ|khôngg", "không"},
	{"hong", "không:0.7;=:0.7"},
	{"dc|đc|đươc|dươc", "được"},
	{"dk|đk", "được:0.6;đăng ký:0.6"},
	{"đky|dky|đki|đkí|dki|đăngký|dangky", "đăng ký"},
	{"j|gj|zì|dì", "gì"},
	{"ntn|ntnao|ntnào|nthenao", "như thế nào"},
	{"lsao|lmsao|lms", "làm sao"},
	// Colloquial question endings ask the same as "thế nào", "làm sao",
	// "được không".
	{"kiểu gì|kiểu j|kiểu nào|kiểu chi|kiểu sao|kiểu gì giờ|kiểu gì đây", "như thế nào"},
	{"sao giờ|sao đây|làm sao giờ|làm sao đây|giờ làm sao|thế nào giờ|thế nào đây|tính sao|tính sao giờ|tính sao đây", "làm sao"},
	{"được hong|đc hong|dc hong|được hem|đc hem|dc hem|được hok|dc hok|đc hok|được khum|dc khum", "được không"},
	{"mk|mậtkhẩu|matkhau", "mật khẩu"},
	{"pass|password|passwork|passwd|pw|pass word", "mật khẩu"},
	{"tk|acc|account|tàikhoản|taikhoan", "tài khoản"},
	{"sdt|sđt|sdth|sđth", "số điện thoại"},
	{"dt|đt|dth|đth|dthoai|đthoại|đthoai|dienthoai", "điện thoại"},
	{"dvc|dichvucong|dịchvụcông", "dịch vụ công"},
	{"dvcqg", "dịch vụ công quốc gia"},
	{"cks|chukyso", "chữ ký số"},
	{"bhyt", "bảo hiểm y tế"},
	{"bhxh", "bảo hiểm xã hội"},
	{"gplx", "giấy phép lái xe"},
	{"lltp", "lý lịch tư pháp"},
	{"hkd", "hộ kinh doanh"},
	{"gks", "giấy khai sinh"},
	{"ubnd", "ủy ban nhân dân"},
	{"cmnd|cmt", "chứng minh nhân dân"},
	{"vs", "với"},
	{"bn", "bao nhiêu:0.6;bạn:0.6"},
	{"bnhieu|bnh", "bao nhiêu"},
	{"ng", "người"},
	{"mn|mng", "mọi người"},
	{"cx|cg", "cũng"},
	{"r", "rồi"},
	{"trc|trk", "trước"},
	{"ms", "mới"},
	{"lm", "làm"},
	{"bít|bik|bit", "biết"},
	{"bt", "biết"},
	{"kb|kbiet|kbt", "không biết"},
	{"e", "em"},
	{"mik|mjk|mh|mìk|mềnh", "mình"},
	{"b", "bạn"},
	{"v|z|zậy|dzậy|zay|dzay", "vậy"},
	{"onl", "online"},
	{"ud|apps", "ứng dụng"},
	{"hs", "hồ sơ"},
	{"sd|sdung", "sử dụng"},
	{"thui", "thôi"},
	{"mun|mún|mốn", "muốn"},
	{"lun|luon", "luôn"},
	{"kq", "kết quả"},
	{"tthc", "thủ tục hành chính"},
	{"hcc", "hành chính công"},
	{"dddt|đdđt|ddđt", "định danh điện tử"},
	{"stk", "số tài khoản"},
	{"ck", "chuyển khoản:0.6;chồng:0.6"},
	{"vk", "vợ"},
	{"cj", "chị"},
	{"rùi|ròi|roài", "rồi"},
	{"thik", "thích"},
	{"ngta", "người ta"},
	{"cavet|cà vẹt|ca vet|cavẹt", "đăng ký xe"},
	{"wa|qá", "quá"},
	{"nhìu|nhiu", "nhiều"},
	{"đag|dag|đg", "đang"},
	{"bh|bjo|bgio|bjờ|bgiờ", "bao giờ"},
	{"ntin", "nhắn tin"},
	{"tgian|tg", "thời gian"},
	{"cqnn", "cơ quan nhà nước"},
	{"qr", "qr"},
	// Places residents go to work or live away from home: "đang ở Sài Gòn"
	// also reads as "đang ở tỉnh khác".
	{"sài gòn|hồ chí minh|tp hcm|hcm|sg|tphcm|bình dương|đồng nai|hải phòng|đà nẵng|bắc ninh|" +
		"bắc giang|hưng yên|thái nguyên|quảng ninh|vĩnh phúc|hải dương|long an|vũng tàu|cần thơ|" +
		"hà nội|thủ đô|miền nam|trong nam|ngoài bắc|thành phố", "=:1;tỉnh khác:0.7"},
	// Everyday names of the VNeID app also read as "vneid" (one way only:
	// "vneid" alone must not match every "ứng dụng" of the base).
	{"app định danh|ứng dụng định danh|app công an|ứng dụng công an|app định danh điện tử", "=:1;vneid:0.8"},
	// Odd spellings of VNeID.
	{"vneld|vneit|vnied|vnid|vneiid|vnedi|vnieid|vneidd|vnneid|vnaid|vneit|vnei|vnekid|veneid|vmeid|vneyd|vnejd|vneld|vn eid|v neid|vne id|vn e id|vn id|vn eld|v n e i d|vneid app", "vneid"},
}

// synonymTable lists groups of interchangeable wordings; on the query side
// each member adds the others as extra readings at weight synonymWeight.
var synonymTable = []string{
	"ứng dụng|app|phần mềm",
	"cài|tải|cài đặt|tải về",
	"căn cước|cccd|thẻ căn cước|căn cước công dân|thẻ chip|thẻ chíp|chứng minh nhân dân|chứng minh thư|thẻ cccd",
	"đổi|thay|thay đổi|cập nhật|chỉnh sửa",
	"online|trực tuyến|qua mạng|trên mạng",
	"đăng nhập|login",
	"quên|không nhớ",
	"giấy phép lái xe|bằng lái|bằng lái xe",
	"lệ phí|phí|chi phí",
	"ở đâu|chỗ nào|nơi nào",
	"làm sao|thế nào|như thế nào|ra sao|cách nào|làm thế nào|bằng cách nào",
	"bao lâu|mấy ngày|bao nhiêu ngày|mất bao lâu",
	"mã otp|otp|mã xác thực",
	"hết hạn|quá hạn|hết hiệu lực",
	"điện thoại|smartphone",
	"trẻ em|con nhỏ|trẻ nhỏ|em bé|cháu nhỏ|con dưới 14 tuổi",
	"tận nhà|đến nhà",
	"không nhận được|không thấy|chưa nhận được|chưa thấy|không gửi|không về|không tới|chưa về|chưa gửi",
	"tìm ai|hỏi ai|nhờ ai|liên hệ ai|gọi ai|báo ai",
	"điện thoại mới|máy mới|máy khác|điện thoại khác",
	"đổi điện thoại|đổi máy|thay điện thoại|thay máy",
	"tạo tài khoản|đăng ký tài khoản|lập tài khoản",
	"người mất|người chết|qua đời|từ trần",
	// Everyday wordings of losing a card or device.
	"làm mất|bị mất|đánh rơi|đánh mất|thất lạc",
}

const synonymWeight = 0.8

var (
	abbreviations *PhraseSet[expansion]
	synonyms      *PhraseSet[expansion]
)

func init() {
	am := make(map[string]expansion)
	for _, row := range abbreviationTable {
		exp := parseExpansion(row[1])
		for _, k := range strings.Split(row[0], "|") {
			if k = strings.TrimSpace(k); k != "" {
				am[k] = exp
			}
		}
	}
	abbreviations = NewPhraseSet(am)

	sm := make(map[string]expansion)
	for _, g := range synonymTable {
		members := strings.Split(g, "|")
		for i, m := range members {
			var exp expansion
			exp = append(exp, Alt{Toks: Tokenize(m), Weight: 1})
			for j, o := range members {
				if j != i {
					exp = append(exp, Alt{Toks: Tokenize(o), Weight: synonymWeight})
				}
			}
			sm[m] = exp
		}
	}
	synonyms = NewPhraseSet(sm)
}

func parseExpansion(s string) expansion {
	var exp expansion
	for _, part := range strings.Split(s, ";") {
		text, w := part, 1.0
		if i := strings.LastIndexByte(part, ':'); i >= 0 {
			text = part[:i]
			f, err := strconv.ParseFloat(part[i+1:], 64)
			if err != nil {
				panic("vi: bad weight in abbreviation table: " + s)
			}
			w = f
		}
		text = strings.TrimSpace(text)
		if text == "=" {
			exp = append(exp, Alt{Toks: nil, Weight: w}) // keep as typed
			continue
		}
		exp = append(exp, Alt{Toks: Tokenize(text), Weight: w})
	}
	return exp
}

// IsAbbreviation reports whether a known abbreviation or teencode starts at
// toks[i], and how many tokens it spans.
func IsAbbreviation(toks []Token, i int) int {
	_, n := abbreviations.Longest(toks, i)
	return n
}

// Canonical replaces abbreviations and teencode by their preferred
// expansion ("mk" → "mật khẩu", "vn eid" → "vneid"). It is used for the
// knowledge-base side, and is the basis of the query side (Expand).
func Canonical(toks []Token) []Token {
	out := make([]Token, 0, len(toks)+4)
	for i := 0; i < len(toks); {
		exp, n := abbreviations.Longest(toks, i)
		if n == 0 {
			out = append(out, toks[i])
			i++
			continue
		}
		if exp[0].Toks == nil {
			out = append(out, toks[i:i+n]...)
		} else {
			out = append(out, exp[0].Toks...)
		}
		i += n
	}
	return out
}

// unit is a token of the canonical sequence, remembering where it came
// from; ambiguous abbreviations carry their readings in alts.
type unit struct {
	tok      Token
	from, to int // span in the original tokens
	alts     []Alt
}

// Expand turns query tokens into slots: abbreviations are expanded (the
// ambiguous ones into several weighted readings) and synonym groups add the
// other members as extra readings.
func Expand(toks []Token) []Slot {
	units := make([]unit, 0, len(toks)+4)
	for i := 0; i < len(toks); {
		exp, n := abbreviations.Longest(toks, i)
		switch {
		case n == 0:
			units = append(units, unit{tok: toks[i], from: i, to: i + 1})
			i++
			continue
		case len(exp) == 1 && exp[0].Toks != nil:
			for _, t := range exp[0].Toks {
				units = append(units, unit{tok: t, from: i, to: i + n})
			}
		case len(exp) == 1:
			for j := i; j < i+n; j++ {
				units = append(units, unit{tok: toks[j], from: j, to: j + 1})
			}
		default:
			alts := make([]Alt, 0, len(exp))
			for _, a := range exp {
				if a.Toks == nil {
					a.Toks = toks[i : i+n]
				}
				alts = append(alts, a)
			}
			units = append(units, unit{tok: Token{Fold: "\x00"}, from: i, to: i + n, alts: alts})
		}
		i += n
	}
	seq := make([]Token, len(units))
	for i, u := range units {
		seq[i] = u.tok
	}
	slots := make([]Slot, 0, len(units))
	for i := 0; i < len(units); {
		u := units[i]
		if u.alts != nil {
			slots = append(slots, Slot{Orig: toks[u.from:u.to], Alts: u.alts})
			i++
			continue
		}
		exp, n := synonyms.Longest(seq, i)
		if n == 0 {
			slots = append(slots, Slot{Orig: toks[u.from:u.to], Alts: []Alt{{Toks: seq[i : i+1], Weight: 1}}})
			i++
			continue
		}
		alts := make([]Alt, 0, len(exp))
		alts = append(alts, Alt{Toks: seq[i : i+n], Weight: 1})
		alts = append(alts, exp[1:]...)
		from, to := u.from, units[i+n-1].to
		slots = append(slots, Slot{Orig: toks[from:to], Alts: alts})
		i += n
	}
	return slots
}
