package questions

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kratombot/kratombot/knowledge"
)

// Outcome is what one example got in a run, as saved and compared.
type Outcome struct {
	Q    string `json:"q"`
	Want string `json:"want"`
	Got  string `json:"got"`
	OK   bool   `json:"ok"`
	// At is where the example stands ("knowledge/questions.yaml:12").
	At string `json:"at,omitempty"`
}

// Saved is a run written by `test-questions --save FILE`, to compare with
// a later run.
type Saved struct {
	// Knowledge is the version (content hash) of the knowledge scored.
	Knowledge string    `json:"knowledge"`
	Score     string    `json:"score"`
	Outcomes  []Outcome `json:"outcomes"`
}

// Outcomes lists what each example got, from the run's result: a missed
// example got what its Miss says, the others what they wanted.
func Outcomes(examples []knowledge.Example, positions []knowledge.Position, res Result) []Outcome {
	out := make([]Outcome, len(examples))
	for i, ex := range examples {
		out[i] = Outcome{Q: ex.Q, Want: Want(ex), Got: Want(ex), OK: true}
		if i < len(positions) && positions[i].File != "" {
			out[i].At = fmt.Sprintf("%s:%d", positions[i].File, positions[i].Line)
		}
	}
	for _, m := range res.Misses {
		if m.Index < len(out) {
			out[m.Index].Got, out[m.Index].OK = m.Got, false
		}
	}
	return out
}

// WriteSaved writes a run as JSON for a later --compare.
func WriteSaved(path string, s Saved) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("writing the run: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("saving the run to compare with later: %w", err)
	}
	return nil
}

// ReadSaved reads a run written by WriteSaved.
func ReadSaved(path string) (Saved, error) {
	var s Saved
	data, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("cannot read the saved run: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%s is not a run saved by test-questions --save: %w", path, err)
	}
	return s, nil
}

// Change is one example whose outcome differs between two runs.
type Change struct {
	Before, After Outcome
}

// Diff is what an edit did to the examples, question by question.
type Diff struct {
	// Fixed passed after and not before; Broke passed before and not after.
	Fixed, Broke []Change
	// Moved missed both times but reached something else.
	Moved []Change
	// New are examples only in the later run; Gone only in the earlier.
	New, Gone []Outcome
	// Same counts the examples with the same outcome.
	Same int
}

// key matches an example across runs: its words and what it expects.
func key(o Outcome) string {
	return strings.Join(strings.Fields(strings.ToLower(o.Q)), " ") + "\x00" + o.Want
}

// Compare lines up two runs' outcomes question by question.
func Compare(before, after []Outcome) Diff {
	var d Diff
	old := map[string]Outcome{}
	for _, o := range before {
		old[key(o)] = o
	}
	seen := map[string]bool{}
	for _, a := range after {
		k := key(a)
		b, ok := old[k]
		seen[k] = true
		switch {
		case !ok:
			d.New = append(d.New, a)
		case !b.OK && a.OK:
			d.Fixed = append(d.Fixed, Change{b, a})
		case b.OK && !a.OK:
			d.Broke = append(d.Broke, Change{b, a})
		case !a.OK && a.Got != b.Got:
			d.Moved = append(d.Moved, Change{b, a})
		default:
			d.Same++
		}
	}
	for _, b := range before {
		if !seen[key(b)] {
			d.Gone = append(d.Gone, b)
		}
	}
	return d
}

// Write prints the diff for a maintainer: a summary line, then each
// question that changed, what broke first.
func (d Diff) Write(w io.Writer, against string) {
	fmt.Fprintf(w, "Compared with %s: %d fixed, %d broken, %d missed differently, %d new, %d gone, %d unchanged\n",
		against, len(d.Fixed), len(d.Broke), len(d.Moved), len(d.New), len(d.Gone), d.Same)
	at := func(o Outcome) string {
		if o.At == "" {
			return ""
		}
		return "  (" + o.At + ")"
	}
	for _, c := range d.Broke {
		fmt.Fprintf(w, "BROKE  %q expected %s, now gets %s (before: %s)%s\n", c.After.Q, c.After.Want, c.After.Got, c.Before.Got, at(c.After))
	}
	for _, c := range d.Fixed {
		fmt.Fprintf(w, "FIXED  %q now reaches %s (before: %s)%s\n", c.After.Q, c.After.Want, c.Before.Got, at(c.After))
	}
	for _, c := range d.Moved {
		fmt.Fprintf(w, "MOVED  %q expected %s, now gets %s (before: %s)%s\n", c.After.Q, c.After.Want, c.After.Got, c.Before.Got, at(c.After))
	}
	for _, o := range d.New {
		state := "passes"
		if !o.OK {
			state = "misses: gets " + o.Got
		}
		fmt.Fprintf(w, "NEW    %q expected %s, %s%s\n", o.Q, o.Want, state, at(o))
	}
	for _, o := range d.Gone {
		fmt.Fprintf(w, "GONE   %q expected %s%s\n", o.Q, o.Want, at(o))
	}
}
