package bots

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/french"
	"github.com/kljensen/snowball/spanish"
	"golang.org/x/text/unicode/norm"
)

// MaxQuestion is how many characters of a message the engine ranks topics
// on; the rest is ignored so a pasted novel costs no more than a long
// question. MaxCrisisScan is how far it looks for crisis words, further,
// because someone may tell a long story before saying they are in danger.
const (
	MaxQuestion   = 1000
	MaxCrisisScan = 20000
)

// normalise folds what people type into one form: valid UTF-8, compatibility
// forms and accents folded, zero-width and control characters gone, lower
// case, curly apostrophes straight, at most MaxQuestion characters.
func normalise(s string) string { return normaliseN(s, MaxQuestion) }

// normaliseN is normalise keeping at most max characters.
func normaliseN(s string, max int) string {
	if len(s) > 8*max {
		s = s[:8*max]
	}
	s = strings.ToValidUTF8(s, " ")
	if isASCII(s) { // most messages and all of our YAML: a byte loop will do
		return normaliseASCII(s, max)
	}
	s = norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	n := 0
	for _, r := range s {
		if n >= max {
			break
		}
		switch {
		case r == utf8.RuneError:
			r = ' '
		case unspaced(r):
			// Thai's vowel and tone marks are letters of the word, not
			// accents: without them "ชัก" (a fit) reads as "ชก" (a punch).
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r):
			continue // accents, zero-width joiners, direction marks
		case r == '\u2018' || r == '\u2019' || r == '`' || r == '\u00b4':
			r = '\''
		case unicode.IsControl(r) || unicode.IsSpace(r):
			r = ' '
		default:
			r = unicode.ToLower(r)
			if f, ok := unaccented[r]; ok {
				b.WriteString(f)
				n++
				continue
			}
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// unaccented folds letters that NFKD leaves whole, as people type them
// without the stroke: Vietnamese "động kinh" (a seizure) is "dong kinh".
var unaccented = map[rune]string{
	'đ': "d", 'ł': "l", 'ø': "o", 'ı': "i", 'ß': "ss", 'æ': "ae", 'œ': "oe", 'ħ': "h",
}

// tokens splits normalised text into words of letters and digits; an
// apostrophe inside a word is dropped so "can't" and "cant" are one word.
// Scripts written without spaces between words (Thai, Lao, Khmer, Burmese,
// Chinese, Japanese) become overlapping pairs of letters, as search engines
// index them: "อยากตาย" (I want to die) is then found inside a longer
// message, and a phrase or an example in them can be learned at all.
func tokens(s string) []string {
	if isASCII(s) {
		return tokensASCII(s)
	}
	var out []string
	var cur, run []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
		switch {
		case len(run) == 1:
			out = append(out, string(run))
		case len(run) > 1:
			for i := 0; i+1 < len(run); i++ {
				out = append(out, string(run[i:i+2]))
			}
		}
		run = run[:0]
	}
	for _, r := range s {
		switch {
		case unspaced(r):
			if len(cur) > 0 {
				flush()
			}
			run = append(run, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if len(run) > 0 {
				flush()
			}
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

// unspaced is a letter or vowel mark of a script written without spaces
// between words.
func unspaced(r rune) bool {
	return r >= 0x0E00 && (unicode.IsLetter(r) || unicode.In(r, unicode.Mn, unicode.Mc)) &&
		unicode.In(r, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// stem reduces a word to its stem with the Snowball English stemmer.
func stem(w string) string {
	if len(w) < 3 || len(w) > 4*maxWordLen { // a blob, not a word: nothing to stem
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

// isStop is true for words that say nothing about the topic, and for
// numbers: "day 5" should not make a question look less answerable.
func isStop(w string) bool {
	return english.IsStopWord(w) || chatFiller[w] || allDigits(w) || foreignStop(w)
}

// foreignStop is true for the small words of the other languages people
// write to the bot in. Without them a model learns the language, not the
// message: when most Spanish examples were crises, "el", "para" and "y"
// made nearly every Spanish question a possible crisis. Spanish and French
// come from the stemmer's lists; the rest are written here. Words that mean
// something in English are never dropped (TestForeignStopWordsAreNotEnglish):
// "son", "die", "ma", "aura", "va", "van", "pa".
func foreignStop(w string) bool {
	if notForeignStop[w] {
		return false
	}
	return spanish.IsStopWord(w) || french.IsStopWord(w) || otherStop[w]
}

// notForeignStop are the stemmer lists' words that carry meaning in English.
var notForeignStop = map[string]bool{
	"son": true, "sin": true, "ma": true, "ton": true, "aura": true, "hay": true, "con": true,
	"era": true, "par": true, "sera": true, "mes": true, "pour": true, "sea": true, "seas": true,
	"auras": true, "eras": true, "va": true,
}

// otherStop: Portuguese, Italian, German, Dutch, Malay and Indonesian,
// Tagalog and Vietnamese (without its accents, as normalised).
var otherStop = func() map[string]bool {
	m := map[string]bool{}
	for _, list := range []string{
		// Portuguese
		"o os as um uma uns umas do da dos das em na nos nas pra pelo pela eu ele ela eles voce vc meu minha meus minhas seu sua isso isto esse essa este ja nao mais muito muita mas como tambem estou tou sou tenho tem ao aos ou quando porque entao aqui",
		// Italian
		"il gli di della dei degli delle dal nel nella sul che ed non mi ti si ci sono ho hai mio mia miei questo questa quello anche piu molto io lui lei noi perche quando gia sto",
		// German
		"der das dem des ein eine einen einem einer und oder ich du er sie es wir ihr mein meine meinen mir mich dich dir ist sind habe haben nicht kein keine mit von zu zum zur auf aus bei nach seit wie wenn dass aber auch noch schon sehr nur nein mal doch mehr immer alles etwas jetzt heute hier dann weil sich sein seine ihm ihn uns kann muss soll wird wurde hatte hab",
		// Dutch
		"het een en ik je jij hij zij ze wij mijn ben heb heeft niet geen voor op te dat dit er maar ook nog wel naar bij om als meer nu dan zo",
		// Malay and Indonesian
		"saya aku kau awak anda dia kami kita mereka dan yang ini itu di ke dari pada untuk dengan ada tak tidak gak nggak ga nak mau dah sudah udah je lah kah kat ni tu juga lagi boleh bisa kalau kalo sebab karena tapi atau macam sangat sekali",
		// Tagalog
		"ang ng mga sa na ko ako ka ikaw siya kayo sila ba po yung ung naman lang kasi pero ay rin nga mo niya namin natin ito iyan yan yun dito doon kung may wala hindi",
		// Vietnamese
		"toi cua co khong nhung duoc nay cho voi mot nhu thi minh cung dang",
	} {
		for _, w := range strings.Fields(list) {
			m[w] = true
		}
	}
	return m
}()

func allDigits(w string) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return w != ""
}

func normaliseASCII(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case c < ' ' || c == 0x7f:
			b[i] = ' '
		case c == '`':
			b[i] = '\''
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		}
	}
	return strings.TrimSpace(string(b))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// tokensASCII is tokens for ASCII text, slicing instead of copying runes.
func tokensASCII(s string) []string {
	out := make([]string, 0, len(s)/5+1)
	var cur []byte
	start := -1 // start of a run without apostrophes, so it can be sliced
	flush := func(end int) {
		switch {
		case cur != nil:
			out = append(out, string(cur))
		case start >= 0:
			out = append(out, s[start:end])
		}
		cur, start = nil, -1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', 'A' <= c && c <= 'Z':
			if cur != nil {
				cur = append(cur, c)
			} else if start < 0 {
				start = i
			}
		case c == '\'' && (start >= 0 || cur != nil):
			if cur == nil {
				cur = append([]byte(nil), s[start:i]...)
			}
		default:
			flush(i)
		}
	}
	flush(len(s))
	return out
}
