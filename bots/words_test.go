package bots

import (
	"testing"

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
	for _, w := range []string{"jonathan", "tuscaloosa", "okonkwo", "aufhören"} {
		if known(w) {
			t.Errorf("%q is not in the knowledge, but KnownWords knows it", w)
		}
	}
}
