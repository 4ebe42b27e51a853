package bots

import (
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
