// Package markup renders the engine's restricted Markdown (paragraphs,
// numbered and bullet lists, **bold**, *italic*, links) for each channel:
// safe HTML for the web chat, Telegram's HTML subset, and plain text for
// channels without formatting. Raw HTML in the source is never passed
// through.
package markup

import (
	"bytes"
	"fmt"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Link is a link found in a text.
type Link struct {
	Label string
	URL   string
}

var md = goldmark.New()

func parse(src string) (ast.Node, []byte) {
	b := []byte(src)
	return md.Parser().Parse(text.NewReader(b)), b
}

// HTML renders src as HTML safe to put inside a page: raw HTML in src is
// escaped, and links get only http(s) URLs.
func HTML(src string) string {
	return render(src, htmlStyle)
}

// TelegramHTML renders src with the tags Telegram's HTML parse mode accepts
// (<b>, <i>, <a>, <code>); lists become lines with "1." or "•".
func TelegramHTML(src string) string {
	return render(src, telegramStyle)
}

// Plain renders src as plain text; links become "label (url)".
func Plain(src string) string {
	return render(src, plainStyle)
}

// Escape makes arbitrary text (a resident's words) safe to embed in the
// restricted Markdown: every ASCII punctuation character is backslash-
// escaped, so it renders literally.
func Escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && strings.ContainsRune("\\`*_{}[]()<>#+-.!|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Links returns the links of src in order.
func Links(src string) []Link {
	doc, b := parse(src)
	var out []Link
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch l := n.(type) {
		case *ast.Link:
			out = append(out, Link{Label: plainText(l, b), URL: string(l.Destination)})
		case *ast.AutoLink:
			u := string(l.URL(b))
			out = append(out, Link{Label: u, URL: u})
		}
		return ast.WalkContinue, nil
	})
	return out
}

type style int

const (
	htmlStyle style = iota
	telegramStyle
	plainStyle
)

type renderer struct {
	st  style
	src []byte
	out bytes.Buffer
}

func render(src string, st style) string {
	doc, b := parse(src)
	r := &renderer{st: st, src: b}
	r.blocks(doc)
	return strings.TrimSpace(r.out.String())
}

func (r *renderer) esc(s string) string {
	if r.st == plainStyle {
		return s
	}
	return html.EscapeString(s)
}

func (r *renderer) blocks(parent ast.Node) {
	first := true
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		if !first {
			r.sep()
		}
		first = false
		r.block(n)
	}
}

func (r *renderer) sep() {
	if r.st == htmlStyle {
		r.out.WriteString("\n")
		return
	}
	r.out.WriteString("\n\n")
}

func (r *renderer) block(n ast.Node) {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		if r.st == htmlStyle {
			r.out.WriteString("<p>")
			r.inlines(n)
			r.out.WriteString("</p>")
			return
		}
		r.inlines(n)
	case *ast.Heading:
		if r.st == htmlStyle {
			r.out.WriteString("<p><b>")
			r.inlines(n)
			r.out.WriteString("</b></p>")
			return
		}
		if r.st == telegramStyle {
			r.out.WriteString("<b>")
			r.inlines(n)
			r.out.WriteString("</b>")
			return
		}
		r.inlines(n)
	case *ast.List:
		r.list(n)
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(r.src))
		}
		r.out.WriteString(r.esc(strings.TrimRight(b.String(), "\n")))
	case *ast.ThematicBreak:
		if r.st == htmlStyle {
			r.out.WriteString("<hr>")
		}
	case *ast.HTMLBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(r.src))
		}
		r.out.WriteString(r.esc(strings.TrimSpace(b.String())))
	default:
		// Block quotes and anything else: render the children.
		r.blocks(n)
	}
}

func (r *renderer) list(l *ast.List) {
	if r.st == htmlStyle {
		tag := "ul"
		if l.IsOrdered() {
			tag = "ol"
		}
		if l.IsOrdered() && l.Start > 1 {
			fmt.Fprintf(&r.out, "<%s start=\"%d\">", tag, l.Start)
		} else {
			fmt.Fprintf(&r.out, "<%s>", tag)
		}
		for it := l.FirstChild(); it != nil; it = it.NextSibling() {
			r.out.WriteString("<li>")
			r.itemContent(it)
			r.out.WriteString("</li>")
		}
		fmt.Fprintf(&r.out, "</%s>", tag)
		return
	}
	num := l.Start
	if num == 0 {
		num = 1
	}
	first := true
	for it := l.FirstChild(); it != nil; it = it.NextSibling() {
		if !first {
			r.out.WriteString("\n")
		}
		first = false
		marker := "• "
		if l.IsOrdered() {
			marker = fmt.Sprintf("%d. ", num)
			num++
		}
		// The item is rendered on its own and every line after its first
		// is indented under the item's text: a nested list, a second
		// paragraph or a soft line break stays inside its item at any depth.
		sub := &renderer{st: r.st, src: r.src}
		sub.itemContent(it)
		r.out.WriteString(marker)
		r.out.WriteString(strings.ReplaceAll(strings.TrimRight(sub.out.String(), "\n"), "\n", "\n"+itemIndent))
	}
}

// itemIndent indents the lines of a list item after its first, in the
// text styles (Telegram, Zalo, the terminal).
const itemIndent = "   "

// itemContent renders a list item's blocks inline-ish: paragraphs joined by
// a line break, nested lists on the lines below (indented by list).
func (r *renderer) itemContent(it ast.Node) {
	first := true
	for c := it.FirstChild(); c != nil; c = c.NextSibling() {
		if !first {
			if r.st == htmlStyle {
				r.out.WriteString("<br>")
			} else {
				r.out.WriteString("\n")
			}
		}
		first = false
		switch c := c.(type) {
		case *ast.Paragraph, *ast.TextBlock:
			r.inlines(c)
		default:
			r.block(c)
		}
	}
}

func (r *renderer) inlines(parent ast.Node) {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		r.inline(n)
	}
}

func (r *renderer) inline(n ast.Node) {
	switch n := n.(type) {
	case *ast.Text:
		r.out.WriteString(r.esc(string(util.UnescapePunctuations(n.Segment.Value(r.src)))))
		if n.HardLineBreak() {
			r.lineBreak()
		} else if n.SoftLineBreak() {
			r.out.WriteString("\n")
		}
	case *ast.String:
		r.out.WriteString(r.esc(string(n.Value)))
	case *ast.Emphasis:
		tag := "i"
		if n.Level >= 2 {
			tag = "b"
		}
		if r.st == plainStyle {
			r.inlines(n)
			return
		}
		r.out.WriteString("<" + tag + ">")
		r.inlines(n)
		r.out.WriteString("</" + tag + ">")
	case *ast.CodeSpan:
		if r.st == plainStyle {
			r.out.WriteString(plainText(n, r.src))
			return
		}
		r.out.WriteString("<code>" + r.esc(plainText(n, r.src)) + "</code>")
	case *ast.Link:
		r.link(string(n.Destination), func() { r.inlines(n) }, plainText(n, r.src))
	case *ast.AutoLink:
		u := string(n.URL(r.src))
		r.link(u, func() { r.out.WriteString(r.esc(u)) }, u)
	case *ast.RawHTML:
		segs := n.Segments
		for i := 0; i < segs.Len(); i++ {
			seg := segs.At(i)
			r.out.WriteString(r.esc(string(seg.Value(r.src))))
		}
	case *ast.Image:
		r.inlines(n)
	default:
		r.inlines(n)
	}
}

func (r *renderer) lineBreak() {
	if r.st == htmlStyle {
		r.out.WriteString("<br>")
		return
	}
	r.out.WriteString("\n")
}

func (r *renderer) link(dest string, label func(), labelText string) {
	safe := strings.HasPrefix(dest, "https://") || strings.HasPrefix(dest, "http://") || strings.HasPrefix(dest, "tel:")
	switch {
	case r.st == plainStyle:
		if labelText == dest || !safe {
			r.out.WriteString(labelText)
			if safe {
				return
			}
			return
		}
		r.out.WriteString(labelText + " (" + dest + ")")
	case !safe:
		label()
	case r.st == htmlStyle:
		r.out.WriteString(`<a href="` + html.EscapeString(dest) + `" target="_blank" rel="noopener noreferrer">`)
		label()
		r.out.WriteString("</a>")
	default:
		r.out.WriteString(`<a href="` + html.EscapeString(dest) + `">`)
		label()
		r.out.WriteString("</a>")
	}
}

// plainText returns the text content of an inline node.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(util.UnescapePunctuations(c.Segment.Value(src)))
		case *ast.String:
			b.Write(c.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}
