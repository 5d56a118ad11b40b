package vi

import (
	"strings"
	"unicode"
)

// invisible reports characters that change nothing visible: format
// characters (zero-width spaces and joiners, bidi controls, tag
// characters, soft hyphen, BOM) and variation selectors.
func invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF || r == '\u034F' || r == '\u115F' || r == '\u1160' || r == '\u3164' || r == '\uFFA0'
}

// StripInvisible replaces invisible characters with repl.
func StripInvisible(s, repl string) string {
	if strings.IndexFunc(s, invisible) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if invisible(r) {
			b.WriteString(repl)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
