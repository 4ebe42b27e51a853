package bots

import (
	"strings"

	"github.com/kratombot/kratombot/knowledge"
)

// The understanding models, trained from the knowledge's own examples each
// time an index is built (at start and at every reload):
//
//   - topics: which topic a message is about, or "off topic";
//   - crisis: which crisis category a message is in, or none.
//
// Held-out test messages (questions/sets) are never part of training.
type models struct {
	topics   *linearModel // classes: one per topic, then offTopic
	offTopic int
	// learnedOffTopic is set when the knowledge has enough off-topic
	// examples for the model to know what not to answer; without them a
	// topic needs a surer guess.
	learnedOffTopic bool
	crisis          *linearModel // classes: one per crisis category, then noCrisis
	noCrisis        int
	// crisisExact holds every crisis example, normalised: a message that is
	// exactly one of them is a crisis whatever the model says, so a
	// maintainer's example is a promise, not a hint.
	crisisExact map[string]int
	// topicExact does the same for topic examples and questions, so that a
	// maintainer teaches a phrasing by adding one line.
	topicExact map[string]int
}

// learn trains the models from b's examples, questions, titles and words.
func (ix *index) learn(b *knowledge.Base) {
	key := modelKey(b)
	if s := cachedModels(key); s != nil {
		ix.models = &models{
			topics: s.Topics.model(), offTopic: s.OffTopic, learnedOffTopic: s.LearnedOffTopic,
			crisis: s.Crisis.model(), noCrisis: s.NoCrisis, crisisExact: s.CrisisExact, topicExact: s.TopicExact,
		}
		for _, k := range s.Known {
			ix.known[k] = true
		}
		return
	}
	var known []string // stems the examples add, kept with the models
	var raw []rawFeature
	example := func(text string, class int, weight float32) sample {
		a := ix.read(normalise(text), false, nil)
		for _, s := range a.content { // so typos of the examples' words are corrected too
			if !ix.known[s] {
				ix.known[s] = true
				known = append(known, s)
			}
		}
		raw = featurize(a.words, a.all, a.content, raw)
		return sample{raw: append([]rawFeature(nil), raw...), class: class, weight: weight}
	}
	m := &models{offTopic: len(b.Topics), noCrisis: len(b.Crisis), crisisExact: map[string]int{}, topicExact: map[string]int{}}
	m.learnedOffTopic = len(b.OffTopic) >= minExamples

	type item struct {
		text   string
		class  int
		weight float32
	}
	var items []item
	for i, t := range b.Topics {
		items = append(items, item{t.Title, i, 1})
		for _, w := range t.Words {
			items = append(items, item{w, i, 0.5})
		}
		for _, q := range t.Questions {
			items = append(items, item{q, i, 1})
			m.topicExact[exactKey(q)] = i
		}
		for _, e := range t.Examples {
			items = append(items, item{e, i, 1})
			m.topicExact[exactKey(e)] = i
		}
	}
	for _, e := range b.OffTopic {
		items = append(items, item{e, m.offTopic, 1})
	}
	trainTopics := len(b.Topics) <= maxModelTopics
	if !trainTopics && len(items) > maxOrdinary {
		// Only the crisis model will learn from these: read an evenly
		// spread share rather than every one.
		step := len(items)/maxOrdinary + 1
		kept := items[:0:0]
		for i := 0; i < len(items); i += step {
			kept = append(kept, items[i])
		}
		items = kept
	}
	var ts []sample
	var ordinary []sample // everything that is not a crisis, for the crisis model
	for _, it := range items {
		s := example(it.text, it.class, it.weight)
		ts = append(ts, s)
		if it.weight == 1 {
			ordinary = append(ordinary, sample{raw: s.raw, class: m.noCrisis, weight: 1})
		}
	}
	// The crisis model also reads long posts sentence by sentence, so it
	// learns from the sentences of ordinary examples too: "I've never been
	// to one" alone must not sound like danger.
	var texts []string
	for _, t := range b.Topics {
		texts = append(texts, t.Examples...)
	}
	texts = append(texts, b.NotCrisis...)
	texts = append(texts, b.OffTopic...)
	for _, text := range texts {
		if ss := sentences(normalise(text)); len(ss) > 1 {
			for _, s := range ss {
				ordinary = append(ordinary, example(s, m.noCrisis, 1))
			}
		}
	}
	done := make(chan struct{}) // the two models train on the two cores
	go func() {
		defer close(done)
		// Past maxModelTopics a softmax over every topic costs more to
		// train than a start or reload can afford; BM25 alone ranks then.
		if trainTopics {
			m.topics = trainLinear(ts, len(b.Topics)+1, topicTraining)
		}
	}()

	// Ordinary messages far outnumber crisis ones; past maxOrdinary an
	// evenly spread share of them teaches the crisis model as well.
	if len(ordinary) > maxOrdinary {
		step := float64(len(ordinary)) / maxOrdinary
		kept := make([]sample, 0, maxOrdinary)
		for i := 0.0; int(i) < len(ordinary) && len(kept) < maxOrdinary; i += step {
			kept = append(kept, ordinary[int(i)])
		}
		ordinary = kept
	}
	cs := ordinary
	for _, e := range b.NotCrisis {
		cs = append(cs, example(e, m.noCrisis, 1))
	}
	for i, c := range b.Crisis {
		for _, p := range c.Phrases {
			cs = append(cs, example(p, i, 1))
		}
		for _, e := range c.Examples {
			cs = append(cs, example(e, i, 1))
			m.crisisExact[exactKey(e)] = i
		}
	}
	// Too few examples make a model that sees danger everywhere: below
	// this, the phrases and the examples word for word are the whole
	// safety stage.
	nc := 0
	for _, c := range b.Crisis {
		nc += len(c.Examples)
	}
	if nc >= minExamples && len(b.NotCrisis) >= minExamples {
		m.crisis = trainLinear(cs, len(b.Crisis)+1, crisisTraining)
	}
	<-done
	ix.models = m
	storeModels(key, &savedModels{
		Topics: saveLinear(m.topics), OffTopic: m.offTopic, LearnedOffTopic: m.learnedOffTopic,
		Crisis: saveLinear(m.crisis), NoCrisis: m.noCrisis, CrisisExact: m.crisisExact, TopicExact: m.topicExact,
		Known: known,
	})
}

// maxModelTopics is the most topics the topic model is trained for.
const maxModelTopics = 2000

// maxOrdinary is the most ordinary examples the crisis model learns from.
// The shipped knowledge's (about 12,000 with the sentences of posts) are all
// kept: a share of them made the false crises swing by eight when a few
// examples were added, as a different share was drawn, and all of them
// measured fewer (53 against 60 over three seeds at the same crises caught).
// The cap is for knowledge bases many times larger, which would otherwise
// train for seconds.
const maxOrdinary = 20000

// minExamples is how many crisis, not-crisis or off-topic examples a
// knowledge base needs before a model learns from them.
const minExamples = 20

// exactKey is how a message is compared with the crisis examples: its words
// only, so punctuation and case do not matter.
func exactKey(text string) string { return strings.Join(tokens(normaliseN(text, MaxCrisisScan)), " ") }

// classify returns the topic model's probabilities for an analysed text.
func (ix *index) classify(a analysis, p []float32) []float32 {
	if ix.models.topics == nil {
		return nil
	}
	if p == nil {
		p = make([]float32, ix.models.topics.classes)
	}
	raw := a.features()
	x := ix.models.topics.vectorize(raw, nil)
	if len(x) == 0 { // nothing known: say so rather than trust the bias
		for i := range p {
			p[i] = 0
		}
		return p
	}
	ix.models.topics.scores(x, p)
	return p
}

// crisisRisk returns the crisis model's most likely category and the
// probability that the text is a crisis at all.
func (ix *index) crisisRisk(a analysis) (cat int, risk float32) {
	m := ix.models.crisis
	if m == nil {
		return -1, 0
	}
	raw := a.features()
	x := m.vectorize(raw, nil)
	if len(x) == 0 {
		return -1, 0
	}
	p := make([]float32, m.classes)
	m.scores(x, p)
	cat, best := -1, float32(0)
	emergencyCat, emergencyBest, emergency := -1, float32(0), float32(0)
	for k := 0; k < ix.models.noCrisis; k++ {
		risk += p[k]
		if p[k] > best {
			cat, best = k, p[k]
		}
		if ix.base.Crisis[k].Contact == knowledge.ContactEmergency {
			emergency += p[k]
			if p[k] > emergencyBest {
				emergencyCat, emergencyBest = k, p[k]
			}
		}
	}
	// Which line to lead with: when a real share of the danger is to the
	// body (an overdose, a seizure, someone not waking), the emergency
	// number comes first; its reply still gives the crisis line next.
	if emergencyCat >= 0 && emergency >= emergencyShare*risk {
		cat = emergencyCat
	}
	return cat, risk
}

// emergencyShare is the share of the crisis model's risk on emergency
// categories from which the emergency number leads. Tuned on the
// development set.
const emergencyShare = 0.55
