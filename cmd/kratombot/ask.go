package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kratombot/kratombot/bots"
	"golang.org/x/term"
)

func cmdAsk(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("ask", stdout)
	var k knowledgeFlags
	k.register(fs)
	asJSON := fs.Bool("json", false, "write each reply as one JSON object on one line")
	conversation := fs.Bool("conversation", false, "treat the questions (one a line) as one conversation, so a short follow-up is read in the light of the answer before, as in a chat")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e, err := k.engine()
	if err != nil {
		return err
	}
	region, chat := k.region, ""
	if *conversation {
		chat = "cli"
	}
	write := func(q string) error {
		r, err := e.Answer(ctx, bots.Question{Text: q, Region: region, Chat: chat})
		if err != nil {
			return err
		}
		if code := r.NamedRegion(); code != "" && *conversation {
			region = code // a place named once holds for the conversation, as on the platforms
		}
		if *asJSON {
			// The reply writes itself: json.Marshal would check and compact
			// it again (a tenth of the time over many questions) and escape
			// the "&" it deliberately leaves readable.
			b, err := r.MarshalJSON()
			if err != nil {
				return fmt.Errorf("writing the reply as JSON: %w", err)
			}
			_, err = fmt.Fprintf(stdout, "%s\n", b)
			return err
		}
		// One reply a line: newlines inside a reply become " / " so that
		// line-oriented scripts stay in step with their questions.
		if fs.NArg() == 0 {
			_, err = fmt.Fprintln(stdout, oneLine(r.Text()))
		} else {
			_, err = fmt.Fprintln(stdout, r.Text())
		}
		return err
	}
	if fs.NArg() > 0 {
		return write(strings.Join(fs.Args(), " "))
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintln(os.Stderr, "Type one question a line; Ctrl-D to finish. (Or: kratombot ask \"your question\")")
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if err := write(sc.Text()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading questions from standard input: %w", err)
	}
	return nil
}

// oneLine folds a reply's paragraphs and lines into one line.
func oneLine(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n\n", " / "), "\n", " / ")
}
