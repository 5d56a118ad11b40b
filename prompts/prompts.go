// Package prompts holds the templates trolyso sends to a language model.
// The templates are embedded; an operator may replace them with files of the
// same names in a folder (TROLYSO_PROMPTS). Overrides are parsed and tried
// with sample data at start-up, so a missing or broken file stops the
// server with a clear error instead of failing on a resident's question.
package prompts

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed *.tmpl
var embedded embed.FS

// Template file names; an override folder must contain all of them.
const (
	AnswerSystem = "answer_system.tmpl"
	AnswerUser   = "answer_user.tmpl"
)

// Names lists every template a Set needs.
var Names = []string{AnswerSystem, AnswerUser}

// Entry is one knowledge-base entry given to the model.
type Entry struct {
	ID     string
	Title  string
	Answer string
}

// AnswerData fills the answer templates.
type AnswerData struct {
	// Commune is the commune's name ("xã Cổ Lễ").
	Commune string
	// Question is the resident's question, already redacted and cleaned.
	Question string
	// Entries are the retrieved entries, best first.
	Entries []Entry
}

// Set is a parsed, checked set of templates. It is safe for concurrent use.
type Set struct {
	system *template.Template
	user   *template.Template
	// Source says where the templates came from ("embedded" or a folder).
	Source string
}

// Embedded returns the built-in templates.
func Embedded() *Set {
	s, err := parse(embedded, "embedded")
	if err != nil {
		panic(fmt.Sprintf("embedded prompts: %v", err)) // a build defect, caught by tests
	}
	return s
}

// Load returns the templates of dir, or the embedded ones when dir is
// empty. Every template must be present in dir, parse, and render sample
// data without error.
func Load(dir string) (*Set, error) {
	if dir == "" {
		return Embedded(), nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("load prompts from %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("load prompts: %s is not a folder", dir)
	}
	return parse(os.DirFS(dir), dir)
}

func parse(fsys fs.FS, source string) (*Set, error) {
	var errs []error
	get := func(name string) *template.Template {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("prompt %s: %w", filepath.Join(source, name), err))
			return nil
		}
		if strings.TrimSpace(string(b)) == "" {
			errs = append(errs, fmt.Errorf("prompt %s: file is empty", filepath.Join(source, name)))
			return nil
		}
		t, err := template.New(name).Option("missingkey=error").Parse(string(b))
		if err != nil {
			errs = append(errs, fmt.Errorf("prompt %s: %w", filepath.Join(source, name), err))
			return nil
		}
		return t
	}
	s := &Set{system: get(AnswerSystem), user: get(AnswerUser), Source: source}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Try the templates once, so that a reference to a field that does not
	// exist fails now rather than on a resident's question.
	sample := AnswerData{
		Commune:  "xã Mẫu",
		Question: "câu hỏi mẫu",
		Entries:  []Entry{{ID: "muc-mau", Title: "Mục mẫu", Answer: "Nội dung mẫu."}},
	}
	if _, _, err := s.Answer(sample); err != nil {
		return nil, fmt.Errorf("prompts in %s: %w", source, err)
	}
	return s, nil
}

// Answer renders the system and user messages of a composed answer.
func (s *Set) Answer(d AnswerData) (system, user string, err error) {
	system, err = execute(s.system, d)
	if err != nil {
		return "", "", err
	}
	user, err = execute(s.user, d)
	if err != nil {
		return "", "", err
	}
	return system, user, nil
}

func execute(t *template.Template, d AnswerData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render prompt %s: %w", t.Name(), err)
	}
	out := strings.TrimSpace(b.String())
	if out == "" {
		return "", fmt.Errorf("render prompt %s: result is empty", t.Name())
	}
	return out, nil
}
