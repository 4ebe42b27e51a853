package bots

import (
	"math"
	"math/rand/v2"
)

// This file is the learned part of understanding, in the spirit of Rasa's
// NLU pipeline: a featurizer turns a tokenised message into sparse features
// (stems, word pairs, character n-grams), and a multinomial logistic
// regression, trained at load from the examples in the YAML, turns them
// into a probability per class. Training is deterministic (fixed seed,
// fixed order of examples) so the same knowledge always answers the same.

// feat is one active feature of a message and its value.
type feat struct {
	id  int32
	val float32
}

// Feature groups, weighted so that a whole known word says more than one of
// its letter groups; letter groups are there so that typos still match.
const (
	gStem = iota
	gPair
	gChar
	nGroups
)

var groupWeight = [nGroups]float32{1.0, 0.8, 0.35}

// featureKey hashes a feature (its group and text) with FNV-1a, so looking
// one up allocates nothing.
func featureKey(g int, parts ...string) uint64 {
	h := uint64(14695981039346656037) ^ uint64(g+1)
	h *= 1099511628211
	for i, p := range parts {
		if i > 0 {
			h ^= 0xff
			h *= 1099511628211
		}
		for j := 0; j < len(p); j++ {
			h ^= uint64(p[j])
			h *= 1099511628211
		}
	}
	return h
}

// rawFeature is a hashed feature before it is known to a model.
type rawFeature struct {
	key uint64
	g   int
}

// featurize lists a message's features: content stems, pairs of adjacent
// words (stop words included: "not breathing", "wake up"), and letter
// 3- and 4-grams of each word as typed after the vocabulary, with word
// boundaries marked.
func featurize(words, all, content []string, out []rawFeature) []rawFeature {
	out = out[:0]
	for _, s := range content {
		out = append(out, rawFeature{featureKey(gStem, s), gStem})
	}
	for i := 0; i+1 < len(all); i++ {
		out = append(out, rawFeature{featureKey(gPair, all[i], all[i+1]), gPair})
	}
	var buf [4 * maxWordLen]byte
	for _, w := range words {
		if len(w) < 3 || len(w) > maxWordLen || isStop(w) {
			continue
		}
		b := append(buf[:0], '<')
		b = append(b, w...)
		b = append(b, '>')
		for n := 3; n <= 3; n++ {
			for i := 0; i+n <= len(b); i++ {
				out = append(out, rawFeature{featureKey(gChar, string(b[i:i+n])), gChar})
			}
		}
	}
	return out
}

// linearModel is a multinomial logistic regression over sparse features.
// Weights are stored feature-major, so scoring a message reads only the
// rows of its features.
type linearModel struct {
	ids     *featureRows // feature key -> row
	w       []float32    // rows x classes
	bias    []float32
	classes int
}

// vectorize keeps the features this model knows, weighted by group and
// scaled to unit length. Unknown features are dropped before scaling, so a
// word the model never saw (a name, a place) does not lower its confidence.
func (m *linearModel) vectorize(raw []rawFeature, out []feat) []feat {
	out = out[:0]
	var norm float32
	for _, r := range raw {
		id, ok := m.ids.get(r.key)
		if !ok {
			continue
		}
		dup := false
		for i := range out { // messages are short; a duplicate just adds weight
			if out[i].id == id {
				out[i].val += groupWeight[r.g]
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, feat{id, groupWeight[r.g]})
		}
	}
	for _, f := range out {
		norm += f.val * f.val
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(float64(norm)))
		for i := range out {
			out[i].val *= inv
		}
	}
	return out
}

// featureRows maps a feature's key to its row of weights. It is an
// open-addressing table rather than a Go map: keys are already hashes, and
// looking them up was a quarter of what answering a long post cost
// (BenchmarkAnswerAsPeopleWrite about 57 µs with a map, 50 µs with this).
type featureRows struct {
	slots []featureSlot // a power of two long, at most half full
	n     int
	shift uint
}

type featureSlot struct {
	key uint64
	row int32 // row+1; 0 is an empty slot
}

func newFeatureRows(n int) *featureRows {
	f := &featureRows{}
	f.resize(max(16, 2*n))
	return f
}

func (f *featureRows) resize(size int) {
	bits := uint(4)
	for 1<<bits < size {
		bits++
	}
	old := f.slots
	f.slots, f.shift = make([]featureSlot, 1<<bits), 64-bits
	for _, s := range old {
		if s.row != 0 {
			f.put(s.key, s.row)
		}
	}
}

// slot is where key's probe starts: Fibonacci hashing spreads any bits.
func (f *featureRows) slot(key uint64) uint64 { return (key * 0x9e3779b97f4a7c15) >> f.shift }

func (f *featureRows) put(key uint64, row1 int32) {
	mask := uint64(len(f.slots) - 1)
	for i := f.slot(key); ; i = (i + 1) & mask {
		if f.slots[i].row == 0 {
			f.slots[i] = featureSlot{key, row1}
			return
		}
	}
}

// get returns key's row, if it has one.
func (f *featureRows) get(key uint64) (int32, bool) {
	mask := uint64(len(f.slots) - 1)
	for i := f.slot(key); ; i = (i + 1) & mask {
		s := f.slots[i]
		if s.row == 0 {
			return 0, false
		}
		if s.key == key {
			return s.row - 1, true
		}
	}
}

// add gives key the next row unless it has one.
func (f *featureRows) add(key uint64) {
	if _, ok := f.get(key); ok {
		return
	}
	if 2*(f.n+1) > len(f.slots) {
		f.resize(2 * len(f.slots))
	}
	f.n++
	f.put(key, int32(f.n))
}

// set gives key the row given (reading a saved model).
func (f *featureRows) set(key uint64, row int32) {
	if 2*(f.n+1) > len(f.slots) {
		f.resize(2 * len(f.slots))
	}
	f.n++
	f.put(key, row+1)
}

func (f *featureRows) len() int { return f.n }

// each calls fn for every key and its row.
func (f *featureRows) each(fn func(key uint64, row int32)) {
	for _, s := range f.slots {
		if s.row != 0 {
			fn(s.key, s.row-1)
		}
	}
}

// scores writes the probability of each class into p (len classes).
func (m *linearModel) scores(x []feat, p []float32) {
	copy(p, m.bias)
	c := m.classes
	p = p[:c]
	for _, f := range x {
		row := m.w[int(f.id)*c : int(f.id)*c+c]
		addScaled(p, row, f.val)
	}
	softmax(p)
}

// addScaled adds v*row to p, four at a time: this loop is most of the
// time training takes.
func addScaled(p, row []float32, v float32) {
	n := min(len(p), len(row))
	p, row = p[:n], row[:n]
	k := 0
	for ; k+4 <= n; k += 4 {
		p[k] += row[k] * v
		p[k+1] += row[k+1] * v
		p[k+2] += row[k+2] * v
		p[k+3] += row[k+3] * v
	}
	for ; k < n; k++ {
		p[k] += row[k] * v
	}
}

func softmax(p []float32) {
	mx := float32(math.Inf(-1))
	for _, v := range p {
		mx = max(mx, v)
	}
	var sum float32
	for i, v := range p {
		e := float32(math.Exp(float64(v - mx)))
		p[i] = e
		sum += e
	}
	for i := range p {
		p[i] /= sum
	}
}

// sample is one training message: its raw features, class and weight.
type sample struct {
	raw    []rawFeature
	class  int
	weight float32
}

// trainOptions are the few knobs of training, fixed in code so that a
// maintainer's edit never needs tuning.
type trainOptions struct {
	epochs int
	rate   float32
	l2     float32
	seed   uint64
	// settle is how far the rate falls by the last step: 0.9 leaves a
	// tenth of it, 0.99 a hundredth.
	settle float32
}

// Tuned on the development set. The crisis model is held back harder (a
// larger l2) so that a sentence with a few rare words cannot sound alarming.
// The topic model's ten epochs (six before) helped 3491 -> 3531 ordinary
// messages of the tuning sets once stages ae-ag's examples arrived, every
// retired held-out set gaining or level; fourteen added only 4 more.
var (
	topicTraining = trainOptions{epochs: 10, rate: 1.2, l2: 5e-4, seed: 7, settle: 0.9}
	// The crisis model's rate falls to a hundredth so that its weights
	// settle: with a tenth left, the last few hundred examples it happened
	// to visit moved the false alarms on the tuning sets between 74 and 96
	// over seeds 7 to 18; with a hundredth, seeds 7 to 9 gave 76, 79 and 80.
	crisisTraining = trainOptions{epochs: 10, rate: 1.2, l2: 2e-3, seed: 7, settle: 0.99}
)

// trainLinear fits a model by stochastic gradient descent on the
// cross-entropy, visiting samples in a seeded shuffle each epoch.
func trainLinear(samples []sample, classes int, o trainOptions) *linearModel {
	m := &linearModel{ids: newFeatureRows(0), classes: classes, bias: make([]float32, classes)}
	// Only features seen in training become rows; keys are added in sample
	// order so the layout is the same every time.
	for _, s := range samples {
		for _, r := range s.raw {
			m.ids.add(r.key)
		}
	}
	m.w = make([]float32, m.ids.len()*classes)
	xs := make([][]feat, len(samples))
	for i, s := range samples {
		xs[i] = m.vectorize(s.raw, nil)
	}
	order := make([]int, len(samples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15))
	p := make([]float32, classes)
	active := make([]int, 0, classes)
	step := 0
	total := o.epochs * len(samples)
	for e := 0; e < o.epochs; e++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			s := samples[i]
			x := xs[i]
			m.scores(x, p)
			// a rate that falls linearly settles the weights
			rate := o.rate * (1 - o.settle*float32(step)/float32(total)) * s.weight
			step++
			p[s.class] -= 1
			// Only classes with a real gradient are updated: after the first
			// epoch most probabilities are tiny, and skipping them makes
			// training several times faster with the same result.
			active = active[:0]
			for k := range p {
				m.bias[k] -= rate * 0.1 * p[k]
				if p[k] > 1e-3 || p[k] < -1e-3 {
					active = append(active, k)
				}
			}
			for _, f := range x {
				row := m.w[int(f.id)*classes : int(f.id)*classes+classes]
				g := rate * f.val
				for _, k := range active {
					row[k] -= g*p[k] + o.l2*row[k]
				}
			}
		}
	}
	return m
}

// ranked is a class and its probability.
type ranked struct {
	class int
	p     float32
}

// top lists the n most probable classes, best first (ties: lower class
// first). A selection, not a sort: n is small and this runs per message.
func top(p []float32, n int) []ranked {
	out := make([]ranked, 0, n+1)
	for k, v := range p {
		if len(out) == n && v <= out[n-1].p {
			continue
		}
		i := len(out)
		if i < n {
			out = append(out, ranked{})
		} else {
			i = n - 1
		}
		for i > 0 && out[i-1].p < v {
			out[i] = out[i-1]
			i--
		}
		out[i] = ranked{k, v}
	}
	return out
}
