package bots

import (
	"maps"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/kratombot/kratombot/knowledge"
)

// Field weights: a hit in a topic's title or words says more than one in
// its answer text.
const (
	fTitle = iota
	fWords
	fQuestions
	fAnswer
	nFields
)

var fieldWeight = [nFields]float64{2.5, 3, 1.5, 0.5}

const (
	bm25K1 = 1.2
	bm25B  = 0.6
	// minScore and minCoverage are the confidence threshold: below either the
	// engine offers "did you mean" instead of guessing. Tuned on the examples
	// in knowledge/questions.yaml.
	minScore    = 1.5
	minCoverage = 0.40
	// guessWeight is how much a typo-corrected word counts.
	guessWeight = 0.6
	// maxWordLen is the longest word typo correction looks at.
	maxWordLen = 30
)

type posting struct {
	topic int32
	tf    [nFields]uint16
}

// phrase is a sequence of stems matched as whole words in order.
type phrase []string

// index is everything the engine precomputes from one knowledge base; it is
// immutable once built so answering needs no locks.
type index struct {
	base     *knowledge.Base
	topics   []*knowledge.Topic
	postings map[string][]posting
	idf      map[string]float64
	maxIDF   float64
	flen     [][nFields]float64
	avgLen   [nFields]float64
	deletes  map[string][]string // one-letter deletions of known stems -> stems, for typos
	stemOf   map[string]readWord // memo of words read; read-only once built
	pool     sync.Pool           // *accum, reused by rank
	known    map[string]bool     // every stem in topics, phrases and triggers
	vocab    map[string][]vocabRule
	wordSets [][]phrase  // per topic: its multi-word words, for a phrase bonus
	topicSet phraseIndex // every topic's word sets; owner is the topic

	crisis     []crisisRule
	floor      phraseIndex                  // every crisis phrase; owner is the category
	maybe      phraseIndex                  // every possible-crisis phrase; owner is the category
	models     *models                      // understand.go
	places     map[string][]place           // message.go
	people     map[string][]place           // message.go
	scripts    []script                     // message.go
	language   map[string]*knowledge.Region // message.go
	afterTown  map[string]*knowledge.Region // message.go
	typoPlaces map[string]place             // message.go
	typoJoined map[string][]string          // message.go: typoPlaces from places of two words, with the words
	greeting   []phrase
	thanks     []phrase
	help       []phrase
	plea       []phrase // "help me", "i need help": the crisis line leads
	bot        []phrase
	dosing     phraseIndex
	urgency    phraseIndex // words that say danger is happening now
	calmness   phraseIndex // words that say danger is past, denied or asked about
	normal     phraseIndex // words asking whether something is normal
	wishes     phraseIndex // words that say a danger is wished for or planned
}

type vocabRule struct {
	from []string // raw tokens
	to   []string
}

type crisisRule struct {
	cat     *knowledge.CrisisCategory
	phrases []phrase
}

func newIndex(b *knowledge.Base) *index {
	ix := &index{
		base:     b,
		topics:   b.Topics,
		postings: map[string][]posting{},
		idf:      map[string]float64{},
		known:    map[string]bool{},
		vocab:    map[string][]vocabRule{},
		deletes:  map[string][]string{},
		stemOf:   map[string]readWord{},
	}
	for _, s := range b.Synonyms {
		to := tokens(normalise(s.Means))
		for _, w := range s.Words {
			from := tokens(normalise(w))
			if len(from) == 0 {
				continue
			}
			ix.vocab[from[0]] = append(ix.vocab[from[0]], vocabRule{from: from, to: to})
		}
	}
	for k := range ix.vocab {
		rules := ix.vocab[k]
		sort.SliceStable(rules, func(i, j int) bool { return len(rules[i].from) > len(rules[j].from) })
	}

	ix.flen = make([][nFields]float64, len(b.Topics))
	ix.wordSets = make([][]phrase, len(b.Topics))
	parts := ix.analyseTopics(b.Topics)
	ix.postings = make(map[string][]posting, len(parts[0]))
	for _, slots := range parts { // in topic order: postings stay sorted by topic
		for _, sl := range slots {
			if ps, ok := ix.postings[sl.stem]; ok {
				ix.postings[sl.stem] = append(ps, sl.postings...)
			} else {
				ix.postings[sl.stem] = sl.postings
			}
		}
	}
	n := float64(len(b.Topics))
	for f := 0; f < nFields; f++ {
		total := 0.0
		for i := range ix.flen {
			total += ix.flen[i][f]
		}
		ix.avgLen[f] = math.Max(1, total/math.Max(1, n))
	}
	ix.maxIDF = math.Log(1 + (n+0.5)/0.5)
	for s, ps := range ix.postings {
		df := float64(len(ps))
		ix.idf[s] = math.Log(1 + (n-df+0.5)/(df+0.5))
		ix.known[s] = true
	}

	for _, c := range b.Crisis {
		r := crisisRule{cat: c}
		for _, p := range c.Phrases {
			if ph := ix.phrase(p); len(ph) > 0 {
				r.phrases = append(r.phrases, ph)
			}
		}
		ix.crisis = append(ix.crisis, r)
	}
	var all []phrase
	var cats []int
	for i, r := range ix.crisis {
		all = append(all, r.phrases...)
		for range r.phrases {
			cats = append(cats, i)
		}
	}
	ix.floor = newPhraseIndex(all, cats)
	all, cats = nil, nil
	for i, c := range b.Crisis {
		for _, p := range c.Possible {
			if ph := ix.phrase(p); len(ph) > 0 {
				all = append(all, ph)
				cats = append(cats, i)
			}
		}
	}
	ix.maybe = newPhraseIndex(all, cats)
	all, cats = nil, nil
	for t, ps := range ix.wordSets {
		all = append(all, ps...)
		for range ps {
			cats = append(cats, t)
		}
	}
	ix.topicSet = newPhraseIndex(all, cats)
	ix.urgency = newPhraseIndex(ix.phrases(urgentWords), nil)
	ix.calmness = newPhraseIndex(ix.phrases(calmWords), nil)
	ix.normal = newPhraseIndex(ix.phrases(normalWords), nil)
	ix.wishes = newPhraseIndex(ix.phrases(wishWords), nil)
	tr := b.Triggers
	ix.greeting = ix.phrases(tr.Greeting)
	ix.thanks = ix.phrases(tr.Thanks)
	ix.help = ix.phrases(tr.Help)
	ix.plea = ix.phrases(tr.Plea)
	ix.bot = ix.phrases(tr.Bot)
	dosing := ix.phrases(tr.Dosing)
	ix.dosing = newPhraseIndex(dosing, nil)
	for _, set := range [][]phrase{ix.greeting, ix.thanks, ix.help, ix.plea, ix.bot, dosing} {
		for _, p := range set {
			for _, s := range p {
				ix.known[s] = true
			}
		}
	}
	for _, r := range ix.crisis {
		for _, p := range r.phrases {
			for _, s := range p {
				ix.known[s] = true
			}
		}
	}
	ix.places = placesOf(b, false)
	ix.people = placesOf(b, true)
	ix.scripts = scriptsOf(b)
	ix.language = languageOf(b)
	ix.afterTown = afterTownOf(b)
	ix.typoPlaces, ix.typoJoined = typoPlacesOf(ix.places)
	ix.learn(b)
	for s := range ix.known {
		if len(s) < 4 {
			continue
		}
		for _, d := range deletions(s) {
			ix.deletes[d] = append(ix.deletes[d], s)
		}
	}
	return ix
}

// stemSlot is one stem's postings while topics are analysed, with its
// counts in the topic being read.
type stemSlot struct {
	stem     string
	topic    int32 // the topic tf counts, -1 before the first
	tf       [nFields]uint16
	postings []posting
}

// analyseTopics counts each topic's stems per field, spreading the topics
// over the cores: stemming is most of the cost of loading a large base.
// Each worker takes a run of consecutive topics and keeps its own stems'
// postings and stem memo, so joining them in worker order keeps postings
// sorted by topic; the memos are merged for answering. A stem costs one map
// lookup per word read: counting in a map per topic and then appending to
// a map of postings was as slow as the stemming.
func (ix *index) analyseTopics(topics []*knowledge.Topic) [][]stemSlot {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(topics)/200))
	parts := make([][]stemSlot, workers)
	memos := make([]map[string]readWord, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		memos[w] = map[string]readWord{}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			memo := memos[w]
			slotOf := map[string]int32{}
			var slots []stemSlot
			var touched []int32 // the slots the current topic counted
			for i := w * len(topics) / workers; i < (w+1)*len(topics)/workers; i++ {
				t := topics[i]
				touched = touched[:0]
				add := func(f int, text string) {
					_, content, _ := ix.analyse(text, false, memo)
					for _, s := range content {
						id, ok := slotOf[s]
						if !ok {
							id = int32(len(slots))
							slots = append(slots, stemSlot{stem: s, topic: -1})
							slotOf[s] = id
						}
						sl := &slots[id]
						if sl.topic != int32(i) {
							sl.topic, sl.tf = int32(i), [nFields]uint16{}
							touched = append(touched, id)
						}
						if sl.tf[f] < math.MaxUint16 {
							sl.tf[f]++
						}
						ix.flen[i][f]++
					}
				}
				add(fTitle, t.Title+" "+strings.ReplaceAll(t.ID, "-", " "))
				for _, wd := range t.Words {
					add(fWords, wd)
					if all, _, _ := ix.analyse(wd, false, memo); len(all) > 1 {
						ix.wordSets[i] = append(ix.wordSets[i], phrase(all))
					}
				}
				for _, q := range t.Questions {
					add(fQuestions, q)
				}
				add(fAnswer, t.Answer)
				for _, id := range touched {
					sl := &slots[id]
					sl.postings = append(sl.postings, posting{topic: int32(i), tf: sl.tf})
				}
			}
			parts[w] = slots
		}(w)
	}
	wg.Wait()
	for _, m := range memos {
		maps.Copy(ix.stemOf, m)
	}
	return parts
}

func (ix *index) phrases(ps []string) []phrase {
	var out []phrase
	for _, p := range ps {
		if ph := ix.phrase(p); len(ph) > 0 {
			out = append(out, ph)
		}
	}
	return out
}

// phrase turns a maintainer's phrase into stems the same way messages are.
func (ix *index) phrase(p string) phrase {
	all, _ := ix.stems(p, false)
	return phrase(all)
}

// stems runs text through the whole pipeline: normalise, split, vocabulary,
// stem, and (for messages) typo correction against known stems. It returns
// every stem, for phrases, and the stems of words that carry meaning, for
// ranking.
func (ix *index) stems(text string, correct bool) (all, content []string) {
	all, content, _ = ix.analyse(text, correct, nil)
	return all, content
}

// stemsCorrected is stems that also says which stems were typo-corrected,
// since a guess deserves less confidence than a word typed right.
func (ix *index) stemsCorrected(text string, correct bool) (all, content []string, guessed map[string]bool) {
	return ix.analyse(text, correct, nil)
}

// analyse is the pipeline itself. memo, when given, is a stem memo the
// caller owns and may be written; otherwise the index's read-only one is used.
func (ix *index) analyse(text string, correct bool, memo map[string]readWord) (all, content []string, guessed map[string]bool) {
	return ix.analyseNormalised(normalise(text), correct, memo)
}

func (ix *index) analyseNormalised(text string, correct bool, memo map[string]readWord) (all, content []string, guessed map[string]bool) {
	a := ix.read(text, correct, memo)
	return a.all, a.content, a.guessed
}

// analysis is one text through the tokenizer: the words after the
// vocabulary, their stems, the stems that carry meaning, and which stems
// were typo-corrected.
type analysis struct {
	words, all, content []string
	guessed             map[string]bool
	// raw is the message's features for the models, worked out once for
	// both of them (nil for the topics' own text, which no model reads).
	raw []rawFeature
}

// features are a's raw features for the models.
func (a analysis) features() []rawFeature {
	if a.raw != nil {
		return a.raw
	}
	return featurize(a.words, a.all, a.content, nil)
}

// readWord is what reading learns about one token, kept in a memo so that
// a word seen again costs one lookup: stemming and the stop lists of six
// languages were most of the cost of indexing a large base.
type readWord struct {
	stem string
	stop bool
}

// read tokenises normalised text: vocabulary, stems and (for messages)
// typo correction against known stems.
func (ix *index) read(text string, correct bool, memo map[string]readWord) (a analysis) {
	raw := ix.applyVocab(ix.withoutPlaces(tokens(text)))
	a.words = raw
	a.all = make([]string, 0, len(raw))
	a.content = make([]string, 0, len(raw))
	for _, w := range raw {
		rw, ok := ix.stemOf[w]
		if !ok && memo != nil {
			rw, ok = memo[w]
		}
		if !ok {
			rw = readWord{stem: stem(w), stop: isStop(w)}
			if memo != nil {
				memo[w] = rw
			}
		}
		s, stop := rw.stem, rw.stop
		if correct && !stop && !ix.known[s] && !englishWord(w) {
			if c := ix.correct(s); c != s {
				if a.guessed == nil {
					a.guessed = map[string]bool{}
				}
				a.guessed[c] = true
				s = c
			}
		}
		a.all = append(a.all, s)
		if !stop {
			a.content = append(a.content, s)
		}
	}
	return a
}

// applyVocab replaces slang, abbreviations and misspellings, longest first.
func (ix *index) applyVocab(ws []string) []string {
	out := make([]string, 0, len(ws))
	for i := 0; i < len(ws); {
		matched := false
		for _, r := range ix.vocab[ws[i]] {
			if i+len(r.from) <= len(ws) && equal(ws[i:i+len(r.from)], r.from) {
				out = append(out, r.to...)
				i += len(r.from)
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, ws[i])
			i++
		}
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// deletions lists s with one letter left out at each place.
func deletions(s string) []string {
	r := []rune(s)
	out := make([]string, 0, len(r))
	for i := range r {
		out = append(out, string(r[:i])+string(r[i+1:]))
	}
	return out
}

// correct maps an unknown stem to a known stem one edit away: a letter
// missing (four letters or more), or extra, swapped or wrong (five or more), preferring the stem
// more topics use, never a different first letter. Unknown stems with no
// such neighbour stay as they are.
func (ix *index) correct(s string) string {
	// Past maxWordLen it is not a word but a pasted blob, and guessing would
	// cost time quadratic in its length.
	if n := len([]rune(s)); n < 4 || n > maxWordLen {
		return s
	}
	best, bestDF := "", -1
	first, _ := utf8.DecodeRuneInString(s)
	consider := func(c string) {
		// People rarely get the first letter wrong; without this a real
		// word the knowledge lacks turns into one it has ("mount" into
		// "amount").
		if r, _ := utf8.DecodeRuneInString(c); c == s || r != first {
			return
		}
		if df := len(ix.postings[c]); df > bestDF || (df == bestDF && c < best) {
			best, bestDF = c, df
		}
	}
	for _, c := range ix.deletes[s] { // s lacks a letter
		consider(c)
	}
	if len([]rune(s)) >= 5 { // short real words ("year") are too near others ("near") to guess
		for _, d := range deletions(s) {
			if ix.known[d] { // s has an extra letter
				consider(d)
			}
			for _, c := range ix.deletes[d] { // a wrong or swapped letter
				consider(c)
			}
		}
	}
	if best == "" {
		return s
	}
	return best
}

// phraseIndex finds which of many phrases a message holds by looking up
// each of its words once, rather than scanning the message for every
// phrase: there are hundreds of crisis phrases and topic word sets, and
// every message is read for them.
type phraseIndex struct {
	byFirst map[string][]int32 // first word -> phrase numbers
	phrases []phrase
	owner   []int // who each phrase belongs to (a category, a topic), if anyone
}

func newPhraseIndex(ps []phrase, owner []int) phraseIndex {
	pi := phraseIndex{byFirst: map[string][]int32{}, phrases: ps, owner: owner}
	for n, p := range ps {
		if len(p) > 0 {
			pi.byFirst[p[0]] = append(pi.byFirst[p[0]], int32(n))
		}
	}
	return pi
}

// each calls f with the number of every phrase that occurs in ss, once for
// each place it occurs, until f returns false.
func (pi phraseIndex) each(ss []string, f func(n int) bool) {
	pi.eachAt(ss, func(n, _ int) bool { return f(n) })
}

// eachAt is each, also giving where in ss the phrase starts.
func (pi phraseIndex) eachAt(ss []string, f func(n, at int) bool) {
	for i, w := range ss {
		for _, n := range pi.byFirst[w] {
			p := pi.phrases[n]
			if i+len(p) <= len(ss) && equal(ss[i:i+len(p)], p) && !f(int(n), i) {
				return
			}
		}
	}
}

// any reports whether ss holds any of the phrases.
func (pi phraseIndex) any(ss []string) bool {
	found := false
	pi.each(ss, func(int) bool { found = true; return false })
	return found
}

// covers marks which words of ss are part of any phrase in ps.
func covers(ss []string, ps []phrase, mark []bool) bool {
	hit := false
	for _, p := range ps {
		for i := 0; i+len(p) <= len(ss); i++ {
			if equal(ss[i:i+len(p)], p) {
				for j := range p {
					mark[i+j] = true
				}
				hit = true
			}
		}
	}
	return hit
}

// accum holds per-topic sums for one ranking; pooled so a question on a
// large knowledge base allocates no per-topic memory.
type accum struct {
	score, weight []float64
	strong        []bool // a hit outside the answer text
	touched       []int32
}

type scored struct {
	topic    int
	score    float64
	coverage float64
	strong   bool
}

// confident is the threshold below which the engine offers "did you mean"
// instead of guessing: enough score, enough of the question explained, and
// a hit in the title, words or questions unless the answer text alone
// matches strongly.
func (s scored) confident() bool {
	return s.score >= minScore && s.coverage >= minCoverage && (s.strong || s.score >= 3*minScore)
}

// rank scores every topic that shares a stem with the query, best first.
func (ix *index) rank(all, content []string, guessed map[string]bool) []scored {
	seen := map[string]bool{}
	var q []string
	for _, s := range content {
		if !seen[s] {
			seen[s] = true
			q = append(q, s)
		}
	}
	if len(q) == 0 {
		return nil
	}
	acc, _ := ix.pool.Get().(*accum)
	if acc == nil {
		acc = &accum{score: make([]float64, len(ix.topics)), weight: make([]float64, len(ix.topics)), strong: make([]bool, len(ix.topics))}
	}
	defer func() {
		for _, t := range acc.touched {
			acc.score[t], acc.weight[t], acc.strong[t] = 0, 0, false
		}
		acc.touched = acc.touched[:0]
		ix.pool.Put(acc)
	}()
	scores, weight := acc.score, acc.weight // weight: idf mass of the query each topic covers
	total := 0.0
	for _, s := range q {
		idf, ok := ix.idf[s]
		if !ok {
			total += ix.maxIDF // a word no topic uses still counts against confidence
			continue
		}
		total += idf
		trust := 1.0
		if guessed[s] {
			trust = guessWeight
		}
		for _, p := range ix.postings[s] {
			sc := 0.0
			for f := 0; f < nFields; f++ {
				if p.tf[f] == 0 {
					continue
				}
				tf := float64(p.tf[f])
				norm := 1 - bm25B + bm25B*ix.flen[p.topic][f]/ix.avgLen[f]
				sc += fieldWeight[f] * tf * (bm25K1 + 1) / (tf + bm25K1*norm)
			}
			if weight[p.topic] == 0 {
				acc.touched = append(acc.touched, p.topic)
			}
			if p.tf[fTitle]+p.tf[fWords]+p.tf[fQuestions] > 0 {
				acc.strong[p.topic] = true
			}
			scores[p.topic] += trust * idf * sc
			weight[p.topic] += trust * idf
		}
	}
	out := make([]scored, 0, len(acc.touched))
	// A topic's multi-word words found in the message add to its score,
	// each phrase once however often it occurs.
	var found []int
	ix.topicSet.each(all, func(n int) bool {
		if !slices.Contains(found, n) {
			found = append(found, n)
		}
		return true
	})
	for _, t := range acc.touched {
		sc := scores[t]
		for _, n := range found {
			if ix.topicSet.owner[n] == int(t) {
				sc += float64(len(ix.topicSet.phrases[n])) * 2
			}
		}
		out = append(out, scored{topic: int(t), score: sc, coverage: weight[t] / total, strong: acc.strong[t]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].topic < out[j].topic
	})
	return out
}
