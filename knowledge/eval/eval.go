// Package eval measures retrieval quality on a question file: one
// question per line with the id of the entry that should answer it ("-"
// when the question must be declined or handled as small talk), and an
// optional style label.
//
// File format (UTF-8, tab-separated, the first line is a header):
//
//	question<TAB>expected_id[<TAB>style]
//
// Blank lines and lines starting with "#" are skipped.
package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/colecommune/trolyso/knowledge"
)

// OutOfScope is the expected id of questions that must not be answered.
const OutOfScope = "-"

// Case is one question of a question file.
type Case struct {
	Line     int
	Question string
	Expected string // entry id, or OutOfScope
	Style    string
}

// Parse reads a question file.
func Parse(r io.Reader) ([]Case, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var cases []Case
	line, header := 0, false
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if !header {
			header = true
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) < 2 {
			return nil, fmt.Errorf("line %d: want question<TAB>expected_id[<TAB>style], found no tab", line)
		}
		if len(cols) > 3 {
			return nil, fmt.Errorf("line %d: want at most 3 tab-separated columns, found %d", line, len(cols))
		}
		c := Case{Line: line, Question: strings.TrimSpace(cols[0]), Expected: strings.TrimSpace(cols[1])}
		if len(cols) == 3 {
			c.Style = strings.TrimSpace(cols[2])
		}
		if c.Question == "" {
			return nil, fmt.Errorf("line %d: empty question", line)
		}
		if c.Expected == "" {
			return nil, fmt.Errorf("line %d: empty expected id (use %q for questions that must be declined)", line, OutOfScope)
		}
		if strings.ContainsAny(c.Expected, " ") {
			return nil, fmt.Errorf("line %d: expected id %q contains a space", line, c.Expected)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if !header {
		return nil, fmt.Errorf("empty question file: no header line")
	}
	return cases, nil
}

// Decider decides on a question; *knowledge.Index is one.
type Decider interface {
	Decide(query string) knowledge.Decision
}

// Report is the result of an evaluation. Rates are shares in [0, 1]:
// hit@1 counts only answers with the right entry; hit@3 and MRR also count
// the right entry among the clarification candidates (rank = position);
// clarified and in_scope_declined are shares of in-scope questions;
// oos_declined is the share of out-of-scope questions declined or handled
// as small talk.
type Report struct {
	Questions       int                `json:"questions"`
	HitAt1          float64            `json:"hit_at_1"`
	HitAt3          float64            `json:"hit_at_3"`
	MRR             float64            `json:"mrr"`
	Clarified       float64            `json:"clarified"`
	OOSDeclined     float64            `json:"oos_declined"`
	InScopeDeclined float64            `json:"in_scope_declined"`
	RankedAt1       float64            `json:"ranked_at_1"`
	Wrong           float64            `json:"wrong"`
	Offered         float64            `json:"offered"`
	ByStyle         map[string]*Report `json:"by_style,omitempty"`

	InScope    int      `json:"-"`
	OutOfScope int      `json:"-"`
	Results    []Result `json:"-"`
	counts     tallies
}

// metrics is one report's figures as printed by --json.
type metrics struct {
	Questions       int     `json:"questions"`
	HitAt1          float64 `json:"hit_at_1"`
	HitAt3          float64 `json:"hit_at_3"`
	MRR             float64 `json:"mrr"`
	Clarified       float64 `json:"clarified"`
	OOSDeclined     float64 `json:"oos_declined"`
	InScopeDeclined float64 `json:"in_scope_declined"`
	RankedAt1       float64 `json:"ranked_at_1"`
	Wrong           float64 `json:"wrong"`
	Offered         float64 `json:"offered"`
}

func (r *Report) metrics() metrics {
	return metrics{r.Questions, r.HitAt1, r.HitAt3, r.MRR, r.Clarified, r.OOSDeclined, r.InScopeDeclined, r.RankedAt1, r.Wrong, r.Offered}
}

// MarshalJSON prints exactly the keys questions, hit_at_1, hit_at_3, mrr,
// clarified, oos_declined, in_scope_declined, ranked_at_1 (the right entry
// ranked first, whatever the band), wrong (in-scope questions answered
// with a wrong entry), offered (in-scope questions whose right entry the
// resident is shown: the answer, a clarification candidate or an entry
// offered under the answer) and by_style (an empty object when the file has no
// style column), each style with the same figures.
func (r *Report) MarshalJSON() ([]byte, error) {
	out := struct {
		metrics
		ByStyle map[string]metrics `json:"by_style"`
	}{r.metrics(), make(map[string]metrics, len(r.ByStyle))}
	for name, s := range r.ByStyle {
		out.ByStyle[name] = s.metrics()
	}
	return json.Marshal(out)
}

// Result is the outcome for one case.
type Result struct {
	Case     Case
	Decision knowledge.Decision
	Rank     int  // 1-based rank of the expected entry (0 = absent)
	Correct  bool // hit@1 for in-scope cases, declined/small talk for out-of-scope ones
}

type tallies struct {
	in, oos                         int
	hit1, hit3, clar, inDecl, oosOK int
	ranked1, wrong, offered         int
	rr                              float64
}

// Run decides every case and computes the report.
func Run(d Decider, cases []Case) *Report {
	r := &Report{}
	styles := map[string]*tallies{}
	for _, c := range cases {
		dec := d.Decide(c.Question)
		res := Result{Case: c, Decision: dec}
		t := &r.counts
		var st *tallies
		if c.Style != "" {
			if styles[c.Style] == nil {
				styles[c.Style] = &tallies{}
			}
			st = styles[c.Style]
		}
		for _, x := range []*tallies{t, st} {
			if x == nil {
				continue
			}
			res.Rank, res.Correct = x.add(c, dec)
		}
		r.Results = append(r.Results, res)
	}
	r.fill(&r.counts)
	r.Questions = len(cases)
	if len(styles) > 0 {
		r.ByStyle = map[string]*Report{}
		for name, t := range styles {
			sr := &Report{}
			sr.fill(t)
			sr.Questions = t.in + t.oos
			r.ByStyle[name] = sr
		}
	}
	return r
}

// add counts one case and returns the rank of the expected entry and
// whether the outcome is correct.
func (t *tallies) add(c Case, d knowledge.Decision) (int, bool) {
	declined := d.Band == knowledge.BandDecline || d.Band == knowledge.BandSmallTalk
	if c.Expected == OutOfScope {
		t.oos++
		if declined {
			t.oosOK++
		}
		return 0, declined
	}
	t.in++
	if len(d.Ranked) > 0 && d.Ranked[0].Entry != nil && d.Ranked[0].Entry.ID == c.Expected {
		t.ranked1++
	}
	rank := 0
	switch d.Band {
	case knowledge.BandAnswer:
		if len(d.Matches) > 0 && d.Matches[0].Entry != nil && d.Matches[0].Entry.ID == c.Expected {
			rank = 1
			t.hit1++
		} else {
			t.wrong++
		}
	case knowledge.BandClarify:
		t.clar++
		for i, m := range d.Matches {
			if i >= 3 {
				break
			}
			if m.Entry != nil && m.Entry.ID == c.Expected {
				rank = i + 1
				break
			}
		}
	default:
		t.inDecl++
	}
	if rank > 0 && rank <= 3 {
		t.hit3++
		t.rr += 1 / float64(rank)
		t.offered++
	} else if d.Band == knowledge.BandAnswer && slices.ContainsFunc(d.Also, func(m knowledge.Match) bool {
		return m.Entry != nil && m.Entry.ID == c.Expected
	}) {
		t.offered++
	}
	return rank, d.Band == knowledge.BandAnswer && rank == 1
}

func (r *Report) fill(t *tallies) {
	r.InScope, r.OutOfScope = t.in, t.oos
	if t.in > 0 {
		n := float64(t.in)
		r.HitAt1 = float64(t.hit1) / n
		r.HitAt3 = float64(t.hit3) / n
		r.MRR = t.rr / n
		r.Clarified = float64(t.clar) / n
		r.InScopeDeclined = float64(t.inDecl) / n
		r.RankedAt1 = float64(t.ranked1) / n
		r.Wrong = float64(t.wrong) / n
		r.Offered = float64(t.offered) / n
	}
	if t.oos > 0 {
		r.OOSDeclined = float64(t.oosOK) / float64(t.oos)
	}
}

// WriteText prints the report for people. With details, every case that
// was not answered correctly is listed.
func (r *Report) WriteText(w io.Writer, details bool) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "questions          %d (%d in scope, %d out of scope)\n", r.Questions, r.InScope, r.OutOfScope)
	writeRates(bw, r, "")
	if len(r.ByStyle) > 0 {
		names := make([]string, 0, len(r.ByStyle))
		for n := range r.ByStyle {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(bw, "\nby style:\n")
		fmt.Fprintf(bw, "  %-14s %5s %6s %6s %6s %6s %6s %6s %6s %6s %6s\n", "style", "n", "hit@1", "hit@3", "mrr", "clar", "oosDec", "inDec", "rank1", "wrong", "offer")
		for _, n := range names {
			s := r.ByStyle[n]
			fmt.Fprintf(bw, "  %-14s %5d %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f\n", n, s.Questions,
				s.HitAt1, s.HitAt3, s.MRR, s.Clarified, s.OOSDeclined, s.InScopeDeclined, s.RankedAt1, s.Wrong, s.Offered)
		}
	}
	if details {
		fmt.Fprintf(bw, "\nmisses:\n")
		for _, res := range r.Results {
			if res.Correct {
				continue
			}
			got := string(res.Decision.Band)
			var ids []string
			for _, m := range res.Decision.Matches {
				if m.Entry != nil {
					ids = append(ids, m.Entry.ID)
				}
			}
			if len(ids) > 0 {
				got += " " + strings.Join(ids, ",")
			}
			if res.Decision.Reason != "" {
				got += " (" + res.Decision.Reason + ")"
			}
			if res.Decision.SmallTalk != "" {
				got += " (" + string(res.Decision.SmallTalk) + ")"
			}
			f := res.Decision.Features
			ranked := ""
			if len(res.Decision.Ranked) > 0 {
				ranked = res.Decision.Ranked[0].Entry.ID
			}
			fmt.Fprintf(bw, "  line %d: %q\n    want %s, got %s [top %.2f 2nd %.2f oos %.2f agree %v clause %d ranked %s]\n",
				res.Case.Line, res.Case.Question, res.Case.Expected, got, f.Top, f.Second, f.OutOfScope, f.Agree, f.Clause, ranked)
		}
	}
	return bw.Flush()
}

func writeRates(w io.Writer, r *Report, indent string) {
	fmt.Fprintf(w, "%shit@1              %.3f\n", indent, r.HitAt1)
	fmt.Fprintf(w, "%shit@3              %.3f\n", indent, r.HitAt3)
	fmt.Fprintf(w, "%smrr                %.3f\n", indent, r.MRR)
	fmt.Fprintf(w, "%sclarified          %.3f\n", indent, r.Clarified)
	fmt.Fprintf(w, "%sin_scope_declined  %.3f\n", indent, r.InScopeDeclined)
	fmt.Fprintf(w, "%soos_declined       %.3f\n", indent, r.OOSDeclined)
	fmt.Fprintf(w, "%sranked_at_1        %.3f\n", indent, r.RankedAt1)
	fmt.Fprintf(w, "%swrong              %.3f\n", indent, r.Wrong)
	fmt.Fprintf(w, "%soffered            %.3f\n", indent, r.Offered)
}
