// Package bots is kratombot's platform-neutral answer core: a question in,
// a Reply out, with one package per chat platform beneath it that only turns
// platform events into questions and replies into platform messages.
//
// It must never produce a reply without a referral to professional help,
// never put anything before the crisis line when someone may be in danger,
// never give a dose, and never log or keep what people write.
package bots

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/kratombot/kratombot/knowledge"
)

// Question is one message from a person.
type Question struct {
	Text string
	// Region is a region code or alias; empty or unknown means the default.
	Region string
	// Chat is an opaque key for the conversation ("telegram:42:7" for a chat
	// and forum topic), so a short follow-up can be read in the context of
	// the last answer in that chat. It is kept in memory only, briefly, and
	// never logged or stored. Empty means no context.
	Chat string
}

// Engine answers questions from a knowledge base. It is safe for concurrent
// use, and Swap replaces the knowledge without stopping answers.
type Engine struct {
	ix      atomic.Pointer[index]
	storing atomic.Bool
	chats   chatMemory // last topic per chat, for follow-ups; memory only
}

// SetFeedbackStore tells the engine whether the opt-in feedback store is on,
// so that /privacy says exactly what is kept.
func (e *Engine) SetFeedbackStore(on bool) { e.storing.Store(on) }

// New builds an engine over a loaded knowledge base.
func New(b *knowledge.Base) (*Engine, error) {
	e := &Engine{}
	if err := e.Swap(b); err != nil {
		return nil, err
	}
	return e, nil
}

// Swap builds the index for b and then replaces the current one at once;
// answers in flight finish on the old one.
func (e *Engine) Swap(b *knowledge.Base) error {
	if b == nil || len(b.Topics) == 0 || b.Default() == nil {
		return errors.New("cannot use this knowledge base: it has no topics or no default region")
	}
	e.ix.Store(newIndex(b))
	return nil
}

// Base is the knowledge base now in use.
func (e *Engine) Base() *knowledge.Base { return e.ix.Load().base }

// Version identifies the knowledge now in use.
func (e *Engine) Version() string { return e.ix.Load().base.Version }

// Open shows a suggestion: a topic id, or one of "menu:symptom",
// "menu:treatment", "menu:faq", "resources", "crisis", "help", "privacy",
// "welcome", or "region:CODE" (that region's helplines; the platform keeps
// the person's choice; an unknown code is said, with the regions there are,
// and region's helplines stay). An unknown id gets the help text.
func (e *Engine) Open(ctx context.Context, id, region string) (Reply, error) {
	if err := ctx.Err(); err != nil {
		return Reply{}, fmt.Errorf("opening %q stopped: %w", id, err)
	}
	ix := e.ix.Load()
	reg := ix.region(region)
	if t, ok := ix.base.Topic(id); ok {
		return ix.topicReply(t, reg), nil
	}
	m := ix.base.Messages
	switch {
	case strings.HasPrefix(id, "menu:"):
		return ix.overview(knowledge.Kind(strings.TrimPrefix(id, "menu:")), reg), nil
	case id == "resources":
		return ix.resources(reg), nil
	case strings.HasPrefix(id, "region:"):
		name := strings.TrimPrefix(id, "region:")
		if r, ok := ix.base.Region(name); ok {
			return ix.resources(r), nil
		}
		// Said, not swallowed: the person learns the region is unknown
		// and which exist, and keeps the helplines they had.
		r := ix.resources(reg)
		r.body = append([]string{unknownRegion(name, ix.base)}, r.body...)
		return r, nil
	case id == "crisis":
		r := ix.crisisLead(knowledge.ContactCrisis, reg)
		r.body = knowledge.Paragraphs(m.CrisisIntro)
		return r, nil
	case id == "privacy":
		if e.storing.Load() {
			text := m.PrivacyStore
			if strings.TrimSpace(text) == "" {
				text = privacyStoreDefault
			}
			return ix.simple(IntentPrivacy, text, reg, nil), nil
		}
		return ix.simple(IntentPrivacy, m.Privacy, reg, nil), nil
	case id == "welcome":
		return ix.simple(IntentWelcome, m.Welcome, reg, menu()), nil
	}
	return ix.simple(IntentHelp, m.Help, reg, menu()), nil
}

// CommandID maps a chat command ("/symptoms", "start", "restless_legs") to
// the id Open shows for it, so that every platform offers the same
// commands. Names with no mapping pass through as ids (help, privacy,
// crisis, a topic id), and Open answers an unknown one with the help text.
// /region takes an argument and is the platform's to handle.
func CommandID(name string) string {
	id := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "/")), "_", "-")
	switch id {
	case "start":
		return "welcome"
	case "symptoms", "symptom":
		return "menu:symptom"
	case "treatment":
		return "menu:treatment"
	case "faq":
		return "menu:faq"
	case "helplines":
		return "resources"
	}
	return id
}

// Region resolves a code or alias typed by a person ("uk", "Australia") to
// a region code.
func (e *Engine) Region(name string) (code string, ok bool) {
	r, ok := e.ix.Load().base.Region(name)
	if !ok {
		return "", false
	}
	return r.Code, true
}

// Regions lists the regions as suggestions (ID is the code).
func (e *Engine) Regions() []Suggestion {
	var out []Suggestion
	for _, r := range e.ix.Load().base.Regions {
		out = append(out, Suggestion{ID: r.Code, Label: r.Name})
	}
	return out
}

// Topics lists the topics of a kind (all kinds when empty) whose title or
// words best match what has been typed so far, at most n, best first. An
// empty typed lists them in the knowledge base's order. For autocomplete.
func (e *Engine) Topics(kind knowledge.Kind, typed string, n int) []Suggestion {
	ix := e.ix.Load()
	typed = normalise(typed)
	type cand struct {
		s    Suggestion
		rank int
	}
	var cs []cand
	scores := map[int]float64{}
	if typed != "" {
		all, content, guessed := ix.stemsCorrected(typed, true)
		for _, r := range ix.rank(all, content, guessed) {
			scores[r.topic] = r.score
		}
	}
	for i, t := range ix.topics {
		if kind != "" && t.Kind != kind {
			continue
		}
		title := normalise(t.Title)
		rank := 4
		switch {
		case typed == "":
			rank = 0
		case strings.HasPrefix(title, typed) || strings.HasPrefix(t.ID, typed):
			rank = 0
		case strings.Contains(title, typed):
			rank = 1
		case scores[i] > 0:
			rank = 2
		default:
			continue
		}
		cs = append(cs, cand{Suggestion{ID: t.ID, Label: t.Title}, rank*1000000 - int(scores[i]*100)})
	}
	// stable, so equal ranks keep the maintainers' order
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].rank < cs[j].rank })
	var out []Suggestion
	for _, c := range cs {
		if len(out) == n {
			break
		}
		out = append(out, c.s)
	}
	return out
}

// unknownRegion says that a region name is not known, and lists those that are.
func unknownRegion(name string, b *knowledge.Base) string {
	var known []string
	for _, r := range b.Regions {
		known = append(known, fmt.Sprintf("%s (%s)", r.Code, r.Name))
	}
	if len([]rune(name)) > 40 { // someone's whole sentence: do not echo it all
		name = string([]rune(name)[:40]) + "…"
	}
	return fmt.Sprintf("I don't know the region %q. The regions I know are: %s. Choose one below; until then these are the helplines I show.", name, strings.Join(known, ", "))
}

// privacyStoreDefault is what /privacy says when the store is on and the
// knowledge has no privacy_store text: never the "nothing is kept" text.
const privacyStoreDefault = "kratombot keeps no names, user ids or chat ids. With the operator's anonymous feedback store on, it counts which topics are shown and whether people found them helpful, keeps questions it could not answer for 90 days with only their common English words and the bot's own words (names, places, numbers, e-mail addresses, usernames, links and other words replaced by placeholders), and remembers a chosen region under a code that does not reveal the chat. So that a short follow-up makes sense, it remembers the last topic it answered in a chat, in memory only, for 30 minutes."

func menu() []Suggestion {
	return []Suggestion{
		{ID: "menu:symptom", Label: "Withdrawal symptoms"},
		{ID: "menu:treatment", Label: "Treatment and support"},
		{ID: "menu:faq", Label: "Common questions"},
		{ID: "resources", Label: "Helplines"},
	}
}

func (ix *index) region(name string) *knowledge.Region {
	if r, ok := ix.base.Region(name); ok {
		return r
	}
	return ix.base.Default()
}

// referral is the region's treatment help, one line each.
func referral(reg *knowledge.Region) Referral {
	r := Referral{region: reg.Code}
	for _, c := range reg.Referral {
		r.lines = append(r.lines, "Get help — "+contactLine(c))
	}
	if len(r.lines) == 0 {
		return fallbackReferral
	}
	return r
}

// crisisReferral puts the crisis lines and the emergency number before the
// treatment help.
func crisisReferral(reg *knowledge.Region) Referral {
	r := Referral{region: reg.Code}
	for _, c := range reg.Crisis {
		r.lines = append(r.lines, contactLine(c))
	}
	r.lines = append(r.lines, "Emergency: "+emergency(reg))
	r.lines = append(r.lines, referral(reg).lines...)
	return r
}

// emergency is what to do in an emergency in reg, as an instruction:
// "call 911", or "call your local emergency number (112 in many
// countries)" for the regions without one number. Before, a number in
// words read "Emergency: your local emergency number now", with no verb.
func emergency(reg *knowledge.Region) string {
	e := strings.TrimSpace(reg.Emergency)
	if lower := strings.ToLower(e); strings.HasPrefix(lower, "call ") || strings.HasPrefix(lower, "dial ") {
		return e
	}
	return "call " + e
}

func (ix *index) topicReply(t *knowledge.Topic, reg *knowledge.Region) Reply {
	r := Reply{
		kind: KindAnswer, intent: IntentTopic, topic: t.ID, title: t.Title,
		body: t.Paragraphs(), referral: referral(reg),
	}
	for _, id := range t.Related {
		if rt, ok := ix.base.Topic(id); ok {
			r.related = append(r.related, Suggestion{ID: rt.ID, Label: rt.Title})
		}
	}
	return r
}

// crisisLead is a reply that starts with the line to call now.
func (ix *index) crisisLead(contact string, reg *knowledge.Region) Reply {
	r := Reply{kind: KindCrisis, intent: IntentCrisis, referral: crisisReferral(reg)}
	var crisis []string
	for _, c := range reg.Crisis {
		crisis = append(crisis, contactLine(c))
	}
	now := "Please reach out now: " + strings.Join(crisis, "; ") + "."
	emerg := "If you or someone else is in immediate danger, " + emergency(reg) + "."
	if contact == knowledge.ContactEmergency {
		r.lead = []string{"Emergency: " + emergency(reg) + " now.", "For support afterwards: " + strings.Join(crisis, "; ") + "."}
	} else {
		r.lead = []string{now, emerg}
	}
	return r
}

// crisisReply is the line to call and the category's message.
func (ix *index) crisisReply(c *knowledge.CrisisCategory, reg *knowledge.Region, other bool) Reply {
	r := ix.crisisLead(c.Contact, reg)
	r.topic = ""
	r.body = knowledge.Paragraphs(crisisMessage(c, other))
	return r
}

// crisisMessage is the category's message, or its someone_else message
// when the writer tells of another's danger (other) and it has one.
func crisisMessage(c *knowledge.CrisisCategory, other bool) string {
	if other && strings.TrimSpace(c.SomeoneElse) != "" {
		return c.SomeoneElse
	}
	return c.Message
}

func (ix *index) dosingReply(reg *knowledge.Region, ranked []scored, confident bool) Reply {
	r := ix.simple(IntentDosing, ix.base.Messages.Dosing, reg, nil)
	r.kind = KindAnswer
	if confident {
		t := ix.topics[ranked[0].topic]
		r.related = append(r.related, Suggestion{ID: t.ID, Label: t.Title})
	}
	for _, id := range ix.base.DosingRelated {
		if t, ok := ix.base.Topic(id); ok && (len(r.related) == 0 || r.related[0].ID != id) {
			r.related = append(r.related, Suggestion{ID: t.ID, Label: t.Title})
		}
	}
	return r
}

// smallTalk answers greetings, thanks and requests for help, but only when
// the message holds nothing else: "hi i cant sleep" is a question.
func (ix *index) smallTalk(all []string, reg *knowledge.Region) (Reply, bool) {
	m := ix.base.Messages
	for _, st := range []struct {
		ps     []phrase
		intent Intent
		text   string
		sug    []Suggestion
	}{
		// "are you a real person" first: its words hold no thanks or
		// greeting, and it deserves a straight answer, not the menu.
		{ix.bot, IntentBot, m.Bot, nil},
		// thanks before help: "that helped" is thanks, though its
		// "helped" is help's word too.
		{ix.thanks, IntentThanks, m.Thanks, nil},
		// a plea before the menu's "help": "help me" may come from someone
		// in danger as well as from someone who wants to stop
		{ix.plea, IntentPossibleCrisis, m.Plea, menu()},
		{ix.help, IntentHelp, m.Help, menu()},
		{ix.greeting, IntentGreeting, m.Greeting, menu()},
	} {
		mark := make([]bool, len(all))
		if !covers(all, st.ps, mark) {
			continue
		}
		rest := false
		for i, s := range all {
			if !mark[i] && !isStop(s) {
				rest = true
			}
		}
		if !rest && st.intent == IntentPossibleCrisis {
			return ix.pleaReply(reg), true
		}
		if !rest {
			text := st.text
			if strings.TrimSpace(text) == "" {
				text = m.Help
			}
			return ix.simple(st.intent, text, reg, st.sug), true
		}
	}
	return Reply{}, false
}

// pleaReply answers "help me" said alone: the crisis line first, as for any
// possible danger, then an invitation to say more and the menu.
func (ix *index) pleaReply(reg *knowledge.Region) Reply {
	r := ix.crisisLead(knowledge.ContactCrisis, reg)
	cat := "suicide"
	for _, c := range ix.base.Crisis {
		if c.Contact == knowledge.ContactCrisis {
			cat = c.ID
			break
		}
	}
	r.intent = Intent(string(IntentPossibleCrisis) + ":" + cat)
	r.body = knowledge.Paragraphs(orDefault(ix.base.Messages.Plea, plea))
	r.suggestions = menu()
	return r
}

// plea is the built-in text for "help me" said alone.
const plea = `I'm here, and I'm glad you wrote. Tell me what's going on, in your own words: how you're feeling, what's happening with kratom or 7-OH, or who you're worried about.

If you might not be safe, please use the line above now. To talk to someone about using or stopping, the helpline below is free and confidential.`

func (ix *index) simple(intent Intent, text string, reg *knowledge.Region, sug []Suggestion) Reply {
	return Reply{kind: KindAnswer, intent: intent, body: knowledge.Paragraphs(text), suggestions: sug, referral: referral(reg)}
}

// fallback says what the bot can help with and offers the closest topics.
func (ix *index) fallback(reg *knowledge.Region, ranked []scored) Reply {
	r := Reply{kind: KindFallback, intent: IntentFallback, body: knowledge.Paragraphs(ix.base.Messages.Fallback), referral: referral(reg)}
	for _, s := range ranked {
		if len(r.suggestions) == 3 {
			break
		}
		t := ix.topics[s.topic]
		r.suggestions = append(r.suggestions, Suggestion{ID: t.ID, Label: t.Title})
	}
	if len(r.suggestions) == 0 {
		r.suggestions = menu()
	}
	return r
}

func (ix *index) overview(kind knowledge.Kind, reg *knowledge.Region) Reply {
	label := map[knowledge.Kind]string{
		knowledge.Symptom:   "Withdrawal symptoms",
		knowledge.Treatment: "Treatment and support",
		knowledge.FAQ:       "Common questions",
	}[kind]
	if label == "" {
		return ix.simple(IntentHelp, ix.base.Messages.Help, reg, menu())
	}
	r := Reply{kind: KindAnswer, intent: IntentOverview, title: label, referral: referral(reg)}
	var lines []string
	for _, t := range ix.topics {
		if t.Kind == kind {
			lines = append(lines, "• "+t.Title)
			r.suggestions = append(r.suggestions, Suggestion{ID: t.ID, Label: t.Title})
		}
	}
	r.body = []string{"Choose a topic, or ask in your own words:", strings.Join(lines, "\n")}
	return r
}

func (ix *index) resources(reg *knowledge.Region) Reply {
	r := Reply{kind: KindAnswer, intent: IntentResources, title: "Helplines: " + reg.Name, referral: referral(reg)}
	r.body = knowledge.Paragraphs(ix.base.Messages.Resources)
	var crisis []string
	for _, c := range reg.Crisis {
		crisis = append(crisis, contactLine(c))
	}
	r.body = append(r.body, "In a crisis: "+strings.Join(crisis, "; "), "Emergency: "+emergency(reg))
	for _, c := range reg.More {
		r.body = append(r.body, contactLine(c))
	}
	for _, s := range ix.base.Regions {
		if s.Code != reg.Code {
			r.suggestions = append(r.suggestions, Suggestion{ID: "region:" + s.Code, Label: s.Name})
		}
	}
	return r
}
