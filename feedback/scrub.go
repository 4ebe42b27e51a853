package feedback

import (
	"regexp"

	"github.com/kljensen/snowball/english"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQuestion is how many characters of a scrubbed question are kept: enough
// to see what was asked, too little to hold a life story.
const MaxQuestion = 200

// maxScan bounds the text the patterns look at, so a huge message costs
// little; the cut is moved back to a space so no half address survives.
const maxScan = 1024

// tlds are the endings that make a bare word.word a web address. A closed
// list, because "tired.anyone" typed without a space is a sentence, not a
// link, and matching any ending would eat ordinary words.
const tlds = `com|org|net|edu|gov|mil|int|info|biz|io|co|me|ly|gg|tv|to|fm|ai|app|dev|xyz|site|online|shop|store|link|live|life|health|care|club|page|blog|news|us|uk|ca|au|nz|ie|de|fr|es|it|nl|be|at|ch|se|no|dk|fi|pl|pt|br|mx|ar|in|jp|cn|kr|ru|ua|za|sg|my|ph|id|th|vn|eu`

var (
	// Discord mentions of users, roles, channels and custom emoji.
	mentionRe = regexp.MustCompile(`<[@#:!&a][^<>\s]{0,100}>`)
	emailRe   = regexp.MustCompile(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+`)
	urlRe     = regexp.MustCompile(`(?i)(?:\b[a-z][a-z0-9+.\-]*://|\bwww\.)\S+`)
	domainRe  = regexp.MustCompile(`(?i)\b[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?)*\.(?:` + tlds + `)\b(?:[/?#]\S*)?`)
	handleRe  = regexp.MustCompile(`@[\p{L}\p{N}_.]+`)
	// A run of digits with the separators phone numbers and dates use, so
	// "+1 (555) 010-2000" becomes one mark and its length is not kept.
	digitsRe = regexp.MustCompile(`[+(]?\p{N}(?:[\s\-./()]*\p{N})*\)?`)
	spaceRe  = regexp.MustCompile(`\s+`)
)

// Placeholders Scrub puts in place of what it removes.
const (
	markHandle = "[handle]"
	markEmail  = "[email]"
	markLink   = "[link]"
	markNumber = "#"
	// markWord stands for a word the bot cannot know: a name, a street, a
	// town, a word in another language. A run of them becomes one mark.
	markWord = "[?]"
)

// While scrubbing, placeholders are private-use characters (removed from the
// input first), so the word pass cannot mistake "[link]" for a word.
const (
	pHandle = '\uE000'
	pEmail  = '\uE001'
	pLink   = '\uE002'
	pNumber = '\uE003'
	pWord   = '\uE004'
)

var (
	punctReplacer = strings.NewReplacer(" ,", ",", " .", ".", " ?", "?", " !", "!", " ;", ";", " :", ":")
	marksReplacer = strings.NewReplacer(string(pHandle), markHandle, string(pEmail), markEmail, string(pLink), markLink,
		string(pNumber), markNumber, string(pWord), markWord)
)

// streetWords end an address: the word before them is a street's name.
var streetWords = map[string]bool{
	"street": true, "st": true, "road": true, "rd": true, "avenue": true, "ave": true, "lane": true,
	"ln": true, "drive": true, "boulevard": true, "blvd": true, "terrace": true, "crescent": true,
	"highway": true, "hwy": true, "parkway": true, "strasse": true, "straße": true, "rue": true, "calle": true,
}

// Scrub is (Scrubber{}).Scrub: common English and the built-in chat words
// only, without the knowledge's own words.
func Scrub(s string) string { return Scrubber{}.Scrub(s) }

// Scrubber keeps only words the bot can know in a question it stores.
type Scrubber struct {
	// Known reports the bot's own words (bots.Engine.KnownWords): the
	// knowledge's vocabulary, kept even when capitalised. Nil knows none.
	Known func(word string) bool
}

// Scrub removes what could identify a person from a question before it is
// kept. E-mail addresses, links and bare domains, @handles and mentions
// become marks, and every digit run (phone numbers, ids, ages, dates) one
// "#". Then only words the bot can know are kept: the knowledge's own words
// and common English (SCOWL's list); every other word, and a common word
// written with a capital inside a sentence ("my friend Rose", "in Reading"),
// a word naming a street ("Elm Street") or following "my name is", becomes
// "[?]", a run of them one mark. It also folds case and spaces so that the
// same question counts once, drops invisible characters, and keeps at most
// MaxQuestion characters. It returns "" when no known word is left.
func (sc Scrubber) Scrub(s string) string {
	s = strings.ToValidUTF8(s, " ")
	if len(s) > maxScan {
		cut := maxScan
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
		// drop the last, possibly cut, word: half an address would survive
		if i := strings.LastIndexFunc(s, unicode.IsSpace); i > 0 {
			s = s[:i]
		} else {
			s = ""
		}
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r):
			return -1 // zero-width and private-use characters hide text
		}
		return r
	}, s)
	s = mentionRe.ReplaceAllString(s, " "+string(pHandle)+" ")
	s = emailRe.ReplaceAllString(s, " "+string(pEmail)+" ")
	s = urlRe.ReplaceAllString(s, " "+string(pLink)+" ")
	s = domainRe.ReplaceAllString(s, " "+string(pLink)+" ")
	s = handleRe.ReplaceAllString(s, " "+string(pHandle)+" ")
	s = strings.ReplaceAll(s, "@", " ") // a stray @ after the patterns is half an address
	s = digitsRe.ReplaceAllString(s, string(pNumber))
	s, kept := sc.words(s)
	if !kept {
		return ""
	}
	s = strings.ToLower(s)
	s = strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
	s = punctReplacer.Replace(s)
	s = marksReplacer.Replace(s)
	if utf8.RuneCountInString(s) > MaxQuestion {
		r := []rune(s)
		cut := MaxQuestion
		// Never keep half a word: "up" cut to "u" is no word the bot knows.
		if unicode.IsLetter(r[cut]) {
			for cut > 0 && !unicode.IsSpace(r[cut-1]) {
				cut--
			}
		}
		s = strings.TrimSpace(string(r[:cut])) + "…"
	}
	return s
}

// word is one run of letters (and inner apostrophes) in the text.
type word struct {
	start, end int
	lower      string
	drop       bool
}

// words replaces each word the bot cannot know with pWord, a run of them
// (with only spaces and punctuation between) with one, and says whether a
// known word is left.
func (sc Scrubber) words(s string) (string, bool) {
	isWordRune := func(r rune) bool { return unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || r == '\'' || r == '’' }
	var ws []word
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[j:])
			if !isWordRune(r2) {
				break
			}
			j += n2
		}
		// apostrophes at the edges are quotes, not part of the word
		a, b := i, j
		for a < b && (s[a] == '\'' || strings.HasPrefix(s[a:], "’")) {
			if s[a] == '\'' {
				a++
			} else {
				a += len("’")
			}
		}
		for b > a && (s[b-1] == '\'' || strings.HasSuffix(s[a:b], "’")) {
			if s[b-1] == '\'' {
				b--
			} else {
				b -= len("’")
			}
		}
		if a < b {
			ws = append(ws, word{start: a, end: b, lower: strings.ToLower(strings.ReplaceAll(s[a:b], "’", "'"))})
		}
		i = j
	}
	for k := range ws {
		w := &ws[k]
		known := sc.Known != nil && sc.Known(w.lower)
		switch {
		case known:
		case !English(w.lower):
			w.drop = true
		case capitalisedInside(s, w.start, w.end):
			w.drop = true // a name or a place, even when it is also a word
		}
		if k+1 < len(ws) && streetWords[ws[k+1].lower] && !english.IsStopWord(w.lower) {
			w.drop = true
		}
		if k >= 2 && ws[k-2].lower == "name" && (ws[k-1].lower == "is" || ws[k-1].lower == "was") ||
			k >= 1 && (ws[k-1].lower == "named" || ws[k-1].lower == "called" || ws[k-1].lower == "name's" || ws[k-1].lower == "names") {
			w.drop = true
		}
	}
	var b strings.Builder
	last, kept, prevDropped := 0, false, false
	for _, w := range ws {
		between := s[last:w.start]
		if w.drop {
			if prevDropped && strings.TrimFunc(between, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) == "" {
				last = w.end // join a run of unknown words into one mark
				continue
			}
			b.WriteString(between)
			b.WriteRune(pWord)
		} else {
			b.WriteString(between)
			b.WriteString(s[w.start:w.end])
			kept = true
		}
		prevDropped = w.drop
		last = w.end
	}
	b.WriteString(s[last:])
	return b.String(), kept
}

// capitalisedInside says whether the word at s[start:end] starts with a
// capital and does not start a sentence: then it is likely a name. "I" and
// words in capitals (shouting) are not.
func capitalisedInside(s string, start, end int) bool {
	first, _ := utf8.DecodeRuneInString(s[start:end])
	if !unicode.IsUpper(first) {
		return false
	}
	w := s[start:end]
	if w == "I" || strings.HasPrefix(w, "I'") || strings.HasPrefix(w, "I’") || strings.ToUpper(w) == w {
		return false
	}
	before := strings.TrimRightFunc(s[:start], unicode.IsSpace)
	if before == "" {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(before)
	switch last {
	case '.', '!', '?', '\n', ':', '"', '(', '¿', '¡':
		return false
	}
	return true
}
