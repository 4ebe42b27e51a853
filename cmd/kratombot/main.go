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
	"os"
	"os/signal"
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
  kratombot chat      [--knowledge DIR] [--region R]   talk to the bot in this terminal
  kratombot ask       [--knowledge DIR] [--region R] [--json] [QUESTION...]
                      one reply; with no QUESTION, one question a line from stdin
  kratombot validate  [DIR]                             check the knowledge YAML
  kratombot test-questions [--knowledge DIR] [FILE]     score the example questions
  kratombot serve     [--knowledge DIR]                 run on Telegram and/or Discord
  kratombot report    [--store S] [--days N]            what people asked that found no topic,
                                                        and the least helpful topics
  kratombot version

With no command, kratombot starts a chat when run in a terminal with no
platform token set, and prints this help otherwise.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
	fs.StringVar(&k.dir, "knowledge", os.Getenv("KRATOMBOT_KNOWLEDGE"), "read the knowledge from this folder instead of the built-in copy")
	fs.StringVar(&k.region, "region", os.Getenv("KRATOMBOT_REGION"), "region for helplines (US, CA, UK, AU, INTL, ...)")
}

// load reads the knowledge from --knowledge DIR or the embedded copy.
func (k *knowledgeFlags) load() (*knowledge.Base, error) {
	if k.dir != "" {
		b, err := knowledge.LoadDir(k.dir)
		if err != nil {
			return nil, fmt.Errorf("the knowledge in %s has problems:\n%w", k.dir, err)
		}
		return b, nil
	}
	b, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		return nil, fmt.Errorf("the built-in knowledge has problems:\n%w", err)
	}
	return b, nil
}

func (k *knowledgeFlags) engine() (*bots.Engine, error) {
	b, err := k.load()
	if err != nil {
		return nil, err
	}
	return bots.New(b)
}

func newFlags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kratombot "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}
