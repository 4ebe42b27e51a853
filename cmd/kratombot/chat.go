package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/kratombot/kratombot/bots"
	"golang.org/x/term"
)

// cmdChat is a terminal conversation. Numbers typed alone open the topics
// offered in the last reply, like buttons on the chat platforms.
func cmdChat(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("chat", stdout)
	var k knowledgeFlags
	k.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return exitError{code: 2, msg: "chat takes at most one knowledge folder (or a file in it)"}
	}
	if extra, err := k.usePath(fs, fs.Arg(0)); err != nil {
		return err
	} else if extra != "" {
		return exitError{code: 2, msg: fmt.Sprintf("%s is not in the knowledge folder %s; give one of them", extra, k.dir)}
	}
	e, err := k.engine()
	if err != nil {
		return err
	}
	region := k.region
	width := 0
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			width = min(w, 100)
		}
	}
	show := func(r bots.Reply) []bots.Suggestion {
		fmt.Fprintf(stdout, "\n%s\n", wrap(r.Text(), width))
		choices := r.Choices()
		if len(choices) > 0 {
			fmt.Fprintln(stdout, "\nMore:")
			for i, c := range choices {
				fmt.Fprintf(stdout, "  %d. %s\n", i+1, c.Label)
			}
		}
		fmt.Fprint(stdout, "\n> ")
		return choices
	}
	r, err := e.Open(ctx, "welcome", region)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "kratombot — type a question, a number to open a topic, or 'quit'. Commands: /symptoms /treatment /faq /resources /crisis /region CODE /help")
	choices := show(r)

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout)
			return nil
		case line, ok = <-lines:
			if !ok {
				fmt.Fprintln(stdout)
				return nil
			}
		}
		in := strings.TrimSpace(line)
		n, numErr := strconv.Atoi(in)
		switch {
		case in == "quit" || in == "exit" || in == "/quit":
			return nil
		case numErr == nil && n >= 1 && n <= len(choices):
			id := choices[n-1].ID
			if code, found := strings.CutPrefix(id, "region:"); found {
				region = code
			}
			r, err = e.Open(ctx, id, region)
		case strings.HasPrefix(in, "/region"):
			arg := strings.TrimSpace(strings.TrimPrefix(in, "/region"))
			if code, found := e.Region(arg); found {
				region = code
			} else if arg != "" {
				// Said, not swallowed: the helplines below stay those of
				// the region in use, and the person learns which exist.
				fmt.Fprintf(stdout, "\n%s\n", regionNotKnown(arg, e))
			}
			r, err = e.Open(ctx, "resources", region)
		case strings.HasPrefix(in, "/"):
			r, err = e.Open(ctx, bots.CommandID(strings.Fields(in)[0]), region)
		default:
			// One conversation: a follow-up is read after the answer before
			// it, and a place named once holds, as on the platforms.
			r, err = e.Answer(ctx, bots.Question{Text: line, Region: region, Chat: "terminal"})
			if err == nil && r.NamedRegion() != "" {
				region = r.NamedRegion()
			}
		}
		if err != nil {
			return err
		}
		choices = show(r)
	}
}

// regionNotKnown is the chat's reply to /region with a region it does not
// know: which regions exist, and how to pick one.
func regionNotKnown(name string, e *bots.Engine) string {
	var codes []string
	for _, r := range e.Regions() {
		codes = append(codes, fmt.Sprintf("%s (%s)", r.ID, r.Label))
	}
	return fmt.Sprintf("I don't know the region %q. The regions I know are: %s. Type /region and a code, like /region %s. Until then I show the helplines below.", name, strings.Join(codes, ", "), e.Regions()[0].ID)
}

// wrap breaks lines longer than width at spaces, for reading in a terminal.
func wrap(text string, width int) string {
	if width < 20 {
		return text
	}
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for len([]rune(line)) > width {
			r := []rune(line)
			at := strings.LastIndex(string(r[:width]), " ")
			if at <= 0 {
				break
			}
			out = append(out, line[:at])
			line = line[at+1:]
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
