package bots

import (
	"strings"
	"sync"
	"unicode"

	"github.com/kratombot/kratombot/knowledge"
)

// KnownWords reports whether a lower-case word is one of the bot's own: a
// word of the knowledge in use (topic ids, titles, words, questions,
// examples and answers, crisis phrases, synonyms, triggers and messages,
// region names and aliases) or one of the engine's filler words. The
// feedback store keeps only such words (and common English) of a question
// that found no topic. Region places (towns) are left out on purpose: a
// town narrows down who asked. The set follows knowledge reloads.
func (e *Engine) KnownWords() func(word string) bool {
	return func(w string) bool {
		set := knownWords(e.Base())
		return set[w] || chatFiller[w]
	}
}

var wordSets struct {
	sync.Mutex
	base *knowledge.Base
	set  map[string]bool
}

// knownWords builds (once per knowledge base) the set KnownWords reads.
func knownWords(b *knowledge.Base) map[string]bool {
	wordSets.Lock()
	defer wordSets.Unlock()
	if wordSets.base == b && wordSets.set != nil {
		return wordSets.set
	}
	set := map[string]bool{}
	add := func(ss ...string) {
		for _, s := range ss {
			for _, w := range SplitWords(s) {
				set[w] = true
			}
		}
	}
	for _, t := range b.Topics {
		add(t.ID, t.Title, t.Answer)
		add(t.Words...)
		add(t.Questions...)
		add(t.Examples...)
	}
	for _, c := range b.Crisis {
		add(c.ID, c.Message)
		add(c.Phrases...)
		add(c.Examples...)
	}
	for _, s := range b.Synonyms {
		add(s.Means)
		add(s.Words...)
	}
	for _, r := range b.Regions {
		add(r.Code, r.Name)
		add(r.Aliases...)
	}
	m := b.Messages
	add(m.Welcome, m.Help, m.Fallback, m.Thanks, m.Greeting, m.Bot, m.Dosing, m.CrisisIntro, m.Resources, m.Privacy, m.PrivacyStore, m.FallbackLong, m.PossibleCrisis, m.PossibleEmergency, m.LikelyCrisis)
	tr := b.Triggers
	add(tr.Greeting...)
	add(tr.Thanks...)
	add(tr.Help...)
	add(tr.Bot...)
	add(tr.Dosing...)
	add(b.DosingRelated...)
	for _, ex := range b.Examples {
		add(ex.Q)
	}
	add(b.NotCrisis...)
	add(b.OffTopic...)
	wordSets.base, wordSets.set = b, set
	return set
}

// SplitWords lower-cases s and splits it into words: runs of letters, with
// an apostrophe inside a word kept ("don't").
func SplitWords(s string) []string {
	s = strings.ToLower(strings.ReplaceAll(s, "’", "'"))
	ws := strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && !unicode.Is(unicode.Mn, r)
	})
	out := ws[:0]
	for _, w := range ws {
		if w = strings.Trim(w, "'"); w != "" {
			out = append(out, w)
		}
	}
	return out
}
