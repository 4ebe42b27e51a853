package bots

import (
	"os"
	"strings"
	"testing"

	"github.com/kljensen/snowball/english"
	"github.com/kratombot/kratombot/knowledge"
)

func TestKnownWords(t *testing.T) {
	b, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(b)
	if err != nil {
		t.Fatal(err)
	}
	known := e.KnownWords()
	for _, w := range []string{"kratom", "withdrawal", "samhsa", "helpline"} {
		if !known(w) {
			t.Errorf("%q is the knowledge's own word, but KnownWords does not know it", w)
		}
	}
	for _, w := range []string{"jonathan", "tuscaloosa", "okonkwo", "zwiebelkuchen"} {
		if known(w) {
			t.Errorf("%q is not in the knowledge, but KnownWords knows it", w)
		}
	}
}

// Thai, Chinese and the like put no spaces between words: pairs of letters
// let a phrase be found inside a longer message, and Thai's vowel and tone
// marks stay, or a fit ("ชัก") would read as a punch ("ชก").
func TestTokensOfUnspacedScripts(t *testing.T) {
	tests := []struct{ in, want string }{
		{"อยากตาย", "อย ยา าก กต ตา าย"},
		{"ชัก", "ชั ัก"},
		{"kratom กระท่อม ok", "kratom กร ระ ะท ท่ ่อ อม ok"},
		{"ก", "ก"},
		{"我想死", "我想 想死"},
		{"café", "cafe"},
		// letters with a stroke are typed without it too
		{"Động kinh", "dong kinh"},
		{"połknął tabletki", "polknal tabletki"},
		{"Straße, Øresund", "strasse oresund"},
	}
	for _, tt := range tests {
		if got := strings.Join(tokens(normalise(tt.in)), " "); got != tt.want {
			t.Errorf("tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestForeignStopWordsAreNotEnglish: the small words of other languages
// left out of the models must not be English words that mean something
// ("son", "die", "aura"). It reads the system's word list.
func TestForeignStopWordsAreNotEnglish(t *testing.T) {
	raw, err := os.ReadFile("/usr/share/dict/words")
	if err != nil {
		t.Skip("no word list on this machine")
	}
	allowed := map[string]bool{ // English words too rare here to matter
		"y": true, "o": true, "e": true, "c": true, "d": true, "m": true, "n": true, "co": true,
		"es": true, "ko": true, "mi": true, "mo": true, "ne": true, "os": true, "un": true,
		"ay": true, "dos": true, "em": true, "ha": true, "ho": true, "mas": true, "nay": true,
		"non": true, "pas": true, "fusses": true, "muss": true,
	}
	for _, w := range strings.Fields(strings.ToLower(string(raw))) {
		if foreignStop(w) && !english.IsStopWord(w) && !chatFiller[w] && !allowed[w] {
			t.Errorf("%q means something in English but is dropped as another language's small word", w)
		}
	}
	for _, w := range []string{"son", "die", "aura", "ban", "ma", "hay", "va", "van", "pa", "pour"} {
		if isStop(w) {
			t.Errorf("%q is dropped", w)
		}
	}
}
