package knowledge

import (
	"math"
	"slices"
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

	// dominant match: a top score between the clarify and answer floors
	// is answered when the entry explains most of the message and no
	// other entry comes close ("có người nhắn gửi link tải VNeID bản
	// mới, bấm vào có sao không": one entry is about it, the rest are
	// far behind)
	dominantTop      = 0.38
	dominantCoverage = 0.60
	dominantRatio    = 0.50

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
	if IsInjection(query) {
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
	case f.Top >= dominantTop && f.Coverage >= dominantCoverage && f.Second <= dominantRatio*f.Top:
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

// messageParts splits a message into its clauses, politeness stripped,
// each weighted by whether it asks the question: when some clauses carry
// question cues ("ở đâu", "thế nào", "được không", "nhờ hướng dẫn", a
// final "không", a question mark), the others are the story around the
// question and weigh ix.p.wNarrative. With no cue, or a single clause,
// every clause weighs 1.
func (ix *Index) messageParts(clean string) []part {
	cls := vi.MessageClauses(clean)
	parts := make([]part, 0, len(cls))
	asked := make([]bool, 0, len(cls))
	nq := 0
	for i, c := range cls {
		ts, _ := vi.StripPoliteness(vi.TokenizeClean(c.Text))
		if len(ts) == 0 {
			continue
		}
		q := vi.IsQuestion(vi.Canonical(ts))
		if !q && c.Asked && (i+1 == len(cls) || cls[i+1].Sentence != c.Sentence) {
			// The last clause of a sentence ending with "?" asks it
			// when no clause of that sentence has a cue.
			q = true
			for j := i - 1; j >= 0 && cls[j].Sentence == c.Sentence; j-- {
				if vi.IsQuestion(vi.Canonical(vi.TokenizeClean(cls[j].Text))) {
					q = false
					break
				}
			}
		}
		parts = append(parts, part{toks: ts, weight: 1})
		asked = append(asked, q)
		if q {
			nq++
		}
	}
	// A question with no topic of its own ("xin hướng dẫn cách làm",
	// "nhờ chỉ giúp với", "cần chuẩn bị những gì") asks about the clause
	// before it.
	for i := len(parts) - 1; i > 0; i-- {
		if asked[i] && !asked[i-1] && ix.topicWords(parts[i].toks) == 0 {
			asked[i-1] = true
			nq++
		}
	}
	if nq > 0 && nq < len(parts) && ix.p.wNarrative < 1 {
		for i := range parts {
			if !asked[i] {
				parts[i].weight = ix.p.wNarrative
			}
		}
	}
	return parts
}

// requestWords are the words of a request for guidance or of the
// paperwork every procedure has; with grammatical words they make a
// clause that has no topic of its own.
var requestWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields("huong dan cach nho chi giup xin tu van giai thich lam thu tuc buoc nhu the nao sao dau gi gio lai " +
		"chuan bi mang theo giay to ho so dang ki can duoc khong nghe noi bao nguoi ta moi") {
		requestWords[w] = true
	}
}

// topicWords counts the tokens of a clause that say what it is about:
// not grammatical or request words, not inside a request or hearsay
// phrase, and distinctive in the base (found in fewer than a third of the
// entries' questions; a word the base lacks counts). "cần chuẩn bị
// những gì" and "thủ tục thế nào" have none; "có mất tiền không" has one.
func (ix *Index) topicWords(ts []vi.Token) int {
	ct := vi.Canonical(ts)
	var skipBuf [32]bool
	skip := skipBuf[:0]
	for range ct {
		skip = append(skip, false)
	}
	for _, set := range []*vi.PhraseSet[struct{}]{requestPhrases, hearsayPhrases} {
		for i := 0; i < len(ct); {
			_, n := set.Longest(ct, i)
			if n == 0 {
				i++
				continue
			}
			for j := i; j < i+n; j++ {
				skip[j] = true
			}
			i += n
		}
	}
	floor := ix.idfs[len(ix.entries)/3]
	n := 0
	for i, t := range ct {
		if skip[i] || vi.IsFunctionWord(t.Fold) || requestWords[t.Fold] {
			continue
		}
		if ix.foldIDF(t.Fold) > floor {
			n++
		}
	}
	return n
}

// bestSegment scores the whole message and each of its sentences and,
// when none of them is confident, each clause, and returns the most
// confident segment with its best k entries (at least 2).
func (ix *Index) bestSegment(clean string, toks []vi.Token, k int) *segment {
	k = max(k, 2)
	var best, msg *segment
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
		// A sentence or clause only lends its confidence to the entry the
		// whole message ranks first: alone, a story clause ("con cháu bảo
		// phải cài app của công an") or a question with little content
		// ("giờ làm thế nào để đặt lại mã") often points elsewhere.
		if msg != nil && len(s.ranked) > 0 && len(msg.ranked) > 0 && s.ranked[0].entry != msg.ranked[0].entry {
			return
		}
		if best == nil || s.conf > best.conf+1e-9 {
			best = s
		}
	}
	if ix.p.wNarrative < 1 {
		stripped, _ := vi.StripPoliteness(toks)
		if len(stripped) == 0 {
			return nil
		}
		tried = append(tried, stripped)
		parts := ix.messageParts(clean)
		best = ix.scoreParts(parts, nil, parts, k)
		msg = best
	} else {
		try(toks, 0, nil)
	}
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

// rerankPool is how many of the best entries rerank reorders.
const rerankPool = 8

// rerank ranks the entries for q and reorders the best rerankPool of them
// by their score scaled by how much of the query their questions cover
// (1 − γ + γ·coverage): an entry that has the query's distinguishing
// words ("passcode", "ký số", "thường trú") beats one that matches more
// of its generic words ("hồ sơ", "nộp", "trên cổng"). The returned scores
// are the scaled ones (entries beyond the pool get their lower bound
// 1 − γ, so the order stays consistent whatever k); raw is the unscaled
// score of the first entry and cov its coverage.
func (ix *Index) rerank(q *query, k int) (r []scored, raw, cov float64) {
	g := ix.p.covRerank
	r = ix.rank(q, max(k, rerankPool))
	if len(r) == 0 {
		return r, 0, 0
	}
	if g == 0 {
		return r[:min(k, len(r))], r[0].score, ix.coverage(q, r[0].entry)
	}
	n := min(len(r), rerankPool)
	raws := make([]float64, n)
	covs := make([]float64, n)
	idx := make([]int, n)
	for i := range n {
		covs[i] = ix.coverage(q, r[i].entry)
		raws[i] = r[i].score
		idx[i] = i
		r[i].score *= 1 - g + g*covs[i]
	}
	for i := n; i < len(r); i++ {
		r[i].score *= 1 - g
	}
	pool := r[:n]
	slices.SortFunc(idx, func(a, b int) int {
		x, y := pool[a], pool[b]
		switch {
		case x.score > y.score:
			return -1
		case x.score < y.score:
			return 1
		}
		return strings.Compare(ix.entries[x.entry].ID, ix.entries[y.entry].ID)
	})
	sorted := make([]scored, n)
	for i, j := range idx {
		sorted[i] = pool[j]
	}
	copy(pool, sorted)
	return r[:min(k, len(r))], raws[idx[0]], covs[idx[0]]
}

func (ix *Index) scoreSegment(ts, ctx []vi.Token, k int) *segment {
	return ix.scoreParts([]part{{toks: ts, weight: 1}}, ctx, nil, k)
}

// scoreParts scores a query made of parts; out-of-scope cues are looked
// for in ctxParts, or in ctx when ctxParts is nil.
func (ix *Index) scoreParts(parts []part, ctx []vi.Token, ctxParts []part, k int) *segment {
	q := ix.analyseParts(parts)
	r, raw, cov := ix.rerank(q, k)
	s := &segment{q: q, ranked: r}
	s.f.Unknown = ix.unknownShare(q)
	if len(r) > 0 && q.self > 0 {
		// Top keeps the raw score (the thresholds are set on it);
		// Second keeps its ratio to Top under the reranked scores.
		s.f.Top = raw / q.self
		if len(r) > 1 && r[0].score > 0 {
			s.f.Second = s.f.Top * r[1].score / r[0].score
		}
		s.f.Coverage = cov
	}
	if ctxParts == nil {
		ctxParts = []part{{toks: ctx, weight: 1}}
	}
	s.oos = ix.outOfScope(ctxParts, q, r, s.f)
	s.conf = math.Min(s.f.Top, 1) * s.f.Coverage * (1 - s.f.Unknown)
	if s.oos {
		s.conf *= 0.5
	}
	return s
}

// outOfScope reports whether the segment contains an out-of-scope cue
// that the best entry does not share. Cues are looked for in the tokens as
// typed and with abbreviations expanded ("gplx" → "giấy phép lái xe").
//
// ctx is the text whose cues apply, in parts: a cue in a part weighing
// less than 1 (the story around the question) is background and never
// declines. A cue in the question is background too when it is a small
// share of the message and the best entry explains all the rest: "gửi ảnh
// căn cước qua Zalo cho người lạ có sao không" is a question about
// personal data, not about Zalo.
func (ix *Index) outOfScope(ctx []part, q *query, r []scored, f Features) bool {
	// A cue the best entry mentions is in scope only when that entry
	// matches well enough to be answered: a weak match to the one entry
	// that mentions "sổ đỏ" in passing does not make a question about
	// land titles answerable.
	text := ""
	if len(r) > 0 && f.Top >= answerTop {
		text = ix.entryText(r[0].entry)
	}
	var all []vi.Token
	central := false
	// The cue syllables weigh the largest IDF each (a cue is a topic of
	// its own); the rest of the message is the query's slots without
	// them.
	var cueMass float64
	var cueFolds []string
	for _, pt := range ctx {
		all = append(all, pt.toks...)
	}
	// Messaging apps are where scams arrive: "có người nhắn Zalo gửi
	// link" is about the link, not about Zalo.
	scam := scamContext.Contains(all) || scamContext.Contains(vi.Canonical(all))
	for _, pt := range ctx {
		if pt.weight < 1 {
			continue
		}
		ts := pt.toks
		ms := cuesOutside(ts, text)
		if ct := vi.Canonical(ts); len(ms) == 0 && !sameFolds(ct, ts) {
			ts, ms = ct, cuesOutside(ct, text)
		}
		for _, m := range ms {
			if scam && channelCues.Contains(ts[m.Start:m.End]) {
				continue
			}
			central = true
			for _, t := range ts[m.Start:m.End] {
				cueMass += ix.maxIDF
				cueFolds = append(cueFolds, t.Fold)
			}
		}
	}
	if central && ix.p.cueShare > 0 && len(r) > 0 && q != nil {
		restHit, rest := ix.coverageWithout(q, r[0].entry, cueFolds)
		share := cueMass / (cueMass + rest)
		if share <= ix.p.cueShare && f.Top >= ix.p.cueTop && restHit >= ix.p.cueCov*rest {
			central = false
		}
	}
	if central {
		return true
	}
	for _, p := range oosPairs {
		a, b := p.a.FindAll(all), p.b.FindAll(all)
		if len(a) == 0 || len(b) == 0 {
			continue
		}
		if text == "" || !containsPhrase(text, a[0].Phrase) || !containsPhrase(text, b[0].Phrase) {
			return true
		}
	}
	return false
}

// cuesOutside returns the cues of oosCues in ts that entry text ("" for
// none) does not contain.
func cuesOutside(ts []vi.Token, text string) []vi.Match[bool] {
	var out []vi.Match[bool]
	for _, m := range oosCues.FindAll(ts) {
		if m.Value && !strictMatch(ts[m.Start:m.End], m.Phrase) {
			continue
		}
		if text == "" || !containsPhrase(text, m.Phrase) {
			out = append(out, m)
		}
	}
	return out
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
