// Command kratombot is the one binary: a terminal chat, one-shot answers for
// scripts, the knowledge checker, and the server for the chat platforms.
//
// It must never print or log what people write unless asked to, and never
// print a token.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/knowledge"
	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `kratombot answers questions about kratom withdrawal and treatment, always
with a referral to professional help. It gives information, not medical advice.

Usage:
  kratombot chat      [--knowledge DIR] [--region R] [PATH]   talk to the bot in this terminal
  kratombot ask       [--knowledge DIR] [--region R] [--json] [QUESTION...]
                      one reply; with no QUESTION, one question a line from stdin
  kratombot validate  [--knowledge DIR] [PATH]       check the knowledge YAML
  kratombot test-questions [--knowledge DIR] [--compare RUN|REV] [--save FILE] [PATH]
                                                     score the example questions
  kratombot serve     [--knowledge DIR]              run on Telegram and/or Discord

PATH and --knowledge name the knowledge folder, or any file in it (its folder
is used); without them, the knowledge built into the binary is used.
  kratombot report    [--store S] [--days N]            what people asked that found no topic,
                                                        and the least helpful topics
  kratombot version

With no command, kratombot starts a chat when run in a terminal with no
platform token set, and prints this help otherwise.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cache := cacheDir()
	bots.SetModelCache(cache)
	knowledge.SetCache(cache)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: testable, and every error ends here as a
// message and an exit code, never a panic.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		f, isFile := stdin.(*os.File)
		if isFile && term.IsTerminal(int(f.Fd())) && os.Getenv("TELEGRAM_BOT_TOKEN") == "" && os.Getenv("DISCORD_BOT_TOKEN") == "" && os.Getenv("DISCORD_PUBLIC_KEY") == "" {
			args = []string{"chat"}
		} else {
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "chat":
		err = cmdChat(ctx, rest, stdin, stdout)
	case "ask":
		err = cmdAsk(ctx, rest, stdin, stdout)
	case "validate":
		err = cmdValidate(rest, stdout)
	case "test-questions":
		err = cmdTestQuestions(ctx, rest, stdout)
	case "serve":
		err = cmdServe(ctx, rest, stderr)
	case "report": // report.go
		err = cmdReport(ctx, rest, stdout)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "kratombot %s\n", version)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "kratombot: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ex exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ex):
		if ex.msg != "" {
			fmt.Fprintln(stderr, ex.msg)
		}
		return ex.code
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintf(stderr, "kratombot %s: %v\n", cmd, err)
		return 1
	}
}

// exitError ends a command with a code and, optionally, a message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// knowledgeFlags are the flags every command that answers shares.
type knowledgeFlags struct {
	dir    string
	region string
}

func (k *knowledgeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.dir, "knowledge", os.Getenv("KRATOMBOT_KNOWLEDGE"), "read the knowledge from this folder (or a file's folder) instead of the built-in copy")
	fs.StringVar(&k.region, "region", os.Getenv("KRATOMBOT_REGION"), "region for helplines (US, CA, UK, AU, INTL, ...)")
}

// folderOf is the knowledge folder a path names: a folder itself, or the
// folder a knowledge file is in, so that `validate knowledge/faq.yaml` checks
// the whole knowledge that file belongs to.
func folderOf(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s does not exist; give the knowledge folder (like knowledge) or a file in it", p)
		}
		return "", fmt.Errorf("cannot read %s: %w", p, err)
	}
	if st.IsDir() {
		return p, nil
	}
	return filepath.Dir(p), nil
}

// usePath applies a command's positional PATH: the knowledge folder (or a
// file in it). It returns the path back when it is a file outside the
// --knowledge folder, for test-questions to read as extra examples.
func (k *knowledgeFlags) usePath(fs *flag.FlagSet, p string) (extra string, err error) {
	if p != "" && !flagGiven(fs, "knowledge") {
		k.dir = "" // a PATH typed on the command line wins over KRATOMBOT_KNOWLEDGE
	}
	if p == "" {
		if k.dir != "" {
			k.dir, err = folderOf(k.dir)
		}
		return "", err
	}
	dir, err := folderOf(p)
	if err != nil {
		return "", err
	}
	if k.dir == "" {
		k.dir = dir
		return "", nil
	}
	kdir, err := folderOf(k.dir)
	if err != nil {
		return "", err
	}
	k.dir = kdir
	if sameFolder(dir, kdir) {
		return "", nil
	}
	if dir == p { // a second, different folder
		return "", exitError{code: 2, msg: fmt.Sprintf("two knowledge folders given (--knowledge %s and %s); give one", kdir, p)}
	}
	return p, nil
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func sameFolder(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// load reads the knowledge from --knowledge DIR or the embedded copy.
func (k *knowledgeFlags) load() (*knowledge.Base, error) {
	if k.dir != "" {
		dir, err := folderOf(k.dir)
		if err != nil {
			return nil, err
		}
		k.dir = dir // so that serve watches the folder, also when given a file in it
		b, err := knowledge.LoadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("the knowledge in %s has problems:\n%w", dir, err)
		}
		return b, nil
	}
	b, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		return nil, fmt.Errorf("the built-in knowledge has problems:\n%w", err)
	}
	return b, nil
}

// engine loads the knowledge and checks --region against it: an unknown
// region is said, never swallowed into the default's helplines.
func (k *knowledgeFlags) engine() (*bots.Engine, error) {
	b, err := k.load()
	if err != nil {
		return nil, err
	}
	if k.region != "" {
		r, ok := b.Region(k.region)
		if !ok {
			return nil, exitError{code: 2, msg: unknownRegion(k.region, b)}
		}
		k.region = r.Code
	}
	return bots.New(b)
}

// unknownRegion says a region is not known and lists the ones that are.
func unknownRegion(name string, b *knowledge.Base) string {
	var known []string
	for _, r := range b.Regions {
		known = append(known, fmt.Sprintf("%s (%s)", r.Code, r.Name))
	}
	return fmt.Sprintf("region %q is not known, so its helplines cannot be shown; the regions are: %s", name, strings.Join(known, ", "))
}

func newFlags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kratombot "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

// cacheDir is where trained understanding models and checked knowledge are
// kept between starts (KRATOMBOT_CACHE_DIR, "off" for none; by default the
// user's cache folder). They hold only what the knowledge says.
func cacheDir() string {
	switch dir := os.Getenv("KRATOMBOT_CACHE_DIR"); dir {
	case "off":
		return ""
	case "":
		if base, err := os.UserCacheDir(); err == nil {
			return filepath.Join(base, "kratombot")
		}
		return ""
	default:
		return dir
	}
}
