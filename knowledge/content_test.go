package knowledge

import "testing"

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
