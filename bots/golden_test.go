package bots

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kratombot/kratombot/knowledge"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden pins exactly what a person reads for each sort of reply, on
// the small test knowledge so that content edits do not churn these files.
// Run `go test ./bots -run TestGolden -update` after an intended change and
// read the diff.
func TestGolden(t *testing.T) {
	e := minimal(t)
	ctx := context.Background()
	cases := []struct {
		name string
		get  func() (Reply, error)
	}{
		{"topic", func() (Reply, error) { return e.Answer(ctx, Question{Text: "cant sleep"}) }},
		{"topic-uk", func() (Reply, error) { return e.Answer(ctx, Question{Text: "cant sleep", Region: "UK"}) }},
		{"crisis", func() (Reply, error) { return e.Answer(ctx, Question{Text: "i want to die"}) }},
		{"overdose", func() (Reply, error) { return e.Answer(ctx, Question{Text: "he is not breathing"}) }},
		{"dosing", func() (Reply, error) { return e.Answer(ctx, Question{Text: "how much kratom"}) }},
		{"fallback", func() (Reply, error) { return e.Answer(ctx, Question{Text: "who won the football"}) }},
		{"overview", func() (Reply, error) { return e.Open(ctx, "menu:symptom", "") }},
		{"resources", func() (Reply, error) { return e.Open(ctx, "resources", "") }},
		{"crisis-command", func() (Reply, error) { return e.Open(ctx, "crisis", "") }},
		{"region-named", func() (Reply, error) {
			return e.Answer(ctx, Question{Text: "cant sleep, im in london"})
		}},
		{"possible-crisis", func() (Reply, error) {
			ix := e.ix.Load()
			t, _ := ix.base.Topic("sleep")
			return ix.withCrisisLead(ix.topicReply(t, ix.base.Default()), ix.base.Crisis[0], ix.base.Default(), message{}, false), nil
		}},
		{"possible-emergency", func() (Reply, error) {
			ix := e.ix.Load()
			t, _ := ix.base.Topic("sleep")
			for _, c := range ix.base.Crisis {
				if c.Contact == knowledge.ContactEmergency {
					return ix.withCrisisLead(ix.topicReply(t, ix.base.Default()), c, ix.base.Default(), message{}, false), nil
				}
			}
			return Reply{}, errors.New("no emergency category")
		}},
		{"fallback-long", func() (Reply, error) {
			return e.Answer(ctx, Question{Text: "It has been a strange year. Work changed, we moved twice. The car broke down. Anyway."})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.get()
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString(r.Text())
			b.WriteString("\n---\n")
			for _, s := range r.Choices() {
				b.WriteString("[" + s.ID + "] " + s.Label + "\n")
			}
			path := filepath.Join("testdata", "golden", c.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("%s changed:\n--- got\n%s\n--- want\n%s", path, b.String(), want)
			}
		})
	}
}
