package bots

import (
	"strings"
	"testing"
)

// TestRealWordsAreNotTypos: a word spelled right is read as itself, while
// a misspelling is still read as the word meant.
func TestRealWordsAreNotTypos(t *testing.T) {
	e, _ := shipped(t)
	tests := []struct {
		q, want string // want: the topic, or "" for no crisis line
	}{
		{"how many calories in a pint of guinness", ""},
		{"cant sleep since i quit, insomina every night", "sleep"},
		{"withdrawl symptons day 3, how long", "withdrawal-timeline"},
	}
	for _, tt := range tests {
		r := ask(t, e, tt.q, "")
		if r.Kind() == KindCrisis {
			t.Errorf("%q got the crisis line (%s)", tt.q, r.Intent())
		}
		if tt.want != "" && r.Topic() != tt.want {
			t.Errorf("%q: got %s %q, want the %s topic", tt.q, r.Intent(), r.Topic(), tt.want)
		}
	}
	for _, w := range []string{"pint", "fried", "lever"} {
		if !englishWord(w) {
			t.Errorf("%q is an English word, but englishWord does not know it", w)
		}
	}
	for _, w := range []string{"insomina", "withdrawl", "kratom", "#"} {
		if englishWord(w) {
			t.Errorf("%q is no English word, but englishWord knows it", w)
		}
	}
}

// TestEnglishWordList: englishWord searches the list by halves, so a word
// out of order or in capitals would silently never be found.
func TestEnglishWordList(t *testing.T) {
	ws := englishWords()
	if len(ws) < 30000 {
		t.Fatalf("the English word list has %d words; it should have about 39,000", len(ws))
	}
	for i, w := range ws {
		if w != strings.ToLower(strings.TrimSpace(w)) {
			t.Errorf("%q in english-words.txt must be lowercase with no spaces", w)
		}
		if i > 0 && ws[i-1] >= w {
			t.Errorf("english-words.txt must be sorted with no word twice: %q comes after %q", w, ws[i-1])
		}
	}
}
