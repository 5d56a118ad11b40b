package knowledge

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/colecommune/trolyso/knowledge/linear"
	"github.com/colecommune/trolyso/knowledge/vi"
)

// Index answers residents' questions from a base. A classifier trained
// at load time on the base itself (one class per entry plus one for
// questions the base does not answer) ranks the entries; a BM25 ranking
// over the questions and answer passages is fused in as a second opinion;
// and the answer / clarify / decline bands are chosen by cross-validation
// on the base's own questions, so that a replaced base gets sensible
// bands without hand tuning. It is read-only after building and safe for
// concurrent use.
type Index struct {
	entries []*Entry
	canon   *vi.Lexicon
	lx      *lexical
	spell   *speller
	voc     *vocab
	model   *linear.Model
	oos     int32 // the out-of-scope class
	bands   Bands
	info    IndexInfo
	pool    sync.Pool // *scratch
	// A commune's layer (Layer) shares the province index's scratch pool
	// and may have an index of the entries the commune adds.
	shared *sync.Pool
	added  *Index
}

// Bands are the calibrated decision thresholds.
type Bands struct {
	// Beta weighs the lexical score in the fused ranking:
	// score(e) = log p_model(e) + Beta · lexical(e).
	Beta float64 `json:"beta"`
	// Decline: an out-of-scope probability at or above it declines, when
	// it is also at least OOSRatio times the best entry's probability (a
	// question that mentions everyday things may look out of scope while
	// one entry clearly answers it).
	Decline  float64 `json:"decline"`
	OOSRatio float64 `json:"oos_ratio"`
	// Floor: a best-entry probability below it declines.
	Floor float64 `json:"floor"`
	// Answer: a best-entry probability at or above it answers.
	Answer float64 `json:"answer"`
	// Agree: when the model and the lexical ranking put the same entry
	// first, a probability at or above it answers.
	Agree float64 `json:"agree"`
	// Keep: clarification offers the entries within Keep of the best.
	Keep float64 `json:"keep"`
}

// DefaultBands returns the bands used when a base is too small to
// cross-validate (and by a server answering before calibration ends).
func DefaultBands() Bands { return defaultBands }

// defaultBands are used when a base is too small to cross-validate.
var defaultBands = Bands{Beta: 1, Decline: 0.5, Floor: 0.2, Answer: 0.6, Agree: 0.4, Keep: 0.25}

// IndexInfo describes how an index was built, for logs and `kb check`.
type IndexInfo struct {
	Entries int `json:"entries"`
	// WrongAnswerCost is the base's cost of a wrong answer the bands were
	// calibrated with.
	WrongAnswerCost float64   `json:"wrong_answer_cost"`
	Examples        int       `json:"examples"`
	Features        int       `json:"features"`
	Weights         int       `json:"weights"`
	OutOfScope      int       `json:"out_of_scope_examples"`
	GenericOOS      bool      `json:"generic_out_of_scope"`
	Bands           Bands     `json:"bands"`
	CV              CVFigures `json:"cross_validation"`
	Cached          bool      `json:"cached"`
	// Provisional: built with another index's bands, not calibrated.
	Provisional bool          `json:"provisional,omitempty"`
	BuildTime   time.Duration `json:"build_time_ns"`
	Fingerprint string        `json:"fingerprint"`
}

// CVFigures are the cross-validated figures of the chosen bands on the
// base's own questions and out-of-scope examples.
type CVFigures struct {
	Folds       int     `json:"folds"`
	Questions   int     `json:"questions"`
	HitAt1      float64 `json:"hit_at_1"`
	HitAt3      float64 `json:"hit_at_3"`
	Wrong       float64 `json:"wrong"`
	InDeclined  float64 `json:"in_scope_declined"`
	OOSDeclined float64 `json:"oos_declined"`
	RankedAt1   float64 `json:"ranked_at_1"`
	// KeptPrevious: the bands of the model this one replaced were kept,
	// the best found not being clearly better (or IndexOptions.KeepPrevious
	// asked for them).
	KeptPrevious bool `json:"kept_previous,omitempty"`
	// Confused are the pairs of entries most often mixed up: a held-out
	// question of Asked ranked Ranked first, Count times (as written and
	// typed carelessly). Questions that tell such siblings apart are what
	// the base needs most.
	Confused []Confusion `json:"confused,omitempty"`
}

// Confusion is one pair of entries mixed up in cross-validation.
type Confusion struct {
	Asked  string `json:"asked"`
	Ranked string `json:"ranked_first"`
	Count  int    `json:"count"`
}

// Info returns how the index was built.
func (ix *Index) Info() IndexInfo { return ix.info }

// Bands returns the decision thresholds in use.
func (ix *Index) Bands() Bands { return ix.bands }

// CalibratedBands returns the bands for the recalibration of a changed
// base to keep unless it finds clearly better ones (IndexOptions.Previous),
// or nil when ix is nil or answers with borrowed bands (a provisional
// index), which are no calibrated choice to hold on to.
func (ix *Index) CalibratedBands() *Bands {
	if ix == nil || ix.info.Provisional {
		return nil
	}
	b := ix.bands
	return &b
}

//go:generate go run ./internal/genmodel

// IndexOptions tune NewIndexContext.
type IndexOptions struct {
	// CacheDir, when set, keeps trained models there, keyed by a
	// fingerprint of the base, so that an unchanged base loads at once.
	CacheDir string
	Logger   *slog.Logger
	// Bands, when set, are used instead of calibrating: a quick build
	// (one training instead of one per fold plus one) for a reload, with the
	// bands of the index it replaces; such an index is never cached.
	Bands *Bands
	// Previous, when set, are the calibrated bands of the index this one
	// replaces: calibration keeps them unless it finds bands better by
	// more than noise, so that a small edit of the base does not swing
	// how the bot answers.
	Previous *Bands
	// KeepPrevious keeps Previous whatever calibration finds (the
	// cross-validated figures are then those of Previous): for a change
	// of content only, where the bands should not move.
	KeepPrevious bool
}

// NewIndex builds the index of a base, training its model (no cache).
func NewIndex(b *Base) *Index {
	ix, err := NewIndexContext(context.Background(), b, IndexOptions{})
	if err != nil {
		panic(err) // cannot happen without a cache or cancellation
	}
	return ix
}

// NewIndexContext builds the index of a base: it loads the trained model
// from opts.CacheDir when the base is unchanged, and otherwise trains and
// calibrates it (and stores it there). It returns ctx's error if ctx ends
// first.
func NewIndexContext(ctx context.Context, b *Base, opts IndexOptions) (*Index, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ix, oos, generic := prepare(b)
	fp, tp := paramsFor(len(b.Entries))
	lex := ix.canon
	fingerprint := fingerprintOf(b, oos, fp, tp)
	ix.info = IndexInfo{Entries: len(b.Entries), OutOfScope: len(oos), GenericOOS: generic, Fingerprint: fingerprint, WrongAnswerCost: b.wrongAnswerCost()}
	use := func(m cachedModel, how string) {
		ix.voc, ix.model, ix.bands = m.voc, m.model, m.bands
		ix.info.CV, ix.info.Examples = m.cv, m.examples
		ix.info.Cached = true
		ix.finish(start)
		log.Info("knowledge model loaded from "+how, ix.logAttrs()...)
	}
	if opts.CacheDir != "" {
		if m, err := loadCached(opts.CacheDir, fingerprint); err == nil {
			use(m, "cache")
			return ix, nil
		} else if !isNotExist(err) {
			log.Warn("knowledge model cache unusable; training again", "err", err)
		}
	}
	if m, err := decodeModel(bytes.NewReader(embeddedModel), fingerprint); err == nil {
		use(m, "the binary")
		return ix, nil
	}
	all := samples(b.Entries, oos, tp.folds)
	nClasses := len(b.Entries) + 1
	var (
		bands Bands
		cv    CVFigures
		err   error
	)
	if opts.Bands != nil {
		bands = *opts.Bands
		ix.info.Provisional = true
		tp = quickParams(tp)
	} else if bands, cv, err = calibrate(ctx, all, nClasses, lex, fp, tp, b.wrongAnswerCost(), opts.Previous, opts.KeepPrevious); err != nil {
		return nil, err
	}
	for i := range cv.Confused {
		c := &cv.Confused[i]
		c.Asked, c.Ranked = entryID(b, c.Asked), entryID(b, c.Ranked)
	}
	slices.SortStableFunc(cv.Confused, func(x, y Confusion) int {
		if x.Count != y.Count {
			return y.Count - x.Count
		}
		return strings.Compare(x.Asked+" "+x.Ranked, y.Asked+" "+y.Ranked)
	})
	ts := buildTrainingSet(all, -1, nClasses, lex, fp, tp)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ix.voc, ix.model, ix.bands = ts.voc, trainModel(ts, nClasses, tp), bands
	ix.info.CV, ix.info.Examples = cv, len(ts.examples)
	ix.finish(start)
	if opts.CacheDir != "" && !ix.info.Provisional {
		if err := saveCached(opts.CacheDir, fingerprint, cachedModel{voc: ix.voc, model: ix.model, bands: bands, cv: cv, examples: ix.info.Examples}); err != nil {
			log.Warn("could not cache the knowledge model", "dir", opts.CacheDir, "err", err)
		}
	}
	log.Info("knowledge model trained", ix.logAttrs()...)
	return ix, nil
}

func (ix *Index) finish(start time.Time) {
	ix.info.Bands = ix.bands
	ix.info.Features = len(ix.voc.idf)
	ix.info.Weights = len(ix.model.W)
	ix.info.BuildTime = time.Since(start)
	ix.pool.New = func() any { return ix.newScratch() }
}

func (ix *Index) logAttrs() []any {
	i := ix.info
	return []any{"entries", i.Entries, "examples", i.Examples, "features", i.Features,
		"oos_examples", i.OutOfScope, "generic_oos", i.GenericOOS, "took", i.BuildTime.Round(time.Millisecond),
		"bands", fmt.Sprintf("%+v", i.Bands),
		"cv", fmt.Sprintf("hit@1 %.3f hit@3 %.3f wrong %.3f in-declined %.3f oos-declined %.3f (%d questions, %d folds)",
			i.CV.HitAt1, i.CV.HitAt3, i.CV.Wrong, i.CV.InDeclined, i.CV.OOSDeclined, i.CV.Questions, i.CV.Folds),
		"kept_previous_bands", i.CV.KeptPrevious}
}

// prepare sets up the parts of an index that need no training: the
// lexicon, the lexical ranking and the out-of-scope examples (the base's,
// or the built-in ones it does not match; generic reports the latter).
func prepare(b *Base) (ix *Index, oos []string, generic bool) {
	lex := b.Lexicon
	if lex == nil {
		lex = vi.General
	}
	ix = &Index{entries: b.Entries, canon: lex, oos: int32(len(b.Entries))}
	docs := lexDocs(samples(b.Entries, nil, 1), lex)
	ix.lx = newLexical(docs, len(b.Entries))
	ix.spell = spellerOf(docs)
	oos = b.OutOfScope
	if generic = oos == nil; generic {
		oos = ix.filterGeneric(GenericOutOfScope())
	}
	return ix, oos, generic
}

// spellerOf learns the base's words from the lexical documents.
func spellerOf(docs []lexDoc) *speller {
	texts := make([][]vi.Token, len(docs))
	for i, d := range docs {
		texts[i] = d.toks
	}
	return newSpeller(texts)
}

// lexDocs are the lexical index's documents: questions and titles, and
// answer passages.
func lexDocs(ss []sample, lex *vi.Lexicon) []lexDoc {
	docs := make([]lexDoc, 0, len(ss))
	for _, s := range ss {
		if s.kind == fromOutOfScope {
			continue
		}
		docs = append(docs, lexDoc{entry: s.class, passage: s.kind == fromPassage, toks: lex.Canonical(s.toks)})
	}
	return docs
}

// filterGeneric drops the built-in out-of-scope examples that the base
// itself matches well: a base about health keeps its health questions.
func (ix *Index) filterGeneric(qs []string) []string {
	sc := ix.lx.scratch()
	out := qs[:0:0]
	for _, q := range qs {
		r := ix.lx.rank(ix.canon.Canonical(vi.Tokenize(q)), 1, sc)
		if len(r) == 0 || r[0].score < genericOverlap {
			out = append(out, q)
		}
	}
	return out
}

// genericOverlap is the lexical score from which a built-in out-of-scope
// example counts as something the base answers.
const genericOverlap = 0.35

// scratch is the working memory of one decision.
type scratch struct {
	pred  *linear.Predictor
	lex   *lexScratch
	probs []linear.Prob
	feats []rawFeature
	vec   linear.Vector
}

func (ix *Index) newScratch() *scratch {
	return &scratch{pred: ix.model.Predictor(ix.oos), lex: ix.lx.scratch()}
}

// candidate is an entry considered for a message.
type candidate struct {
	entry int32
	model float64 // the classifier's probability
	lex   float64 // the lexical score
	p     float64 // fused probability (in-scope share)
}

// dist is the classifier's and the lexical ranking's view of one text.
type dist struct {
	cands    []candidate // best first by fused probability
	pOOS     float64
	modelTop int32 // best entry by the classifier alone (-1: none)
	lexTop   int32 // best entry by the lexical ranking (-1: none)
}

// maxCands bounds the entries kept from each ranking.
const maxCands = 8

// raw scores canonical tokens with the model and the lexical ranking,
// leaving fusion to fuse.
func (ix *Index) raw(toks []vi.Token, sc *scratch) dist {
	sc.feats = ix.voc.p.extract(toks, sc.feats[:0])
	if fixed, ok := ix.spell.correct(toks); ok {
		// the corrected reading adds its features; the lexical ranking
		// reads it instead
		sc.feats = ix.voc.p.extract(fixed, sc.feats)
		toks = fixed
	}
	sc.vec = ix.voc.vector(sc.feats, sc.vec)
	sc.probs = sc.pred.PredictTop(sc.vec, 2*maxCands, sc.probs[:0])
	return rawDist(sc.probs, ix.lx.rank(toks, maxCands, sc.lex), ix.oos)
}

// rawDist merges the classifier's probabilities and the lexical scores.
func rawDist(probs []linear.Prob, lex []lexScore, oos int32) dist {
	d := dist{modelTop: -1, lexTop: -1}
	n := 0
	for _, p := range probs {
		if p.Class == oos {
			d.pOOS = p.P
			continue
		}
		if d.modelTop < 0 {
			d.modelTop = p.Class
		}
		if n < maxCands {
			d.cands = append(d.cands, candidate{entry: p.Class, model: p.P})
			n++
		}
	}
	for i, l := range lex {
		if i == 0 {
			d.lexTop = l.entry
		}
		found := false
		for k := range d.cands {
			if d.cands[k].entry == l.entry {
				d.cands[k].lex = l.score
				found = true
			}
		}
		if !found {
			d.cands = append(d.cands, candidate{entry: l.entry, lex: l.score})
		}
	}
	return d
}

// minModelP is the probability given to an entry the classifier did not
// rank (only the lexical ranking found it).
const minModelP = 1e-4

// fuse computes the fused probabilities with weight beta and sorts the
// candidates by them.
func (d *dist) fuse(beta float64) {
	if len(d.cands) == 0 {
		return
	}
	maxS := math.Inf(-1)
	for i := range d.cands {
		c := &d.cands[i]
		c.p = math.Log(max(c.model, minModelP)) + beta*c.lex
		maxS = max(maxS, c.p)
	}
	z := 0.0
	for i := range d.cands {
		c := &d.cands[i]
		c.p = math.Exp(c.p - maxS)
		z += c.p
	}
	in := 1 - d.pOOS
	for i := range d.cands {
		d.cands[i].p = d.cands[i].p / z * in
	}
	sortCands(d.cands)
}

// sortCands orders candidates by fused probability, best first.
func sortCands(cs []candidate) {
	slices.SortFunc(cs, func(a, b candidate) int {
		switch {
		case a.p > b.p:
			return -1
		case a.p < b.p:
			return 1
		}
		return int(a.entry - b.entry)
	})
}

func (d *dist) top() float64 {
	if len(d.cands) == 0 {
		return 0
	}
	return d.cands[0].p
}

// verdict is a band with the candidates it offers.
type verdict struct {
	band   Band
	reason string
	picks  []candidate // answer: 1; clarify: 2–3
}

// decide applies the bands to a fused distribution.
func (b *Bands) decide(d *dist) verdict {
	p1 := d.top()
	switch {
	case len(d.cands) == 0:
		return verdict{band: BandDecline, reason: "low_score"}
	case d.pOOS >= b.Decline && d.pOOS >= b.OOSRatio*p1:
		return verdict{band: BandDecline, reason: "out_of_scope"}
	case p1 < b.Floor:
		return verdict{band: BandDecline, reason: "low_score"}
	case p1 >= b.Answer, p1 >= b.Agree && d.cands[0].entry == d.lexTop && d.lexTop == d.modelTop:
		return verdict{band: BandAnswer, picks: d.cands[:1]}
	}
	v := verdict{band: BandClarify, picks: d.cands[:1]}
	for _, c := range d.cands[1:min(3, len(d.cands))] {
		if c.p >= b.Keep*p1 || len(v.picks) < 2 {
			v.picks = append(v.picks, c)
		}
	}
	return v
}

// entryID maps a class number written by calibrate ("#3") to the entry's id.
func entryID(b *Base, class string) string {
	i, err := strconv.Atoi(strings.TrimPrefix(class, "#"))
	if err != nil || i < 0 || i >= len(b.Entries) {
		return class
	}
	return b.Entries[i].ID
}
