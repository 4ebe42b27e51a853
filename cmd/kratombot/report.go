package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kratombot/kratombot/feedback"
	"github.com/kratombot/kratombot/knowledge"
	"github.com/kratombot/kratombot/redact"
)

// cmdReport reads the feedback store and tells maintainers what to write
// next: the questions that found no topic, the least helpful topics, and
// the topics nobody reached.
func cmdReport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("report", stdout)
	spec := fs.String("store", os.Getenv("KRATOMBOT_STORE"), "the feedback store the bot writes to: a file path (SQLite) or postgres://...")
	days := fs.Int("days", 30, "look at the last N days")
	top := fs.Int("top", 20, "show at most N questions and topics in each list")
	dir := fs.String("knowledge", os.Getenv("KRATOMBOT_KNOWLEDGE"), "knowledge folder, to list topics nobody reached (default: the built-in copy)")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *spec == "" {
		return exitError{code: 2, msg: "kratombot report reads the feedback store the bot keeps when KRATOMBOT_STORE is set; set it here too, or pass --store"}
	}
	if *days < 1 || *top < 1 {
		return exitError{code: 2, msg: "--days and --top must be at least 1"}
	}
	red := redact.New(feedback.Secrets(*spec)...)
	backend, path, err := feedback.ParseSpec(*spec)
	if err != nil {
		return err
	}
	if backend == feedback.SQLite {
		if _, err := os.Stat(path); err != nil {
			return exitError{code: 1, msg: fmt.Sprintf("there is no feedback store at %s yet; the bot creates it when it runs with KRATOMBOT_STORE set", path)}
		}
	}
	st, err := feedback.Open(ctx, *spec, feedback.Options{})
	if err != nil {
		return red.Error(err)
	}
	defer st.Close(context.Background())
	since := time.Now().AddDate(0, 0, -*days+1)
	r, err := st.Report(ctx, since, *top)
	if err != nil {
		return red.Error(err)
	}

	// Topics nobody reached need the knowledge; without it the rest still helps.
	var unseen []*knowledge.Topic
	var b *knowledge.Base
	if *dir != "" {
		b, err = knowledge.LoadDir(*dir)
	} else {
		b, err = knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	}
	if err == nil {
		shown := map[string]bool{}
		for _, t := range r.Topics {
			if t.Shown > 0 {
				shown[t.Topic] = true
			}
		}
		for _, t := range b.Topics {
			if !shown[t.ID] {
				unseen = append(unseen, t)
			}
		}
	}

	if *asJSON {
		out := struct {
			Since        string                `json:"since"`
			Unanswered   []feedback.Asked      `json:"unanswered"`
			LeastHelpful []feedback.TopicStats `json:"least_helpful"`
			Topics       []feedback.TopicStats `json:"topics"`
			NotReached   []string              `json:"not_reached"`
		}{Since: r.Since.Format(time.DateOnly), Unanswered: r.Unanswered, LeastHelpful: r.LeastHelpful(*top), Topics: r.Topics, NotReached: []string{}}
		for _, t := range unseen {
			out.NotReached = append(out.NotReached, t.ID)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}

	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "Feedback from the last %d days (since %s), %s store\n\n", *days, r.Since.Format(time.DateOnly), st.Backend())

	fmt.Fprintln(w, "Questions that found no topic, most asked first")
	fmt.Fprintln(w, "(write a topic for them, or add their words to the topic that should answer):")
	if len(r.Unanswered) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, a := range r.Unanswered {
		fmt.Fprintf(w, "  %d\t%s\n", a.Count, printable(a.Question))
	}

	fmt.Fprintln(w, "\nLeast helpful topics (answers to \"Was this helpful?\"; rewrite or split these):")
	least := r.LeastHelpful(*top)
	if len(least) == 0 {
		fmt.Fprintln(w, "  none marked not helpful")
	} else {
		fmt.Fprintln(w, "  topic\tshown\thelpful\tnot helpful\thelpful share")
		for _, t := range least {
			fmt.Fprintf(w, "  %s\t%d\t%d\t%d\t%.0f%%\n", printable(t.Topic), t.Shown, t.Helpful, t.NotHelpful, t.HelpfulShare()*100)
		}
	}

	most := append([]feedback.TopicStats(nil), r.Topics...)
	sort.SliceStable(most, func(i, j int) bool { return most[i].Shown > most[j].Shown })
	if len(most) > *top {
		most = most[:*top]
	}
	fmt.Fprintln(w, "\nMost shown topics (keep these accurate first):")
	if len(most) == 0 {
		fmt.Fprintln(w, "  none yet")
	}
	for _, t := range most {
		fmt.Fprintf(w, "  %d\t%s\n", t.Shown, printable(t.Topic))
	}

	if b != nil {
		fmt.Fprintf(w, "\nTopics nobody reached in these %d days (check their words and questions):\n", *days)
		if len(unseen) == 0 {
			fmt.Fprintln(w, "  none")
		}
		for _, t := range unseen {
			fmt.Fprintf(w, "  %s\t%s\n", printable(t.ID), printable(t.Title))
		}
	} else {
		fmt.Fprintf(w, "\n(topics nobody reached are not listed: the knowledge did not load: %s)\n", firstLine(err.Error()))
	}
	return w.Flush()
}

// printable escapes what a terminal would act on rather than show: control
// characters (escape sequences), invisible format characters (bidi
// overrides) and broken UTF-8 become \x1b, \u202e, \xff. The store should
// hold none, but an old or hand-edited one might.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
