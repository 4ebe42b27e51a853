package feedback

import (
	"regexp"
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

// Scrub removes what could identify a person from a question before it is
// kept: e-mail addresses, links and bare domains, @handles and mentions, and
// every digit (phone numbers, ids, ages, dates). It also folds case and
// spaces so that the same question counts once, drops invisible characters,
// and keeps at most MaxQuestion characters. It returns "" when nothing worth
// keeping is left.
func Scrub(s string) string {
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
	s = strings.ToLower(s)
	s = mentionRe.ReplaceAllString(s, " [handle] ")
	s = emailRe.ReplaceAllString(s, " [email] ")
	s = urlRe.ReplaceAllString(s, " [link] ")
	s = domainRe.ReplaceAllString(s, " [link] ")
	s = handleRe.ReplaceAllString(s, " [handle] ")
	s = strings.ReplaceAll(s, "@", " ") // a stray @ after the patterns is half an address
	s = digitsRe.ReplaceAllString(s, "#")
	s = strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
	s = strings.NewReplacer(" ,", ",", " .", ".", " ?", "?", " !", "!", " ;", ";", " :", ":").Replace(s)
	if !strings.ContainsFunc(stripMarks(s), unicode.IsLetter) {
		return ""
	}
	if utf8.RuneCountInString(s) > MaxQuestion {
		r := []rune(s)[:MaxQuestion]
		s = strings.TrimSpace(string(r)) + "…"
	}
	return s
}

// stripMarks removes the placeholders Scrub puts in, so that a message made
// only of links and numbers counts as empty.
func stripMarks(s string) string {
	return strings.NewReplacer("[handle]", "", "[email]", "", "[link]", "").Replace(s)
}
