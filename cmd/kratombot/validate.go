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
	var k knowledgeFlags
	fs.StringVar(&k.dir, "knowledge", os.Getenv("KRATOMBOT_KNOWLEDGE"), "check this knowledge folder (or a file's folder) instead of the built-in copy")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: kratombot validate [--knowledge DIR] [PATH]\n\n"+
			"Checks the knowledge folder PATH (or the folder of the file PATH) and prints\n"+
			"each problem as file:line:col: what to do. Without PATH or --knowledge, checks\n"+
			"the knowledge built into this binary. Exits 1 on any error.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return exitError{code: 2, msg: "validate takes one knowledge folder (or a file in it)"}
	}
	extra, err := k.usePath(fs, fs.Arg(0))
	if err != nil {
		return err
	}
	if extra != "" {
		return exitError{code: 2, msg: fmt.Sprintf("%s is not in the knowledge folder %s; give one of them", extra, k.dir)}
	}
	var ps knowledge.Problems
	var name string
	if k.dir != "" {
		name = k.dir
		_, ps = knowledge.Check(os.DirFS(k.dir), k.dir)
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
