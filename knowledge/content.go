package knowledge

import (
	"fmt"
	"regexp"
	"strings"
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

// Number words and measures, for amounts written in words.
const (
	numberWords = `half|quarter|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|a few|a couple of|several|\d+(?:\.\d+)?`
	measures    = `teaspoons?|tablespoons?|tsps?|tbsps?|spoons?|spoonfuls?|capsules?|caps|pills?|tablets?|grams?|gs|milligrams?|mgs?|scoops?|cups?|shots?|drops?|doses?|servings?`
)

var (
	amountWordsRe = regexp.MustCompile(`(?i)\b(?:` + numberWords + `)(?:\s+and\s+a\s+half)?(?:\s+(?:a|an|of\s+a|of\s+an))?\s+(?:level\s+|heaped\s+|heaping\s+)?(?:` + measures + `)\b`)
	scheduleRe    = regexp.MustCompile(`(?i)\b(?:every|each)\s+(?:two|three|four|five|six|seven|other|few|\d+)\s+(?:days?|weeks?|hours?)\b|\b(?:by|cut|drop|reduce)\s+(?:\d+|ten|twenty|twenty-five|fifty)\s?(?:%|percent)`)
	phoneInTextRe = regexp.MustCompile(`\+?\(?\d[\d\-. ()]{5,}\d|(?i:\b(?:call|text|dial|ring|phone)\s+)\d{3,4}\b`)
	linkRe        = regexp.MustCompile(`(?i)\bhttps?://\S+|\bwww\.\S+`)
	wordRe        = regexp.MustCompile(`[\p{L}\p{N}']+`)
	keyLineRe     = regexp.MustCompile(`(?m)^[ \t]*([a-z_]+):(?:\s|$)`)
)

// answerChecks are the things an answer must never hold, found by pattern.
// Each message takes the topic id and the text found.
var answerChecks = []struct {
	find    func(string) [][]int
	message string
}{
	{func(s string) [][]int {
		if loc := findDose(s); loc != nil {
			return [][]int{loc}
		}
		return nil
	}, "the answer of %q names an amount (%q); the bot never gives doses or amounts, so say 'a clinician plans this' instead"},
	{all(amountWordsRe), "the answer of %q names an amount in words (%q); the bot never gives doses or amounts, in digits or words, so say 'a clinician plans this' instead"},
	{all(scheduleRe), "the answer of %q gives a schedule (%q); the bot never gives taper schedules, so say 'a clinician plans the pace with you' instead"},
	{all(phoneInTextRe), "the answer of %q has a phone number (%q); the bot adds the right helpline for each person's region by itself, so remove it (helplines belong in referrals.yaml)"},
	{all(linkRe), "the answer of %q has a web address (%q); put it under 'sources:' or in referrals.yaml, where it is checked, and name the service in words here"},
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
		pos  Position
	}
	seen := map[string]owner{}
	add := func(what string, list []string, at func(i int) Position) {
		for i, ex := range list {
			k := strings.Join(strings.Fields(strings.ToLower(ex)), " ")
			switch o, dup := seen[k]; {
			case k == "":
				errf(at(i), "%s has an empty example; remove the line", what)
			case dup && o.what == what:
				errf(at(i), "the example %q is listed twice in %s (first at line %d); keep one", ex, what, o.pos.Line)
			case dup:
				errf(at(i), "the example %q of %s is also an example of %s (%s); a message can teach only one thing, so keep it where it fits best", ex, what, o.what, o.pos)
			default:
				seen[k] = owner{what, at(i)}
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
	places := map[string]*Region{}
	for _, r := range b.Regions {
		for i, p := range r.Places {
			k := strings.ToLower(strings.TrimSpace(p))
			switch o := places[k]; {
			case k == "":
				errf(r.AtItem("places", i), "region %s has an empty place; remove it", r.Code)
			case o == r:
				errf(r.AtItem("places", i), "place %q is listed twice in region %s; keep one", p, r.Code)
			case o != nil:
				errf(r.AtItem("places", i), "place %q is listed under region %s too (%s); a place can point to one region's helplines only", p, o.Code, o.At("places"))
			case names[k] != nil && names[k] != r:
				errf(r.AtItem("places", i), "place %q of region %s is the name of region %s; remove it here", p, r.Code, names[k].Code)
			default:
				places[k] = r
			}
		}
	}
}

// checkVocabularyUsed warns about a vocabulary entry whose meaning no topic,
// crisis phrase or trigger uses: the words it maps lead nowhere.
func checkVocabularyUsed(b *Base, warnf func(Position, string, ...any)) {
	var all strings.Builder
	write := func(ss ...string) {
		for _, s := range ss {
			all.WriteString(" ")
			all.WriteString(strings.ToLower(s))
			all.WriteString(" ")
		}
	}
	for _, t := range b.Topics {
		write(t.Title, t.Answer)
		write(t.Words...)
		write(t.Questions...)
		write(t.Examples...)
	}
	for _, c := range b.Crisis {
		write(c.Phrases...)
		write(c.Examples...)
	}
	tr := b.Triggers
	for _, l := range [][]string{tr.Greeting, tr.Thanks, tr.Help, tr.Dosing, b.OffTopic, b.NotCrisis} {
		write(l...)
	}
	used := map[string]bool{}
	for _, w := range wordRe.FindAllString(all.String(), -1) {
		used[w] = true
	}
	for _, s := range b.Synonyms {
		unused := false
		for _, w := range wordRe.FindAllString(strings.ToLower(s.Means), -1) {
			unused = unused || !used[w]
		}
		if unused {
			warnf(s.At("means"), "vocabulary entry %q is used by no topic, crisis phrase or trigger, so its words lead nowhere; add %q to a topic's words, or fix the spelling of means:", s.Means, s.Means)
		}
	}
}
