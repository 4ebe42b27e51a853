// Package knowledge holds the YAML knowledge base that maintainers edit, embeds
// it in the binary as the default, and loads and checks it.
//
// It is for turning files into a Base the answer engine can trust. It must
// never accept a broken edit silently: every problem is reported as
// file:line:col in words a maintainer can act on, and a Base with errors is
// never returned.
package knowledge

import (
	"fmt"
	"strings"
)

// Kind is what sort of topic an entry is.
type Kind string

// The kinds of topic the platforms offer as menus.
const (
	Symptom   Kind = "symptom"
	Treatment Kind = "treatment"
	FAQ       Kind = "faq"
)

// Kinds lists every kind in menu order.
var Kinds = []Kind{Symptom, Treatment, FAQ}

// Position is where something stands in a YAML file.
type Position struct {
	File string
	Line int
	Col  int
}

func (p Position) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Located is embedded in every decoded struct so that checks can point at the
// line a maintainer has to change. It is exported only so that the cache of
// checked knowledge keeps the positions along with the text.
type Located struct {
	Pos    Position       `yaml:"-"`
	Fields FieldPositions `yaml:"-"`
}

// At is where field (its YAML key) stands, or the struct itself when absent.
func (l Located) At(field string) Position {
	if p, ok := l.Fields[field]; ok {
		return p
	}
	return l.Pos
}

// AtItem is where item i of a list field stands.
func (l Located) AtItem(field string, i int) Position {
	if p, ok := l.Fields[fmt.Sprintf("%s.%d", field, i)]; ok {
		return p
	}
	return l.At(field)
}

// AtText is where the line holding byte offset off of a text field stands,
// for text written as a block (answer: |).
func (l Located) AtText(field, text string, off int) Position {
	p, ok := l.Fields[field+".text"]
	if !ok {
		return l.At(field)
	}
	p.Line += strings.Count(text[:off], "\n")
	return p
}

// Source is where an answer's facts come from.
type Source struct {
	Located `yaml:"-"`
	Title   string `yaml:"title"`
	URL     string `yaml:"url"`
}

// Topic is one entry people can reach: a symptom, a treatment step or a FAQ.
type Topic struct {
	Located   `yaml:"-"`
	ID        string   `yaml:"id"`
	Title     string   `yaml:"title"`
	Kind      Kind     `yaml:"kind"`
	Words     []string `yaml:"words"`
	Questions []string `yaml:"questions"`
	// Examples are messages in people's own words that the understanding
	// model learns this topic from (never the held-out test messages).
	Examples []string `yaml:"examples"`
	Answer   string   `yaml:"answer"`
	Related  []string `yaml:"related"`
	// ForRegions and Elsewhere: an answer about some regions' rules only
	// (the US law) sends people in every other region to the Elsewhere
	// topic (the law in other countries).
	ForRegions []string `yaml:"for_regions"`
	Elsewhere  string   `yaml:"elsewhere"`
	// ForAdults is the topic that answers instead when the message tells of
	// a grown son or daughter ("my son is 28"): the teenager's article is
	// not for them.
	ForAdults string   `yaml:"for_adults"`
	Sources   []Source `yaml:"sources"`
	Reviewed  string   `yaml:"reviewed"`
}

// Paragraphs splits the answer at blank lines, trimmed, without empty ones.
func (t *Topic) Paragraphs() []string { return Paragraphs(t.Answer) }

// Paragraphs splits text at blank lines, trimmed, without empty ones.
func Paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Contact is one helpline, text line or website.
type Contact struct {
	Located `yaml:"-"`
	Name    string `yaml:"name"`
	Phone   string `yaml:"phone"`
	Text    string `yaml:"text"`
	URL     string `yaml:"url"`
	Note    string `yaml:"note"`
}

// Region holds the helplines for one country or area.
type Region struct {
	Located `yaml:"-"`
	Code    string   `yaml:"code"`
	Name    string   `yaml:"name"`
	Aliases []string `yaml:"aliases"`
	// Places are countries, states, provinces and cities that, named in a
	// message, mean this region's helplines fit the person.
	Places []string `yaml:"places"`
	// People are the words for this region's people ("aussie", "thai"):
	// they say where someone is from, so they count only when no place
	// says where the person is now, and never right after a kratom colour
	// or before a product word ("red thai", "malay kratom").
	People []string `yaml:"people"`
	// Scripts are writing systems only this region's people write in (by
	// their Unicode names, like Thai): a message written in one gets this
	// region's helplines when it names no place.
	Scripts []string `yaml:"scripts"`
	// Language lists everyday words of a language that, among the regions
	// here, only this region's people write ("nak", "dah" in Malay): a
	// message with two different ones, and more of them than of any other
	// region's, gets this region's helplines when it names no place.
	Language []string `yaml:"language"`
	// AfterTown are abbreviations of this region's states or provinces
	// that, right after a town's name, say the town is in this region
	// ("ipswich qld"). Alone they are too often other words.
	AfterTown []string  `yaml:"after_town"`
	Emergency string    `yaml:"emergency"`
	Referral  []Contact `yaml:"referral"`
	Crisis    []Contact `yaml:"crisis"`
	More      []Contact `yaml:"more"`
}

// Contact kinds in a crisis category.
const (
	ContactCrisis    = "crisis"
	ContactEmergency = "emergency"
)

// CrisisCategory is a group of phrases that mean someone may be in danger.
type CrisisCategory struct {
	Located `yaml:"-"`
	ID      string `yaml:"id"`
	Contact string `yaml:"contact"`
	Message string `yaml:"message"`
	// SomeoneElse replaces Message when the writer tells of someone
	// else's danger ("my husband keeps talking about death"): they are
	// the one who must act, not the one at risk. Empty: Message.
	SomeoneElse string   `yaml:"someone_else"`
	Phrases     []string `yaml:"phrases"`
	// Possible are phrases that often tell of this danger but as often of
	// withdrawal alone ("i cant take this anymore"): the reply leads with
	// the line and still answers, as for any possible crisis.
	Possible []string `yaml:"possible"`
	// Examples are crisis messages in people's own words, for the crisis
	// model to learn from; phrases stay as the floor.
	Examples []string `yaml:"examples"`
}

// Synonym maps what people type to the words the topics use.
type Synonym struct {
	Located `yaml:"-"`
	Means   string   `yaml:"means"`
	Words   []string `yaml:"words"`
}

// Messages are the fixed texts the bot uses outside topics.
type Messages struct {
	Located  `yaml:"-"`
	Welcome  string `yaml:"welcome"`
	Help     string `yaml:"help"`
	Fallback string `yaml:"fallback"`
	Thanks   string `yaml:"thanks"`
	Greeting string `yaml:"greeting"`
	// Bot answers "are you a real person": it is a bot, and the helpline
	// has people. Empty: the help text.
	Bot         string `yaml:"bot"`
	Dosing      string `yaml:"dosing"`
	CrisisIntro string `yaml:"crisis_intro"`
	Resources   string `yaml:"resources"`
	Privacy     string `yaml:"privacy"`
	// PrivacyStore replaces Privacy when an operator has turned on the
	// opt-in feedback store, so /privacy always says exactly what is kept.
	PrivacyStore string `yaml:"privacy_store"`
	// FallbackLong replaces Fallback for a long post the bot could not
	// place: it must never ask someone who wrote a paragraph to write less.
	// Empty: a built-in text.
	FallbackLong string `yaml:"fallback_long"`
	// PossibleCrisis is said after the crisis line when danger is possible
	// but not certain, before the answer to the question. Empty: a built-in
	// text.
	PossibleCrisis string `yaml:"possible_crisis"`
	// PossibleEmergency replaces PossibleCrisis when the line above is the
	// emergency number (an overdose, a seizure), so it never points to the
	// crisis line that follows the number. Empty: a built-in text.
	PossibleEmergency string `yaml:"possible_emergency"`
	// LikelyCrisis follows the crisis category's first words, in place of
	// PossibleCrisis, when danger is likely and the message asks nothing,
	// and leads into the answer. Empty: a built-in text.
	LikelyCrisis string `yaml:"likely_crisis"`
	// Plea answers "help me" or "i need help" with nothing else said: it
	// follows the crisis line, since the bot cannot tell a person in danger
	// from one who wants to stop using. Empty: a built-in text.
	Plea string `yaml:"plea"`
}

// Triggers are the words that mark small talk and dosing questions.
type Triggers struct {
	Located  `yaml:"-"`
	Greeting []string `yaml:"greeting"`
	Thanks   []string `yaml:"thanks"`
	Help     []string `yaml:"help"`
	// Plea are the ways people ask for help with nothing else said ("help
	// me", "i need help"); "help" alone asks for the menu.
	Plea []string `yaml:"plea"`
	// Bot are the ways people ask whether they talk to a person.
	Bot    []string `yaml:"bot"`
	Dosing []string `yaml:"dosing"`
}

// Example is a question as people type it with what it must reach.
type Example struct {
	Located `yaml:"-"`
	Q       string `yaml:"q"`
	Topic   string `yaml:"topic"`
	Kind    string `yaml:"kind"`
}

// file is the shape every YAML file decodes into; which keys a file uses
// decides what it contributes, so maintainers may split topics over files.
type file struct {
	Located       `yaml:"-"`
	Topics        []Topic          `yaml:"topics"`
	DefaultRegion string           `yaml:"default_region"`
	Regions       []Region         `yaml:"regions"`
	Categories    []CrisisCategory `yaml:"categories"`
	Synonyms      []Synonym        `yaml:"synonyms"`
	Messages      *Messages        `yaml:"messages"`
	Triggers      *Triggers        `yaml:"triggers"`
	DosingRelated []string         `yaml:"dosing_related"`
	Threshold     *float64         `yaml:"threshold"`
	Examples      []Example        `yaml:"examples"`
	NotCrisis     []string         `yaml:"not_crisis"`
	OffTopic      []string         `yaml:"off_topic"`
}

// Base is a loaded, checked knowledge base. Treat it as read-only: the engine
// shares it between goroutines.
type Base struct {
	Topics        []*Topic
	Regions       []*Region
	DefaultRegion string
	Crisis        []*CrisisCategory
	Synonyms      []*Synonym
	Messages      Messages
	Triggers      Triggers
	DosingRelated []string
	Threshold     float64
	Examples      []Example
	// NotCrisis are ordinary messages that sound alarming ("dying for a
	// coffee"), so the crisis model learns what is not a crisis.
	NotCrisis []string
	// OffTopic are messages the bot should not answer with a topic.
	OffTopic []string
	// Version identifies the content (a hash of the files), for logs and metrics.
	Version string
	// Warnings are problems that do not stop the bot (an old review date).
	Warnings []Problem

	byID     map[string]*Topic
	byRegion map[string]*Region
	// where each not_crisis and off_topic line stands, for messages
	notCrisisAt, offTopicAt []Position
}

// Topic returns the topic with that id.
func (b *Base) Topic(id string) (*Topic, bool) {
	t, ok := b.byID[id]
	return t, ok
}

// Region returns the region with that code or alias (any case), if any.
func (b *Base) Region(name string) (*Region, bool) {
	r, ok := b.byRegion[strings.ToLower(strings.TrimSpace(name))]
	return r, ok
}

// Default returns the default region.
func (b *Base) Default() *Region {
	r, _ := b.Region(b.DefaultRegion)
	return r
}

func (b *Base) index() {
	b.byID = make(map[string]*Topic, len(b.Topics))
	for _, t := range b.Topics {
		b.byID[t.ID] = t
	}
	b.byRegion = make(map[string]*Region)
	for _, r := range b.Regions {
		for _, a := range append([]string{r.Code, r.Name}, r.Aliases...) {
			if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
				if _, taken := b.byRegion[a]; !taken {
					b.byRegion[a] = r
				}
			}
		}
	}
}
