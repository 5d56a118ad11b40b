package knowledge

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/colecommune/trolyso/knowledge/vi"
	"golang.org/x/text/unicode/norm"

	"go.yaml.in/yaml/v3"
)

// OutOfScopeFile is the optional file of a knowledge base with example
// questions the base does not answer, one a line ("#" starts a comment).
// The engine learns from them which questions to decline; a base without
// one gets a built-in set of everyday questions far from any service.
const OutOfScopeFile = "_out_of_scope.txt"

// MetaFile is the optional file of a knowledge base that describes the
// base as a whole (its menu categories). Files whose names start with "_"
// are never read as entries.
const MetaFile = "_base.yaml"

// The range of a base's wrong_answer_cost.
const (
	minWrongAnswerCost = 0.5
	maxWrongAnswerCost = 5.0
)

// baseMeta is the content of MetaFile.
type baseMeta struct {
	Categories []Category `yaml:"categories"`
	// Abbreviations map short forms ("a|b") to expansions; Synonyms are
	// groups of interchangeable wordings ("x|y|z"). See vi.Lexicon.
	Abbreviations map[string]string `yaml:"abbreviations"`
	Synonyms      []string          `yaml:"synonyms"`
	// WrongAnswerCost is how much worse a wrong answer is than a right
	// one given as a choice of entries (see Base.WrongAnswerCost).
	WrongAnswerCost *float64 `yaml:"wrong_answer_cost"`
	lexicon         *vi.Lexicon
	outOfScope      []string
	// lexiconSpec is the lexicon's definition as text (for fingerprints).
	lexiconSpec string
	// declared is set when the categories come from the file; entries
	// must then use one of them.
	declared bool
}

func loadMeta(fsys fs.FS) (baseMeta, Problems) {
	oos, ps := loadOutOfScope(fsys)
	m, ps2 := loadMetaFile(fsys)
	m.outOfScope = oos
	return m, append(ps, ps2...)
}

// loadOutOfScope reads OutOfScopeFile: nil when the base has none.
func loadOutOfScope(fsys fs.FS) ([]string, Problems) {
	data, err := fs.ReadFile(fsys, OutOfScopeFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, Problems{{File: OutOfScopeFile, Msg: fmt.Sprintf("read: %v", err)}}
	}
	if !utf8.Valid(data) {
		return nil, Problems{{File: OutOfScopeFile, Msg: "file is not valid UTF-8"}}
	}
	var out []string
	for _, l := range strings.Split(norm.NFC.String(string(data)), "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(l, "\ufeff"))
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, Problems{{File: OutOfScopeFile, Msg: "no example questions (one a line; # starts a comment)"}}
	}
	return out, nil
}

func loadMetaFile(fsys fs.FS) (baseMeta, Problems) {
	m := baseMeta{lexicon: vi.General}
	data, err := fs.ReadFile(fsys, MetaFile)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, Problems{{File: MetaFile, Msg: fmt.Sprintf("read: %v", err)}}
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return baseMeta{lexicon: vi.General}, Problems{{File: MetaFile, Line: yamlErrLine(err), Msg: "broken file: " + yamlErrMsg(err)}}
	}
	var ps Problems
	seen := map[string]bool{}
	cats := m.Categories[:0]
	for i, c := range m.Categories {
		c.ID, c.Label = strings.TrimSpace(c.ID), strings.TrimSpace(c.Label)
		switch {
		case c.ID == "" || !validID(c.ID):
			ps = append(ps, Problem{File: MetaFile, Msg: fmt.Sprintf("category %d: id %q must be non-empty and use only a-z, 0-9 and '-'", i+1, c.ID)})
		case c.Label == "":
			ps = append(ps, Problem{File: MetaFile, Msg: fmt.Sprintf("category %q has no label", c.ID)})
		case seen[c.ID]:
			ps = append(ps, Problem{File: MetaFile, Msg: fmt.Sprintf("category %q is listed twice", c.ID)})
		default:
			seen[c.ID] = true
			cats = append(cats, c)
		}
	}
	m.Categories = cats
	m.declared = len(cats) > 0
	if c := m.WrongAnswerCost; c != nil && (*c < minWrongAnswerCost || *c > maxWrongAnswerCost) {
		ps = append(ps, Problem{File: MetaFile, Msg: fmt.Sprintf("wrong_answer_cost %g must be between %g and %g (1 when left out)", *c, minWrongAnswerCost, maxWrongAnswerCost)})
		m.WrongAnswerCost = nil
	}
	rows := make([][2]string, 0, len(m.Abbreviations))
	for k, v := range m.Abbreviations {
		rows = append(rows, [2]string{k, v})
	}
	slices.SortFunc(rows, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	lex, err := vi.NewLexicon(rows, m.Synonyms)
	if err != nil {
		ps = append(ps, Problem{File: MetaFile, Msg: "abbreviations or synonyms: " + err.Error()})
		lex = vi.General
	}
	m.lexicon = lex
	var spec strings.Builder
	for _, r := range rows {
		spec.WriteString(r[0] + "=" + r[1] + "\n")
	}
	for _, g := range m.Synonyms {
		spec.WriteString(g + "\n")
	}
	m.lexiconSpec = spec.String()
	return m, ps
}

// checkCategories checks that every entry uses a declared category, or,
// when the base declares none, makes one category per distinct value (in
// id order, labelled by the id).
func (m *baseMeta) checkCategories(entries []*Entry) Problems {
	var ps Problems
	if !m.declared {
		seen := map[string]bool{}
		for _, e := range entries {
			if e.Category != "" && !seen[e.Category] {
				seen[e.Category] = true
				m.Categories = append(m.Categories, Category{ID: e.Category, Label: e.Category})
			}
		}
		return nil
	}
	ids := make([]string, len(m.Categories))
	for i, c := range m.Categories {
		ids[i] = c.ID
	}
	for _, e := range entries {
		if e.Category == "" {
			continue
		}
		found := false
		for _, id := range ids {
			found = found || id == e.Category
		}
		if !found {
			ps = append(ps, Problem{File: e.File, Line: e.categoryLine,
				Msg: fmt.Sprintf("unknown category %q (%s lists %s)", e.Category, MetaFile, strings.Join(ids, ", "))})
		}
	}
	return ps
}
