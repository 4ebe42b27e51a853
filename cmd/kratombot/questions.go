package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/kratombot/kratombot/knowledge"
	"github.com/kratombot/kratombot/questions"
)

// cmdTestQuestions asks every example question and prints the score and
// each miss; it fails below the threshold or on any missed crisis example.
func cmdTestQuestions(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("test-questions", stdout)
	var k knowledgeFlags
	k.register(fs)
	verbose := fs.Bool("v", false, "also print the examples that pass")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: kratombot test-questions [--knowledge DIR] [-v] [PATH]\n\n"+
			"Asks every example question and checks it reaches the topic or kind it names.\n"+
			"PATH is the knowledge folder, or a file in it (its folder is used), like\n"+
			"validate's. With --knowledge DIR, a PATH outside DIR is an extra examples file\n"+
			"shaped like knowledge/questions.yaml, scored instead of the folder's examples.\n"+
			"Exits 1 below the threshold or when a crisis example misses.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return exitError{code: 2, msg: "test-questions takes at most one PATH (the knowledge folder, or an examples file with --knowledge)"}
	}
	file, err := k.usePath(fs.Arg(0))
	if err != nil {
		return err
	}
	e, err := k.engine()
	if err != nil {
		return err
	}
	base := e.Base()
	examples, threshold := slices.Clone(base.Examples), base.Threshold
	positions := make([]knowledge.Position, len(examples))
	for i, ex := range examples {
		positions[i] = ex.Pos
	}
	// The crisis categories' own examples are scored too: each must reach
	// the crisis line, as a reload checks.
	for _, c := range base.Crisis {
		for i, q := range c.Examples {
			examples = append(examples, knowledge.Example{Q: q, Kind: "crisis"})
			positions = append(positions, c.AtItem("examples", i))
		}
	}
	source := "the examples in the knowledge"
	if file != "" {
		f, err := questions.Load(file, base)
		if err != nil {
			if ps, ok := err.(knowledge.Problems); ok {
				for _, p := range ps {
					fmt.Fprintln(stdout, p.String())
				}
				return exitError{code: 1, msg: fmt.Sprintf("%s has %d problem(s) to fix", file, len(ps))}
			}
			return err
		}
		examples, positions, source = f.Examples, f.Positions, file
		if f.Threshold > 0 {
			threshold = f.Threshold
		}
	}
	if len(examples) == 0 {
		return exitError{code: 1, msg: "there are no example questions in " + source + "; add 'examples:' (see docs/maintainers.md)"}
	}

	res := questions.Run(ctx, e, examples, threshold)
	if res.Err != nil {
		return res.Err
	}
	fmt.Fprintln(stdout, res.Summary())
	missed := map[int]bool{}
	for _, m := range res.Misses {
		missed[m.Index] = true
		where := ""
		if p := positions[m.Index]; p.File != "" {
			where = fmt.Sprintf("  (%s:%d)", p.File, p.Line)
		}
		fmt.Fprintf(stdout, "MISS %q expected %s, got %s%s\n", m.Question, m.Want, m.Got, where)
	}
	if *verbose {
		for i, ex := range examples {
			if !missed[i] {
				fmt.Fprintf(stdout, "ok   %q %s\n", ex.Q, questions.Want(ex))
			}
		}
	}
	if n := res.CrisisMisses(); n > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("%d crisis example(s) did not reach the crisis line; add their words to a crisis category's phrases (crisis.yaml)", n)}
	}
	if !res.OK() {
		return exitError{code: 1, msg: fmt.Sprintf("the score is below the threshold; look at the misses above (%s)", res.Summary())}
	}
	return nil
}
