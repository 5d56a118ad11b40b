package knowledge

import (
	"slices"
	"testing"
)

func TestConfusions(t *testing.T) {
	const oos = 9
	ranked := func(entries ...int32) dist {
		d := dist{}
		for i, e := range entries {
			d.cands = append(d.cands, candidate{entry: e, p: 1 / float64(i+2)})
		}
		return d
	}
	tests := []struct {
		name  string
		cases []cvCase // expected, with the ranking in d
		n     int
		want  []Confusion
	}{
		{"right first is no confusion", []cvCase{{expected: 1, d: ranked(1, 2)}, {expected: 1, d: ranked(1, 2)}}, 10, nil},
		{"a pair seen once is left out", []cvCase{{expected: 1, d: ranked(2, 1)}}, 10, nil},
		{"pairs by count, direction kept", []cvCase{
			{expected: 1, d: ranked(2, 1)}, {expected: 1, d: ranked(2)},
			{expected: 3, d: ranked(4)}, {expected: 3, d: ranked(4, 3)}, {expected: 3, d: ranked(4)},
			{expected: 2, d: ranked(1)},
		}, 10, []Confusion{{"#3", "#4", 3}, {"#1", "#2", 2}}},
		{"out of scope and empty rankings are not counted", []cvCase{
			{expected: oos, d: ranked(1)}, {expected: oos, d: ranked(1)}, {expected: 5, d: dist{}}, {expected: 5, d: dist{}},
		}, 10, nil},
		{"at most n", []cvCase{
			{expected: 1, d: ranked(2)}, {expected: 1, d: ranked(2)}, {expected: 3, d: ranked(4)}, {expected: 3, d: ranked(4)},
		}, 1, []Confusion{{"#1", "#2", 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fused := make([]dist, len(tt.cases))
			for i, c := range tt.cases {
				fused[i] = c.d
			}
			got := confusions(fused, tt.cases, oos, tt.n)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// The shipped base's index names its confused entries by id.
func TestShippedConfusionsNameEntries(t *testing.T) {
	ix := shipped(t)
	cv := ix.Info().CV
	if len(cv.Confused) == 0 {
		t.Fatal("no confused pairs reported for the shipped base")
	}
	ids := map[string]bool{}
	for _, e := range ix.entries {
		ids[e.ID] = true
	}
	for i, c := range cv.Confused {
		if !ids[c.Asked] || !ids[c.Ranked] || c.Asked == c.Ranked || c.Count < 2 {
			t.Errorf("pair %d: %+v", i, c)
		}
		if i > 0 && c.Count > cv.Confused[i-1].Count {
			t.Errorf("pair %d out of order: %+v after %+v", i, c, cv.Confused[i-1])
		}
	}
}
