package bots

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// MaxQuestion is how many characters of a message the engine reads; the rest
// is ignored so a pasted novel costs no more than a long question.
const MaxQuestion = 1000

// normalise folds what people type into one form: valid UTF-8, compatibility
// forms and accents folded, zero-width and control characters gone, lower
// case, curly apostrophes straight, at most MaxQuestion characters.
func normalise(s string) string {
	if len(s) > 8*MaxQuestion {
		s = s[:8*MaxQuestion]
	}
	s = strings.ToValidUTF8(s, " ")
	s = norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	n := 0
	for _, r := range s {
		if n >= MaxQuestion {
			break
		}
		switch {
		case r == utf8.RuneError:
			r = ' '
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r):
			continue // accents, zero-width joiners, direction marks
		case r == '\u2018' || r == '\u2019' || r == '`' || r == '\u00b4':
			r = '\''
		case unicode.IsControl(r) || unicode.IsSpace(r):
			r = ' '
		default:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// tokens splits normalised text into words of letters and digits; an
// apostrophe inside a word is dropped so "can't" and "cant" are one word.
func tokens(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, r)
		case r == '\'' && len(cur) > 0:
			// skip: "can't" -> "cant"
		default:
			flush()
		}
	}
	flush()
	return out
}

// stem reduces a word to its stem with the Snowball English stemmer.
func stem(w string) string {
	if len(w) < 3 {
		return w
	}
	return english.Stem(w, true)
}

// chatFiller are words people type that carry no topic; added to the
// stemmer's English stop words for ranking only (crisis phrases keep them).
var chatFiller = map[string]bool{
	"im": true, "ive": true, "id": true, "dont": true, "cant": true, "wont": true,
	"didnt": true, "doesnt": true, "isnt": true, "u": true, "ur": true, "pls": true,
	"plz": true, "please": true, "also": true, "still": true, "since": true,
	"anyone": true, "anything": true, "something": true, "get": true, "got": true,
	"would": true, "could": true, "ok": true, "okay": true, "yeah": true, "yes": true,
	"really": true, "much": true, "many": true, "lot": true, "lots": true, "thing": true,
	"things": true, "tell": true, "know": true, "want": true, "need": true, "like": true,
	"kinda": true, "gonna": true, "wanna": true, "pretty": true, "bit": true, "anymore": true,
	"can": true, "may": true, "might": true, "one": true, "someone": true, "help": true,
	"question": true, "hi": true, "hello": true, "hey": true, "thanks": true, "thank": true,
}

func isStop(w string) bool { return english.IsStopWord(w) || chatFiller[w] }
