package bots

import (
	"slices"
	"testing"
)

// scanFor is the plain way to find a phrase: every place in the message,
// word by word. The index must find exactly what it finds.
func scanFor(ss []string, p phrase) bool {
	for i := 0; i+len(p) <= len(ss); i++ {
		if equal(ss[i:i+len(p)], p) {
			return true
		}
	}
	return false
}

// TestPhraseIndexFindsWhatAScanFinds: the crisis floor, looked up by first
// word, picks the same category as scanning every phrase in the file's
// order, so a message with two kinds of danger leads with the same line.
func TestPhraseIndexFindsWhatAScanFinds(t *testing.T) {
	e, _ := shipped(t)
	ix := e.ix.Load()
	msgs := []string{
		"i want to kill myself",
		"i took an overdose and i want to kill myself",
		"he is having a seizure and not breathing",
		"my friend overdosed, hes not breathing, i cant wake him up",
		"cant sleep since i quit",
		"kill kill myself myself overdose overdose",
		"",
		"not breathing",
	}
	for _, m := range msgs {
		a := ix.readMessage(m).scan.all
		want := -1
		for i, c := range ix.crisis {
			for _, p := range c.phrases {
				if want < 0 && scanFor(a, p) {
					want = i
				}
			}
		}
		got := -1
		var found []int
		ix.floor.each(a, func(n int) bool {
			found = append(found, n)
			if c := ix.floor.owner[n]; got < 0 || c < got {
				got = c
			}
			return true
		})
		if got != want {
			t.Errorf("%q: the index leads with category %d, a scan with %d", m, got, want)
		}
		for n, p := range ix.floor.phrases {
			if scanFor(a, p) != slices.Contains(found, n) {
				t.Errorf("%q: phrase %q found by one way and not the other", m, p)
			}
		}
	}
}
