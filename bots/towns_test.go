package bots

import (
	"strings"
	"testing"
)

// TestTownsFile holds towns.txt to what townAt relies on: each name as the
// bot reads it, sorted, once, in a region the shipped knowledge has, and
// never an English word or a name starting with "the".
func TestTownsFile(t *testing.T) {
	e, _ := shipped(t)
	ix := e.ix.Load()
	prev := ""
	n := 0
	for _, l := range strings.Split(townsText, "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		n++
		name, code, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("%q is not name<TAB>region", l)
		}
		if read := strings.Join(tokens(normalise(name)), " "); read != name {
			t.Errorf("%q is read as %q", name, read)
		}
		if name <= prev {
			t.Errorf("%q comes after %q: keep the file sorted, each name once", name, prev)
		}
		prev = name
		if _, ok := ix.base.Region(code); !ok {
			t.Errorf("%q: no region %q", name, code)
		}
		if !strings.Contains(name, " ") && englishWord(name) {
			t.Errorf("%q is an English word", name)
		}
		if strings.HasPrefix(name, "the ") {
			t.Errorf("%q starts with the", name)
		}
	}
	if n < 10000 {
		t.Errorf("only %d towns", n)
	}
}
