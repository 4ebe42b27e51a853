package knowledge

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/agnivade/levenshtein"
)

// RequiredCrisis are the crisis categories every knowledge base must define:
// a crisis.yaml cut short must never go live with some of them gone.
var RequiredCrisis = []struct{ ID, Contact, What string }{
	{"suicide", ContactCrisis, "thoughts of suicide"},
	{"self-harm", ContactCrisis, "self-harm"},
	{"harm-to-others", ContactCrisis, "wanting to hurt someone"},
	{"overdose", ContactEmergency, "an overdose"},
	{"seizure", ContactEmergency, "a seizure"},
	{"medical-emergency", ContactEmergency, "someone not breathing, unresponsive or with chest pain"},
}

func requiredIDs() string {
	var ids []string
	for _, r := range RequiredCrisis {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, ", ")
}

// Number words and measures, for amounts written in words ("half a
// teaspoon", "one capsule"). A scan over words, not a regular expression:
// the pattern was slow on large knowledge bases.
var (
	numberWords = set("half quarter one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty couple")
	measures    = set("teaspoon teaspoons tablespoon tablespoons tsp tsps tbsp tbsps spoon spoons spoonful spoonfuls capsule capsules caps pill pills tablet tablets gram grams gs milligram milligrams mg mgs scoop scoops cup cups shot shots drop drops dose doses serving servings")
	// between the number and the measure: "half a teaspoon", "two heaped spoons"
	fillers = set("a an of level heaped heaping and")
)

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// findAmountWords finds each measure with a number before it.
func findAmountWords(s string) [][]int {
	type span struct {
		w          string
		start, end int
	}
	var toks []span
	start := -1
	for i, r := range s + " " {
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.'
		switch {
		case inWord && start < 0:
			start = i
		case !inWord && start >= 0:
			toks = append(toks, span{strings.ToLower(strings.Trim(s[start:i], ".")), start, i})
			start = -1
		}
	}
	var out [][]int
	for i, t := range toks {
		if !measures[t.w] {
			continue
		}
		for j := i - 1; j >= 0 && j >= i-4; j-- {
			w := toks[j].w
			if numberWords[w] || w != "" && strings.Trim(w, "0123456789.") == "" {
				out = append(out, []int{toks[j].start, t.end})
				break
			}
			if !fillers[w] {
				break
			}
		}
	}
	return out
}

var (
	scheduleRe    = regexp.MustCompile(`(?i)\b(?:every|each)\s+(?:two|three|four|five|six|seven|other|few|\d+)\s+(?:days?|weeks?|hours?)\b|\b(?:by|cut|drop|reduce)\s+(?:\d+|ten|twenty|twenty-five|fifty)\s?(?:%|percent)`)
	phoneInTextRe = regexp.MustCompile(`\+?\(?\d[\d\-. ()]{5,}\d|(?i:\b(?:call|text|dial|ring|phone)\s+)\d{3,4}\b`)
	linkRe        = regexp.MustCompile(`(?i)\bhttps?://\S+|\bwww\.\S+`)
	keyLineRe     = regexp.MustCompile(`(?m)^[ \t]*([a-z_]+):(?:\s|$)`)
)

// answerChecks are the things an answer must never hold, found by pattern.
// Each message takes what holds the text (the answer of "sleep") and the
// text found. A check runs its
// pattern only on answers holding one of its hints (lowercased), which
// keeps a large knowledge base quick to load: most answers hold none.
var answerChecks = []struct {
	hints   []string
	find    func(string) [][]int
	message string
}{
	{[]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, func(s string) [][]int {
		if loc := findDose(s); loc != nil {
			return [][]int{loc}
		}
		return nil
	}, "%s names an amount (%q); the bot never gives doses or amounts, so say 'a clinician plans this' instead"},
	{[]string{"spoon", "tsp", "tbsp", "cap", "pill", "tablet", "gram", "mg", " gs", "scoop", "cup", "shot", "drop", "dose", "serving"},
		findAmountWords, "%s names an amount in words (%q); the bot never gives doses or amounts, in digits or words, so say 'a clinician plans this' instead"},
	{[]string{"every", "each", "%", "percent"}, all(scheduleRe), "%s gives a schedule (%q); the bot never gives taper schedules, so say 'a clinician plans the pace with you' instead"},
	{[]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, all(phoneInTextRe), "%s has a phone number (%q); the bot adds the right helpline for each person's region by itself, so remove it (helplines belong in referrals.yaml)"},
	{[]string{"http", "www."}, all(linkRe), "%s has a web address (%q); put it under 'sources:' or in referrals.yaml, where it is checked, and name the service in words here"},
}

// hinted says whether lower holds one of the hints.
func hinted(lower string, hints []string) bool {
	for _, h := range hints {
		if strings.Contains(lower, h) {
			return true
		}
	}
	return false
}

func all(re *regexp.Regexp) func(string) [][]int {
	return func(s string) [][]int { return re.FindAllStringIndex(s, -1) }
}

// topicKeys are the keys a topic has: one at the start of an answer's line
// is almost always a key indented too far.
var topicKeys = func() map[string]bool {
	_, keys := yamlFields(typeOf[Topic]())
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}()

// strayKey finds a line of text that starts with a topic key.
func strayKey(text string) (string, int) {
	if !strings.Contains(text, ":") {
		return "", 0
	}
	for _, m := range keyLineRe.FindAllStringSubmatchIndex(text, -1) {
		if k := text[m[2]:m[3]]; topicKeys[k] {
			return k, m[2]
		}
	}
	return "", 0
}

// checkExamples holds the examples people's words are learned from to one
// meaning each: none empty, none twice, none teaching two things.
func checkExamples(b *Base, errf func(Position, string, ...any)) {
	type owner struct {
		what string
		at   func(i int) Position // worked out only for a problem: most of a start's checking time went to positions never shown
		i    int
	}
	seen := map[string]owner{}
	add := func(what string, list []string, at func(i int) Position) {
		for i, ex := range list {
			k := exampleKey(ex)
			switch o, dup := seen[k]; {
			case k == "":
				errf(at(i), "%s has an empty example; remove the line", what)
			case dup && o.what == what:
				errf(at(i), "the example %q is listed twice in %s (first at line %d); keep one", ex, what, o.at(o.i).Line)
			case dup:
				errf(at(i), "the example %q of %s is also an example of %s (%s); a message can teach only one thing, so keep it where it fits best", ex, what, o.what, o.at(o.i))
			default:
				seen[k] = owner{what, at, i}
			}
		}
	}
	for _, c := range b.Crisis {
		add(fmt.Sprintf("crisis category %q", c.ID), c.Examples, func(i int) Position { return c.AtItem("examples", i) })
	}
	for _, t := range b.Topics {
		add(fmt.Sprintf("topic %q", t.ID), t.Examples, func(i int) Position { return t.AtItem("examples", i) })
	}
	add("not_crisis", b.NotCrisis, func(i int) Position { return b.notCrisisAt[i] })
	add("off_topic", b.OffTopic, func(i int) Position { return b.offTopicAt[i] })
}

// exampleKey is an example as checkExamples compares it: lowercase, with
// runs of spaces as one. Plain ASCII, nearly every example, takes one pass.
func exampleKey(ex string) string {
	for i := 0; i < len(ex); i++ {
		if ex[i] >= 0x80 {
			return strings.Join(strings.Fields(strings.ToLower(ex)), " ")
		}
	}
	var k strings.Builder
	k.Grow(len(ex))
	space := false
	for i := 0; i < len(ex); i++ {
		c := ex[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			space = k.Len() > 0
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if space {
			k.WriteByte(' ')
			space = false
		}
		k.WriteByte(c)
	}
	return k.String()
}

// checkPlaces makes every place name mean one region.
func checkPlaces(b *Base, errf func(Position, string, ...any)) {
	names := map[string]*Region{}
	for _, r := range b.Regions {
		for _, a := range append([]string{r.Code, r.Name}, r.Aliases...) {
			if a = strings.ToLower(strings.TrimSpace(a)); a != "" && names[a] == nil {
				names[a] = r
			}
		}
	}
	scripts := map[string]*Region{}
	for _, r := range b.Regions {
		for i, sc := range r.Scripts {
			switch o := scripts[sc]; {
			case unicode.Scripts[sc] == nil:
				errf(r.AtItem("scripts", i), "region %s names the script %q, which is not a Unicode script name (like Thai or Khmer, with a capital letter)", r.Code, sc)
			case o != nil:
				errf(r.AtItem("scripts", i), "script %q is listed under region %s too; a script can point to one region's helplines only", sc, o.Code)
			default:
				scripts[sc] = r
			}
		}
	}
	language := map[string]*Region{}
	for _, r := range b.Regions {
		for i, w := range r.Language {
			switch o := language[w]; {
			case len(words(w)) != 1 || w != strings.ToLower(w):
				errf(r.AtItem("language", i), "region %s lists %q as a word of its language; list single lowercase words", r.Code, w)
			case o != nil:
				errf(r.AtItem("language", i), "the word %q is listed under region %s's language too; a word can point to one region's helplines only", w, o.Code)
			default:
				language[w] = r
			}
		}
	}
	after := map[string]*Region{}
	for _, r := range b.Regions {
		for i, a := range r.AfterTown {
			switch ws, o := words(a), after[a]; {
			case len(ws) != 1 || ws[0] != a || a != strings.ToLower(a):
				errf(r.AtItem("after_town", i), "region %s has %q in after_town; write one abbreviation in small letters, like qld", r.Code, a)
			case o == r:
				errf(r.AtItem("after_town", i), "%q is listed twice in after_town of region %s; keep one", a, r.Code)
			case o != nil:
				errf(r.AtItem("after_town", i), "%q is in after_town of regions %s and %s; an abbreviation can point to one region only", a, o.Code, r.Code)
			default:
				after[a] = r
			}
		}
	}
	// Places and people share one namespace: a word says one thing.
	type seen struct {
		r   *Region
		key string
	}
	places := map[string]seen{}
	for _, r := range b.Regions {
		for _, list := range []struct {
			key, noun string
			items     []string
		}{{"places", "place", r.Places}, {"people", "people's word", r.People}} {
			for i, p := range list.items {
				k := strings.ToLower(strings.TrimSpace(p))
				switch o := places[k]; {
				case k == "":
					errf(r.AtItem(list.key, i), "region %s has an empty %s; remove it", r.Code, list.noun)
				case o.r == r:
					errf(r.AtItem(list.key, i), "%s %q is listed twice in region %s; keep one", list.noun, p, r.Code)
				case o.r != nil:
					errf(r.AtItem(list.key, i), "%s %q is listed under region %s too (%s); a place or people's word can point to one region's helplines only", list.noun, p, o.r.Code, o.r.At(o.key))
				case names[k] != nil && names[k] != r:
					errf(r.AtItem(list.key, i), "%s %q of region %s is the name of region %s; remove it here", list.noun, p, r.Code, names[k].Code)
				default:
					places[k] = seen{r, list.key}
				}
			}
		}
	}
}

// checkVocabularyUsed warns about a vocabulary entry whose meaning no topic,
// crisis phrase or trigger uses: the words it maps lead nowhere.
func checkVocabularyUsed(b *Base, warnf func(Position, string, ...any)) {
	needed := map[string]bool{} // the words of every means:, found or not
	for _, s := range b.Synonyms {
		for _, w := range words(strings.ToLower(s.Means)) {
			needed[w] = false
		}
	}
	if len(needed) == 0 {
		return
	}
	left := len(needed) // once every word is found, the rest need no reading
	mark := func(w string) {
		if found, ok := needed[w]; ok && !found {
			needed[w] = true
			left--
		}
	}
	look := func(texts ...string) {
		for _, t := range texts {
			if left == 0 {
				return
			}
			eachWord(t, func(w string) {
				if _, ok := needed[w]; ok {
					mark(w)
				} else if w != strings.ToLower(w) { // most text is lowercase already
					mark(strings.ToLower(w))
				}
			})
		}
	}
	// The curated text first: it uses most of the vocabulary, and the
	// examples (most of the words) are read only for what it leaves.
	for _, t := range b.Topics {
		look(t.Title, t.Answer)
		look(t.Words...)
		look(t.Questions...)
	}
	for _, c := range b.Crisis {
		look(c.Phrases...)
		look(c.Possible...)
	}
	tr := b.Triggers
	for _, l := range [][]string{tr.Greeting, tr.Thanks, tr.Help, tr.Plea, tr.Dosing} {
		look(l...)
	}
	for _, t := range b.Topics {
		look(t.Examples...)
	}
	for _, c := range b.Crisis {
		look(c.Examples...)
	}
	look(b.OffTopic...)
	look(b.NotCrisis...)
	for _, s := range b.Synonyms {
		unused := false
		for _, w := range words(strings.ToLower(s.Means)) {
			unused = unused || !needed[w]
		}
		if unused {
			warnf(s.At("means"), "vocabulary entry %q is used by no topic, crisis phrase or trigger, so its words lead nowhere; add %q to a topic's words, or fix the spelling of means:", s.Means, s.Means)
		}
	}
}

// eachWord calls f with each word of text (letters, digits, apostrophes),
// without copying.
func eachWord(text string, f func(string)) {
	start := -1
	for i, r := range text {
		in := unicode.IsLetter(r) || unicode.IsNumber(r) || r == '\''
		if in && start < 0 {
			start = i
		} else if !in && start >= 0 {
			f(text[start:i])
			start = -1
		}
	}
	if start >= 0 {
		f(text[start:])
	}
}

// words splits text into words (letters, digits and apostrophes).
func words(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '\'' })
}

// checkText runs the answer checks on one text people read: what names it
// in messages, and at says where a byte offset of it stands.
func checkText(what, text string, at func(off int) Position, errf func(Position, string, ...any)) {
	var found [][]int // one problem for one piece of text, from the first check that finds it
	lower := strings.ToLower(text)
	for _, c := range answerChecks {
		if !hinted(lower, c.hints) {
			continue
		}
		for _, loc := range c.find(text) {
			if slices.ContainsFunc(found, func(f []int) bool { return loc[0] < f[1] && f[0] < loc[1] }) {
				continue
			}
			found = append(found, loc)
			errf(at(loc[0]), c.message, what, text[loc[0]:loc[1]])
		}
	}
}

// missingRefs gathers the places that name a topic id that does not exist,
// so that a renamed topic gives one problem, not one per place naming it.
type missingRefs map[string][]missingRef

type missingRef struct {
	at      Position
	message string
}

func (m missingRefs) add(id string, at Position, message string) {
	m[id] = append(m[id], missingRef{at, message})
}

// report says each missing id once when several places name it, and
// suggests the existing id closest to it.
func (m missingRefs) report(ids map[string]*Topic, errf func(Position, string, ...any)) {
	names := make([]string, 0, len(m))
	for id := range m {
		names = append(names, id)
	}
	sort.Strings(names)
	for _, id := range names {
		refs := m[id]
		hint := ""
		if near := closest(id, ids); near != "" {
			hint = fmt.Sprintf("; did you mean %q?", near)
		}
		if len(refs) < 3 {
			for _, r := range refs {
				errf(r.at, "%s%s", r.message, hint)
			}
			continue
		}
		var others []string
		for _, r := range refs[1:min(len(refs), 6)] {
			others = append(others, fmt.Sprintf("%s:%d", r.at.File, r.at.Line))
		}
		if len(refs) > 6 {
			others = append(others, "...")
		}
		errf(refs[0].at, "topic %q does not exist, but %d places name it (here, and %s); if it was renamed, use its new id in each place, or rename it back%s",
			id, len(refs), strings.Join(others, ", "), hint)
	}
}

// closest is the existing topic id nearest to a missing one, if any is near.
func closest(id string, ids map[string]*Topic) string {
	best, bestD := "", 4
	for c := range ids {
		if d := levenshtein.ComputeDistance(id, c); d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	return best
}
