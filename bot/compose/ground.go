package compose

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxComposed is the longest composed text accepted (in characters); a
// longer one is rambling, not a short answer.
const maxComposed = 3000

var (
	// tagRe is the source tag the prompts ask for: "[nguon: id1, id2]",
	// tolerated with diacritics, other case, Markdown escapes or "sources".
	tagRe = regexp.MustCompile(`(?i)\\?\[\s*(?:nguồn|nguon|sources?)\s*:\s*([^\]\n]*?)\s*\\?\]`)
	// tagLineRe is a last line "Nguồn: id1, id2" without brackets.
	tagLineRe = regexp.MustCompile(`(?i)^\s*(?:\*\*|_)?\s*(?:nguồn|nguon|sources?)\s*(?:\*\*|_)?\s*:\s*(.+?)\s*$`)
	thinkRe   = regexp.MustCompile(`(?s)<think>.*?</think>`)
	headingRe = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)

	urlRe = regexp.MustCompile(`(?i)\bhttps?://[^\s<>()\[\]"'` + "`" + `]+`)
	// domainRe finds bare host names such as "dichvucong.gov.vn", with the
	// path that may follow them ("dichvucong.gov.vn/thu-tuc").
	domainRe = regexp.MustCompile(`(?i)\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:vn|com|net|org|gov|edu|info|io|me|xyz|app|link|ly|online|site|top|shop|store|club|live|click|co|biz|cc|tk|asia)\b(?:/[^\s<>()\[\]"'` + "`" + `]*)?`)
	// digitRunRe finds digit runs broken by single spaces, dots, commas or
	// dashes ("0912 345 678", "50.000").
	digitRunRe = regexp.MustCompile(`\+?\d(?:[ .,\-]?\d)*`)
	// wideDigitRunRe also joins groups split by wider separators ("0912 -
	// 345 - 678", "0912 / 345 / 678", "0912  345"), so that a number cannot
	// slip through as several short runs.
	wideDigitRunRe = regexp.MustCompile(`\+?\d(?:(?:[ .,\-]|\s{2,3}|\s*[.\-–/]\s+|\s+[.\-–/]\s*)?\d)*`)
	// moneyRe finds amounts: a number followed by a currency or magnitude
	// word ("50.000 đồng", "50 000 đồng", "2 triệu", "30k", "100 VND").
	moneyRe = regexp.MustCompile(`(?i)(\d(?:[\d.,]*\d)?(?: \d{3})*)\s*(nghìn|ngàn|triệu|tỷ|tỉ|đồng|vnđ|vnd|đ|k|usd|\$)(?:[^\p{L}\p{N}]|$)`)
	// durationRe finds deadlines and durations ("3 ngày làm việc", "15 phút").
	durationRe = regexp.MustCompile(`(?i)(\d+)\s*(ngày|giờ|tiếng|tuần|tháng|năm|phút)(?:[^\p{L}]|$)`)
	// legalRe finds references to legal documents and what follows them.
	legalRe = regexp.MustCompile(`(?i)(nghị định|nghị quyết|thông tư|quyết định|công văn|chỉ thị|pháp lệnh|luật|bộ luật|điều)\s+(?:số\s+)?(\S+(?:\s+\S+)?)`)
	// docNumberRe finds document numbers such as "59/2022/NĐ-CP".
	docNumberRe = regexp.MustCompile(`(?i)\b\d{1,4}/\d{4}/[\p{L}\d\-]+|\b\d{1,4}/[\p{L}]{1,5}[\-\p{L}]*\b`)
)

// parseTag removes the source tags from text and returns the cleaned text
// and the cited ids in order, without duplicates. found is false when the
// text has no tag at all.
func parseTag(text string) (clean string, ids []string, found bool) {
	seen := map[string]bool{}
	add := func(list string) {
		for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
			f = strings.Trim(f, "`'\"*_.“”‘’()")
			f = strings.ReplaceAll(f, `\`, "")
			f = strings.ToLower(f)
			if f == "" || seen[f] {
				continue
			}
			seen[f] = true
			ids = append(ids, f)
		}
	}
	for _, m := range tagRe.FindAllStringSubmatch(text, -1) {
		found = true
		add(m[1])
	}
	clean = tagRe.ReplaceAllString(text, "")
	if !found {
		lines := strings.Split(strings.TrimRight(clean, " \n\t"), "\n")
		if m := tagLineRe.FindStringSubmatch(lines[len(lines)-1]); m != nil {
			found = true
			add(m[1])
			clean = strings.Join(lines[:len(lines)-1], "\n")
		}
	}
	return tidy(clean), ids, found
}

// tidy trims the composed text into restricted Markdown: reasoning blocks
// dropped, headings made bold, trailing spaces and extra blank lines removed.
func tidy(s string) string {
	s = thinkRe.ReplaceAllString(s, "")
	s = headingRe.ReplaceAllString(s, "**$1**")
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// source is what the grounding check compares a composed text with: every
// given entry's title, answer and sources.
type source struct {
	lower  string          // lower-cased NFKC text
	digits map[string]bool // digit runs (narrow and wide), digits only
	durs   map[string]bool // "3 ngày"
	money  map[string]bool // amounts by value and currency, see amountKey
}

func newSource(texts []string) *source {
	joined := fold(strings.Join(texts, "\n"))
	s := &source{lower: joined, digits: map[string]bool{}, durs: map[string]bool{}, money: map[string]bool{}}
	for _, m := range moneyRe.FindAllStringSubmatch(joined, -1) {
		s.money[amountKey(m[1], m[2])] = true
	}
	for _, re := range []*regexp.Regexp{digitRunRe, wideDigitRunRe} {
		for _, run := range re.FindAllString(joined, -1) {
			s.digits[onlyDigits(run)] = true
		}
	}
	for _, m := range durationRe.FindAllStringSubmatch(joined, -1) {
		s.durs[m[1]+" "+m[2]] = true
	}
	return s
}

// amountKey identifies an amount by value and currency, so that "50.000
// đồng", "50 nghìn" and "50k" are the same amount.
func amountKey(num, unit string) string {
	// Vietnamese writes 50.000 or 50,000 for fifty thousand and 1,5 for
	// one and a half: a separator followed by exactly three digits groups
	// thousands; any other one is the decimal point.
	var b strings.Builder
	for i := 0; i < len(num); i++ {
		c := num[i]
		if c == '.' || c == ',' || c == ' ' {
			j := i + 1
			for j < len(num) && num[j] >= '0' && num[j] <= '9' {
				j++
			}
			if j-i-1 == 3 {
				continue
			}
			b.WriteByte('.')
			continue
		}
		b.WriteByte(c)
	}
	v, err := strconv.ParseFloat(b.String(), 64)
	if err != nil {
		return num + " " + unit
	}
	currency := "vnd"
	switch strings.ToLower(unit) {
	case "nghìn", "ngàn", "k":
		v *= 1e3
	case "triệu":
		v *= 1e6
	case "tỷ", "tỉ":
		v *= 1e9
	case "usd", "$":
		currency = "usd"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " " + currency
}

// fold lower-cases s and applies NFKC, which also turns no-break, thin
// and other spaces into plain ones and full-width digits into ASCII, so
// that "0912\u00a0345\u00a0678" or "０９１２…" are read as numbers.
func fold(s string) string { return norm.NFKC.String(strings.ToLower(s)) }

func onlyDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func normURL(u string) string {
	u = strings.ToLower(strings.TrimRight(u, ".,;:!?"))
	u = strings.TrimPrefix(u, "https://")
	u = strings.TrimPrefix(u, "http://")
	u = strings.TrimPrefix(u, "www.")
	return strings.TrimRight(u, "/")
}

// ungrounded returns why text states something that is not in the source
// (a phone or other long number, a link, an amount of money, a duration or
// a legal reference), or "" when everything checks out.
func (s *source) ungrounded(text string) string {
	t := fold(text)
	for _, u := range urlRe.FindAllString(t, -1) {
		if !strings.Contains(s.lower, normURL(u)) {
			return fmt.Sprintf("link %q not in the entries", u)
		}
	}
	for _, d := range domainRe.FindAllString(urlRe.ReplaceAllString(t, " "), -1) {
		if !strings.Contains(s.lower, normURL(d)) {
			return fmt.Sprintf("web address %q not in the entries", d)
		}
	}
	for _, m := range moneyRe.FindAllStringSubmatch(t, -1) {
		if !s.money[amountKey(m[1], m[2])] {
			return fmt.Sprintf("amount %q not in the entries", strings.TrimSpace(m[0]))
		}
	}
	for _, run := range digitRunRe.FindAllString(t, -1) {
		if d := onlyDigits(run); len(d) >= 5 && !s.digits[d] {
			return fmt.Sprintf("number %q not in the entries", run)
		}
	}
	// A long number split by wider separators is accepted when the source
	// has it, or when each of its parts is a number of the source ("15.000
	// - 20.000 đồng").
	for _, run := range wideDigitRunRe.FindAllString(t, -1) {
		if d := onlyDigits(run); len(d) >= 5 && !s.digits[d] && !s.hasParts(run) {
			return fmt.Sprintf("number %q not in the entries", run)
		}
	}
	for _, m := range durationRe.FindAllStringSubmatch(t, -1) {
		if !s.durs[m[1]+" "+m[2]] {
			return fmt.Sprintf("duration %q not in the entries", strings.TrimSpace(m[0]))
		}
	}
	for _, n := range docNumberRe.FindAllString(t, -1) {
		if !strings.Contains(s.lower, n) {
			return fmt.Sprintf("document number %q not in the entries", n)
		}
	}
	// Legal references: a document keyword followed by a number, or by a
	// capitalised name ("Luật Căn cước"), must appear in the entries.
	orig := norm.NFC.String(text)
	for _, loc := range legalRe.FindAllStringSubmatchIndex(orig, -1) {
		kw := strings.ToLower(orig[loc[2]:loc[3]])
		rest := strings.TrimRight(orig[loc[4]:loc[5]], ".,;:!?)")
		first, _, _ := strings.Cut(rest, " ")
		first = strings.TrimRight(first, ".,;:!?)")
		switch {
		case strings.IndexAny(first, "0123456789") >= 0:
			if !strings.Contains(s.lower, strings.ToLower(first)) {
				return fmt.Sprintf("legal reference %q not in the entries", kw+" "+first)
			}
		case kw != "điều" && startsUpper(first):
			if !strings.Contains(s.lower, strings.ToLower(kw+" "+rest)) {
				return fmt.Sprintf("legal reference %q not in the entries", kw+" "+rest)
			}
		}
	}
	return ""
}

// hasParts reports whether every narrow digit run of run is a number of
// the source.
func (s *source) hasParts(run string) bool {
	for _, p := range digitRunRe.FindAllString(run, -1) {
		if !s.digits[onlyDigits(p)] {
			return false
		}
	}
	return true
}

func startsUpper(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r != utf8.RuneError && strings.ToUpper(string(r)) == string(r) && strings.ToLower(string(r)) != string(r)
}
