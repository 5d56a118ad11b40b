package handoff

import (
	"strings"
	"unicode/utf8"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// Asking for a person is conversation intent, not domain knowledge (like
// small talk), so it lives here. A message asks for a person when it holds
// one of these phrases and, apart from them, only a few polite or filler
// words: "cho tôi gặp cán bộ ạ" does, "muốn gặp cán bộ tư pháp để đăng ký
// kết hôn" does not (the bot answers that question; its decline offers the
// handoff button anyway).
var personPhrases = []string{
	"gặp cán bộ", "hỏi cán bộ", "gặp cán bộ xã", "hỏi cán bộ xã", "nói chuyện với cán bộ", "nói với cán bộ",
	"kết nối cán bộ", "kết nối với cán bộ", "chuyển cho cán bộ", "chuyển cán bộ", "cán bộ trực", "gặp cán bộ trực",
	"gặp người thật", "nói chuyện với người thật", "nói chuyện với người", "nói chuyện người thật", "người thật",
	"gặp người", "hỏi người thật", "gặp nhân viên", "nói chuyện với nhân viên", "gặp tư vấn viên", "tư vấn viên",
	"gặp tổng đài viên", "tổng đài viên", "gặp người trực", "người trực", "gặp admin", "nói chuyện với admin",
}

// personFiller may surround a request for a person.
var personFiller = map[string]bool{}

func init() {
	for _, w := range strings.Fields("toi em chau minh con bac co chu anh chi ban ad admin oi a ah nhe nha nhi voi cho xin duoc khong ko k " +
		"muon can hay lam on vui long giup di nao co the mot truc tiep ngay luon bay gio gio the vay roi dang thi " +
		"xa duoc ko de hoi chuyen ket noi gap noi voi that") {
		personFiller[w] = true
	}
}

var personFolded = func() [][]string {
	out := make([][]string, 0, len(personPhrases))
	for _, p := range personPhrases {
		out = append(out, strings.Fields(vi.Fold(p)))
	}
	return out
}()

// maxPersonRequest bounds the length of a message read as a request for a
// person; longer ones are questions.
const maxPersonRequest = 80

// AsksForPerson reports whether text asks to talk to commune staff or a
// human ("gặp cán bộ", "nói chuyện với người thật", typed with or without
// diacritics).
func AsksForPerson(text string) bool {
	if utf8.RuneCountInString(text) > maxPersonRequest {
		return false
	}
	words := strings.Fields(vi.Fold(text))
	if len(words) == 0 {
		return false
	}
	used := make([]bool, len(words))
	found := false
	for _, p := range personFolded {
		for i := 0; i+len(p) <= len(words); i++ {
			match := true
			for j, w := range p {
				if words[i+j] != w {
					match = false
					break
				}
			}
			if match {
				found = true
				for j := range p {
					used[i+j] = true
				}
			}
		}
	}
	if !found {
		return false
	}
	for i, w := range words {
		if !used[i] && !personFiller[w] {
			return false
		}
	}
	return true
}
