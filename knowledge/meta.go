package knowledge

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MetaFile is the optional file of a knowledge base that describes the
// base as a whole (its menu categories). Files whose names start with "_"
// are never read as entries.
const MetaFile = "_base.yaml"

// baseMeta is the content of MetaFile.
type baseMeta struct {
	Categories []Category `yaml:"categories"`
	// declared is set when the categories come from the file; entries
	// must then use one of them.
	declared bool
}

func loadMeta(fsys fs.FS) (baseMeta, Problems) {
	var m baseMeta
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
		return baseMeta{}, Problems{{File: MetaFile, Line: yamlErrLine(err), Msg: "broken file: " + yamlErrMsg(err)}}
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
