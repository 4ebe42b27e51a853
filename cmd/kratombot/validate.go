package main

import (
	"fmt"
	"io"
	"os"

	"github.com/kratombot/kratombot/knowledge"
)

// cmdValidate prints every problem as file:line:col: message, warnings too,
// and fails when any is an error.
func cmdValidate(args []string, stdout io.Writer) error {
	fs := newFlags("validate", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ps knowledge.Problems
	var name string
	if dir := fs.Arg(0); dir != "" {
		name = dir
		_, ps = knowledge.Check(os.DirFS(dir), dir)
	} else {
		name = "the built-in knowledge"
		_, ps = knowledge.Check(knowledge.Embedded(), knowledge.EmbeddedName)
	}
	for _, p := range ps {
		fmt.Fprintln(stdout, p.String())
	}
	if n := ps.Errors(); n > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("%s has %d problem(s) to fix; nothing was changed", name, n)}
	}
	fmt.Fprintf(stdout, "%s is valid (%d warning(s))\n", name, len(ps))
	return nil
}
