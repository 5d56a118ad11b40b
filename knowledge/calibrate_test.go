package knowledge

import (
	"math"
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

// siblingCases are made-up cross-validation cases, ranked by the model
// alone: sure questions of entry 1 (0.9), uncertain ones ranked e3 0.55,
// e4 0.40 (right of them about e3, wrong about e4), and outOfScope
// examples of class siblingOOS. The uncertain ones start at index sure.
func siblingCases(sure, right, wrong, outOfScope int) []cvCase {
	var cs []cvCase
	add := func(n int, expected int32, pOOS float64, cands ...candidate) {
		for range n {
			cs = append(cs, cvCase{expected: expected, d: dist{cands: slices.Clone(cands), pOOS: pOOS, modelTop: cands[0].entry, lexTop: -1}})
		}
	}
	add(sure, 1, 0.05, candidate{entry: 1, model: 0.9}, candidate{entry: 2, model: 0.05})
	add(right, 3, 0.05, candidate{entry: 3, model: 0.55}, candidate{entry: 4, model: 0.40})
	add(wrong, 4, 0.05, candidate{entry: 3, model: 0.55}, candidate{entry: 4, model: 0.40})
	add(outOfScope, siblingOOS, 0.95, candidate{entry: 5, model: 0.04})
	return cs
}

const siblingOOS = 9

// A base's wrong_answer_cost decides whether an uncertain first entry is
// answered or offered with its sibling: 50 questions ranked e3 0.55, e4
// 0.40 (35 of them about e3) are worth answering when a wrong answer
// costs 1 (35 + 17.5 − 15 > 25 for offering both) and not when it costs 3.
func TestWrongAnswerCostShapesBands(t *testing.T) {
	const oos = siblingOOS
	cs := siblingCases(40, 35, 15, 20)
	tests := []struct {
		cost      float64
		answers   bool // the uncertain questions are answered
		wantWrong float64
	}{
		{1, true, 15.0 / 90},
		{3, false, 0},
	}
	for _, tt := range tests {
		b, fig := chooseBands(cs, oos, tt.cost, nil, false)
		if got := b.Answer <= 0.55; got != tt.answers {
			t.Errorf("cost %g: answer threshold %.3f, want answering at 0.55 = %v", tt.cost, b.Answer, tt.answers)
		}
		if math.Abs(fig.Wrong-tt.wantWrong) > 1e-9 || fig.OOSDeclined != 1 || fig.InDeclined != 0 {
			t.Errorf("cost %g: %+v, want wrong %.3f, every out-of-scope case declined and none in scope", tt.cost, fig, tt.wantWrong)
		}
	}
}

// Previous bands are kept when the best bands found beat them by no more
// than noise, and replaced when they are clearly worse or miss a target.
func TestPreviousBandsKeptUnlessClearlyWorse(t *testing.T) {
	const oos = siblingOOS
	// Uncertain questions, right 11 times in 20 when answered: offering
	// both entries (20 × 0.5) is worth a little more than answering
	// (11 × 1.5 − 9), within noise.
	cs := siblingCases(200, 11, 9, 40)
	best, _ := chooseBands(cs, oos, 1, nil, false)
	d := cs[210].d
	d.fuse(best.Beta)
	if v := best.decide(&d); v.band != BandClarify {
		t.Fatalf("without previous bands the uncertain questions should be offered as a choice: %+v gives %v", best, v.band)
	}
	tests := []struct {
		name     string
		previous Bands
		kept     bool
	}{
		// Answers the uncertain questions: 11 × 1.5 − 9 against 20 × 0.5
		// offered, within two standard errors of the paired difference.
		{"close", Bands{Beta: best.Beta, Decline: best.Decline, OOSRatio: best.OOSRatio, Floor: best.Floor, Answer: 0.5, Agree: 0.5, Keep: 0.25}, true},
		// Declines every in-scope question below 0.95: clearly worse.
		{"worse", Bands{Beta: best.Beta, Decline: best.Decline, OOSRatio: best.OOSRatio, Floor: 0.95, Answer: 0.95, Agree: 0.95, Keep: 0.25}, false},
		// Answers out-of-scope questions: misses the target.
		{"misses a target", Bands{Beta: best.Beta, Decline: 0.99, OOSRatio: 1, Floor: 0.01, Answer: 0.6, Agree: 0.6, Keep: 0.25}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fig := chooseBands(cs, oos, 1, &tt.previous, false)
			if kept := got == tt.previous; kept != tt.kept || fig.KeptPrevious != tt.kept {
				t.Errorf("got %+v (kept_previous %v), previous %+v, want kept = %v", got, fig.KeptPrevious, tt.previous, tt.kept)
			}
			if !tt.kept && got != best {
				t.Errorf("replaced by %+v, want the best bands %+v", got, best)
			}
			// Asked to keep them (a pass over the content only), the
			// previous bands stay whatever calibration finds.
			if got, fig := chooseBands(cs, oos, 1, &tt.previous, true); got != tt.previous || !fig.KeptPrevious {
				t.Errorf("keep: got %+v (kept_previous %v), want %+v", got, fig.KeptPrevious, tt.previous)
			}
		})
	}
}
