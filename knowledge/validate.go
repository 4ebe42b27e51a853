package knowledge

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Answer length limits: a Telegram message holds 4096 characters and a Discord
// embed description 4096, and the referral and title must fit beside it.
const (
	MaxAnswer = 3500
	MaxTitle  = 100
)

var (
	idRe    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	phoneRe = regexp.MustCompile(`^\+?[0-9][0-9 \-]{1,20}[0-9]$|^[0-9]{3}$`)
	codeRe  = regexp.MustCompile(`^[A-Z]{2,4}$`)
	doseRe  = regexp.MustCompile(`(?i)\b\d+(\.\d+)?\s?(mg|milligrams?|grams?|g|mcg|ml)\b`)
)

// now is replaced in tests so that review-date warnings are stable.
var now = time.Now

// validate checks what YAML cannot: references, duplicates, required parts,
// formats and platform limits.
func validate(b *Base, dir string) Problems {
	var ps Problems
	folder := Position{File: dir, Line: 1, Col: 1}
	place := func(p Position) Position {
		if p.File == "" { // never a problem nobody can find
			return folder
		}
		return p
	}
	errf := func(p Position, format string, a ...any) {
		ps = append(ps, Problem{Pos: place(p), Message: fmt.Sprintf(format, a...)})
	}
	warnf := func(p Position, format string, a ...any) {
		ps = append(ps, Problem{Pos: place(p), Message: fmt.Sprintf(format, a...), Warning: true})
	}

	if len(b.Topics) == 0 {
		errf(folder, "there are no topics; add a file with 'topics:'")
	}
	ids := map[string]*Topic{}
	missing := missingRefs{}
	words := map[string]*Topic{}
	questions := map[string]*Topic{}
	for _, t := range b.Topics {
		switch {
		case t.ID == "":
			errf(t.Pos, "this topic has no id; add 'id:' with a short name like sleep-problems")
		case !idRe.MatchString(t.ID):
			errf(t.At("id"), "id %q may use only lowercase letters, digits and single hyphens (like restless-legs)", t.ID)
		case ids[t.ID] != nil:
			errf(t.At("id"), "id %q is already used by the topic at %s; give one of them another id", t.ID, ids[t.ID].Pos)
		default:
			ids[t.ID] = t
		}
		if strings.TrimSpace(t.Title) == "" {
			errf(t.At("title"), "topic %q has no title; add 'title:' with a few words people will see as a heading", t.ID)
		} else if utf8.RuneCountInString(t.Title) > MaxTitle {
			errf(t.At("title"), "the title of %q is %d characters; keep it under %d (Discord cuts longer names)", t.ID, utf8.RuneCountInString(t.Title), MaxTitle)
		}
		switch t.Kind {
		case Symptom, Treatment, FAQ:
		case "":
			errf(t.Pos, "topic %q has no kind; add 'kind:' with symptom, treatment or faq", t.ID)
		default:
			errf(t.At("kind"), "kind %q of topic %q is not known; use symptom, treatment or faq", t.Kind, t.ID)
		}
		if strings.TrimSpace(t.Answer) == "" {
			errf(t.At("answer"), "topic %q has no answer; add 'answer: |' followed by the text, indented", t.ID)
		} else if n := utf8.RuneCountInString(t.Answer); n > MaxAnswer {
			errf(t.At("answer"), "the answer of %q is %d characters; Telegram and Discord fit about %d with the helpline, so shorten it or split it into two topics", t.ID, n, MaxAnswer)
		}
		checkText(fmt.Sprintf("the answer of %q", t.ID), t.Answer, func(off int) Position { return t.AtText("answer", t.Answer, off) }, errf)
		if key, off := strayKey(t.Answer); key != "" {
			errf(t.AtText("answer", t.Answer, off), "a line of the answer of %q starts with %q, which looks like a key indented too far, so people would read it as text; move it left to line up with 'answer:' (or reword the line if it is meant as text)", t.ID, key+":")
		}
		if med, off := unguidedMedicine(t.Answer); med != "" {
			errf(t.AtText("answer", t.Answer, off), "the answer of %q names %s in a sentence without a clinician; write it as \"a clinician may use %s\" so it never reads as advice to take it", t.ID, med, med)
		}
		if len(t.Words) == 0 && len(t.Questions) == 0 {
			errf(t.Pos, "topic %q has neither words nor questions, so nobody can reach it; add 'words:' people would type", t.ID)
		}
		for i, w := range t.Words {
			k := strings.ToLower(strings.TrimSpace(w))
			if k == "" {
				errf(t.AtItem("words", i), "topic %q has an empty word; remove it", t.ID)
			} else if o := words[k]; o != nil && o != t {
				errf(t.AtItem("words", i), "the word %q is claimed by %q too (%s); keep it on the one topic it fits best", w, o.ID, o.At("words"))
			} else {
				words[k] = t
			}
		}
		for i, q := range t.Questions {
			k := strings.ToLower(strings.TrimSpace(q))
			if o := questions[k]; o != nil && o != t {
				errf(t.AtItem("questions", i), "the question %q is also listed under %q (%s); keep it on one topic", q, o.ID, o.At("questions"))
			} else {
				questions[k] = t
			}
		}
		if len(t.Sources) == 0 {
			errf(t.Pos, "topic %q has no sources; add 'sources:' with a title and url for where the facts come from", t.ID)
		}
		for _, s := range t.Sources {
			if strings.TrimSpace(s.Title) == "" {
				errf(s.Pos, "a source of %q has no title; add 'title:'", t.ID)
			}
			checkURL(s.At("url"), s.URL, fmt.Sprintf("a source of %q", t.ID), true, errf)
		}
		if t.Reviewed == "" {
			errf(t.Pos, "topic %q has no reviewed date; add 'reviewed: YYYY-MM-DD' with the day someone last checked it", t.ID)
		} else if d, err := time.Parse("2006-01-02", t.Reviewed); err != nil {
			errf(t.At("reviewed"), "reviewed %q of %q is not a date; write it as YYYY-MM-DD, e.g. 2026-01-31", t.Reviewed, t.ID)
		} else if d.After(now().Add(48 * time.Hour)) {
			errf(t.At("reviewed"), "reviewed %s of %q is in the future; use the day it was checked", t.Reviewed, t.ID)
		} else if now().Sub(d) > 366*24*time.Hour {
			warnf(t.At("reviewed"), "%q was last reviewed on %s, over a year ago; check it against its sources and update the date", t.ID, t.Reviewed)
		}
	}
	for _, t := range b.Topics {
		for i, r := range t.Related {
			if _, ok := ids[r]; !ok {
				missing.add(r, t.AtItem("related", i), fmt.Sprintf("topic %q lists related topic %q, which does not exist; check the spelling or add that topic", t.ID, r))
			} else if r == t.ID {
				errf(t.At("related"), "topic %q lists itself as related; remove it", t.ID)
			}
		}
	}

	// Regions: every message carries a referral, and a crisis needs both numbers.
	if len(b.Regions) == 0 {
		errf(folder, "there are no regions; add a file with 'regions:' listing the helplines")
	}
	codes := map[string]*Region{}
	for _, r := range b.Regions {
		switch {
		case !codeRe.MatchString(r.Code):
			errf(r.At("code"), "region code %q should be 2 to 4 capital letters, like US or INTL", r.Code)
		case codes[r.Code] != nil:
			errf(r.At("code"), "region %s is listed twice (also at %s); keep one", r.Code, codes[r.Code].Pos)
		default:
			codes[r.Code] = r
		}
		if strings.TrimSpace(r.Name) == "" {
			errf(r.Pos, "region %s has no name; add 'name:'", r.Code)
		}
		if len(r.Referral) == 0 {
			errf(r.Pos, "region %s has no referral; every message carries one, so add 'referral:' with a helpline", r.Code)
		}
		if len(r.Crisis) == 0 {
			errf(r.Pos, "region %s has no crisis line; add 'crisis:' with the suicide and crisis line", r.Code)
		}
		if strings.TrimSpace(r.Emergency) == "" {
			errf(r.Pos, "region %s has no emergency number; add 'emergency:' (like \"911\")", r.Code)
		} else if !strings.ContainsAny(r.Emergency, "0123456789") && !strings.ContainsAny(r.Emergency, curlyQuotes) {
			errf(r.At("emergency"), "emergency %q of region %s has no number in it; write the digits people dial, in straight quotes, like \"911\"", r.Emergency, r.Code)
		}
		for _, group := range [][]Contact{r.Referral, r.Crisis, r.More} {
			for _, c := range group {
				checkContact(r.Code, c, errf)
			}
		}
	}
	checkPlaces(b, errf)
	for _, t := range b.Topics {
		checkElsewhere(t, ids, codes, errf)
		if t.ForAdults != "" {
			if t.ForAdults == t.ID {
				errf(t.At("for_adults"), "topic %q names itself as 'for_adults'; name the topic for grown sons and daughters, like helping-a-loved-one", t.ID)
			} else if ids[t.ForAdults] == nil {
				errf(t.At("for_adults"), "'for_adults' of %q names topic %q, which does not exist; check the spelling", t.ID, t.ForAdults)
			}
		}
	}
	if b.DefaultRegion == "" {
		errf(folder, "no default_region is set; add 'default_region: US' to the regions file")
	} else if _, ok := codes[b.DefaultRegion]; !ok {
		errf(folder, "default_region %q is not one of the regions listed", b.DefaultRegion)
	}

	cats := map[string]bool{}
	for _, c := range b.Crisis {
		if c.ID == "" {
			errf(c.Pos, "a crisis category has no id; add 'id:'")
		} else if cats[c.ID] {
			errf(c.At("id"), "crisis category %q is listed twice; keep one", c.ID)
		}
		cats[c.ID] = true
		if c.Contact != ContactCrisis && c.Contact != ContactEmergency {
			errf(c.At("contact"), "contact of crisis category %q must be crisis or emergency, not %q", c.ID, c.Contact)
		}
		if len(c.Phrases) == 0 {
			errf(c.At("phrases"), "crisis category %q has no phrases, so it can never be noticed; add 'phrases:'", c.ID)
		}
		if strings.TrimSpace(c.Message) == "" {
			errf(c.Pos, "crisis category %q has no message; add 'message: |' with what the person should read first", c.ID)
		}
		checkText(fmt.Sprintf("the message of crisis category %q", c.ID), c.Message, func(off int) Position { return c.AtText("message", c.Message, off) }, errf)
		checkText(fmt.Sprintf("the someone_else message of crisis category %q", c.ID), c.SomeoneElse, func(off int) Position { return c.AtText("someone_else", c.SomeoneElse, off) }, errf)
		if len(c.Examples) == 0 {
			errf(c.At("examples"), "crisis category %q has no examples; add 'examples:' with a few messages in people's own words that must reach it (every reload checks them)", c.ID)
		}
	}
	if len(b.Crisis) == 0 {
		errf(folder, "there are no crisis categories; add a file with 'categories:' (%s)", requiredIDs())
	} else {
		byID := map[string]*CrisisCategory{}
		for _, c := range b.Crisis {
			byID[c.ID] = c
		}
		var missing, about []string
		for _, r := range RequiredCrisis {
			c, ok := byID[r.ID]
			switch {
			case !ok:
				missing = append(missing, r.ID)
				about = append(about, r.What)
			case c.Contact != r.Contact && (c.Contact == ContactCrisis || c.Contact == ContactEmergency):
				errf(c.At("contact"), "crisis category %q must show the %s first (contact: %s), since it is about %s", r.ID, map[string]string{ContactCrisis: "crisis line", ContactEmergency: "emergency number"}[r.Contact], r.Contact, r.What)
			}
		}
		if len(missing) > 0 { // one problem: a file cut short loses several at once
			last := b.Crisis[len(b.Crisis)-1]
			errf(last.Pos, "crisis categories missing after this one: %s; without them a message about %s gets an ordinary answer. Was the file cut short? Put them back (every one of %s is needed)",
				strings.Join(missing, ", "), strings.Join(about, " or "), requiredIDs())
		}
	}
	checkExamples(b, errf)

	syn := map[string]*Synonym{}
	for _, s := range b.Synonyms {
		if strings.TrimSpace(s.Means) == "" {
			errf(s.Pos, "a vocabulary entry has no 'means:'; say which word these stand for")
		}
		for i, w := range s.Words {
			k := strings.ToLower(strings.TrimSpace(w))
			if o := syn[k]; o != nil && o != s {
				errf(s.AtItem("words", i), "%q is already mapped to %q at %s; a word can mean only one thing", w, o.Means, o.Pos)
			}
			syn[k] = s
		}
	}

	checkVocabularyUsed(b, warnf)

	m := b.Messages
	if m.Pos.File == "" {
		errf(folder, "there is no 'messages:' section; add messages.yaml with welcome, help, fallback, dosing, resources, privacy and crisis_intro texts")
	}
	for _, kt := range [][2]string{{"welcome", m.Welcome}, {"help", m.Help}, {"fallback", m.Fallback}, {"dosing", m.Dosing}, {"resources", m.Resources}, {"privacy", m.Privacy}, {"crisis_intro", m.CrisisIntro}} {
		key, text := kt[0], kt[1]
		if strings.TrimSpace(text) == "" && m.Pos.File != "" {
			errf(m.At(key), "messages has no %q text; add '%s: |' with what the bot should say", key, key)
		}
		checkText(fmt.Sprintf("the %q message", key), text, func(off int) Position { return m.AtText(key, text, off) }, errf)
	}
	// The optional texts reach people too, so they are held to the same
	// rules: no doses, no helpline numbers of their own.
	for _, kt := range [][2]string{{"thanks", m.Thanks}, {"greeting", m.Greeting}, {"bot", m.Bot}, {"fallback_long", m.FallbackLong}, {"possible_crisis", m.PossibleCrisis}, {"possible_emergency", m.PossibleEmergency}, {"likely_crisis", m.LikelyCrisis}, {"plea", m.Plea}, {"privacy_store", m.PrivacyStore}} {
		key, text := kt[0], kt[1]
		checkText(fmt.Sprintf("the %q message", key), text, func(off int) Position { return m.AtText(key, text, off) }, errf)
	}
	if strings.TrimSpace(m.PrivacyStore) == "" && m.Pos.File != "" {
		warnf(m.Pos, "messages has no \"privacy_store\" text; when the feedback store is on, /privacy will use a built-in text, so add 'privacy_store: |' in your own words")
	}
	for _, id := range b.DosingRelated {
		if _, ok := ids[id]; !ok {
			errf(folder, "dosing_related names topic %q, which does not exist", id)
		}
	}
	for _, e := range b.Examples {
		switch {
		case strings.TrimSpace(e.Q) == "":
			errf(e.Pos, "an example has no question; add 'q:'")
		case e.Topic != "" && e.Kind != "":
			errf(e.Pos, "example %q gives both topic and kind; keep one", e.Q)
		case e.Topic != "":
			if _, ok := ids[e.Topic]; !ok {
				missing.add(e.Topic, e.At("topic"), fmt.Sprintf("example %q expects topic %q, which does not exist", e.Q, e.Topic))
			}
		case e.Kind != "":
			switch e.Kind {
			case "crisis", "fallback", "dosing", "greeting", "thanks", "help", "bot":
			default:
				errf(e.At("kind"), "example %q has kind %q; use crisis, fallback, dosing, greeting, thanks, help or bot", e.Q, e.Kind)
			}
		default:
			errf(e.Pos, "example %q needs 'topic:' or 'kind:'", e.Q)
		}
	}
	missing.report(ids, errf)
	if b.Threshold < 0 || b.Threshold > 1 {
		errf(folder, "threshold %v must be between 0 and 1 (0.85 means 85%% of examples must pass)", b.Threshold)
	}
	return ps
}

// medicines are named only as "a clinician may use ...": information, never
// a prescription.
var medicines = []string{"buprenorphine", "suboxone", "subutex", "methadone", "naltrexone", "lofexidine",
	"clonidine", "dihydrocodeine", "gabapentin", "loperamide", "tramadol", "benzodiazepine"}

// findMedicine returns the first medicine named in s as a word (a plain
// search: a regular expression here made large knowledge bases slow to load).
func findMedicine(s string) string {
	l := strings.ToLower(s)
	for _, m := range medicines {
		for from := 0; ; {
			i := strings.Index(l[from:], m)
			if i < 0 {
				break
			}
			i += from
			end := i + len(m)
			if end < len(l) && l[end] == 's' { // plurals: benzodiazepines
				end++
			}
			if (i == 0 || !isLetter(l[i-1])) && (end == len(l) || !isLetter(l[end])) {
				return m
			}
			from = i + 1
		}
	}
	return ""
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || c >= 0x80 }

var sentenceEnd = regexp.MustCompile(`[.!?]\s+`)

// unguidedMedicine finds a sentence that names a medicine but no clinician,
// and returns the medicine and where the sentence starts.
func unguidedMedicine(answer string) (string, int) {
	if findMedicine(answer) == "" { // most answers name none: skip the sentence split
		return "", 0
	}
	off := 0
	for _, s := range sentenceEnd.Split(answer, -1) {
		if m := findMedicine(s); m != "" && !strings.Contains(strings.ToLower(s), "clinician") && !mixingWarning(s) {
			return m, strings.Index(answer[off:], s) + off
		}
		off += len(s)
	}
	return "", 0
}

// mixingWarning lets a sentence warn about mixing kratom with a drug class
// ("mixing kratom with benzodiazepines is dangerous") without a clinician.
func mixingWarning(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "mix") || strings.Contains(l, "combin") || strings.Contains(l, "with alcohol") || strings.Contains(l, "danger")
}

// findDose finds an amount like "2 grams"; the digit check first keeps a
// large knowledge base quick to load, as most answers have no digits.
func findDose(s string) []int {
	if !strings.ContainsAny(s, "0123456789") {
		return nil
	}
	return doseRe.FindStringIndex(s)
}

func checkContact(region string, c Contact, errf func(Position, string, ...any)) {
	if strings.TrimSpace(c.Name) == "" {
		errf(c.Pos, "a contact in region %s has no name; add 'name:'", region)
	}
	if c.Phone == "" && c.Text == "" && c.URL == "" {
		errf(c.Pos, "%q in region %s has no phone, text or url; add at least one way to reach it", c.Name, region)
	}
	if c.Phone != "" && !phoneRe.MatchString(c.Phone) {
		errf(c.At("phone"), "phone %q of %q is not a phone number; use digits, spaces and hyphens, like 1-800-662-4357", c.Phone, c.Name)
	}
	if c.Text != "" && !phoneRe.MatchString(c.Text) {
		errf(c.At("text"), "text line %q of %q is not a number; use digits like 988", c.Text, c.Name)
	}
	if c.URL != "" {
		checkURL(c.At("url"), c.URL, fmt.Sprintf("%q", c.Name), false, errf)
	}
}

func checkURL(p Position, raw, what string, required bool, errf func(Position, string, ...any)) {
	if raw == "" {
		if required {
			errf(p, "%s has no url; add 'url:' starting with https://", what)
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || !strings.Contains(u.Host, ".") || strings.ContainsAny(raw, " \t") {
		errf(p, "url %q of %s is not a full web address; it should start with https:// and have no spaces", raw, what)
	}
}

// checkElsewhere: a topic about some regions only names both the regions
// and the topic that answers everyone else, and neither may be misspelt.
func checkElsewhere(t *Topic, ids map[string]*Topic, codes map[string]*Region, errf func(Position, string, ...any)) {
	switch {
	case len(t.ForRegions) == 0 && t.Elsewhere == "":
		return
	case len(t.ForRegions) == 0:
		errf(t.At("elsewhere"), "topic %q has 'elsewhere' but no 'for_regions'; add 'for_regions: [US]' with the regions this answer is about, or remove 'elsewhere'", t.ID)
		return
	case t.Elsewhere == "":
		errf(t.At("for_regions"), "topic %q has 'for_regions' but no 'elsewhere'; add 'elsewhere:' with the topic that answers people in other regions", t.ID)
		return
	}
	for i, c := range t.ForRegions {
		if codes[c] == nil {
			errf(t.AtItem("for_regions", i), "for_regions of %q names region %q, which is not in the regions file; use a region code like US", t.ID, c)
		}
	}
	if t.Elsewhere == t.ID {
		errf(t.At("elsewhere"), "topic %q names itself as 'elsewhere'; name the topic for people in other regions", t.ID)
	} else if o := ids[t.Elsewhere]; o == nil {
		errf(t.At("elsewhere"), "'elsewhere' of %q names topic %q, which does not exist; check the spelling", t.ID, t.Elsewhere)
	} else if len(o.ForRegions) > 0 {
		errf(t.At("elsewhere"), "'elsewhere' of %q names %q, which has 'for_regions' of its own; name a topic for everyone", t.ID, o.ID)
	}
}
