package bots

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type diagCase struct {
	Q, After, Set, Topic string
	Also                 []string
}

func TestZZDiagFollowups(t *testing.T) {
	if os.Getenv("DIAG") == "" {
		t.Skip()
	}
	e, _ := shipped(t)
	ix := e.ix.Load()
	name := func(u understood) string {
		if u.topic < 0 {
			return "-"
		}
		return fmt.Sprintf("%s %.2f %v", ix.topics[u.topic].ID, u.p, u.confident)
	}
	for _, f := range strings.Split(os.Getenv("DIAG"), ",") {
		raw, _ := os.ReadFile("../questions/sets/" + f + ".yaml")
		var s struct{ Cases []diagCase }
		if err := yaml.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		for _, c := range s.Cases {
			if c.Set != "followup" {
				continue
			}
			r0 := ix.readMessage(c.After)
			u0 := ix.understand(r0)
			m := ix.readMessage(c.Q)
			u := ix.understand(m)
			last := "-"
			cs := "-"
			if u0.confident {
				last = ix.topics[u0.topic].ID
				cm := ix.readMessage(ix.topics[u0.topic].Title + ". " + strings.Join(m.whole.words, " "))
				cm.long = false
				cs = name(ix.understand(cm))
			}
			fmt.Printf("%-60q want=%s last=%s | alone=%s | ctx=%s\n", c.Q, c.Topic, last, name(u), cs)
		}
	}
}

func TestZZOne(t *testing.T) {
	q := os.Getenv("ONE")
	if q == "" {
		t.Skip()
	}
	e, _ := shipped(t)
	ix := e.ix.Load()
	for _, line := range strings.Split(q, "|") {
		m := ix.readMessage(line)
		p := ix.classify(m.whole, nil)
		for _, r := range top(p, 4) {
			name := "offtopic"
			if r.class < len(ix.topics) {
				name = ix.topics[r.class].ID
			}
			fmt.Printf("%q %s %.3f\n", line, name, r.p)
		}
		c, pr := ix.crisisRisk(m.whole)
		fmt.Printf("   crisis %d %.3f\n", c, pr)
	}
}

type diagCase2 struct {
	Q, Set, Crisis string
}

func TestZZParts(t *testing.T) {
	if os.Getenv("PARTS") == "" {
		t.Skip()
	}
	e, _ := shipped(t)
	ix := e.ix.Load()
	for _, f := range strings.Split(os.Getenv("PARTS"), ",") {
		raw, _ := os.ReadFile("../questions/sets/" + f + ".yaml")
		var s struct{ Cases []diagCase2 }
		if err := yaml.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		for _, c := range s.Cases {
			m := ix.readMessage(c.Q)
			if len(m.sentences) < 2 {
				continue
			}
			_, whole := ix.crisisRisk(m.whole)
			part := float32(0)
			for i, s := range m.sentences {
				if _, p := ix.crisisRisk(s); p > part {
					part = p
				}
				if i > 0 {
					if _, p := ix.crisisRisk(joinAnalysis(m.sentences[i-1], s)); p > part {
						part = p
					}
				}
			}
			r := ix.safety(m)
			fmt.Printf("PART %s\t%v\t%.3f\t%.3f\tcert=%v poss=%v phrase=%v\t%.60q\n", f, c.Set == "crisis", whole, part, r.certain, r.possible, r.phrase, c.Q)
		}
	}
}
