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
		"bạn là người|là ai|trợ lý số là gì|trợ lý số là ai|máy trả lời tự động|trả lời tự động|" +
		"hay máy|hay là máy|hay là bot|người hay máy|người thật hay máy|là người hay máy",
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
