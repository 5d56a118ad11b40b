package knowledge

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// Knowledge in layers (a province deployment): the province base is shared
// by every commune, and a commune may have a folder of its own whose
// entries replace province entries with the same id or add to them. A
// commune's answers are rendered with its own profile. The trained model
// of the province base is shared: a commune's index (Index.Layer) reuses
// the province index's model, rankings and bands and only swaps in the
// commune's version of each entry; entries a commune adds get a small
// index of their own, consulted first.

// LoadLayer loads one commune's base: every entry of the province base
// rendered with the commune's profile, with the entries of overlay (nil:
// none) replacing those with the same id and adding the others. added
// lists the entries the overlay adds (not the replacements), in id order.
// Overlay entries must use the province's menu categories.
func LoadLayer(province, overlay fs.FS, profile *Profile, now time.Time) (b *Base, added []*Entry, err error) {
	b, err = Load(province, profile, now)
	if err != nil {
		return nil, nil, err
	}
	if overlay == nil {
		return b, nil, nil
	}
	own, problems := parseOverlay(overlay, profile, now)
	meta := baseMeta{Categories: b.Categories, declared: true}
	problems = append(problems, meta.checkCategories(own)...)
	if problems.Errors() {
		return nil, nil, problems
	}
	b.Warnings = append(b.Warnings, problems...)
	for _, e := range own {
		if _, ok := b.byID[e.ID]; ok {
			for i, pe := range b.Entries {
				if pe.ID == e.ID {
					b.Entries[i] = e
				}
			}
		} else {
			b.Entries = append(b.Entries, e)
			added = append(added, e)
		}
		b.byID[e.ID] = e
	}
	sort.Slice(b.Entries, func(i, j int) bool { return b.Entries[i].ID < b.Entries[j].ID })
	return b, added, nil
}

// CheckOverlay validates a commune's folder as LoadLayer would load it
// over a province base whose menu is categories: every problem of its
// entries (file names relative to the folder), duplicate ids within it and
// categories outside the province's menu. An overlay entry with the id of
// a province entry is no problem: it replaces that entry for the commune.
func CheckOverlay(overlay fs.FS, categories []Category, profile *Profile, now time.Time) Problems {
	own, problems := parseOverlay(overlay, profile, now)
	meta := baseMeta{Categories: categories, declared: true}
	return append(problems, meta.checkCategories(own)...)
}

// parseOverlay parses the *.md entries of a commune's folder (no
// _base.yaml of its own: the province's menu applies).
func parseOverlay(fsys fs.FS, profile *Profile, now time.Time) ([]*Entry, Problems) {
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, Problems{{File: ".", Msg: fmt.Sprintf("list entries: %v", err)}}
	}
	sort.Strings(names)
	var out []*Entry
	var problems Problems
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
		out = append(out, e)
	}
	return out, problems
}

// NewAddedIndex builds the index of the entries a commune adds (LoadLayer's
// added) to its base b. It learns to decline the province's own questions
// (they are its out-of-scope examples, with the generic ones), so that it
// answers only what the commune added. nil when nothing is added.
func NewAddedIndex(ctx context.Context, b *Base, added []*Entry, province *Base, opts IndexOptions) (*Index, error) {
	if len(added) == 0 {
		return nil, nil
	}
	own := &Base{Entries: added, Profile: b.Profile, Categories: b.Categories, Lexicon: b.Lexicon, lexiconSpec: b.lexiconSpec,
		byID: make(map[string]*Entry, len(added)), WrongAnswerCost: b.WrongAnswerCost}
	for _, e := range added {
		own.byID[e.ID] = e
	}
	own.OutOfScope = append(own.OutOfScope, GenericOutOfScope()...)
	for _, e := range province.Entries {
		if _, replaced := own.byID[e.ID]; !replaced {
			own.OutOfScope = append(own.OutOfScope, e.Questions...)
		}
	}
	return NewIndexContext(ctx, own, opts)
}

// Layer returns the index a commune answers from: this province index's
// trained model, rankings and bands with the commune's version of each
// entry from b (LoadLayer: rendered with its profile, or replaced), and
// added (NewAddedIndex, may be nil) for the entries it adds. Building it
// trains nothing. Decide asks added first: when it answers, its answer
// wins; otherwise the province decides (and when the province declines,
// a clarification of added is offered instead).
func (ix *Index) Layer(b *Base, added *Index) *Index {
	entries := make([]*Entry, len(ix.entries))
	for i, e := range ix.entries {
		if own, ok := b.Entry(e.ID); ok {
			entries[i] = own
		} else {
			entries[i] = e
		}
	}
	l := &Index{entries: entries, canon: ix.canon, lx: ix.lx, spell: ix.spell, voc: ix.voc, model: ix.model,
		oos: ix.oos, bands: ix.bands, info: ix.info, added: added, shared: ix.scratchPool()}
	l.info.Entries = len(b.Entries)
	return l
}

// scratchPool is the pool Decide takes its working memory from: a layer
// uses its province index's (scratch memory depends on the model, not on
// the entries' texts).
func (ix *Index) scratchPool() *sync.Pool {
	if ix.shared != nil {
		return ix.shared
	}
	return &ix.pool
}

// decideLayered applies a layer's added index (its decision own) before
// the province one.
func (ix *Index) decideLayered(own Decision, province func() Decision) Decision {
	if own.Band == BandAnswer {
		return own
	}
	d := province()
	if d.Band == BandDecline && own.Band == BandClarify {
		return own
	}
	return d
}
