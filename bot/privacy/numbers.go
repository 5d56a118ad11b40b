package privacy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A chain is a run of digit groups joined by separators: "0912", "345",
// "678" in "0912 - 345 - 678". Separators are up to maxJoin characters
// from joinChars; anything else (a letter, a comma, a colon, a longer gap)
// ends the chain.
const (
	joinChars = " .-/_()"
	maxJoin   = 3
)

type group struct{ start, end int } // byte offsets of the digits

type chain struct {
	s      string
	groups []group
	// prefix is the offset of a '+', '(' or "(+" just before the first
	// group, or the first group's start.
	prefix int
	plus   bool
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isJoin(c byte) bool { return strings.IndexByte(joinChars, c) >= 0 }

// join returns the separator between groups i and i+1.
func (c *chain) join(i int) string { return c.s[c.groups[i].end:c.groups[i+1].start] }

// text returns the digits of group i.
func (c *chain) text(i int) string { return c.s[c.groups[i].start:c.groups[i].end] }

// digits returns the digits of groups i..k, concatenated.
func (c *chain) digits(i, k int) string {
	if i == k {
		return c.text(i)
	}
	var b strings.Builder
	for g := i; g <= k; g++ {
		b.WriteString(c.text(g))
	}
	return b.String()
}

func (c *chain) count(i, k int) int {
	n := 0
	for g := i; g <= k; g++ {
		n += c.groups[g].end - c.groups[g].start
	}
	return n
}

// chains finds every chain in s.
func chains(s string) []chain {
	var out []chain
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		c := chain{s: s, prefix: i}
		switch {
		case i >= 2 && s[i-1] == '+' && s[i-2] == '(':
			c.prefix, c.plus = i-2, true
		case i >= 1 && s[i-1] == '+':
			c.prefix, c.plus = i-1, true
		case i >= 1 && s[i-1] == '(':
			c.prefix = i - 1
		}
		for {
			g := group{start: i}
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			g.end = i
			c.groups = append(c.groups, g)
			j := i
			for j < len(s) && j-i < maxJoin && isJoin(s[j]) {
				j++
			}
			if j == i || j >= len(s) || !isDigit(s[j]) {
				break
			}
			i = j
		}
		out = append(out, c)
	}
	return out
}

// numbers returns the spans of personal numbers in s. urls are the spans
// of web addresses, in which only a query value shaped like a phone or an
// identity number is masked.
func numbers(s string, urls [][]int, otp bool) []span {
	var out []span
	for _, c := range chains(s) {
		if in := inURL(urls, c.groups[0].start); in != nil {
			out = append(out, urlNumbers(&c, in)...)
			continue
		}
		out = append(out, c.personal(otp)...)
	}
	return out
}

func inURL(urls [][]int, at int) []int {
	for _, u := range urls {
		if at >= u[0] && at < u[1] {
			return u
		}
	}
	return nil
}

// urlNumbers masks, inside a web address, the groups that are a whole
// query value ("?sdt=0912345678&…") shaped like a phone or an identity
// number. Article and document ids in paths stay.
func urlNumbers(c *chain, u []int) []span {
	var out []span
	for i, g := range c.groups {
		if g.start == 0 || c.s[g.start-1] != '=' || g.end > u[1] {
			continue
		}
		if g.end < u[1] && c.s[g.end] != '&' && c.s[g.end] != '#' {
			continue
		}
		if m := strictMask(c.text(i)); m != "" {
			out = append(out, span{g.start, g.end, m})
		}
	}
	return out
}

// personal returns the spans of c to mask. Groups that read as a date, an
// amount, a year list, a document number or a procedure code are kept;
// among the others, the longest runs of groups that read as a phone or
// identity number are masked, then any single group of 9 or more digits,
// then (for models) OTP-like codes.
func (c *chain) personal(otp bool) []span {
	n := len(c.groups)
	if n == 1 {
		return c.single(0, otp)
	}
	kept := c.protected()
	var out []span
	for a := 0; a < n; {
		if kept[a] {
			a++
			continue
		}
		b := a
		for b+1 < n && !kept[b+1] {
			b++
		}
		out = append(out, c.stretch(a, b)...)
		a = b + 1
	}
	return out
}

// stretch masks within groups a..b, none of them protected.
func (c *chain) stretch(a, b int) []span {
	var out []span
	masked := make([]bool, b-a+1)
	for i := a; i <= b; {
		found := false
		// A phone or identity number has at most 14 digits, so at most
		// 14 groups.
		for k := min(b, i+13); k > i; k-- {
			if d := c.count(i, k); d < 9 || d > 14 || !c.consistent(i, k) {
				continue
			}
			p := c.digits(i, k)
			if i == 0 && c.plus {
				p = "+" + p
			}
			if m := strictMask(p); m != "" {
				out = append(out, c.spanOf(i, k, m))
				for g := i; g <= k; g++ {
					masked[g-a] = true
				}
				i, found = k+1, true
				break
			}
		}
		if found {
			continue
		}
		if sp := c.single(i, false); len(sp) > 0 {
			out = append(out, sp...)
			masked[i-a] = true
		}
		i++
	}
	// What is left: a long number written in blocks of digits separated by
	// single spaces (a bank account: "1903 6547 8910 11") is masked as
	// digits.
	for i := a; i <= b; {
		if masked[i-a] {
			i++
			continue
		}
		k := i
		for k+1 <= b && !masked[k+1-a] {
			k++
		}
		if k > i && c.count(i, k) >= 9 {
			blocks := true
			for g := i; g <= k && blocks; g++ {
				blocks = g == k || c.groups[g].end-c.groups[g].start >= 3 && c.join(g) == " "
			}
			if blocks {
				out = append(out, c.spanOf(i, k, DigitMask))
			}
		}
		i = k + 1
	}
	return out
}

// single masks group i on its own: 9 or more digits are always masked; a
// standalone code of 4–8 digits (not a year) too when otp is set.
func (c *chain) single(i int, otp bool) []span {
	g := c.groups[i]
	d := g.end - g.start
	if d >= 9 {
		p := c.text(i)
		if i == 0 && c.plus {
			p = "+" + p
		}
		m := strictMask(p)
		if m == "" {
			m = DigitMask
			if d == 12 || d == 9 {
				m = IDMask
			}
		}
		return []span{c.spanOf(i, i, m)}
	}
	if otp && len(c.groups) == 1 && d >= 4 && !isYear(c.text(i)) {
		return []span{{g.start, g.end, OTPMask}}
	}
	return nil
}

// spanOf is the span of groups i..k, with the chain's prefix when i is
// the first group; a bracket opened before group i is closed after k, or
// left out of the span.
func (c *chain) spanOf(i, k int, mask string) span {
	start, end := c.groups[i].start, c.groups[k].end
	if i == 0 {
		start = c.prefix
	}
	if c.s[start] == '(' && strings.IndexByte(c.s[start:end], ')') < 0 {
		if end < len(c.s) && c.s[end] == ')' {
			end++
		} else {
			start++
		}
	}
	return span{start, end, mask}
}

// consistent reports whether groups i..k are joined the way one number is
// written: every separator the same, or single spaces, dots and dashes
// mixed ("091 234-5678"). Leading prefix groups — a country code, a group
// in brackets — may have their own separators ("(091) 234-5678",
// "+84 (0) 912.345.678").
func (c *chain) consistent(i, k int) bool {
	from := i
	for from < k && c.prefixGroup(from) {
		from++
	}
	if from >= k {
		return true
	}
	first := c.join(from)
	same, simple := true, true
	for g := from; g < k; g++ {
		j := c.join(g)
		same = same && j == first
		simple = simple && len(j) == 1 && strings.Contains(" .-", j)
	}
	return same || simple
}

// prefixGroup reports a group written before the number proper: the
// country code (84, +84, 0084) or a group in brackets.
func (c *chain) prefixGroup(g int) bool {
	if g == 0 && (c.plus || c.text(0) == "84" || c.text(0) == "0084") {
		return true
	}
	st := c.groups[g].start
	return st > 0 && c.s[st-1] == '(' && g+1 < len(c.groups) && strings.HasPrefix(c.join(g), ")")
}

// strictMask returns the mask for a digit string (with an optional leading
// "+") shaped like a Vietnamese phone number or identity number, or "".
func strictMask(p string) string {
	if isPhone(p) {
		return PhoneMask
	}
	if len(p) == 12 && p[0] == '0' || len(p) == 9 && p[0] != '+' {
		return IDMask
	}
	return ""
}

// isPhone reports whether a digit string (with optional leading +) is a
// Vietnamese phone number: a mobile (0 + 3/5/7/8/9 + 8 digits), a landline
// (02 + 9 digits) or an old 11-digit mobile (01…), nationally or after the
// country code 84 (+84, 0084), with or without the trunk 0.
func isPhone(p string) bool {
	intl := strings.HasPrefix(p, "+")
	p = strings.TrimPrefix(p, "+")
	if strings.HasPrefix(p, "0084") {
		p, intl = p[2:], true
	}
	if strings.HasPrefix(p, "84") && (intl || len(p) >= 11) {
		p = p[2:]
		if !strings.HasPrefix(p, "0") {
			p = "0" + p
		}
	}
	switch {
	case len(p) == 10 && p[0] == '0':
		return strings.IndexByte("35789", p[1]) >= 0
	case len(p) == 11 && p[0] == '0':
		return p[1] == '1' || p[1] == '2'
	}
	return false
}

// isYear reports whether a 4-digit group looks like a year (1900–2099).
func isYear(g string) bool {
	return len(g) == 4 && (strings.HasPrefix(g, "19") || strings.HasPrefix(g, "20"))
}

// protected marks the groups of c that read as something other than a
// personal number, left to right.
func (c *chain) protected() []bool {
	n := len(c.groups)
	kept := make([]bool, n)
	for i := 0; i < n; {
		l := c.reading(i)
		if l == 0 {
			i++
			continue
		}
		for g := i; g < i+l; g++ {
			kept[g] = true
		}
		i += l
	}
	return kept
}

// reading returns how many groups from i read as a date, an amount, a
// year list, a document number or a procedure code (0: none).
func (c *chain) reading(i int) int {
	n := len(c.groups)
	size := func(g int) int { return c.groups[g].end - c.groups[g].start }
	num := func(g int) int {
		v := 0
		for _, ch := range c.text(g) {
			v = v*10 + int(ch-'0')
		}
		return v
	}
	day := func(g int) bool { return size(g) <= 2 && num(g) >= 1 && num(g) <= 31 }
	month := func(g int) bool { return size(g) <= 2 && num(g) >= 1 && num(g) <= 12 }
	dateSep := func(j string) bool { return j == "/" || j == "-" || j == "." }
	// d/m/yyyy, d-m-yyyy, d.m.yyyy (and d/m/yy).
	if i+2 < n && day(i) && month(i+1) && dateSep(c.join(i)) && c.join(i) == c.join(i+1) &&
		(isYear(c.text(i+2)) || size(i+2) == 2 && c.join(i) == "/") {
		return 3
	}
	// yyyy-mm-dd.
	if i+2 < n && isYear(c.text(i)) && month(i+1) && day(i+2) && dateSep(c.join(i)) && c.join(i) == c.join(i+1) {
		return 3
	}
	// Procedure codes: 1.001612, 2.002402.000.00.00 (followed by .H42).
	if i+1 < n && size(i) == 1 && size(i+1) == 6 && c.join(i) == "." {
		if i+4 < n && size(i+2) == 3 && size(i+3) == 2 && size(i+4) == 2 && c.join(i+1) == "." && c.join(i+2) == "." && c.join(i+3) == "." {
			return 5
		}
		return 2
	}
	// Amounts: 1.500.000, 150.000.000 đồng (thousands separated by dots,
	// ending in 000 or followed by a currency).
	if i+1 < n && size(i) <= 3 && c.text(i)[0] != '0' && c.join(i) == "." {
		k := i + 1
		for k < n && size(k) == 3 && c.join(k-1) == "." {
			k++
		}
		if k > i+1 && (c.text(k-1) == "000" || currencyAfter(c.s, c.groups[k-1].end)) {
			return k - i
		}
	}
	// Years: 2024 2025, 2024-2025.
	if isYear(c.text(i)) {
		k := i + 1
		for k < n && isYear(c.text(k)) {
			k++
		}
		if k > i+1 {
			return k - i
		}
	}
	// Document numbers and month/year: 226/2016, 7/2025; day/month: 1/7.
	if i+1 < n && size(i) <= 4 && (c.join(i) == "/" || c.join(i) == "-") && isYear(c.text(i+1)) {
		return 2
	}
	if i+1 < n && day(i) && month(i+1) && c.join(i) == "/" {
		return 2
	}
	return 0
}

// currencyAfter reports a currency or unit word right after offset at
// ("150.000.000 đồng", "50.000đ", "2.000.000 VND").
func currencyAfter(s string, at int) bool {
	rest := strings.TrimLeft(s[at:], " ")
	end := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(rest)
	}
	switch strings.ToLower(rest[:end]) {
	case "đ", "đồng", "dong", "d", "vnd", "vnđ", "k", "nghìn", "nghin", "ngàn", "ngan", "triệu", "trieu", "tỷ", "tỉ", "ty", "ti", "usd":
		return true
	}
	if r, _ := utf8.DecodeRuneInString(rest); r == '%' {
		return true
	}
	return false
}
