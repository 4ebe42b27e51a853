package bots

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/kratombot/kratombot/knowledge"
)

// Kind says what sort of reply this is, for platforms and the JSON contract.
type Kind string

// The kinds of reply.
const (
	KindAnswer   Kind = "answer"
	KindCrisis   Kind = "crisis"
	KindFallback Kind = "fallback"
)

// Intent says more precisely why the engine chose this reply.
type Intent string

// The intents.
const (
	IntentTopic Intent = "topic"
	// IntentCrisis is the start of a crisis reply's intent, which names the
	// category: "crisis:suicide". IntentPossibleCrisis starts the intent of
	// a reply that leads with the crisis line because danger is possible,
	// and then answers the question, or with none to answer gives the
	// category's own message: "possible-crisis:overdose".
	IntentCrisis         Intent = "crisis"
	IntentPossibleCrisis Intent = "possible-crisis"
	IntentFallback       Intent = "fallback"
	IntentEmpty          Intent = "empty"
	IntentDosing         Intent = "dosing"
	IntentGreeting       Intent = "greeting"
	IntentThanks         Intent = "thanks"
	IntentHelp           Intent = "help"
	IntentBot            Intent = "bot" // "are you a real person"
	IntentWelcome        Intent = "welcome"
	IntentResources      Intent = "resources"
	IntentPrivacy        Intent = "privacy"
	IntentOverview       Intent = "overview"
)

// Suggestion is a topic (or menu) a platform can offer as a button or choice.
// Pass ID to Engine.Open to show it.
type Suggestion struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Referral is the pointer to professional help every reply carries. Its
// fields are unexported so that only the engine can make one, and never an
// empty one.
type Referral struct {
	region string
	lines  []string
}

// fallbackReferral is used if a reply somehow has none (a zero Reply), so
// that no rendering path can ever omit professional help.
var fallbackReferral = Referral{region: "US", lines: []string{
	"Get help — SAMHSA National Helpline: call 1-800-662-4357 · findtreatment.gov (free, confidential, 24/7)",
}}

// Lines is the referral one line each, plain text.
func (r Referral) Lines() []string {
	if len(r.lines) == 0 {
		return append([]string(nil), fallbackReferral.lines...)
	}
	return append([]string(nil), r.lines...)
}

// Text is the referral as plain text.
func (r Referral) Text() string { return strings.Join(r.Lines(), "\n") }

// Region is the region code the referral is for.
func (r Referral) Region() string {
	if r.region == "" {
		return fallbackReferral.region
	}
	return r.region
}

// Reply is what the engine says to a person. Its fields are unexported so
// that a platform can read it but cannot build one without a referral.
type Reply struct {
	kind        Kind
	intent      Intent
	topic       string
	title       string
	lead        []string // crisis lines, shown before anything else
	body        []string // paragraphs
	related     []Suggestion
	suggestions []Suggestion
	referral    Referral
	named       string // region code named in the message, for the platform to keep
}

// Kind is answer, crisis or fallback.
func (r Reply) Kind() Kind {
	if r.kind == "" {
		return KindFallback
	}
	return r.kind
}

// Intent is why the engine chose this reply.
func (r Reply) Intent() Intent { return r.intent }

// NamedRegion is the region code the person named in the message ("I'm in
// Leeds" gives UK), or "" when none was named. Platforms keep it as the
// chat's region, as /region does.
func (r Reply) NamedRegion() string { return r.named }

// Topic is the id of the topic answered, or "" when none.
func (r Reply) Topic() string { return r.topic }

// Title is the heading to show, or "" when none.
func (r Reply) Title() string { return r.title }

// Lead is what must come first: the crisis line and emergency number in a
// crisis, nothing otherwise.
func (r Reply) Lead() []string { return append([]string(nil), r.lead...) }

// Paragraphs is the body of the answer.
func (r Reply) Paragraphs() []string { return append([]string(nil), r.body...) }

// Related lists topics related to the one answered.
func (r Reply) Related() []Suggestion { return append([]Suggestion(nil), r.related...) }

// Suggestions lists "did you mean" topics or menu entries to offer.
func (r Reply) Suggestions() []Suggestion { return append([]Suggestion(nil), r.suggestions...) }

// Choices is what a platform should offer as buttons: suggestions first,
// then related topics, without repeats.
func (r Reply) Choices() []Suggestion {
	seen := map[string]bool{}
	var out []Suggestion
	for _, s := range append(r.Suggestions(), r.related...) {
		if !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s)
		}
	}
	return out
}

// Referral is the pointer to professional help; never empty.
func (r Reply) Referral() Referral {
	if len(r.referral.lines) == 0 {
		return fallbackReferral
	}
	return r.referral
}

// Format turns plain text into a platform's markup. Escape must make any
// text safe to show; Bold marks an already escaped heading.
type Format interface {
	Escape(s string) string
	Bold(s string) string
}

// Plain is the format for terminals and JSON: text as it is.
type Plain struct{}

// Escape returns s unchanged.
func (Plain) Escape(s string) string { return s }

// Bold returns s unchanged.
func (Plain) Bold(s string) string { return s }

// Text is exactly what a person reads, plain, referral included.
func (r Reply) Text() string { return strings.Join(r.Messages(0, Plain{}), "\n\n") }

// blocks is the reply in reading order, formatted; the referral is last.
func (r Reply) blocks(f Format) (blocks []string, referral string) {
	for _, l := range r.lead {
		blocks = append(blocks, f.Bold(f.Escape(l)))
	}
	if r.title != "" {
		blocks = append(blocks, f.Bold(f.Escape(r.title)))
	}
	for _, p := range r.body {
		blocks = append(blocks, f.Escape(p))
	}
	lines := r.Referral().Lines()
	for i, l := range lines {
		lines[i] = f.Escape(l)
	}
	return blocks, strings.Join(lines, "\n")
}

// Messages renders the reply as one or more messages of at most max
// characters each (0: no limit), split at paragraph boundaries. The referral
// is always in the last message, and a crisis lead always in the first.
func (r Reply) Messages(max int, f Format) []string {
	blocks, referral := r.blocks(f)
	return pack(append(blocks, referral), max)
}

// pack joins blocks with blank lines into messages of at most max
// characters, keeping the last block whole in the last message.
func pack(blocks []string, max int) []string {
	if max <= 0 {
		return []string{strings.Join(blocks, "\n\n")}
	}
	var out []string
	cur := ""
	for _, b := range blocks {
		for _, piece := range cut(b, max) {
			switch {
			case cur == "":
				cur = piece
			case utf8.RuneCountInString(cur)+2+utf8.RuneCountInString(piece) <= max:
				cur += "\n\n" + piece
			default:
				out = append(out, cur)
				cur = piece
			}
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// cut splits one block longer than max at line, sentence or word ends.
func cut(b string, max int) []string {
	var out []string
	for utf8.RuneCountInString(b) > max {
		r := []rune(b)
		head := string(r[:max])
		at := -1
		for _, sep := range []string{"\n", ". ", " "} {
			if i := strings.LastIndex(head, sep); i > max/3 {
				at = i + len(sep)
				break
			}
		}
		if at <= 0 {
			at = len(head)
		}
		out = append(out, strings.TrimSpace(b[:at]))
		b = strings.TrimSpace(b[at:])
	}
	if b != "" {
		out = append(out, b)
	}
	return out
}

// Fit returns as many whole paragraphs as fit in max characters joined by
// blank lines, cutting a single long paragraph at a word, and whether any
// text was left out. Platforms with a hard limit on one field (Discord's
// embed description) use it; the referral goes in a field of its own.
func Fit(paragraphs []string, max int) (string, bool) {
	var b strings.Builder
	n := 0
	for i, p := range paragraphs {
		need := utf8.RuneCountInString(p)
		if n > 0 {
			need += 2
		}
		if n+need > max {
			if n == 0 {
				return cut(p, max)[0], true
			}
			return b.String(), i < len(paragraphs)
		}
		if n > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(p)
		n += need
	}
	return b.String(), false
}

// replyJSON is the one-line JSON contract of `kratombot ask --json`.
type replyJSON struct {
	Kind        Kind         `json:"kind"`
	Intent      Intent       `json:"intent"`
	Topic       string       `json:"topic"`
	Title       string       `json:"title"`
	Text        string       `json:"text"`
	Referral    string       `json:"referral"`
	Region      string       `json:"region"`
	Suggestions []Suggestion `json:"suggestions"`
	Related     []Suggestion `json:"related"`
}

// MarshalJSON writes the reply in the documented JSON contract.
func (r Reply) MarshalJSON() ([]byte, error) {
	j := replyJSON{
		Kind: r.Kind(), Intent: r.intent, Topic: r.topic, Title: r.title,
		Text: r.Text(), Referral: r.Referral().Text(), Region: r.Referral().Region(),
		Suggestions: r.Suggestions(), Related: r.Related(),
	}
	if j.Suggestions == nil {
		j.Suggestions = []Suggestion{}
	}
	if j.Related == nil {
		j.Related = []Suggestion{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "&" reads better than \u0026 to scripts' users
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// contactLine renders one helpline as plain text.
func contactLine(c knowledge.Contact) string {
	var parts []string
	switch {
	case c.Phone != "" && c.Text != "" && c.Phone == c.Text:
		parts = append(parts, "call or text "+c.Phone)
	default:
		if c.Phone != "" {
			parts = append(parts, "call "+c.Phone)
		}
		if c.Text != "" {
			parts = append(parts, "text "+c.Text)
		}
	}
	if c.URL != "" {
		parts = append(parts, strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(c.URL, "https://"), "www."), "/"))
	}
	s := c.Name
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, " · ")
	}
	if c.Note != "" {
		s += " (" + c.Note + ")"
	}
	return s
}
