package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/kratombot/kratombot/bots"
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
	compare := fs.String("compare", "", "list what changed, question by question, against a run saved with --save or a git revision of the knowledge (like origin/main)")
	save := fs.String("save", "", "save this run to FILE, to --compare with later")
	sets := fs.Bool("sets", true, "also report the evaluation sets (dev for tuning, heldout for reporting), which the bot never learns from")
	misses := fs.String("misses", "", "print each miss of this evaluation set (use dev; reading heldout's misses to tune makes it no longer held out)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: kratombot test-questions [--knowledge DIR] [-v] [--compare RUN|REV] [--save FILE] [PATH]\n\n"+
			"Asks every example question and checks it reaches the topic or kind it names.\n"+
			"PATH is the knowledge folder, or a file in it (its folder is used), like\n"+
			"validate's. With --knowledge DIR, a PATH outside DIR is an extra examples file\n"+
			"shaped like knowledge/questions.yaml, scored instead of the folder's examples.\n"+
			"Exits 1 below the threshold or when a crisis example misses.\n\n"+
			"Before and after an edit: --compare origin/main asks the same questions of the\n"+
			"knowledge as it is in git at origin/main and lists what the edit FIXED, BROKE\n"+
			"or changed; or save a run first (--save before.json) and --compare before.json.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return exitError{code: 2, msg: "test-questions takes at most one PATH (the knowledge folder, or an examples file with --knowledge)"}
	}
	file, err := k.usePath(fs, fs.Arg(0))
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
	after := questions.Outcomes(examples, positions, res)
	if *save != "" {
		if err := questions.WriteSaved(*save, questions.Saved{Knowledge: base.Version, Score: res.Summary(), Outcomes: after}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "saved this run to %s\n", *save)
	}
	if *compare != "" {
		before, err := earlierRun(ctx, *compare, k.dir, examples, threshold)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		questions.Compare(before, after).Write(stdout, *compare)
	}
	if *sets && file == "" {
		if err := reportSets(ctx, stdout, e, *misses); err != nil {
			return err
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

// earlierRun is what the same examples got before: from a run saved with
// --save, or asked of the knowledge at a git revision.
func earlierRun(ctx context.Context, against, dir string, examples []knowledge.Example, threshold float64) ([]questions.Outcome, error) {
	if st, err := os.Stat(against); err == nil && !st.IsDir() {
		s, err := questions.ReadSaved(against)
		return s.Outcomes, err
	}
	if dir == "" {
		dir = knowledge.EmbeddedName // the built-in copy is made from this folder
	}
	fsys, err := questions.KnowledgeAt(ctx, dir, against)
	if err != nil {
		return nil, fmt.Errorf("--compare %s is neither a saved run nor a git revision: %w", against, err)
	}
	name := against + ":" + dir
	b, ps := knowledge.LoadEarlier(fsys, name)
	if b == nil {
		return nil, fmt.Errorf("the knowledge at %s cannot be read, so there is nothing to compare with:\n%w", against, ps)
	}
	e, err := bots.New(b)
	if err != nil {
		return nil, err
	}
	res := questions.Run(ctx, e, examples, threshold)
	if res.Err != nil {
		return nil, res.Err
	}
	return questions.Outcomes(examples, nil, res), nil
}

// reportSets scores the evaluation sets, each on its own: messages written
// by other hands than the knowledge's examples. Crisis recall and false
// crisis are counts.
func reportSets(ctx context.Context, w io.Writer, e *bots.Engine, misses string) error {
	fmt.Fprintln(w, "\nEvaluation sets (never learned from; tune on dev, report heldout):")
	for _, name := range questions.SetNames() {
		cases, err := questions.LoadSet(name, os.ReadFile)
		if err != nil {
			return err
		}
		rep, err := questions.Evaluate(ctx, e, cases)
		if err != nil {
			return err
		}
		rep.Print(w, name, name == misses)
	}
	return nil
}
