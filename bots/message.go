package bots

import (
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/kratombot/kratombot/knowledge"
)

// message is a person's text read once for every later stage.
type message struct {
	whole     analysis   // the first MaxQuestion characters
	scan      analysis   // up to MaxCrisisScan characters, for crisis phrases
	sentences []analysis // each sentence of the first MaxCrisisScan characters
	long      bool       // several sentences: a post, not a question
	exact     string     // the words as typed, for matching crisis examples
	named     bool       // the message names a place the regions list
	asks      bool       // a sentence of it asks something (see asksSomething)
	danger    bool       // safety found danger possible (see Engine.answer)
	other     bool       // tells of someone else's danger (see aboutSomeoneElse)
	adult     bool       // tells of a grown son or daughter (see aboutAnAdult)
}

// readMessage normalises and tokenises a message, and splits it into
// sentences so that a long post is read sentence by sentence.
func (ix *index) readMessage(text string) message {
	var m message
	norm := normalise(text)
	// The sentences are read again after the whole: stems worked out once
	// are kept for them, for this message only.
	memo := map[string]readWord{}
	m.whole = ix.read(norm, true, memo)
	full := norm
	if len(text) > MaxQuestion {
		full = normaliseN(text, MaxCrisisScan)
		m.scan = ix.read(full, true, memo)
	} else {
		m.scan = m.whole
	}
	toks := tokens(full)
	m.exact = strings.Join(toks, " ")
	ss := sentences(full)
	for _, s := range ss {
		m.sentences = append(m.sentences, ix.read(s, true, memo))
	}
	m.asks = asksSomething(full, ss)
	m.other = aboutSomeoneElse(toks)
	m.adult = aboutAnAdult(toks)
	m.long = len(m.sentences) >= 3 || (len(m.sentences) == 2 && len(m.whole.content) >= 10)
	m.whole.raw = featurize(m.whole.words, m.whole.all, m.whole.content, nil)
	for i := range m.sentences {
		s := &m.sentences[i]
		s.raw = featurize(s.words, s.all, s.content, nil)
	}
	return m
}

// questionStarts open a sentence that asks something.
var questionStarts = map[string]bool{
	"how": true, "hows": true, "what": true, "whats": true, "why": true, "when": true, "where": true,
	"which": true, "who": true, "can": true, "could": true, "is": true, "are": true, "was": true,
	"does": true, "do": true, "did": true, "should": true, "will": true, "would": true, "if": true,
	"any": true, "anyone": true, "has": true, "have": true,
}

// clauseJoins may open a clause before its question's word.
var clauseJoins = map[string]bool{"but": true, "and": true, "so": true, "or": true, "also": true, "ok": true}

// asksSomething is normalised text with a question mark, or with a
// sentence (of ss, its sentences) or clause opening with a question's
// word: "my brother overdosed" tells; "can you overdose on kratom", "im
// fine, but what does an overdose look like" ask.
func asksSomething(text string, ss []string) bool {
	if strings.Contains(text, "?") {
		return true
	}
	for _, s := range ss {
		for _, clause := range strings.Split(s, ",") {
			first, rest, _ := strings.Cut(strings.TrimSpace(clause), " ")
			if clauseJoins[first] { // ", but what does it look like"
				first, _, _ = strings.Cut(rest, " ")
			}
			if questionStarts[first] {
				return true
			}
		}
	}
	return false
}

// sentences splits normalised text at sentence ends and line breaks,
// joining fragments of one or two words to the sentence before them.
func sentences(text string) []string {
	var out []string
	start := 0
	flush := func(end int) {
		s := strings.TrimSpace(text[start:end])
		start = end + 1
		if s == "" {
			return
		}
		if len(out) > 0 && len(strings.Fields(s)) < 3 {
			out[len(out)-1] += " " + s
			return
		}
		out = append(out, s)
	}
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '.', '!', '?', '\n', ';':
			flush(i)
		}
	}
	if start < len(text) {
		flush(len(text))
	}
	return out
}

// place is a country, state or city that names a region.
type place struct {
	words  []string
	region *knowledge.Region
}

// placesOf indexes every region's places (or, with people, the words for
// its people) by their first word.
func placesOf(b *knowledge.Base, people bool) map[string][]place {
	out := map[string][]place{}
	for _, r := range b.Regions {
		// Only the places: a region's name may be no place ("International").
		list := r.Places
		if people {
			list = r.People
		}
		for _, p := range list {
			ws := tokens(normalise(p))
			if len(ws) == 0 {
				continue
			}
			out[ws[0]] = append(out[ws[0]], place{ws, r})
		}
	}
	for k := range out { // longest first: "new south wales" before "new"
		ps := out[k]
		for i := 1; i < len(ps); i++ {
			for j := i; j > 0 && len(ps[j].words) > len(ps[j-1].words); j-- {
				ps[j], ps[j-1] = ps[j-1], ps[j]
			}
		}
	}
	return out
}

// minTypoPlace is the shortest place name whose misspellings are read as
// it: shorter names are a letter away from everyday words.
const minTypoPlace = 8

// typoPlacesOf maps the likeliest misspellings of every one-word place of
// minTypoPlace letters or more (a letter left out, two letters swapped:
// "melborne", "sheffeild", "vancover") to the place. A misspelling that is
// itself a place, or that two regions' places share, is left out.
func typoPlacesOf(places map[string][]place) (out map[string]place, joined map[string][]string) {
	out, joined = map[string]place{}, map[string][]string{}
	shared := map[string]bool{}
	for _, ps := range places {
		for _, p := range ps {
			// "kualalumpur", "chaingmai": a place of several words is
			// misspelt as one word too (see namedRegion for two)
			w := strings.Join(p.words, "")
			if len(w) < minTypoPlace || !isASCII(w) {
				continue
			}
			var vs []string
			last := len(w)
			if len(p.words) > 1 {
				// not the last letter: "the state" is no misspelt "the states"
				vs, last = append(vs, w), len(w)-1
			}
			for i := range last {
				vs = append(vs, w[:i]+w[i+1:])
			}
			for i := 0; i+1 < len(w); i++ {
				if w[i] != w[i+1] {
					vs = append(vs, w[:i]+string(w[i+1])+string(w[i])+w[i+2:])
				}
			}
			for _, v := range vs {
				if len(places[v]) > 0 || wordsNotTypos[v] {
					continue
				}
				if o, ok := out[v]; ok && o.region != p.region {
					shared[v] = true
				}
				out[v] = place{[]string{v}, p.region}
				if len(p.words) == 2 {
					joined[v] = p.words
				}
			}
		}
	}
	for v := range shared {
		delete(out, v)
	}
	return out, joined
}

// topicsUse says a stem is in some topic's text.
func (ix *index) topicsUse(s string) bool {
	_, ok := ix.idf[s]
	return ok
}

// typoPlace is the place a misspelt word means: a letter left out or two
// swapped (typoPlaces), or a letter added ("brisbaine", "bangkock").
func (ix *index) typoPlace(w string) (place, bool) {
	if p, ok := ix.typoPlaces[w]; ok {
		return p, true
	}
	if len(w) < minTypoPlace || !isASCII(w) || wordsNotTypos[w] {
		return place{}, false
	}
	var found *knowledge.Region
	// Not the last letter: "limericks", "anchorages" are plurals.
	for i := range len(w) - 1 {
		v := w[:i] + w[i+1:]
		for _, p := range ix.places[v] {
			if len(p.words) != 1 || p.words[0] != v {
				continue
			}
			if found != nil && found != p.region {
				return place{}, false
			}
			found = p.region
		}
	}
	if found == nil {
		return place{}, false
	}
	return place{[]string{w}, found}, true
}

// wordsNotTypos are English words a letter away from a place; found by
// TestTypoPlacesAreNotWords against a dictionary.
var wordsNotTypos = map[string]bool{
	"sacrament": true, "bridged": true, "penance": true, "american": true, "squeamish": true,
}

// script is a writing system only one region's people write in.
type script struct {
	table  *unicode.RangeTable
	region *knowledge.Region
}

func scriptsOf(b *knowledge.Base) []script {
	var out []script
	for _, r := range b.Regions {
		for _, name := range r.Scripts {
			if t := unicode.Scripts[name]; t != nil { // the checker names any other
				out = append(out, script{t, r})
			}
		}
	}
	return out
}

// minScriptLetters is how many letters of a region's script make a message
// written in it, rather than one quoting a word.
const minScriptLetters = 3

// languageOf maps each region's language words, as messages are read, to
// the region.
func languageOf(b *knowledge.Base) map[string]*knowledge.Region {
	out := map[string]*knowledge.Region{}
	for _, r := range b.Regions {
		for _, w := range r.Language {
			out[normaliseN(w, MaxQuestion)] = r
		}
	}
	return out
}

// writtenIn is the region whose script or language the message is written
// in, if any.
func (ix *index) writtenIn(text string) *knowledge.Region {
	if r := ix.languageIn(text); r != nil {
		return r
	}
	if len(ix.scripts) == 0 || isASCII(text) {
		return nil
	}
	for _, sc := range ix.scripts {
		n := 0
		for _, r := range text {
			if unicode.Is(sc.table, r) {
				if n++; n >= minScriptLetters {
					return sc.region
				}
			}
		}
	}
	return nil
}

// languageIn is the region whose language words the message holds: two
// different ones at least, and more than of any other region's, since
// neighbouring languages share words ("saya" in Malay and Indonesian) and
// one word may be a loan.
func (ix *index) languageIn(text string) *knowledge.Region {
	if len(ix.language) == 0 {
		return nil
	}
	seen := map[string]bool{}
	count := map[*knowledge.Region]int{}
	for _, w := range tokens(normaliseN(text, MaxQuestion)) {
		if r := ix.language[w]; r != nil && !seen[w] {
			seen[w] = true
			count[r]++
		}
	}
	var best *knowledge.Region
	first, second := 0, 0
	for r, n := range count {
		switch {
		case n > first || (n == first && best != nil && r.Code < best.Code):
			best, first, second = r, n, first
		case n > second:
			second = n
		}
	}
	if first < 2 || first == second {
		return nil
	}
	return best
}

// namedRegion finds the place where the person who needs the help is, if
// the message names any. It reads the words as typed (before the
// vocabulary), since place names are not slang. When places of several
// regions are named, the one the words around it say is where the writer is
// now wins ("from texas but living in toronto now"), with no such words the
// first; but a relative's place wins over the writer's unless the writer
// says they are the one using. A people's word ("aussie") counts only when
// no place says more. A place in the writer's past names nothing. forThem
// says the region is a relative's, so it serves this reply only: the
// writer's own emergency number is still where they are.
func (ix *index) namedRegion(text string) (r *knowledge.Region, forThem bool) {
	norm := normaliseN(text, MaxQuestion)
	ws, starts := clauseTokens(norm)
	var best, theirs *knowledge.Region // theirs: the first place given as a relative's
	bestScore := 0
	for i := 0; i < len(ws); i++ {
		var cands []place
		for _, p := range ix.placesAt(ws[i]) {
			// Only places whose every word is here: "regina sk" listed
			// must not hide the town "regina" alone.
			if end := i + len(p.words); end <= len(ws) && placeAt(ws[i:end], p.words) {
				cands = append(cands, p)
			}
		}
		person := false
		if e, _ := ix.placeEnd(ws, i); e == i {
			// "aussie living in bali": where someone is from counts only
			// when no place says where they are now.
			if end, r := ix.peopleEnd(ws, i, starts); r != nil {
				cands, person = []place{{ws[i:end], r}}, true
			}
		}
		if r := ix.afterTown[ws[i]]; r != nil && len(cands) == 0 {
			// "living in qld", "moved to ns": with words saying the writer
			// is there now, a state's short form is the state ("cramps in
			// ab muscles" is not Alberta).
			if sc, _ := whereNow(ws, i, i+1); sc > 0 {
				cands = []place{{[]string{ws[i]}, r}}
			}
		}
		if len(cands) == 0 && !person {
			if t, ok := ix.townAt(ws, i, starts); ok {
				cands = []place{t}
			}
		}
		if len(cands) == 0 && len(ws[i]) >= minTypoPlace-1 {
			// A misspelt place, unless the word is one the topics use. Not
			// any word of the examples: they hold people's misspellings of
			// places too ("brisbaine").
			if p, ok := ix.typoPlace(ws[i]); ok && !ix.topicsUse(stem(ws[i])) {
				cands = []place{p}
			}
		}
		if len(cands) == 0 && i+1 < len(ws) {
			// a place of two words with one misspelt: "chaing mai", "kula
			// lumpur"; not when the misspelling is short or a word ("god
			// coast", "broken ill")
			typo := func(w string) bool { return len(w) >= 4 && !englishWord(w) }
			if o := ix.typoJoined[ws[i]+ws[i+1]]; o != nil && (ws[i] == o[0] && typo(ws[i+1]) || ws[i+1] == o[1] && typo(ws[i])) {
				cands = []place{{ws[i : i+2], ix.typoPlaces[ws[i]+ws[i+1]].region}}
			}
		}
		for _, p := range cands { // each one's words are all at ws[i:]
			end := i + len(p.words)
			if namedAfterRelative(ws, i) {
				i = end - 1
				break
			}
			region := p.region
			if end < len(ws) && !person {
				// "ipswich qld", "kingston ns": the state or province named
				// after a town says which country's town it is.
				if r := ix.afterTown[ws[end]]; r != nil {
					region = r
				} else if e2, r := ix.placeEnd(ws, end); r != nil {
					// "birmingham alabama", "perth scotland": a second
					// place right after a town is where the town is.
					region, end = r, e2
				}
			}
			sc, relative := whereNow(ws, i, end)
			if (sc == wasThere || sc <= 0 && saidInPassing(p.words)) && !person {
				i = end - 1
				break
			}
			if person {
				sc = min(sc, -1)
			} else if relative && theirs == nil {
				theirs = region
			}
			if best == nil || (region != best && sc > bestScore) {
				best, bestScore = region, sc
			}
			i = end - 1
			break
		}
	}
	if theirs != nil && theirs != best && !writerUses(ws) {
		// "my son is at uni in bristol and im in spain, where can he get
		// help": the helplines are for the one who needs the help, and
		// an emergency number works only where they are.
		return theirs, true
	}
	if best == nil {
		best = ix.shortFormAlone(norm)
	}
	return best, false
}

// shortFormAlone is the region of a state's short form that stands as a
// clause of its own, opening or closing the message: "qld. cant sleep",
// "tas - my partner uses every day", "... any tips? (ont)". Inside a
// sentence such words are too often something else ("cramps in my ab").
func (ix *index) shortFormAlone(norm string) *knowledge.Region {
	clauses := strings.FieldsFunc(norm, func(r rune) bool {
		return strings.ContainsRune(".,;:!?()-\n", r)
	})
	if len(clauses) == 0 {
		return nil
	}
	for _, i := range []int{0, len(clauses) - 1} {
		if r := ix.afterTown[strings.TrimSpace(clauses[i])]; r != nil {
			return r
		}
	}
	return nil
}

// withoutPlaces leaves out the places the regions list, and a state's short
// form right after one ("perth wa"), before the models read a message or an
// example: a place says which helplines to show, never what the person
// asks, and a town the examples happen to name ("best pubs in manchester")
// must not pull a question towards a topic or away from all of them.
func (ix *index) withoutPlaces(ws []string) []string {
	if len(ix.places) == 0 {
		return ws
	}
	var out []string // nil until a place is found: most messages name none
	for i := 0; i < len(ws); i++ {
		end, _ := ix.placeEnd(ws, i)
		if end == i {
			end, _ = ix.peopleEnd(ws, i, nil)
		}
		if end == i {
			if out != nil {
				out = append(out, ws[i])
			}
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(ws)), ws[:i]...)
		}
		if end < len(ws) && (ix.afterTown[ws[end]] != nil || ws[end] == "wa" || ws[end] == "sa") {
			end++
		}
		i = end - 1
	}
	if out == nil {
		return ws
	}
	return out
}

// placeEnd is the end and region of the listed place that starts at ws[i],
// or i and nil.
func (ix *index) placeEnd(ws []string, i int) (int, *knowledge.Region) {
	for _, p := range ix.placesAt(ws[i]) {
		if end := i + len(p.words); end <= len(ws) && placeAt(ws[i:end], p.words) {
			return end, p.region
		}
	}
	return i, nil
}

// peopleEnd is the end and region of the word for a region's people that
// starts at ws[i] ("aussie", "new zealander"), or i and nil. A kratom
// colour before it or a product word after it makes it a product name:
// "red thai", "green malay", "thai kratom", "american kratom association".
// Words in another clause are not read with it ("im aussie. kratom an
// opioid?"): starts marks the words that open a clause, when known.
func (ix *index) peopleEnd(ws []string, i int, starts map[int]bool) (int, *knowledge.Region) {
	if len(ix.people) == 0 || (i > 0 && !starts[i] && productBefore[ws[i-1]]) {
		return i, nil
	}
	for _, p := range ix.people[ws[i]] {
		end := i + len(p.words)
		if end <= len(ws) && equal(ws[i:end], p.words) && (end == len(ws) || starts[end] || !productAfter[ws[end]]) {
			return end, p.region
		}
	}
	return i, nil
}

// clauseTokens are the words of normalised text, with the indexes of the
// words that open a clause (after . , ; : ! ? or a bracket).
func clauseTokens(norm string) ([]string, map[int]bool) {
	var ws []string
	starts := map[int]bool{}
	for _, c := range strings.FieldsFunc(norm, func(r rune) bool { return strings.ContainsRune(".,;:!?()\n", r) }) {
		starts[len(ws)] = true
		ws = append(ws, tokens(c)...)
	}
	return ws, starts
}

var (
	productBefore = map[string]bool{
		"red": true, "green": true, "white": true, "gold": true, "golden": true, "yellow": true,
		"super": true, "maeng": true, "premium": true, "pure": true, "bali": true, "vein": true,
	}
	productAfter = map[string]bool{
		"kratom": true, "strain": true, "strains": true, "powder": true, "caps": true,
		"capsules": true, "leaf": true, "leaves": true, "extract": true, "vein": true, "tea": true, "grade": true,
		"da": true, "shot": true, "shots": true, "blend": true,
	}
)

// placesAt are the places that may start with the word w, as typed or as a
// possessive ("sydney's").
func (ix *index) placesAt(w string) []place {
	cands := ix.places[w]
	if u := unPossessive(w); u != "" {
		cands = append(cands[:len(cands):len(cands)], ix.places[u]...)
	}
	return cands
}

// placeAt is a place's words as typed, its last word perhaps possessive:
// "sydney's inner west", "new york's".
func placeAt(ws, place []string) bool {
	last := len(place) - 1
	if !equal(ws[:last], place[:last]) {
		return false
	}
	return ws[last] == place[last] || unPossessive(ws[last]) == place[last]
}

// unPossessive is a word without the "s" that normalising left of an "'s",
// or "" for a word too short to be a place's possessive ("nhs", "kls").
func unPossessive(w string) string {
	if len(w) < 5 || w[len(w)-1] != 's' {
		return ""
	}
	return w[:len(w)-1]
}

// afterTownOf indexes the regions' after_town abbreviations ("qld",
// "halifax ns"): right after a town's name they say which country it is in.
func afterTownOf(b *knowledge.Base) map[string]*knowledge.Region {
	out := map[string]*knowledge.Region{}
	for _, r := range b.Regions {
		for _, a := range r.AfterTown {
			out[strings.ToLower(a)] = r
		}
	}
	return out
}

// hereBefore are words just before a place that say the writer is there
// now; elsewhereBefore, words that put the place in the writer's past or
// in someone else's life.
var (
	hereBefore = [][]string{
		{"im", "in"}, {"i", "am", "in"}, {"living", "in"}, {"live", "in"}, {"based", "in"},
		{"here", "in"}, {"staying", "in"},
		{"expat", "in"}, {"working", "in"}, {"english", "in"}, {"currently", "in"}, {"living", "on"},
		{"here", "on"}, {"im", "on"}, {"stuck", "in"}, {"back", "in"},
	}
	// movedBefore say the writer came to the place from somewhere else, so
	// it wins over another place they are said to be in ("living in spain
	// for years, moved back to leeds").
	movedBefore = [][]string{
		{"moved", "to"}, {"moved", "back", "to"}, {"relocated", "to"}, {"now", "in"}, {"now", "living", "in"},
	}
	elsewhereBefore = [][]string{
		{"from"}, {"visiting"},
	}
	// awayNow say the writer is at the place for now ("on holiday in
	// bali"); they are read before pastBefore, whose words they end with.
	awayNow = [][]string{
		{"on", "a", "trip", "to"}, {"on", "holiday", "in"}, {"on", "vacation", "in"}, {"holidaying", "in"},
	}
	// pastBefore put the place in the writer's past: "back from a trip to
	// thailand" says where they are not, and must not give a person at home
	// another country's emergency number.
	pastBefore = [][]string{
		{"back", "from"}, {"returned", "from"}, {"trip", "to"}, {"used", "to", "live", "in"},
		// read before hereBefore's "working in"
		{"back", "from", "working", "in"}, {"back", "from", "living", "in"}, {"back", "from", "studying", "in"},
	}
	relatives = map[string]bool{
		"brother": true, "sister": true, "son": true, "daughter": true, "cousin": true, "mom": true,
		"mum": true, "mother": true, "dad": true, "father": true, "friend": true, "uncle": true,
		"aunt": true, "husband": true, "wife": true, "partner": true, "boyfriend": true,
		"girlfriend": true, "kid": true, "kids": true, "family": true, "parents": true, "sibling": true,
		"nephew": true, "niece": true, "grandson": true, "granddaughter": true, "grandma": true,
		"grandpa": true, "nan": true, "nana": true, "fiance": true, "fiancee": true, "bf": true,
		"gf": true, "stepson": true, "stepdaughter": true, "flatmate": true, "roommate": true,
		"housemate": true, "coworker": true, "bestie": true, "hubby": true,
	}
)

// saidInPassing says a place's words are more often said in passing
// ("outside the us", "my brother took it in the us") than to say where
// one is, so they count only with words saying the writer is there.
func saidInPassing(words []string) bool {
	return len(words) == 2 && words[0] == "the" && words[1] == "us"
}

// wasThere is whereNow's score for a place the writer was once and is not
// now; such a place names no region at all.
const wasThere = -2

// whereNow scores the place at ws[i:end] as where the writer is now: 2 when
// the words before it say they moved there, 1 when the words around it say
// they are there, -1 when they put it elsewhere, wasThere when in their
// past, else 0; relative says a relative named just before it made it
// theirs.
func whereNow(ws []string, i, end int) (score int, relative bool) {
	endsWith := func(seq []string) bool {
		return i >= len(seq) && equal(ws[i-len(seq):i], seq)
	}
	for _, seq := range awayNow {
		if endsWith(seq) {
			if relativeBefore(ws, i) { // "my son is on holiday in bali"
				return -1, true
			}
			return 1, false
		}
	}
	for _, seq := range pastBefore {
		if endsWith(seq) {
			return wasThere, false
		}
	}
	for _, seq := range elsewhereBefore {
		// before a relative's place: "our family came from vietnam" says
		// where they were, not where anyone needs help now
		if endsWith(seq) {
			return -1, false
		}
	}
	if relativeBefore(ws, i) {
		// "my mum back in penang", "my brother moved to leeds"
		return -1, true
	}
	for _, seq := range movedBefore {
		if endsWith(seq) {
			return 2, false
		}
	}
	if movedFromTo(ws, i) {
		return 2, false
	}
	for _, seq := range hereBefore {
		if endsWith(seq) {
			return 1, false
		}
	}
	if end < len(ws) && (ws[end] == "now" || ws[end] == "here" || ws[end] == "btw") {
		return 1, false
	}
	return 0, false
}

// movedFromTo says the place at ws[i] ends a move: "moved from vancouver to
// austin", "relocated from perth wa to leeds".
func movedFromTo(ws []string, i int) bool {
	if i < 3 || ws[i-1] != "to" {
		return false
	}
	for j := i - 3; j >= 1 && j >= i-6; j-- {
		if ws[j] == "from" {
			return moveWords[ws[j-1]]
		}
	}
	return false
}

var moveWords = map[string]bool{"moved": true, "relocated": true, "moving": true, "emigrated": true, "came": true, "transferred": true}

// relativeBefore says a relative is named just before the place at ws[i]:
// "my brother in philly", "my cousin lives in texas", "my son's at uni in
// bristol", "my brother back home in adelaide".
// A word for the writer between them ("my brother and i live in leeds")
// makes the place the writer's too.
func relativeBefore(ws []string, i int) bool {
	for j := i - 1; j >= 0 && j >= i-5; j-- {
		if writerWords[ws[j]] {
			return false
		}
		if relatives[ws[j]] || relatives[strings.TrimSuffix(ws[j], "s")] {
			return true
		}
	}
	return false
}

// namedAfterRelative says the place at ws[i] follows a relative or a title
// directly, so it is a person's name: "my daughter sydney is 16", "my
// sister victoria", "dr london".
func namedAfterRelative(ws []string, i int) bool {
	return i > 0 && (relatives[ws[i-1]] || ws[i-1] == "dr" || ws[i-1] == "named" || ws[i-1] == "called")
}

var writerWords = map[string]bool{"i": true, "im": true, "me": true, "we": true, "were": true, "us": true, "ive": true, "id": true}

// writerUses says the writer is the one using or coming off kratom ("im
// the one on kratom", "my withdrawal"), so their own place wins over a
// relative's.
func writerUses(ws []string) bool {
	for i := range ws {
		for _, seq := range writerUsing {
			if i+len(seq) <= len(ws) && equal(ws[i:i+len(seq)], seq) {
				return true
			}
		}
	}
	return false
}

var writerUsing = [][]string{
	{"im", "the", "one"}, {"i", "am", "the", "one"}, {"its", "me", "who"}, {"for", "me"}, {"help", "me"},
	{"i", "use"}, {"i", "used"}, {"i", "take"}, {"i", "took"}, {"i", "started"}, {"i", "quit"},
	{"i", "stopped"}, {"i", "drink"}, {"im", "on"}, {"im", "hooked"}, {"im", "addicted"},
	{"im", "dependent"}, {"im", "coming", "off"}, {"im", "quitting"}, {"im", "using"}, {"im", "taking"},
	{"im", "trying", "to", "quit"}, {"ive", "been", "using"}, {"ive", "been", "taking"}, {"ive", "been", "on"},
	{"i", "have", "been"}, {"my", "habit"}, {"my", "use"}, {"my", "withdrawal"}, {"my", "wd"},
	{"my", "addiction"}, {"my", "last", "dose"}, {"i", "need", "help"}, {"can", "i", "get"},
	{"i", "got", "hooked"}, {"got", "me", "hooked"},
}

// followUpTTL is how long the last topic of a chat is remembered for
// reading a short follow-up; memoryCap bounds how many chats are kept.
const (
	followUpTTL = 30 * time.Minute
	memoryCap   = 20000
)

// chatMemory keeps, in memory only, the last topic answered in each chat,
// so that "how long does that last" can be read after "cant sleep". It
// holds a topic id and a time, never what the person wrote, and is never
// logged or stored.
type chatMemory struct {
	mu  sync.Mutex
	m   map[string]lastTopic
	now func() time.Time
}

type lastTopic struct {
	topic string
	at    time.Time
}

func (c *chatMemory) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// last returns the chat's last topic if it is recent.
func (c *chatMemory) last(chat string) (string, bool) {
	if chat == "" {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.m[chat]
	if !ok || c.clock().Sub(l.at) > followUpTTL {
		return "", false
	}
	return l.topic, true
}

// remember sets the chat's last topic; an empty topic forgets it.
func (c *chatMemory) remember(chat, topic string) {
	if chat == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if topic == "" {
		delete(c.m, chat)
		return
	}
	if c.m == nil {
		c.m = map[string]lastTopic{}
	}
	now := c.clock()
	if len(c.m) >= memoryCap {
		for k, l := range c.m {
			if now.Sub(l.at) > followUpTTL {
				delete(c.m, k)
			}
		}
		for k := range c.m { // still full: forget an arbitrary chat
			if len(c.m) < memoryCap {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[chat] = lastTopic{topic, now}
}

// followUpWords mark a message that leans on what was said before.
var followUpWords = map[string]bool{
	"that": true, "it": true, "this": true, "those": true, "these": true, "them": true,
	"there": true, "then": true, "thats": true, "its": true, "he": true, "she": true,
	"him": true, "her": true, "they": true, "one": true,
}

var followUpStarts = map[string]bool{"and": true, "but": true, "also": true, "so": true, "or": true, "what": true, "how": true}

// looksLikeFollowUp is a short message that refers back ("and at night?",
// "how long does that last").
func looksLikeFollowUp(a analysis) bool {
	if len(a.words) == 0 || len(a.words) > 8 {
		return false
	}
	if followUpStarts[a.words[0]] && len(a.content) <= 3 {
		return true
	}
	for _, w := range a.words {
		if followUpWords[w] {
			return true
		}
	}
	return false
}

// bareFollowUp is a short question with no words of its own beyond a
// question word or a place: "why", "how come?", "scotland too?". Small
// talk ("ok", "thanks") is none.
func bareFollowUp(a analysis, text string) bool {
	if len(a.all) == 0 || len(a.all) > 4 {
		return false
	}
	if len(a.content) > 0 {
		return false
	}
	if strings.HasSuffix(strings.TrimSpace(text), "?") {
		return true
	}
	for _, w := range a.words { // a.all holds stems: "whi"
		if bareQuestions[w] {
			return true
		}
	}
	return false
}

var bareQuestions = map[string]bool{"why": true, "how": true, "when": true, "really": true, "too": true, "also": true}

// aboutAnAdult says the message tells of a grown son or daughter: "my son
// is 28", "our 30 year old daughter", "daughter (24)", "adult son", "in his
// 20s". A topic for parents of teenagers gives way to its for_adults topic.
// "son is 20 days off kratom" and "my son takes 25 pills" give no age.
func aboutAnAdult(ws []string) bool {
	child := func(i int) bool { return i >= 0 && i < len(ws) && childWords[ws[i]] }
	near := func(i, before, after int) bool {
		for j := i - before; j <= i+after; j++ {
			if j != i && child(j) {
				return true
			}
		}
		return false
	}
	for i, w := range ws {
		if (w == "adult" || w == "grown") && (child(i+1) || child(i+2)) {
			return true
		}
		if (w == "his" || w == "her" || w == "their") && i > 0 && ws[i-1] == "in" && i+1 < len(ws) && adultDecades[ws[i+1]] {
			return true
		}
		age, unit := adultAge(w)
		if age == 0 {
			continue
		}
		next := ""
		if i+1 < len(ws) {
			next = ws[i+1]
		}
		if ageUnits[next] {
			unit = true
		}
		if notAges[next] {
			continue
		}
		prev := ""
		if i > 0 {
			prev = ws[i-1]
		}
		switch {
		case unit && near(i, 1, 4): // "my 23 year old son", "son 24yo"
			return true
		case child(i - 1): // "daughter (24)", "my son 28 lives at home"
			return true
		case ageVerbs[prev] && near(i, 4, 0): // "my son is 28", "grandson just turned 19"
			return true
		}
	}
	return false
}

// adultAge reads an age of 18 or more from a word: "28", or "28yo" with
// its unit.
func adultAge(w string) (age int, unit bool) {
	for _, suf := range []string{"yo", "yrs", "yr", "y"} {
		if n, ok := strings.CutSuffix(w, suf); ok && n != "" {
			w, unit = n, true
			break
		}
	}
	n, err := strconv.Atoi(w)
	if err != nil || n < 18 || n > 99 {
		return 0, false
	}
	return n, unit
}

var (
	childWords = map[string]bool{"son": true, "sons": true, "daughter": true, "daughters": true, "kid": true, "kids": true,
		"child": true, "children": true, "boy": true, "girl": true, "stepson": true, "stepdaughter": true,
		"grandson": true, "granddaughter": true, "grandkid": true, "grandchild": true}
	// ageUnits follow an age: "23 year old", "24 yrs".
	ageUnits = map[string]bool{"year": true, "years": true, "yr": true, "yrs": true, "yo": true}
	// notAges follow a number that is not an age: "20 days off", "25 pills".
	notAges = map[string]bool{"day": true, "days": true, "week": true, "weeks": true, "month": true, "months": true,
		"hour": true, "hours": true, "hrs": true, "minutes": true, "mins": true, "g": true, "gs": true, "grams": true,
		"gram": true, "mg": true, "pills": true, "caps": true, "capsules": true, "shots": true, "times": true,
		"dollars": true, "bucks": true, "percent": true, "kg": true, "lbs": true, "pounds": true, "miles": true, "km": true}
	// ageVerbs come before an age: "is 28", "turned 19".
	ageVerbs = map[string]bool{"is": true, "hes": true, "shes": true, "turned": true, "turns": true, "aged": true,
		"age": true, "now": true, "almost": true, "nearly": true, "just": true, "was": true}
	adultDecades = map[string]bool{"20s": true, "30s": true, "40s": true, "50s": true, "twenties": true,
		"thirties": true, "forties": true, "fifties": true}
)

// aboutSomeoneElse says the message tells of another person's danger ("my
// husband keeps talking about death", "my friend said she wants to kill
// herself"), so the crisis reply speaks to the one who must act. Anything
// the writer says of themselves ("i want to die", "myself") keeps it theirs:
// a person at risk must never be answered as a bystander.
func aboutSomeoneElse(ws []string) bool {
	if len(ws) == 0 {
		return false
	}
	for i := range ws {
		for _, seq := range selfAtRisk {
			if i+len(seq) <= len(ws) && equal(ws[i:i+len(seq)], seq) {
				return false
			}
		}
	}
	relative, third, first, reflexive := false, false, false, false
	for _, w := range ws {
		switch {
		case relatives[w] || relatives[strings.TrimSuffix(w, "s")]:
			relative = true
		case thirdPerson[w]:
			third = true
		case w == "himself" || w == "herself" || w == "themselves" || w == "themself":
			reflexive = true
		case writerWords[w] || w == "myself" || w == "mine":
			first = true
		}
	}
	return reflexive || relative && (third || !first)
}

var (
	thirdPerson = map[string]bool{"he": true, "she": true, "hes": true, "shes": true, "his": true, "her": true, "him": true, "they": true, "theyre": true, "their": true, "them": true}
	// selfAtRisk are words a writer uses of their own danger.
	selfAtRisk = [][]string{
		{"myself"}, {"kill", "me"}, {"end", "me"}, {"i", "want", "to", "die"}, {"i", "wanna", "die"},
		{"i", "want", "to", "end"}, {"i", "dont", "want", "to", "live"}, {"i", "dont", "want", "to", "be", "here"},
		{"i", "dont", "want", "to", "wake"}, {"i", "want", "it", "to", "end"}, {"i", "cant", "go", "on"},
		{"i", "cant", "do", "this"}, {"im", "done"}, {"im", "suicidal"}, {"i", "am", "suicidal"},
		{"i", "feel", "suicidal"}, {"i", "wish", "i", "was", "dead"}, {"i", "wish", "i", "were", "dead"},
		{"im", "going", "to", "kill"}, {"im", "gonna", "kill"}, {"i", "want", "to", "kill"},
		{"i", "have", "pills"}, {"ive", "been", "cutting"}, {"i", "cut"}, {"im", "thinking", "of"},
		{"im", "thinking", "about"}, {"i", "keep", "thinking"}, {"i", "think", "about", "killing"},
		{"i", "feel", "like", "dying"}, {"i", "took"}, {"i", "overdosed"}, {"im", "overdosing"},
	}
)
