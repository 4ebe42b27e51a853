package knowledge

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzCheck holds the loader to its promise for any edit a maintainer might
// save: no panic, and either a knowledge base or problems that each point at
// a file and a line.
func FuzzCheck(f *testing.F) {
	seed, err := os.ReadFile("testdata/minimal/all.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("")
	f.Add("topics:\n\t- id: x\n")
	f.Add("topics: [{id: a, title: \"unclosed}]")
	f.Add("regions:\n  - code: US\n    referral: {name: x}\n")
	f.Add(strings.Replace(string(seed), "answer: |", "answer: [", 1))
	f.Add("&a [*a, *a, *a]\n")
	f.Add("topics:\n  - id: a\n    title: “A: b”\n   kind: faq\n")
	f.Add("topics:\n  - id: caf\xe9\n    words: [a, b\n")
	f.Add("\xff\xfet\x00o\x00")
	f.Add("topics:\n  - id: a\n    answer: |\n      x\n\n    y\n    id: b\n    id: c\n")
	f.Fuzz(func(t *testing.T, text string) {
		fsys := fstest.MapFS{"edit.yaml": {Data: []byte(text)}}
		b, ps := Check(fsys, "knowledge")
		if b == nil && ps.Errors() == 0 {
			t.Fatal("no knowledge base and no error")
		}
		for _, p := range ps {
			if p.Pos.File == "" || p.Pos.Line < 1 || p.Message == "" {
				t.Fatalf("problem without a place or words: %+v", p)
			}
		}
	})
}
