package feedback

import (
	_ "embed"
	"strings"
	"sync"

	"github.com/kljensen/snowball/english"
)

// words/english.txt is the lower-case part of SCOWL's size-35 American
// English list (Debian's wamerican-small), without possessives: the common
// words a kept question may hold. Proper nouns, capitalised in SCOWL, are
// left out. Licence: words/LICENSE-SCOWL.txt (permissive, notice kept).
//
//go:embed words/english.txt
var englishList string

var (
	englishOnce sync.Once
	englishSet  map[string]bool
)

// chatSpellings are how people type contractions and chat words that the
// list spells otherwise or lacks.
var chatSpellings = []string{
	"i'm", "i've", "i'll", "i'd", "im", "ive", "id", "cant", "dont", "doesnt", "didnt", "isnt",
	"wasnt", "wont", "wouldnt", "couldnt", "shouldnt", "havent", "hasnt", "arent", "youre",
	"theyre", "thats", "whats", "hows", "ok", "okay", "pls", "plz", "thx", "lol", "yeah",
	"kratom",
}

// English reports whether a lower-case word is common English.
func English(w string) bool {
	englishOnce.Do(func() {
		englishSet = make(map[string]bool, 50000)
		for _, line := range strings.Split(englishList, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				englishSet[line] = true
				if strings.Contains(line, "'") {
					englishSet[strings.ReplaceAll(line, "'", "")] = true
				}
			}
		}
		for _, w := range chatSpellings {
			englishSet[w] = true
		}
	})
	return englishSet[w] || english.IsStopWord(w)
}
