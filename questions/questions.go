// Package questions scores the example questions maintainers keep in
// knowledge/questions.yaml: each example is asked of the engine and must
// reach the topic or the kind of reply it names. `kratombot test-questions`
// prints the score and the misses; tests call Run directly.
//
// It only measures: it must never change the knowledge, and it treats a
// missed crisis example as a failure whatever the score, because a crisis
// that does not reach the crisis line is the one miss that can cost a life.
package questions

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/knowledge"
	"go.yaml.in/yaml/v3"
)

// DefaultThreshold is used when neither the file nor the knowledge sets one.
const DefaultThreshold = 0.85

// Kinds are the values an example's kind: may take.
var Kinds = []string{"crisis", "fallback", "dosing", "greeting", "thanks", "help", "bot"}

// Miss is an example that did not reach what it expects.
type Miss struct {
	// Index is the example's place in the list Run was given.
	Index    int
	Question string
	Want     string
	// Got is the topic id reached, or the kind or intent of the reply
	// (fallback, crisis, dosing, ...); for a fallback it names the topics
	// offered, which shows where the question nearly went.
	Got string
	// Crisis is set when the example expects the crisis line.
	Crisis bool
}

// Result is the score of a run.
type Result struct {
	Total, Passed int
	Threshold     float64
	Misses        []Miss
	// Err is set when the run stopped early (its context ended).
	Err error
}

// Score is the share of examples that passed, 0..1.
func (r Result) Score() float64 {
	if r.Total == 0 {
		return 0
	}
	return float64(r.Passed) / float64(r.Total)
}

// CrisisMisses counts missed crisis examples.
func (r Result) CrisisMisses() int {
	n := 0
	for _, m := range r.Misses {
		if m.Crisis {
			n++
		}
	}
	return n
}

// OK reports whether the run passes: it finished, the score reaches the
// threshold and every crisis example reached the crisis line.
func (r Result) OK() bool {
	return r.Err == nil && r.Total > 0 && r.Score() >= r.Threshold-1e-9 && r.CrisisMisses() == 0
}

// Summary is the score line, e.g. "184/200 passed (92.0%), threshold 85%".
func (r Result) Summary() string {
	return fmt.Sprintf("%d/%d passed (%.1f%%), threshold %s%%", r.Passed, r.Total,
		math.Floor(r.Score()*1000)/10, trimFloat(r.Threshold*100))
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", math.Round(f*10)/10), "0"), ".")
}

// Run asks every example and scores the replies. A threshold of 0 means
// DefaultThreshold.
func Run(ctx context.Context, e *bots.Engine, examples []knowledge.Example, threshold float64) Result {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	res := Result{Total: len(examples), Threshold: threshold}
	for i, ex := range examples {
		r, err := e.Answer(ctx, bots.Question{Text: ex.Q})
		if err != nil {
			res.Err = fmt.Errorf("scoring stopped after %d of %d examples: %w", i, len(examples), err)
			return res
		}
		if ok, got := Check(r, ex); ok {
			res.Passed++
		} else {
			res.Misses = append(res.Misses, Miss{Index: i, Question: ex.Q, Want: Want(ex), Got: got, Crisis: ex.Kind == "crisis"})
		}
	}
	return res
}

// Want is what an example expects, as printed: a topic id or a kind.
func Want(ex knowledge.Example) string {
	if ex.Topic != "" {
		return ex.Topic
	}
	return ex.Kind
}

// Check says whether a reply is what an example expects, and what it got:
// with topic:, the reply's topic; with kind: crisis or fallback, the reply's
// kind; with dosing, greeting, thanks, help or bot, the reply's intent.
func Check(r bots.Reply, ex knowledge.Example) (ok bool, got string) {
	got = Describe(r)
	switch {
	case ex.Topic != "":
		return r.Topic() == ex.Topic, got
	case ex.Kind == "crisis" || ex.Kind == "fallback":
		return string(r.Kind()) == ex.Kind, got
	default:
		return ex.Kind != "" && string(r.Intent()) == ex.Kind, got
	}
}

// Describe names what a reply is: its topic, or its kind or intent, with
// the topics a fallback offered.
func Describe(r bots.Reply) string {
	switch {
	case r.Topic() != "":
		return r.Topic()
	case r.Kind() == bots.KindCrisis:
		return "crisis"
	case r.Kind() == bots.KindFallback:
		var ids []string
		for _, s := range r.Suggestions() {
			if !strings.Contains(s.ID, ":") && s.ID != "resources" {
				ids = append(ids, s.ID)
			}
		}
		if len(ids) > 0 {
			return "fallback (offered " + strings.Join(ids, ", ") + ")"
		}
		return "fallback"
	case r.Intent() != "":
		return string(r.Intent())
	}
	return string(r.Kind())
}

// File is an examples file loaded by Load.
type File struct {
	Examples []knowledge.Example
	// Positions[i] is where Examples[i] stands.
	Positions []knowledge.Position
	// Threshold is the file's threshold:, or 0 when it sets none.
	Threshold float64
}

// Load reads a YAML file of the same shape as knowledge/questions.yaml
// (threshold: and examples: with q: and topic: or kind:). Topics are
// checked against base when it is not nil. Problems come back as
// knowledge.Problems with file:line:col.
func Load(path string, base *knowledge.Base) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the examples file: %w", err)
	}
	return Parse(path, data, base)
}

// Parse is Load on bytes already read; name is used in messages.
func Parse(name string, data []byte, base *knowledge.Base) (*File, error) {
	var ps knowledge.Problems
	at := func(n *yaml.Node) knowledge.Position {
		return knowledge.Position{File: name, Line: n.Line, Col: n.Column}
	}
	bad := func(n *yaml.Node, format string, a ...any) {
		ps = append(ps, knowledge.Problem{Pos: at(n), Message: fmt.Sprintf(format, a...)})
	}
	var doc yaml.Node
	err := yaml.Unmarshal(data, &doc)
	if p, bad := knowledge.SyntaxProblem(name, data, err); bad {
		return nil, knowledge.Problems{p}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, knowledge.Problems{{Pos: knowledge.Position{File: name, Line: 1, Col: 1}, Message: "the file must have 'examples:' with a list of q: and topic: or kind:"}}
	}
	f := &File{}
	root := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "threshold":
			if err := v.Decode(&f.Threshold); err != nil || f.Threshold < 0 || f.Threshold > 1 {
				bad(v, "threshold must be a number between 0 and 1, like 0.85 for 85%%")
			}
		case "examples":
			list = v
		default:
			bad(k, "unknown key %q; an examples file has only 'threshold:' and 'examples:'", k.Value)
		}
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		if list == nil {
			list = root
		}
		bad(list, "there are no examples; add 'examples:' with a list of '- q: ...' entries")
	} else {
		for _, n := range list.Content {
			if n.Kind != yaml.MappingNode {
				bad(n, "each example is '- q: the question' with 'topic:' or 'kind:' on the next line, indented to line up with q")
				continue
			}
			var ex knowledge.Example
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind != yaml.ScalarNode {
					bad(v, "%s: needs plain text here", k.Value)
					continue
				}
				switch k.Value {
				case "q":
					ex.Q = v.Value
				case "topic":
					ex.Topic = v.Value
				case "kind":
					ex.Kind = v.Value
				default:
					bad(k, "unknown key %q in an example; use q:, and topic: or kind:", k.Value)
				}
			}
			switch {
			case strings.TrimSpace(ex.Q) == "":
				bad(n, "this example has no question; add 'q:'")
			case ex.Topic != "" && ex.Kind != "":
				bad(n, "example %q gives both topic and kind; keep one", ex.Q)
			case ex.Topic == "" && ex.Kind == "":
				bad(n, "example %q needs 'topic:' (a topic id) or 'kind:' (%s)", ex.Q, strings.Join(Kinds, ", "))
			case ex.Kind != "" && !contains(Kinds, ex.Kind):
				bad(n, "example %q has kind %q; use one of %s", ex.Q, ex.Kind, strings.Join(Kinds, ", "))
			case ex.Topic != "" && base != nil:
				if _, ok := base.Topic(ex.Topic); !ok {
					bad(n, "example %q expects topic %q, which does not exist; check the id in the topic files", ex.Q, ex.Topic)
				}
			}
			f.Examples = append(f.Examples, ex)
			f.Positions = append(f.Positions, at(n))
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
