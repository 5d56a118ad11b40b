// Package linear is a sparse multinomial logistic-regression classifier
// for short texts: examples are sparse feature vectors, classes are
// integers, and each feature keeps weights only for the classes it was
// seen with in training. Scoring a vector touches only those weights, so
// a model with thousands of classes answers in microseconds.
//
// It knows nothing about language: the caller turns text into features.
package linear

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// Vector is a sparse feature vector: Idx are feature ids in increasing
// order, Val their values.
type Vector struct {
	Idx []int32
	Val []float32
}

// Example is one training example.
type Example struct {
	X      Vector
	Class  int32
	Weight float32 // sample weight (0 means 1)
	// Key, when set on every example, fixes the order examples are
	// visited in: each pass sorts them by a hash of their key and the
	// pass, so adding or removing examples leaves the others' relative
	// order unchanged. Without keys the examples are shuffled with Seed.
	Key uint64
}

// Model is a trained classifier. It is read-only after training and safe
// for concurrent use.
type Model struct {
	Classes  int
	Features int
	// The weights of feature f are W[Off[f]:Off[f+1]], for the classes
	// Cls[Off[f]:Off[f+1]] (increasing).
	Off  []int32
	Cls  []int32
	W    []float32
	Bias []float32
}

// Options tune training.
type Options struct {
	Epochs int     // passes over the data (default 6)
	Rate   float64 // AdaGrad base learning rate (default 0.4)
	L2     float64 // L2 penalty per update (default 1e-3; negative for none)
	Seed   uint64  // shuffling seed
	// Always lists classes that take part in every softmax (e.g. an
	// out-of-scope class), besides those sharing a feature with the
	// example.
	Always []int32
}

func (o *Options) defaults() {
	if o.Epochs <= 0 {
		o.Epochs = 6
	}
	if o.Rate <= 0 {
		o.Rate = 0.4
	}
	if o.L2 < 0 {
		o.L2 = 0
	} else if o.L2 == 0 {
		o.L2 = 1e-3
	}
}

// Train fits a model to the examples. nFeatures bounds the feature ids and
// nClasses the classes. A feature gets a weight for class c when some
// example of class c has it (its support); the softmax of an example runs
// over the classes its features support, its own class and opts.Always.
func Train(examples []Example, nFeatures, nClasses int, opts Options) *Model {
	opts.defaults()
	m := &Model{Classes: nClasses, Features: nFeatures, Bias: make([]float32, nClasses)}
	m.buildSupport(examples)
	g2 := make([]float32, len(m.W)) // AdaGrad accumulators
	b2 := make([]float32, nClasses)

	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15))
	keyed := len(examples) > 0 && !slices.ContainsFunc(examples, func(e Example) bool { return e.Key == 0 })
	sc := newScratch(nClasses)
	for _, c := range opts.Always {
		sc.always = append(sc.always, c)
	}
	rate := float32(opts.Rate)
	l2 := float32(opts.L2)
	for epoch := 0; epoch < opts.Epochs; epoch++ {
		if keyed {
			keyedOrder(order, examples, opts.Seed, epoch)
		} else {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		for _, i := range order {
			ex := &examples[i]
			w := ex.Weight
			if w == 0 {
				w = 1
			}
			m.scores(ex.X, sc, ex.Class)
			softmax(sc)
			// gradient of the loss for each candidate class
			for k, c := range sc.cand {
				g := sc.p[k]
				if c == ex.Class {
					g -= 1
				}
				sc.grad[c] = g * w
			}
			for j, f := range ex.X.Idx {
				v := ex.X.Val[j]
				// every class of the row is a candidate (scores added it)
				for o := m.Off[f]; o < m.Off[f+1]; o++ {
					g := sc.grad[m.Cls[o]]*v + l2*m.W[o]
					g2[o] += g * g
					m.W[o] -= rate * g / float32(math.Sqrt(float64(g2[o])+1e-8))
				}
			}
			for _, c := range sc.cand {
				g := sc.grad[c]
				b2[c] += g * g
				m.Bias[c] -= rate * g / float32(math.Sqrt(float64(b2[c])+1e-8))
			}
			sc.reset()
		}
	}
	return m
}

// keyedOrder sorts order (indices of examples) for pass epoch by a hash of
// each example's key, the seed and the pass: the relative order of two
// examples depends on their keys alone.
func keyedOrder(order []int, examples []Example, seed uint64, epoch int) {
	pass := Mix(seed + uint64(epoch+1)*0x9e3779b97f4a7c15)
	rank := make([]uint64, len(examples))
	for i := range examples {
		rank[i] = Mix(examples[i].Key ^ pass)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(rank[a], rank[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

// Mix is a 64-bit finaliser (splitmix64): it spreads the bits of x.
func Mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// buildSupport allocates the weights: feature f gets one for every class
// of an example that has f.
func (m *Model) buildSupport(examples []Example) {
	// Visit the examples class by class, so that a feature's classes
	// arrive in order and a repeat is always the last one added.
	byClass := make([]int, len(examples))
	for i := range byClass {
		byClass[i] = i
	}
	slices.SortStableFunc(byClass, func(a, b int) int { return int(examples[a].Class - examples[b].Class) })
	pairs := make([][]int32, m.Features)
	for _, i := range byClass {
		ex := &examples[i]
		for _, f := range ex.X.Idx {
			if p := pairs[f]; len(p) == 0 || p[len(p)-1] != ex.Class {
				pairs[f] = append(p, ex.Class)
			}
		}
	}
	m.Off = make([]int32, m.Features+1)
	total := 0
	for f, p := range pairs {
		total += len(p)
		m.Off[f+1] = int32(total)
	}
	m.Cls = make([]int32, 0, total)
	for _, p := range pairs {
		m.Cls = append(m.Cls, p...)
	}
	m.W = make([]float32, total)
}

// scratch is the per-call working memory of scoring.
type scratch struct {
	in     []bool    // class is a candidate
	s      []float32 // score by class
	grad   []float32 // gradient by class (training)
	cand   []int32   // candidate classes
	p      []float32 // probabilities, parallel to cand
	always []int32
}

func newScratch(n int) *scratch {
	return &scratch{in: make([]bool, n), s: make([]float32, n), grad: make([]float32, n)}
}

func (sc *scratch) add(c int32) {
	if !sc.in[c] {
		sc.in[c] = true
		sc.cand = append(sc.cand, c)
	}
}

func (sc *scratch) reset() {
	for _, c := range sc.cand {
		sc.in[c] = false
		sc.s[c] = 0
		sc.grad[c] = 0
	}
	sc.cand = sc.cand[:0]
	sc.p = sc.p[:0]
}

// scores fills sc with the candidate classes of x (those its features
// support, plus extra when ≥ 0, plus sc.always) and their scores.
func (m *Model) scores(x Vector, sc *scratch, extra int32) {
	for _, c := range sc.always {
		sc.add(c)
	}
	if extra >= 0 {
		sc.add(extra)
	}
	for j, f := range x.Idx {
		if int(f) >= m.Features {
			continue
		}
		v := x.Val[j]
		for o := m.Off[f]; o < m.Off[f+1]; o++ {
			c := m.Cls[o]
			sc.add(c)
			sc.s[c] += m.W[o] * v
		}
	}
	for _, c := range sc.cand {
		sc.s[c] += m.Bias[c]
	}
}

func softmax(sc *scratch) {
	maxS := float32(math.Inf(-1))
	for _, c := range sc.cand {
		maxS = max(maxS, sc.s[c])
	}
	var z float64
	sc.p = sc.p[:0]
	for _, c := range sc.cand {
		e := math.Exp(float64(sc.s[c] - maxS))
		sc.p = append(sc.p, float32(e))
		z += e
	}
	for k := range sc.p {
		sc.p[k] = float32(float64(sc.p[k]) / z)
	}
}

// Prob is one class's probability.
type Prob struct {
	Class int32
	P     float64
}

// Predictor scores vectors with a model. It holds scratch memory: use one
// per goroutine (see Model.Predictor), or a sync.Pool of them.
type Predictor struct {
	m  *Model
	sc *scratch
}

// Predictor returns a new predictor for m.
func (m *Model) Predictor(always ...int32) *Predictor {
	sc := newScratch(m.Classes)
	sc.always = append(sc.always, always...)
	return &Predictor{m: m, sc: sc}
}

// Predict returns the probabilities of the candidate classes of x, best
// first, appended to dst. Classes that share no feature with x (and are
// not among the predictor's always classes) have probability 0 and are
// not listed.
func (p *Predictor) Predict(x Vector, dst []Prob) []Prob {
	return p.PredictTop(x, -1, dst)
}

// PredictTop is Predict keeping only the k most probable classes (all when
// k < 0) and, after them, the predictor's always classes that are not
// among them.
func (p *Predictor) PredictTop(x Vector, k int, dst []Prob) []Prob {
	sc := p.sc
	p.m.scores(x, sc, -1)
	softmax(sc)
	start := len(dst)
	for i, c := range sc.cand {
		dst = append(dst, Prob{Class: c, P: float64(sc.p[i])})
	}
	sc.reset()
	all := dst[start:]
	better := func(a, b Prob) int {
		switch {
		case a.P > b.P:
			return -1
		case a.P < b.P:
			return 1
		}
		return int(a.Class - b.Class)
	}
	if k < 0 || k >= len(all) {
		slices.SortFunc(all, better)
		return dst
	}
	// partial selection: the k best to the front, in order
	for i := 0; i < k; i++ {
		b := i
		for j := i + 1; j < len(all); j++ {
			if better(all[j], all[b]) < 0 {
				b = j
			}
		}
		all[i], all[b] = all[b], all[i]
	}
	out := all[:k]
	for _, pr := range all[k:] {
		if slices.Contains(sc.always, pr.Class) {
			out = append(out, pr)
		}
	}
	return dst[:start+len(out)]
}
