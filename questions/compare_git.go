package questions

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"testing/fstest"
)

// KnowledgeAt reads the knowledge folder dir as it was at a git revision
// (a branch, tag or commit, like origin/main or HEAD~1), for comparing an
// edit with what came before. It needs git and a clone with that revision.
func KnowledgeAt(ctx context.Context, dir, rev string) (fs.FS, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("%q is not a git revision", rev)
	}
	git := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	// run in dir, ls-tree lists the folder's entries by names relative to it
	list, err := git("ls-tree", "-z", rev, ".")
	if err != nil {
		return nil, fmt.Errorf("cannot read the knowledge at %s (is it a git revision of this clone?): %w", rev, err)
	}
	fsys := fstest.MapFS{}
	for _, line := range strings.Split(string(list), "\x00") {
		// "<mode> blob <hash>\t<name>"; folders are "tree"
		meta, name, ok := strings.Cut(line, "\t")
		if !ok || !strings.Contains(meta, " blob ") || strings.Contains(name, "/") {
			continue
		}
		data, err := git("show", rev+":./"+name)
		if err != nil {
			return nil, err
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys, nil
}
