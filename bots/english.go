package bots

import (
	_ "embed"
	"sort"
	"strings"
	"sync"
)

// Typo correction maps a word the knowledge lacks to one it has a letter
// away. A real English word is no typo, however near it is to a known one:
// "a pint of guinness" read as "a point" sounded like "what's the point".
// So words in a common English word list are left as written. Measured on
// the tuning sets, it cost one answer (Dutch "lever", liver) and saved 3 or
// 4 false crises at each of three crisis-model seeds.

//go:embed english-words.txt
var englishWordsText string

var englishWords = sync.OnceValue(func() []string {
	var ws []string
	for _, l := range strings.Split(englishWordsText, "\n") {
		if l != "" && l[0] != '#' {
			ws = append(ws, l)
		}
	}
	return ws // sorted in the file; TestEnglishWordList holds it so
})

// englishWord reports whether w (lowercase, as tokens gives it) is a
// common English word.
func englishWord(w string) bool {
	ws := englishWords()
	i := sort.SearchStrings(ws, w)
	return i < len(ws) && ws[i] == w
}
