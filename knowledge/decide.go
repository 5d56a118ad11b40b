package knowledge

import (
	"math"
	"strings"

	"github.com/colecommune/trolyso/knowledge/vi"
)

// Band is the kind of reply the bot gives to a message.
type Band string

// Bands of the three-band decision, plus small talk.
const (
	BandAnswer    Band = "answer"
	BandClarify   Band = "clarify"
	BandDecline   Band = "decline"
	BandSmallTalk Band = "smalltalk"
)

// SmallTalk is the kind of a small-talk message.
type SmallTalk string

// Small-talk kinds.
const (
	SmallTalkGreeting SmallTalk = "greeting"
	SmallTalkThanks   SmallTalk = "thanks"
	SmallTalkWho      SmallTalk = "who"
	SmallTalkHelp     SmallTalk = "help"
	SmallTalkBye      SmallTalk = "bye"
)

// Decision is what the bot should do with a message.
type Decision struct {
	Band      Band
	SmallTalk SmallTalk // set when Band == BandSmallTalk
	// Matches: for answer, Matches[0] is the answer; for clarify, the 2–3
	// candidates; for decline, whatever was closest (for logging).
	Matches []Match
	// Normalized is the folded query text without greetings, used to group
	// unanswered questions.
	Normalized string
	// Reason is a short machine reason for declines: "empty",
	// "out_of_scope", "unknown_words", "low_score", "low_coverage".
	Reason string
	// Features are the confidence features the band was chosen from.
	Features Features
}

// Features are the confidence features of a decision, for logging and
// calibration.
type Features struct {
	Top      float64 `json:"top"`      // top-1 score ÷ the query's self score
	Second   float64 `json:"second"`   // top-2 score ÷ the query's self score
	Coverage float64 `json:"coverage"` // IDF share of query words found in the top entry
	Unknown  float64 `json:"unknown"`  // IDF share of query words unknown to the base
	Segment  int     `json:"segment"`  // 0 = whole message, i = i-th sentence
}

// Calibrated thresholds. Scores are normalised by the query's self score
// (1 ≈ the query is a paraphrase of a knowledge-base question). On the
// development set every in-scope question had top ≥ 0.55 and coverage ≥
// 0.45 while every out-of-scope one had top ≤ 0.26 and coverage ≤ 0.33, so
// the answer floor sits in the gap with room on both sides; clarification
// covers the band just below it and near ties between two entries.
const (
	// answer: normalised top score and coverage floors
	answerTop      = 0.45
	answerCoverage = 0.40
	// near tie: second/top at or above this ratio is clarified
	ambiguousRatio = 0.95

	// clarify: lower floors
	clarifyTop      = 0.32
	clarifyCoverage = 0.35
	// candidates offered must score at least this share of the top
	clarifyKeep = 0.70

	// decline when this share of the query (IDF-weighted) is words the
	// base's questions never use
	maxUnknown = 0.50
)

// Decide chooses how to reply to a resident's message.
func (ix *Index) Decide(query string) Decision {
	clean := vi.Clean(query)
	toks := vi.TokenizeClean(clean)
	if len(toks) == 0 {
		return Decision{Band: BandDecline, Reason: "empty"}
	}
	if kind := smallTalkKind(toks); kind != "" {
		return Decision{Band: BandSmallTalk, SmallTalk: kind, Normalized: foldJoin(toks)}
	}
	if injection.Contains(toks) {
		return Decision{Band: BandDecline, Reason: "out_of_scope", Normalized: foldJoin(toks)}
	}
	c := ix.bestSegment(clean, toks, 3)
	if c == nil {
		return Decision{Band: BandDecline, Reason: "empty", Normalized: foldJoin(toks)}
	}
	d := Decision{Normalized: c.q.norm, Features: c.f}
	top := ix.matches(c.ranked, 3)
	if len(top) == 0 {
		d.Band, d.Reason = BandDecline, "low_score"
		return d
	}
	f := c.f
	switch {
	case c.oos:
		d.Band, d.Reason, d.Matches = BandDecline, "out_of_scope", top[:1]
	case f.Unknown >= maxUnknown:
		d.Band, d.Reason, d.Matches = BandDecline, "unknown_words", top[:1]
	case f.Top >= answerTop && f.Coverage >= answerCoverage && f.Second < ambiguousRatio*f.Top:
		d.Band, d.Matches = BandAnswer, top[:1]
	case f.Top >= clarifyTop && f.Coverage >= clarifyCoverage:
		d.Band = BandClarify
		keep := top[:1]
		for _, m := range top[1:] {
			if m.Score >= clarifyKeep*top[0].Score {
				keep = append(keep, m)
			}
		}
		if len(keep) < 2 && len(top) >= 2 {
			keep = top[:2]
		}
		d.Matches = keep
	default:
		d.Band, d.Matches = BandDecline, top[:1]
		d.Reason = "low_score"
		if f.Top >= clarifyTop {
			d.Reason = "low_coverage"
		}
	}
	return d
}

// Search returns the top k distinct entries for query, best first.
func (ix *Index) Search(query string, k int) []Match {
	clean := vi.Clean(query)
	toks := vi.TokenizeClean(clean)
	if len(toks) == 0 || k <= 0 {
		return nil
	}
	c := ix.bestSegment(clean, toks, k)
	if c == nil {
		return nil
	}
	return ix.matches(c.ranked, k)
}

func (ix *Index) matches(r []scored, k int) []Match {
	if k > len(r) {
		k = len(r)
	}
	out := make([]Match, k)
	for i := 0; i < k; i++ {
		out[i] = Match{Entry: ix.entries[r[i].entry], Score: r[i].score}
	}
	return out
}

// segment is one scored part of a message.
type segment struct {
	q      *query
	ranked []scored // the best entries, best first
	f      Features
	oos    bool
	conf   float64
}

// clauseTrigger is the confidence below which the clauses of a message
// are scored too.
const clauseTrigger = 0.6

// bestSegment scores the whole message and each of its sentences and,
// when none of them is confident, each clause, and returns the most
// confident segment with its best k entries (at least 2).
func (ix *Index) bestSegment(clean string, toks []vi.Token, k int) *segment {
	k = max(k, 2)
	var best *segment
	var tried [][]vi.Token
	// ctx is the text whose out-of-scope cues apply to the segment: the
	// segment itself for the message and its sentences, the enclosing
	// sentence for clauses ("làm hộ chiếu ở đâu, mất bao lâu" must not be
	// answered from "mất bao lâu" alone).
	try := func(ts []vi.Token, idx int, ctx []vi.Token) {
		ts, _ = vi.StripPoliteness(ts)
		if len(ts) == 0 {
			return
		}
		if idx > 0 && contentWords(ts) < 2 {
			return // a sentence needs some content to stand on its own
		}
		for _, t := range tried {
			if sameFolds(t, ts) {
				return // the same words as a segment already scored
			}
		}
		tried = append(tried, ts)
		if ctx == nil {
			ctx = ts
		}
		s := ix.scoreSegment(ts, ctx, k)
		s.f.Segment = idx
		if best == nil || s.conf > best.conf+1e-9 {
			best = s
		}
	}
	try(toks, 0, nil)
	idx := 0
	sents := vi.Sentences(clean)
	sentToks := make([][]vi.Token, len(sents))
	for i, s := range sents {
		sentToks[i] = toks
		if len(sents) > 1 {
			idx++
			sentToks[i] = vi.TokenizeClean(s)
			if len(sentToks[i]) >= 2 {
				try(sentToks[i], idx, nil)
			}
		}
	}
	if best != nil && best.conf >= clauseTrigger {
		return best
	}
	// Clauses of each sentence, when nothing above was confident: residents
	// wrap the question in a story ("con đi làm xa có cài cho bác VNeID,
	// giờ bác quên mật khẩu, chỉ bác cách lấy lại").
	for si, s := range sents {
		cls := vi.Clauses(s)
		if len(cls) < 2 {
			continue
		}
		ct := make([][]vi.Token, len(cls))
		for i, c := range cls {
			ct[i] = vi.TokenizeClean(c)
		}
		for i := range ct {
			idx++
			if len(ct[i]) >= 2 {
				try(ct[i], idx, sentToks[si])
			}
		}
	}
	return best
}

func (ix *Index) scoreSegment(ts, ctx []vi.Token, k int) *segment {
	q := ix.analyse(ts)
	r := ix.rank(q, k)
	s := &segment{q: q, ranked: r}
	s.f.Unknown = ix.unknownShare(q)
	if len(r) > 0 && q.self > 0 {
		s.f.Top = r[0].score / q.self
		if len(r) > 1 {
			s.f.Second = r[1].score / q.self
		}
		s.f.Coverage = ix.coverage(q, r[0].entry)
	}
	s.oos = ix.outOfScope(ctx, r)
	s.conf = math.Min(s.f.Top, 1) * s.f.Coverage * (1 - s.f.Unknown)
	if s.oos {
		s.conf *= 0.5
	}
	return s
}

// outOfScope reports whether the segment contains an out-of-scope cue
// that the best entry does not share. Cues are looked for in the tokens as
// typed and with abbreviations expanded ("gplx" → "giấy phép lái xe").
func (ix *Index) outOfScope(ts []vi.Token, r []scored) bool {
	text := ""
	if len(r) > 0 {
		text = ix.entryText(r[0].entry)
	}
	if cueOutside(ts, text) {
		return true
	}
	if ct := vi.Canonical(ts); !sameFolds(ct, ts) && cueOutside(ct, text) {
		return true
	}
	for _, p := range oosPairs {
		a, b := p.a.FindAll(ts), p.b.FindAll(ts)
		if len(a) == 0 || len(b) == 0 {
			continue
		}
		if text == "" || !containsPhrase(text, a[0].Phrase) || !containsPhrase(text, b[0].Phrase) {
			return true
		}
	}
	return false
}

// cueOutside reports whether ts has a cue of oosCues that entry text (""
// for none) does not contain.
func cueOutside(ts []vi.Token, text string) bool {
	for _, m := range oosCues.FindAll(ts) {
		if m.Value && !strictMatch(ts[m.Start:m.End], m.Phrase) {
			continue
		}
		if text == "" || !containsPhrase(text, m.Phrase) {
			return true
		}
	}
	return false
}

func containsPhrase(text string, p vi.Phrase) bool {
	return strings.Contains(text, " "+foldJoin(p.Toks)+" ")
}

func sameFolds(a, b []vi.Token) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Fold != b[i].Fold {
			return false
		}
	}
	return true
}

// strictMatch reports whether tokens match phrase with identical
// diacritics.
func strictMatch(ts []vi.Token, p vi.Phrase) bool {
	if len(p.Toks) != len(ts) {
		return false
	}
	for i, t := range ts {
		if t.Tone != p.Toks[i].Tone {
			return false
		}
	}
	return true
}

// contentWords counts tokens that are not grammatical words.
func contentWords(ts []vi.Token) int {
	n := 0
	for _, t := range ts {
		if !vi.IsFunctionWord(t.Fold) {
			n++
		}
	}
	return n
}

func foldJoin(toks []vi.Token) string {
	b := make([]byte, 0, 8*len(toks))
	for i, t := range toks {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, t.Fold...)
	}
	return string(b)
}
