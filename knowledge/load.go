package knowledge

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"sort"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/unicode/norm"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// base/* (not base) so that _base.yaml and _out_of_scope.txt are embedded
// too.
//
//go:embed base/*
var embeddedBase embed.FS

//go:embed commune.yaml
var embeddedProfile []byte

// EmbeddedBase returns the knowledge base shipped inside the binary.
func EmbeddedBase() fs.FS {
	sub, err := fs.Sub(embeddedBase, "base")
	if err != nil {
		panic(err) // cannot happen: the directory is embedded at build time
	}
	return sub
}

// EmbeddedProfile returns the shipped commune profile (placeholder values).
func EmbeddedProfile() []byte { return bytes.Clone(embeddedProfile) }

// DirBase returns the knowledge base in a folder on disk.
func DirBase(dir string) (fs.FS, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open knowledge base: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open knowledge base: %s is not a folder", dir)
	}
	return os.DirFS(dir), nil
}

// MinQuestions is the least number of paraphrases an entry must have.
const MinQuestions = 4

// MaxIDLen bounds entry ids so that every button payload carrying one
// ("e:<id>", "sv:l:<id>:<n>") fits Telegram's 64-byte callback data.
const MaxIDLen = 48

// Problem is one thing wrong with a knowledge base, located by file and line.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Msg  string `json:"message"`
	// Warning problems (a review date passed or near) do not stop a base
	// loading.
	Warning bool `json:"warning,omitempty"`
	// Overdue marks a passed review date: a warning while the server runs
	// (it keeps answering), an error for "kb check" (see Strict).
	Overdue bool `json:"overdue,omitempty"`
}

func (p Problem) String() string {
	kind := "error"
	if p.Warning {
		kind = "warning"
	}
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, kind, p.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", p.File, kind, p.Msg)
}

// Problems is the error returned when a base cannot be loaded.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	n := 0
	for _, p := range ps {
		if p.Warning {
			continue
		}
		if n > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
		n++
	}
	return fmt.Sprintf("knowledge base has %d error(s): %s", n, b.String())
}

// Strict returns the problems with every passed review date turned into an
// error: what "kb check" fails on, while the running server only warns.
func (ps Problems) Strict() Problems {
	out := make(Problems, len(ps))
	for i, p := range ps {
		if p.Overdue {
			p.Warning = false
		}
		out[i] = p
	}
	return out
}

// Errors reports whether any problem is an error rather than a warning.
func (ps Problems) Errors() bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

// Base is a loaded, validated knowledge base.
type Base struct {
	Entries []*Entry
	Profile *Profile
	// Categories are the menu groups, in menu order (from _base.yaml, or
	// the entries' categories in id order when the base has none).
	Categories []Category
	// Lexicon holds the short forms and synonyms of the base's terms
	// (from _base.yaml) with the general Vietnamese ones.
	Lexicon *vi.Lexicon
	// OutOfScope are the base's examples of questions it must decline
	// (from _out_of_scope.txt; nil when the base has none).
	OutOfScope []string
	// WrongAnswerCost weighs a wrong answer in the objective the answer
	// bands are calibrated by (hit@1 + 0.5·hit@3 − cost·wrong): above 1 the
	// bands offer a choice of entries more often and answer wrongly less
	// often (from _base.yaml's wrong_answer_cost; 1 when unset).
	WrongAnswerCost float64
	// lexiconSpec is the text the lexicon was built from.
	lexiconSpec string
	byID        map[string]*Entry
	// Warnings are problems that did not stop the base loading.
	Warnings Problems
}

// Entry returns the entry with the given id.
func (b *Base) Entry(id string) (*Entry, bool) {
	e, ok := b.byID[id]
	return e, ok
}

// Category returns the menu category with the given id.
func (b *Base) Category(id string) (Category, bool) {
	for _, c := range b.Categories {
		if c.ID == id {
			return c, true
		}
	}
	return Category{}, false
}

// Services returns the entries that explain a public service (those with
// a service name), in id order.
func (b *Base) Services() []*Entry {
	var out []*Entry
	for _, e := range b.Entries {
		if e.Service != "" {
			out = append(out, e)
		}
	}
	return out
}

// InCategory returns the entries of a menu category, in id order.
func (b *Base) InCategory(cat string) []*Entry {
	var out []*Entry
	for _, e := range b.Entries {
		if e.Category == cat {
			out = append(out, e)
		}
	}
	return out
}

// Load parses and validates every *.md file of fsys, rendering answers with
// profile. It returns the base, or Problems listing every error found.
// Warnings (such as a passed review date) are kept in Base.Warnings.
func Load(fsys fs.FS, profile *Profile, now time.Time) (*Base, error) {
	entries, meta, problems := parseAll(fsys, profile, now)
	if problems.Errors() {
		return nil, problems
	}
	b := &Base{Entries: entries, Profile: profile, Categories: meta.Categories, Lexicon: meta.lexicon, OutOfScope: meta.outOfScope, lexiconSpec: meta.lexiconSpec,
		byID: make(map[string]*Entry, len(entries)), Warnings: problems, WrongAnswerCost: 1}
	if meta.WrongAnswerCost != nil {
		b.WrongAnswerCost = *meta.WrongAnswerCost
	}
	for _, e := range entries {
		b.byID[e.ID] = e
	}
	return b, nil
}

// Check validates a base and returns every problem, errors and warnings.
func Check(fsys fs.FS, profile *Profile, now time.Time) Problems {
	_, problems := CheckEntries(fsys, profile, now)
	return problems
}

// CheckEntries is Check that also returns the entries that parsed (even
// when others did not), for checks beyond the files (kb check --links).
func CheckEntries(fsys fs.FS, profile *Profile, now time.Time) ([]*Entry, Problems) {
	entries, _, problems := parseAll(fsys, profile, now)
	return entries, problems
}

func parseAll(fsys fs.FS, profile *Profile, now time.Time) ([]*Entry, baseMeta, Problems) {
	var problems Problems
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, baseMeta{}, Problems{{File: ".", Msg: fmt.Sprintf("list entries: %v", err)}}
	}
	sub, _ := fs.Glob(fsys, "*/*.md")
	names = append(names, sub...)
	sort.Strings(names)
	if len(names) == 0 {
		return nil, baseMeta{}, Problems{{File: ".", Msg: "no entries (*.md files) found"}}
	}
	meta, ps := loadMeta(fsys)
	problems = append(problems, ps...)
	var entries []*Entry
	seen := map[string]string{}
	for _, name := range names {
		if strings.EqualFold(path.Base(name), "README.md") || strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			problems = append(problems, Problem{File: name, Msg: fmt.Sprintf("read: %v", err)})
			continue
		}
		e, ps := ParseEntry(name, data, profile, now)
		problems = append(problems, ps...)
		if e == nil {
			continue
		}
		if first, dup := seen[e.ID]; dup {
			problems = append(problems, Problem{File: name, Line: 2, Msg: fmt.Sprintf("duplicate id %q (also in %s)", e.ID, first)})
			continue
		}
		seen[e.ID] = name
		entries = append(entries, e)
	}
	if len(entries) == 0 && !problems.Errors() {
		problems = append(problems, Problem{File: ".", Msg: "no valid entries"})
	}
	problems = append(problems, meta.checkCategories(entries)...)
	return entries, meta, problems
}

// frontMatter mirrors the YAML header of an entry file.
type frontMatter struct {
	ID        string   `yaml:"id"`
	Title     string   `yaml:"title"`
	Category  string   `yaml:"category"`
	Service   string   `yaml:"service,omitempty"`
	Questions []string `yaml:"questions"`
	Tags      []string `yaml:"tags"`
	Sources   []string `yaml:"sources"`
	Updated   string   `yaml:"updated"`
	ReviewBy  string   `yaml:"review_by,omitempty"`
}

const dateLayout = "2006-01-02"

// ParseEntry parses one entry file. It returns the entry (nil when it is
// unusable) and the problems found, with line numbers inside the file.
func ParseEntry(name string, data []byte, profile *Profile, now time.Time) (*Entry, Problems) {
	var ps Problems
	bad := func(line int, format string, args ...any) {
		ps = append(ps, Problem{File: name, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	if !utf8.Valid(data) {
		bad(0, "file is not valid UTF-8")
		return nil, ps
	}
	text := norm.NFC.String(strings.ReplaceAll(string(data), "\r\n", "\n"))
	text = strings.TrimPrefix(text, "\ufeff")
	if !strings.HasPrefix(text, "---\n") {
		bad(1, "missing front matter: the file must start with a line \"---\"")
		return nil, ps
	}
	rest := text[len("---\n"):]
	end := strings.Index(rest, "\n---\n")
	var header, body string
	switch {
	case end >= 0:
		header, body = rest[:end+1], rest[end+len("\n---\n"):]
	case strings.HasSuffix(rest, "\n---"):
		header, body = rest[:len(rest)-len("---")], ""
	default:
		bad(1, "front matter is not closed by a line \"---\"")
		return nil, ps
	}
	bodyLine := 2 + strings.Count(header, "\n") + 1

	var root yaml.Node
	if err := yaml.Unmarshal([]byte(header), &root); err != nil {
		bad(yamlErrLine(err)+1, "broken front matter: %s", yamlErrMsg(err))
		return nil, ps
	}
	lines := keyLines(&root)
	line := func(key string) int {
		if l, ok := lines[key]; ok {
			return l + 1 // +1 for the opening "---"
		}
		return 2
	}
	var fm frontMatter
	if err := root.Decode(&fm); err != nil {
		bad(yamlErrLine(err)+1, "broken front matter: %s", yamlErrMsg(err))
		return nil, ps
	}
	for key, l := range lines {
		switch key {
		case "id", "title", "category", "service", "questions", "tags", "sources", "updated", "review_by":
		default:
			bad(l+1, "unknown front matter key %q", key)
		}
	}

	e := &Entry{
		ID:       strings.TrimSpace(fm.ID),
		Title:    strings.TrimSpace(fm.Title),
		Category: strings.TrimSpace(fm.Category),
		Service:  strings.TrimSpace(fm.Service),
		Tags:     fm.Tags,
		File:     name,
		BodyLine: bodyLine,
		Body:     strings.TrimSpace(body),
	}
	if e.ID == "" {
		bad(line("id"), "missing id")
	} else if !validID(e.ID) {
		bad(line("id"), "id %q must use only a-z, 0-9 and '-'", e.ID)
	} else if len(e.ID) > MaxIDLen {
		bad(line("id"), "id %q is longer than %d characters (buttons carry it in at most 64 bytes)", e.ID, MaxIDLen)
	}
	if e.Title == "" {
		bad(line("title"), "missing title")
	}
	if e.Category == "" {
		bad(line("category"), "missing category")
	} else if !validID(e.Category) {
		bad(line("category"), "category %q must use only a-z, 0-9 and '-'", e.Category)
	}
	e.categoryLine = line("category")
	for _, q := range fm.Questions {
		if q = strings.TrimSpace(q); q != "" {
			e.Questions = append(e.Questions, q)
		}
	}
	if len(e.Questions) < MinQuestions {
		bad(line("questions"), "has %d question(s); at least %d paraphrases are needed", len(e.Questions), MinQuestions)
	}
	for _, s := range fm.Sources {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
			bad(line("sources"), "source %q is not an http(s) URL", s)
			continue
		}
		e.Sources = append(e.Sources, s)
	}
	if len(e.Sources) == 0 {
		bad(line("sources"), "no sources: cite at least one official or reputable URL")
	}
	if fm.Updated == "" {
		bad(line("updated"), "missing updated date (YYYY-MM-DD)")
	} else if t, err := time.Parse(dateLayout, fm.Updated); err != nil {
		bad(line("updated"), "updated %q is not a date (YYYY-MM-DD)", fm.Updated)
	} else {
		e.Updated = t
	}
	switch {
	case fm.ReviewBy != "":
		if t, err := time.Parse(dateLayout, fm.ReviewBy); err != nil {
			bad(line("review_by"), "review_by %q is not a date (YYYY-MM-DD)", fm.ReviewBy)
		} else if !e.Updated.IsZero() && t.Before(e.Updated) {
			bad(line("review_by"), "review_by %s is before updated %s", fm.ReviewBy, fm.Updated)
		} else {
			e.ReviewBy = t
		}
	case !e.Updated.IsZero():
		e.ReviewBy, e.ReviewByDefault = DefaultReviewBy(e.Updated), true
	}
	if !e.ReviewBy.IsZero() && !now.IsZero() {
		if p, ok := reviewProblem(e, now); ok {
			p.File, p.Line = name, line("review_by")
			if e.ReviewByDefault {
				p.Line = line("updated")
			}
			ps = append(ps, p)
		}
	}
	if e.Body == "" {
		bad(bodyLine, "empty answer: the body after the front matter is empty")
	} else if profile != nil {
		answer, err := Render(e.Body, profile)
		if err != nil {
			bad(bodyLine, "answer template: %v", err)
		} else {
			e.Answer = answer
		}
	} else {
		e.Answer = e.Body
	}
	for _, p := range ps {
		if !p.Warning {
			return nil, ps
		}
	}
	return e, ps
}

// Format writes e as an entry file (front matter and body) that ParseEntry
// reads back as the same entry.
func Format(e *Entry) ([]byte, error) {
	fm := frontMatter{ID: e.ID, Title: e.Title, Category: e.Category, Service: e.Service, Questions: e.Questions,
		Tags: e.Tags, Sources: e.Sources}
	if !e.Updated.IsZero() {
		fm.Updated = e.Updated.Format(dateLayout)
	}
	if !e.ReviewBy.IsZero() && !e.ReviewByDefault {
		fm.ReviewBy = e.ReviewBy.Format(dateLayout)
	}
	head, err := yaml.Marshal(fm)
	if err != nil {
		return nil, fmt.Errorf("format entry %s: %w", e.ID, err)
	}
	return []byte("---\n" + string(head) + "---\n" + e.Body + "\n"), nil
}

// ReviewWarnDays is how many days before its review date an entry is
// flagged for review ("kb check" warnings, the dashboard's "Cần rà soát"
// page, the weekly digest's {{.StaleEntries}}).
const ReviewWarnDays = 30

// DefaultReviewMonths is how long after its updated date an entry without
// review_by is due for review.
const DefaultReviewMonths = 6

// DefaultReviewBy is the review date of an entry updated on updated that
// sets none: DefaultReviewMonths later, on the same day of the month or the
// month's last day (31 August gives 28 or 29 February).
func DefaultReviewBy(updated time.Time) time.Time {
	first := time.Date(updated.Year(), updated.Month()+DefaultReviewMonths, 1, 0, 0, 0, 0, updated.Location())
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(updated.Day(), last), 0, 0, 0, 0, updated.Location())
}

// Review is where an entry stands against its review date on a given day.
type Review struct {
	Entry *Entry
	// Days counts calendar days from the day to the review date: 0 on the
	// date itself, negative once it has passed.
	Days int
}

// Overdue reports whether the review date has passed.
func (r Review) Overdue() bool { return r.Days < 0 }

// Due reports whether the entry needs review: its date has passed or is at
// most ReviewWarnDays away.
func (r Review) Due() bool { return r.Days <= ReviewWarnDays }

// ReviewOf returns where e stands on now's calendar day (in now's
// location; callers pass Vietnamese time). An entry without a review date
// is never due.
func ReviewOf(e *Entry, now time.Time) Review {
	if e.ReviewBy.IsZero() {
		return Review{Entry: e, Days: math.MaxInt32}
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, time.UTC)
	due := time.Date(e.ReviewBy.Year(), e.ReviewBy.Month(), e.ReviewBy.Day(), 12, 0, 0, 0, time.UTC)
	return Review{Entry: e, Days: int(due.Sub(day).Hours() / 24)}
}

// NeedsReview lists the entries whose review date has passed or is at most
// ReviewWarnDays after now's day, the longest overdue first (then by id).
func (b *Base) NeedsReview(now time.Time) []Review {
	var out []Review
	for _, e := range b.Entries {
		if r := ReviewOf(e, now); r.Due() {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Days != out[j].Days {
			return out[i].Days < out[j].Days
		}
		return out[i].Entry.ID < out[j].Entry.ID
	})
	return out
}

// reviewProblem is the warning for an entry whose review date has passed
// (Overdue) or is near, if any.
func reviewProblem(e *Entry, now time.Time) (Problem, bool) {
	r := ReviewOf(e, now)
	if !r.Due() {
		return Problem{}, false
	}
	date := e.ReviewBy.Format(dateLayout)
	if e.ReviewByDefault {
		date += fmt.Sprintf(" (no review_by: %d months after updated)", DefaultReviewMonths)
	}
	switch {
	case r.Overdue():
		return Problem{Warning: true, Overdue: true, Msg: fmt.Sprintf(
			"review date %s has passed (%d day(s) ago): check the entry against its sources, then set a new review_by", date, -r.Days)}, true
	case r.Days == 0:
		return Problem{Warning: true, Msg: fmt.Sprintf(
			"review date %s is today: check the entry against its sources, then set a new review_by", date)}, true
	default:
		return Problem{Warning: true, Msg: fmt.Sprintf(
			"review date %s is in %d day(s): check the entry against its sources, then set a new review_by", date, r.Days)}, true
	}
}

// Render fills the commune-profile placeholders of an answer body.
func Render(body string, profile *Profile) (string, error) {
	t, err := template.New("answer").Option("missingkey=error").Parse(body)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, profile); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

func validID(id string) bool {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// keyLines maps each top-level key of a YAML mapping to its (1-based) line.
func keyLines(root *yaml.Node) map[string]int {
	out := map[string]int{}
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i].Line
	}
	return out
}

// yamlErrLine extracts the line number from a yaml error ("yaml: line 3: …").
func yamlErrLine(err error) int {
	var l int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i+len("line "):], "%d", &l)
	}
	// yaml.v3 reports errors found while a flow collection or block is
	// still open at the 0-based line of where it started.
	if strings.Contains(msg, "did not find expected") {
		l++
	}
	if l == 0 {
		l = 1
	}
	return l
}

func yamlErrMsg(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "line ") {
		msg = msg[i+2:]
	}
	return msg
}

// wrongAnswerCost is b.WrongAnswerCost, 1 when unset (a Base built by hand).
func (b *Base) wrongAnswerCost() float64 {
	if b.WrongAnswerCost <= 0 {
		return 1
	}
	return b.WrongAnswerCost
}
