package knowledge

import (
	"strings"
	"testing"
)

func TestAmountsInWords(t *testing.T) {
	for text, want := range map[string]string{
		"start with half a teaspoon less":            "half a teaspoon",
		"Others drop one capsule every three days.":  "one capsule",
		"one and a half capsules":                    "half capsules",
		"two heaped spoons in water":                 "two heaped spoons",
		"a couple of pills":                          "couple of pills",
		"take 3 capsules":                            "3 capsules",
		"Ten Drops under the tongue":                 "Ten Drops",
		"the first dose can feel strong":             "",
		"several doses of naloxone may be needed":    "",
		"one of the pills a clinician may prescribe": "",
		"a dose plan is something a clinician makes": "",
	} {
		got := ""
		if locs := findAmountWords(text); len(locs) > 0 {
			got = text[locs[0][0]:locs[0][1]]
		}
		if got != want {
			t.Errorf("%q: found %q, want %q", text, got, want)
		}
	}
}

func BenchmarkCheckShipped(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, ps := Check(Embedded(), EmbeddedName); ps.Errors() > 0 {
			b.Fatal(ps)
		}
	}
}

// FuzzExampleKey: the quick key for plain text must compare examples as the
// general one does, or a copy could slip past the check.
func FuzzExampleKey(f *testing.F) {
	for _, s := range []string{"Cant  sleep\tsince I quit ", "", "  ", "ÄRGER über", "a\vb\fc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := exampleKey(s), strings.Join(strings.Fields(strings.ToLower(s)), " "); got != want {
			t.Errorf("exampleKey(%q) = %q, want %q", s, got, want)
		}
	})
}
