package admin

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing/fstest"
	"time"
	"unicode"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/knowledge/vi"
	"github.com/colecommune/trolyso/storage"
)

// The knowledge-base entry editor. A draft is the form of an entry file;
// it is written with knowledge.Format and checked with knowledge.Check on
// the base as it is on disk with the draft laid over it — the same check
// as `trolyso kb check` — as staff type (editor.js posts the form to
// /admin/hoidap/draft/check) and again before publishing. Publishing
// writes the file into TROLYSO_KB (the previous version kept under
// _history/ and in the publish log), then reloads the base. On a
// commune's dashboard in a province deployment the draft is checked
// against the commune's layered base and written into the commune's own
// folder instead (checkLayered), which the commune's layer reads.

//go:embed static/editor.js
var editorJS []byte

// draft is the editor's form.
type draft struct {
	ID        string
	Title     string
	Category  string
	Service   string
	Questions string // one a line
	Body      string
	Sources   string // one a line
	Tags      string // comma-separated
	Updated   string // YYYY-MM-DD
	ReviewBy  string
	Ticket    int64
	// File is the existing file the draft replaces (editing an entry);
	// "" for a new entry, written as <id>.md.
	File string
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		l = strings.TrimSpace(l)
		l = strings.TrimSpace(strings.TrimLeft(l, "-•*")) // pasted as a list
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func readDraft(r *http.Request) draft {
	f := func(k string) string { return r.PostFormValue(k) }
	d := draft{ID: strings.TrimSpace(f("id")), Title: strings.TrimSpace(f("title")), Category: strings.TrimSpace(f("category")),
		Service: strings.TrimSpace(f("service")), Questions: f("questions"), Body: strings.ReplaceAll(f("body"), "\r\n", "\n"),
		Sources: f("sources"), Tags: f("tags"), Updated: strings.TrimSpace(f("updated")), ReviewBy: strings.TrimSpace(f("review_by")),
		File: strings.TrimSpace(f("file"))}
	d.Ticket, _ = strconv.ParseInt(f("ticket"), 10, 64)
	return d
}

// entry builds the entry the draft describes. Dates that are not
// YYYY-MM-DD are left out (the check then reports them missing).
func (d draft) entry() *knowledge.Entry {
	e := &knowledge.Entry{ID: d.ID, Title: d.Title, Category: d.Category, Service: d.Service,
		Questions: lines(d.Questions), Sources: lines(d.Sources), Body: strings.TrimSpace(d.Body)}
	for _, t := range strings.Split(d.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			e.Tags = append(e.Tags, t)
		}
	}
	e.Updated, _ = time.Parse("2006-01-02", d.Updated)
	e.ReviewBy, _ = time.Parse("2006-01-02", d.ReviewBy)
	return e
}

// fileName is where the draft is written: the file of the entry it
// edits, else <id>.md.
func (d draft) fileName(b *knowledge.Base) string {
	if d.File != "" && b != nil {
		for _, e := range b.Entries {
			if e.File == d.File {
				return e.File
			}
		}
	}
	id := d.ID
	if id == "" {
		id = "muc-moi"
	}
	return id + ".md"
}

// overlayFS is a knowledge base with one file added or replaced.
type overlayFS struct {
	base fs.FS
	name string
	data []byte
}

func (o overlayFS) mem() fstest.MapFS {
	return fstest.MapFS{o.name: &fstest.MapFile{Data: o.data, Mode: 0o644}}
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if name == o.name {
		return o.mem().Open(name)
	}
	return o.base.Open(name)
}

func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, err := fs.ReadDir(o.base, name)
	if name != path.Dir(o.name) {
		return ents, err
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	mine, err := fs.ReadDir(o.mem(), name)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(ents)+1)
	for _, e := range ents {
		if e.Name() != path.Base(o.name) {
			out = append(out, e)
		}
	}
	out = append(out, mine...)
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// draftProblem is one problem of a draft, for the editor.
type draftProblem struct {
	// Field is the form field it is about ("" for the entry as a whole).
	Field   string `json:"field"`
	Line    int    `json:"line"`
	Message string `json:"message"` // Vietnamese
	Raw     string `json:"raw"`     // as `trolyso kb check` prints it
	Warning bool   `json:"warning"`
}

// suggestion offers a commune-profile placeholder for a detail written
// out in the answer.
type suggestion struct {
	Index       int    `json:"index"`
	Placeholder string `json:"placeholder"`
	Value       string `json:"value"`
	Message     string `json:"message"`
}

// checkResult is what the editor shows after a check.
type checkResult struct {
	OK       bool           `json:"ok"`
	Problems []draftProblem `json:"problems"`
	File     string         `json:"file"`
	Content  string         `json:"content"`
	Replaces bool           `json:"replaces"`
	// ReplacesProvince is set on a commune's dashboard when the draft
	// replaces a province entry for this commune only.
	ReplacesProvince bool         `json:"replaces_province"`
	Suggestions      []suggestion `json:"suggestions"`
}

// placeholder is a commune-profile detail an answer may use.
type placeholder struct {
	Tag   string
	Label string
	get   func(p *knowledge.Profile) string
	field string // the profile field, to know whether it is filled in
}

var placeholders = []placeholder{
	{"{{.Name}}", "Tên xã", func(p *knowledge.Profile) string { return p.Name }, "name"},
	{"{{.Centre.Name}}", "Tên Trung tâm Phục vụ hành chính công", func(p *knowledge.Profile) string { return p.Centre.Name }, "centre.name"},
	{"{{.Centre.Address}}", "Địa chỉ Trung tâm", func(p *knowledge.Profile) string { return p.Centre.Address }, "centre.address"},
	{"{{.Centre.Hours}}", "Giờ làm việc", func(p *knowledge.Profile) string { return p.Centre.Hours }, "centre.hours"},
	{"{{.Centre.Phone}}", "Số điện thoại Trung tâm", func(p *knowledge.Profile) string { return p.Centre.Phone }, "centre.phone"},
	{"{{.Police.Name}}", "Tên Công an xã", func(p *knowledge.Profile) string { return p.Police.Name }, "police.name"},
	{"{{.Police.Address}}", "Địa chỉ Công an xã", func(p *knowledge.Profile) string { return p.Police.Address }, "police.address"},
	{"{{.Police.Phone}}", "Số điện thoại Công an xã", func(p *knowledge.Profile) string { return p.Police.Phone }, "police.phone"},
}

// teamsSnippet lists the village teams in an answer.
const teamsSnippet = "{{range .Teams}}- {{.Village}}: {{.Leader}} – {{.Phone}}\n{{end}}"

// placeholderView is a placeholder with its current value, for the page.
type placeholderView struct {
	Tag, Label, Value string
	Missing           bool
}

func placeholderViews(p *knowledge.Profile) []placeholderView {
	if p == nil {
		return nil
	}
	missing := map[string]bool{}
	for _, m := range p.Missing {
		missing[m.Field] = true
	}
	out := make([]placeholderView, 0, len(placeholders)+1)
	for _, ph := range placeholders {
		out = append(out, placeholderView{Tag: ph.Tag, Label: ph.Label, Value: ph.get(p), Missing: missing[ph.field]})
	}
	out = append(out, placeholderView{Tag: teamsSnippet, Label: "Danh sách Tổ công nghệ số các thôn", Value: fmt.Sprintf("%d tổ", len(p.Teams))})
	return out
}

// phoneNumber finds Vietnamese phone numbers written out in an answer.
var phoneNumber = regexp.MustCompile(`(?:\+84|\b0)(?:[ .\-]?\d){8,10}\b`)

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// suggest offers placeholders for commune details written out in body,
// and warns about other phone numbers.
func suggest(body string, p *knowledge.Profile) []suggestion {
	if p == nil {
		return nil
	}
	var out []suggestion
	missing := map[string]bool{}
	for _, m := range p.Missing {
		missing[m.Field] = true
	}
	known := map[string]bool{}
	for i, ph := range placeholders {
		v := strings.TrimSpace(ph.get(p))
		if missing[ph.field] || len([]rune(v)) < 6 {
			continue
		}
		if strings.Contains(ph.field, "phone") {
			known[digits(v)] = true
		}
		if strings.Contains(body, v) {
			out = append(out, suggestion{Index: i, Placeholder: ph.Tag, Value: v,
				Message: fmt.Sprintf("Câu trả lời ghi “%s” (%s): nên thay bằng %s để câu trả lời tự cập nhật khi hồ sơ xã thay đổi.", v, strings.ToLower(ph.Label), ph.Tag)})
		}
	}
	for _, n := range phoneNumber.FindAllString(body, -1) {
		if known[digits(n)] {
			continue
		}
		out = append(out, suggestion{Index: -1, Value: n, Placeholder: "{{.Centre.Phone}}",
			Message: fmt.Sprintf("Câu trả lời có số điện thoại “%s”: nếu là số của xã, hãy dùng %s hoặc %s; không ghi số của người dân hay số cá nhân.", n, "{{.Centre.Phone}}", "{{.Police.Phone}}")})
	}
	return out
}

// problemTexts turn knowledge.Check's messages into Vietnamese; a message
// not listed is shown as it is.
var problemTexts = []struct {
	re  *regexp.Regexp
	msg func(m []string) string
}{
	{regexp.MustCompile(`^missing id$`), func([]string) string { return "Thiếu mã mục (id)." }},
	{regexp.MustCompile(`^id "(.*)" must use only`), func(m []string) string {
		return fmt.Sprintf("Mã mục “%s” chỉ được dùng chữ thường không dấu a–z, số 0–9 và dấu gạch ngang.", m[1])
	}},
	{regexp.MustCompile(`^id "(.*)" is longer than (\d+)`), func(m []string) string {
		return fmt.Sprintf("Mã mục dài quá %s ký tự.", m[2])
	}},
	{regexp.MustCompile(`^missing title$`), func([]string) string { return "Thiếu tiêu đề." }},
	{regexp.MustCompile(`^missing category$`), func([]string) string { return "Chưa chọn chủ đề." }},
	{regexp.MustCompile(`^category "(.*)" must use only`), func(m []string) string { return fmt.Sprintf("Chủ đề “%s” không hợp lệ.", m[1]) }},
	{regexp.MustCompile(`^unknown category "(.*)"`), func(m []string) string {
		return fmt.Sprintf("Chủ đề “%s” không có trong danh sách chủ đề của bộ câu hỏi.", m[1])
	}},
	{regexp.MustCompile(`^has (\d+) question\(s\); at least (\d+)`), func(m []string) string {
		return fmt.Sprintf("Mới có %s câu hỏi mẫu; cần ít nhất %s cách hỏi khác nhau (mỗi dòng một câu).", m[1], m[2])
	}},
	{regexp.MustCompile(`^source "(.*)" is not an http\(s\) URL`), func(m []string) string {
		return fmt.Sprintf("Nguồn “%s” không phải đường dẫn http:// hoặc https://.", m[1])
	}},
	{regexp.MustCompile(`^no sources`), func([]string) string {
		return "Chưa có nguồn: thêm ít nhất một đường dẫn chính thức (mỗi dòng một đường dẫn)."
	}},
	{regexp.MustCompile(`^missing updated date`), func([]string) string { return "Thiếu ngày cập nhật." }},
	{regexp.MustCompile(`^updated "(.*)" is not a date`), func([]string) string { return "Ngày cập nhật không đúng dạng năm-tháng-ngày." }},
	{regexp.MustCompile(`^review_by "(.*)" is not a date`), func([]string) string { return "Ngày rà soát không đúng dạng năm-tháng-ngày." }},
	{regexp.MustCompile(`^review_by (\S+) is before updated (\S+)`), func(m []string) string {
		return fmt.Sprintf("Ngày rà soát %s trước ngày cập nhật %s.", m[1], m[2])
	}},
	{regexp.MustCompile(`^review date (\S+).* has passed \((\d+) day`), func(m []string) string {
		return fmt.Sprintf("Ngày rà soát %s đã qua %s ngày: đối chiếu nội dung với nguồn, rồi đặt ngày rà soát mới.", m[1], m[2])
	}},
	{regexp.MustCompile(`^review date (\S+).* is today`), func(m []string) string {
		return fmt.Sprintf("Hôm nay (%s) là ngày rà soát: đối chiếu nội dung với nguồn, rồi đặt ngày rà soát mới.", m[1])
	}},
	{regexp.MustCompile(`^review date (\S+).* is in (\d+) day`), func(m []string) string {
		return fmt.Sprintf("Còn %s ngày đến ngày rà soát %s.", m[2], m[1])
	}},
	{regexp.MustCompile(`^empty answer`), func([]string) string { return "Chưa có nội dung câu trả lời." }},
	{regexp.MustCompile(`^answer template: (.*)`), func(m []string) string {
		return "Nội dung dùng ô mẫu không hợp lệ (chỉ dùng các ô có sẵn như {{.Centre.Phone}}): " + m[1]
	}},
	{regexp.MustCompile(`^duplicate id "(.*)" \(also in (.*)\)`), func(m []string) string {
		return fmt.Sprintf("Mã mục “%s” đã có ở tệp %s: chọn mã khác, hoặc mở mục đó để sửa.", m[1], m[2])
	}},
}

// duplicateID reads kb check's duplicate-id message.
var duplicateID = regexp.MustCompile(`^duplicate id "(.*)" \(also in (.*)\)$`)

func translate(msg string) string {
	for _, p := range problemTexts {
		if m := p.re.FindStringSubmatch(msg); m != nil {
			return p.msg(m)
		}
	}
	return msg
}

// fieldLines maps the lines of a formatted entry file to the form's
// fields: each top-level key's line, and where the body starts.
func fieldOf(content []byte, line int) string {
	if line <= 0 {
		return ""
	}
	ls := strings.Split(string(content), "\n")
	field := ""
	for i, l := range ls {
		n := i + 1
		if n > line {
			break
		}
		if n > 1 && l == "---" {
			if line > n {
				return "body"
			}
			return field
		}
		if k, _, ok := strings.Cut(l, ":"); ok && n > 1 && l != "" && l[0] != ' ' && l[0] != '-' {
			field = k
		}
	}
	return field
}

// kbFS is the base drafts are checked against: the folder, else the
// embedded base.
func (h *Handler) kbFS() (fs.FS, error) {
	if h.kbDir == "" {
		return knowledge.EmbeddedBase(), nil
	}
	return knowledge.DirBase(h.kbDir)
}

// check validates a draft exactly as `trolyso kb check` would validate the
// base with the draft's file in it.
func (h *Handler) check(d draft) (checkResult, []byte, error) {
	b := h.kb()
	if b == nil {
		return checkResult{}, nil, errors.New("no knowledge base")
	}
	if !d.edits(b) {
		// A file the form names that is no entry's is a new entry's draft.
		d.File = ""
	}
	if h.overlayDir != "" {
		return h.checkLayered(d, b)
	}
	fsys, err := h.kbFS()
	if err != nil {
		return checkResult{}, nil, err
	}
	res, content, err := checkIn(d, fsys, d.fileName(b), func(f fs.FS) knowledge.Problems {
		// kb check's own clock: Vietnamese calendar days.
		return knowledge.Check(f, b.Profile, h.now().In(h.loc))
	})
	if err != nil {
		return res, nil, err
	}
	return finishCheck(res, d, b), content, nil
}

// checkIn checks a draft's file, named name, in the folder fsys with check
// (kb check, or the commune folder's check): a new entry never replaces a
// file — beside one with its id it is named "<id>.moi.md" (sorted after
// it), so that the check reports the duplicate id as kb check would; a
// draft of an existing entry replaces its file.
func checkIn(d draft, fsys fs.FS, name string, check func(fs.FS) knowledge.Problems) (checkResult, []byte, error) {
	res := checkResult{File: name, Problems: []draftProblem{}}
	content, err := knowledge.Format(d.entry())
	if err != nil {
		return res, nil, err
	}
	res.Content = string(content)
	if _, err := fs.Stat(fsys, res.File); err == nil {
		if d.File == "" {
			stem := strings.TrimSuffix(res.File, ".md")
			res.File = stem + ".moi.md"
			for i := 2; ; i++ {
				if _, err := fs.Stat(fsys, res.File); err != nil {
					break
				}
				res.File = fmt.Sprintf("%s.moi%d.md", stem, i)
			}
		} else {
			res.Replaces = true
		}
	}
	for _, p := range check(overlayFS{base: fsys, name: res.File, data: content}) {
		if p.File == res.File {
			// kb check fails on a passed review date (Strict); for the
			// rest of the base those stay the "Cần rà soát" page's
			// business, as they are for the running server.
			p = knowledge.Problems{p}.Strict()[0]
		} else if p.File != "." && p.Warning {
			continue // another file's warning is not this draft's business
		}
		dp := draftProblem{Line: p.Line, Message: translate(p.Msg), Raw: p.String(), Warning: p.Warning}
		if p.File == res.File {
			dp.Field = fieldOf(content, p.Line)
		} else if m := duplicateID.FindStringSubmatch(p.Msg); m != nil && m[1] == d.ID && m[2] == res.File {
			// The base's other file with the draft's id was read after
			// the draft: the duplicate is the draft's problem.
			dp.Field, dp.Line = "id", 2
			dp.Message = translate(fmt.Sprintf("duplicate id %q (also in %s)", d.ID, p.File))
		}
		res.Problems = append(res.Problems, dp)
	}
	return res, content, nil
}

// finishCheck adds the form's own date checks and the placeholder
// suggestions to a check's result.
func finishCheck(res checkResult, d draft, b *knowledge.Base) checkResult {
	for field, v := range map[string]string{"updated": d.Updated, "review_by": d.ReviewBy} {
		if _, err := time.Parse("2006-01-02", v); v != "" && err != nil {
			res.Problems = append(res.Problems, draftProblem{Field: field, Message: fmt.Sprintf("Ngày “%s” không đúng dạng năm-tháng-ngày (ví dụ 2026-03-17).", v)})
		}
	}
	res.OK = true
	for _, p := range res.Problems {
		if !p.Warning {
			res.OK = false
		}
	}
	res.Suggestions = suggest(d.Body, b.Profile)
	return res
}

// edits reports whether the draft edits an entry of b (its File is that
// entry's file).
func (d draft) edits(b *knowledge.Base) bool {
	if d.File == "" {
		return false
	}
	for _, e := range b.Entries {
		if e.File == d.File {
			return true
		}
	}
	return false
}

// overlayName is the file a draft is written to in a commune's folder:
// the base name of the entry it edits (a province entry's replacement,
// or the commune's own file), else <id>.md. Only names of entries of the
// base are taken from the form.
func (d draft) overlayName(b *knowledge.Base) string {
	if d.File != "" {
		for _, e := range b.Entries {
			if e.File == d.File {
				return path.Base(e.File)
			}
		}
	}
	id := d.ID
	if id == "" {
		id = "muc-moi"
	}
	return id + ".md"
}

// overlayFiles is the commune's folder as it is on disk (empty when it
// does not exist yet).
func (h *Handler) overlayFiles() fs.FS {
	if fi, err := os.Stat(h.overlayDir); err == nil && fi.IsDir() {
		return os.DirFS(h.overlayDir)
	}
	return fstest.MapFS{}
}

// checkLayered validates a draft on a commune's dashboard: its folder with
// the draft's file in it, loaded over the province base as the server
// loads it (knowledge.CheckOverlay), so that an entry with a province
// entry's id replaces it for this commune — when staff opened that entry
// to edit it; a new draft with an id already in the commune's base is a
// duplicate, as `trolyso kb check` reports one.
func (h *Handler) checkLayered(d draft, b *knowledge.Base) (checkResult, []byte, error) {
	own := h.overlayFiles()
	res, content, err := checkIn(d, own, d.overlayName(b), func(f fs.FS) knowledge.Problems {
		return knowledge.CheckOverlay(f, b.Categories, b.Profile, h.now().In(h.loc))
	})
	if err != nil {
		return res, nil, err
	}
	// An id of the province base (the folder's own ids are checked above).
	if e, ok := b.Entry(d.ID); ok && d.ID != "" {
		_, ownErr := fs.Stat(own, e.File)
		fromProvince := strings.Contains(e.File, "/") || ownErr != nil
		switch {
		case fromProvince && (d.File == "" || path.Base(e.File) != res.File):
			msg := fmt.Sprintf("duplicate id %q (also in %s)", d.ID, e.File)
			res.Problems = append(res.Problems, draftProblem{Field: "id", Line: 2, Message: translate(msg), Raw: res.File + ":2: " + msg})
		case fromProvince:
			res.ReplacesProvince = true
		}
	}
	return finishCheck(res, d, b), content, nil
}

// slug makes an entry id from a title: "Xin giấy phép xây dựng" →
// "xin-giay-phep-xay-dung".
func slug(s string) string {
	s = strings.ToLower(vi.StripDiacritics(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	for len(out) > knowledge.MaxIDLen {
		i := strings.LastIndexByte(out[:knowledge.MaxIDLen], '-')
		if i <= 0 {
			out = out[:knowledge.MaxIDLen]
			break
		}
		out = out[:i]
	}
	return out
}

// titleOf makes a title from a resident's question: one line, first letter
// upper case, without a question mark.
func titleOf(q string) string {
	q = strings.TrimRight(clip(q, 100), " ?.!…")
	r := []rune(q)
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

type draftPage struct {
	hoidapPage
	Draft        draft
	Result       checkResult
	Categories   []knowledge.Category
	Placeholders []placeholderView
	Embedded     bool
	KBDir        string
	// Commune names the commune whose own folder the draft is published
	// to (a province deployment); "" for a one-commune install.
	Commune string
	From    string // where the draft came from, in words
	Error   string
}

// draftPage opens the editor: ?ticket=ID (a request's questions and staff
// answers), ?u=TEXT (groups of unanswered questions, repeatable),
// ?entry=ID (an existing entry), or empty.
func (h *Handler) draftPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := draft{Updated: h.now().In(h.loc).Format("2006-01-02")}
	from := "Mục mới"
	switch {
	case q.Get("ticket") != "":
		id, err := strconv.ParseInt(q.Get("ticket"), 10, 64)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		questions, answers, err := h.ticketTexts(r.Context(), id)
		if err != nil {
			h.serverError(w, "read ticket", err)
			return
		}
		d.Ticket = id
		d.Questions = strings.Join(questions, "\n")
		d.Body = strings.Join(answers, "\n\n")
		if len(questions) > 0 {
			d.Title = titleOf(questions[0])
		}
		from = fmt.Sprintf("Từ yêu cầu #%d: câu hỏi của người dân làm các cách hỏi đầu tiên, câu trả lời của cán bộ làm nội dung.", id)
	case len(q["u"]) > 0:
		examples, err := h.store.DeclinedExamples(r.Context(), q["u"], 20)
		if err != nil {
			h.serverError(w, "read unanswered questions", err)
			return
		}
		d.Questions = strings.Join(examples, "\n")
		if len(examples) > 0 {
			d.Title = titleOf(examples[0])
		}
		from = fmt.Sprintf("Từ %d nhóm câu hỏi chưa trả lời được.", len(q["u"]))
	case q.Get("entry") != "":
		b := h.kb()
		e, ok := b.Entry(q.Get("entry"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		d = draft{ID: e.ID, Title: e.Title, Category: e.Category, Service: e.Service, Questions: strings.Join(e.Questions, "\n"),
			Body: e.Body, Sources: strings.Join(e.Sources, "\n"), Tags: strings.Join(e.Tags, ", "), Updated: h.now().In(h.loc).Format("2006-01-02"), File: e.File}
		if !e.ReviewBy.IsZero() && !e.ReviewByDefault {
			d.ReviewBy = e.ReviewBy.Format("2006-01-02")
		}
		from = "Sửa mục " + e.ID + " (tệp " + e.File + "); khi xuất bản, bản cũ được giữ lại."
	}
	if d.ID == "" {
		d.ID = slug(d.Title)
	}
	h.showDraft(w, r, http.StatusOK, d, from, "")
}

func (h *Handler) showDraft(w http.ResponseWriter, r *http.Request, status int, d draft, from, errText string) {
	res, _, err := h.check(d)
	if err != nil {
		h.serverError(w, "check draft", err)
		return
	}
	p := draftPage{hoidapPage: h.hoidapBase(r, "Tạo mục kiến thức"), Draft: d, Result: res, Embedded: h.kbDir == "" && h.overlayDir == "",
		KBDir: h.kbDir, From: from, Error: errText}
	if h.overlayDir != "" {
		p.KBDir = h.overlayDir
	}
	if b := h.kb(); b != nil {
		p.Categories = b.Categories
		p.Placeholders = placeholderViews(b.Profile)
		if h.overlayDir != "" {
			p.Commune = b.Profile.Name
		}
	}
	// The editor's script checks the draft as staff type.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.render(w, status, "draft", p)
}

// draftCheck answers editor.js with the check of the posted draft.
func (h *Handler) draftCheck(w http.ResponseWriter, r *http.Request) {
	res, _, err := h.check(readDraft(r))
	if err != nil {
		h.log.Error("admin: check draft", "err", err)
		http.Error(w, "Không kiểm tra được.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(res)
}

func (h *Handler) editorScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Write(editorJS)
}

// draftSubmit handles the editor's buttons: check (without script),
// apply a placeholder suggestion, download the file, publish.
func (h *Handler) draftSubmit(w http.ResponseWriter, r *http.Request) {
	d := readDraft(r)
	action := r.PostFormValue("action")
	switch {
	case strings.HasPrefix(action, "ph:"):
		i, err := strconv.Atoi(strings.TrimPrefix(action, "ph:"))
		if b := h.kb(); err == nil && i >= 0 && i < len(placeholders) && b != nil {
			if v := strings.TrimSpace(placeholders[i].get(b.Profile)); v != "" {
				d.Body = strings.ReplaceAll(d.Body, v, placeholders[i].Tag)
			}
		}
		h.showDraft(w, r, http.StatusOK, d, "", "")
	case action == "download":
		res, content, err := h.check(d)
		if err != nil {
			h.serverError(w, "format draft", err)
			return
		}
		name := path.Base(res.File)
		if !regexp.MustCompile(`^[a-z0-9-]+\.md$`).MatchString(name) {
			name = "muc-moi.md"
		}
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Write(content)
	case action == "publish":
		who, ok := formStaff(w, r)
		if !ok {
			h.showDraft(w, r, http.StatusBadRequest, d, "", "Hãy nhập tên của bạn: mỗi lần xuất bản được ghi lại (ai, lúc nào, tệp nào).")
			return
		}
		file, err := h.publish(r, d, who.Name)
		switch {
		case errors.Is(err, errEmbedded):
			h.showDraft(w, r, http.StatusConflict, d, "", "Máy chủ đang dùng bộ câu hỏi có sẵn trong chương trình nên chưa xuất bản được. Xem hướng dẫn chuyển sang thư mục bên dưới.")
		case errors.Is(err, errInvalid):
			h.showDraft(w, r, http.StatusBadRequest, d, "", "Mục chưa hợp lệ, chưa xuất bản. Sửa các lỗi bên dưới rồi bấm Xuất bản lại.")
		case err != nil:
			h.log.Error("admin: publish entry", "err", err)
			h.showDraft(w, r, http.StatusInternalServerError, d, "", "Không xuất bản được: "+err.Error())
		default:
			http.Redirect(w, r, "/admin/hoidap/log?published="+url.QueryEscape(file), http.StatusSeeOther)
		}
	default:
		h.showDraft(w, r, http.StatusOK, d, "", "")
	}
}

var (
	errEmbedded = errors.New("the server runs on the embedded base")
	errInvalid  = errors.New("the draft does not pass the check")
)

// publish writes the draft's file into the base folder (keeping the
// previous version), logs it and reloads the base. It returns the file.
func (h *Handler) publish(r *http.Request, d draft, who string) (string, error) {
	dir := h.kbDir
	if h.overlayDir != "" {
		dir = h.overlayDir
	}
	if dir == "" {
		return "", errEmbedded
	}
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	res, content, err := h.check(d)
	if err != nil {
		return "", err
	}
	if !res.OK {
		return "", errInvalid
	}
	if d.Ticket != 0 {
		// The form's ticket is one of this store's (a commune's own on
		// its dashboard); another id is not linked to the entry.
		if _, err := h.store.Ticket(r.Context(), d.Ticket); errors.Is(err, storage.ErrNotFound) {
			h.log.Warn("admin: publish names a ticket this dashboard does not have; the entry is published without it", "ticket", d.Ticket)
			d.Ticket = 0
		} else if err != nil {
			return "", err
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(res.File)) || !strings.HasSuffix(res.File, ".md") {
		return "", fmt.Errorf("refusing to write %q", res.File)
	}
	if h.overlayDir != "" {
		// A commune's folder holds its entries at its top level only.
		if !OverlayFileName(res.File) {
			return "", fmt.Errorf("refusing to write %q into the commune's folder", res.File)
		}
		if err := os.MkdirAll(h.overlayDir, 0o755); err != nil {
			return "", fmt.Errorf("create the commune's entries folder: %w", err)
		}
	}
	full := filepath.Join(dir, filepath.FromSlash(res.File))
	previous, err := os.ReadFile(full)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read the current file: %w", err)
	}
	existed := err == nil
	backup := ""
	now := h.now()
	if existed {
		// The previous version is kept beside the base; "*.md.bak" files
		// are never read as entries.
		hist := filepath.Join(dir, "_history")
		if err := os.MkdirAll(hist, 0o755); err != nil {
			return "", fmt.Errorf("keep the previous version: %w", err)
		}
		backup = filepath.Join(hist, strings.TrimSuffix(path.Base(res.File), ".md")+"-"+now.In(h.loc).Format("20060102-150405")+".md.bak")
		if err := writeFileAtomic(backup, previous); err != nil {
			return "", fmt.Errorf("keep the previous version: %w", err)
		}
	}
	if err := writeFileAtomic(full, content); err != nil {
		return "", fmt.Errorf("write %s: %w", res.File, err)
	}
	if h.reload != nil {
		if err := h.reload(); err != nil {
			// Put the base back as it was: the server keeps answering.
			if existed {
				writeFileAtomic(full, previous)
			} else {
				os.Remove(full)
			}
			return "", fmt.Errorf("the base did not reload with the new file (it was taken out again): %w", err)
		}
	}
	if _, err := h.store.RecordPublish(r.Context(), storage.Publish{File: res.File, EntryID: d.ID, StaffName: who, TicketID: d.Ticket,
		Previous: string(previous), Content: string(content), Backup: backup}); err != nil {
		return res.File, err
	}
	h.log.Info("knowledge entry published from the dashboard", "file", res.File, "entry", d.ID, "replaced", existed, "ticket", d.Ticket)
	return res.File, nil
}

// overlayFileRE is a file a commune's folder may hold: a plain name
// without a folder, not hidden, not "_"-prefixed.
var overlayFileRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*\.md$`)

// OverlayFileName reports whether name may be written into a commune's
// entries folder: a plain *.md name at its top level (no folder, no "..",
// not hidden), which the commune's layer reads.
func OverlayFileName(name string) bool {
	return overlayFileRE.MatchString(name) && !strings.Contains(name, "..") && filepath.IsLocal(name)
}

// writeFileAtomic writes data to path through a temporary file in the same
// folder and a rename, so that the base never holds half a file.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".publish-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, name)
}

type logPage struct {
	hoidapPage
	Publishes []storage.Publish
	Published string
}

// publishLog lists the entries published from the dashboard.
func (h *Handler) publishLog(w http.ResponseWriter, r *http.Request) {
	ps, err := h.store.Publishes(r.Context(), 200)
	if err != nil {
		h.serverError(w, "read publish log", err)
		return
	}
	p := logPage{hoidapPage: h.hoidapBase(r, "Nhật ký xuất bản"), Publishes: ps, Published: r.URL.Query().Get("published")}
	h.render(w, http.StatusOK, "publishes", p)
}
