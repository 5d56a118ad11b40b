package knowledge

import (
	"slices"
	"testing"
)

// An edit to one entry leaves every other sample's key and fold as they
// were, so retraining after it moves answers near the edit only (round 24
// of knowledge/testdata/README.md: before, one content pass turned 106
// read questions from right to wrong or back, most far from its lines).
func TestSamplesStableUnderEdit(t *testing.T) {
	entries := shipped(t).entries
	oos := []string{"giá vàng hôm nay", "thời tiết ngày mai", "công thức nấu phở", "kết quả bóng đá"}
	const folds = 4
	type placed struct {
		class int32
		fold  int
	}
	index := func(ss []sample) map[uint64]placed {
		m := map[uint64]placed{}
		for _, s := range ss {
			if _, dup := m[s.key]; dup {
				continue // the same text twice in an entry
			}
			m[s.key] = placed{s.class, s.fold}
		}
		return m
	}
	before := samples(entries, oos, folds)
	idOf := func(es []*Entry) func(int32) string {
		return func(c int32) string {
			if int(c) < len(es) {
				return es[c].ID
			}
			return ""
		}
	}
	was := index(before)

	edited := slices.Clone(entries)
	e := *edited[3]
	e.Questions = append(slices.Clone(e.Questions), "một câu hỏi mới thêm vào mục này")
	edited[3] = &e
	removed := slices.Delete(slices.Clone(entries), 7, 8) // every later entry changes class

	tests := []struct {
		name    string
		entries []*Entry
		skip    string // the edited entry's id
	}{
		{"question added", edited, entries[3].ID},
		{"entry removed", removed, entries[7].ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := samples(tt.entries, oos, folds)
			id := idOf(tt.entries)
			moved, kept := 0, 0
			for _, s := range after {
				if id(s.class) == tt.skip {
					continue
				}
				p, ok := was[s.key]
				if !ok {
					t.Fatalf("sample of %q has a new key", id(s.class))
				}
				if p.fold != s.fold {
					moved++
				}
				kept++
			}
			if moved > 0 {
				t.Errorf("%d of %d samples of other entries changed fold", moved, kept)
			}
		})
	}
}

// Each entry's questions are spread evenly over the folds.
func TestFoldsBalanced(t *testing.T) {
	const folds = 4
	count := map[int32][]int{}
	for _, s := range samples(shipped(t).entries, nil, folds) {
		if s.kind != fromQuestion {
			if s.fold != -1 {
				t.Fatalf("a %v sample is in fold %d", s.kind, s.fold)
			}
			continue
		}
		if count[s.class] == nil {
			count[s.class] = make([]int, folds)
		}
		count[s.class][s.fold]++
	}
	for c, n := range count {
		if slices.Max(n)-slices.Min(n) > 1 {
			t.Errorf("entry %d: questions per fold %v", c, n)
		}
	}
}
