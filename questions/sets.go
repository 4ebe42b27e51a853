package questions

import (
	"context"
	"embed"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/knowledge"
	"go.yaml.in/yaml/v3"
)

// The evaluation sets: messages written by other hands than the knowledge's
// examples, which the bot never learns from. dev.yaml is for tuning;
// heldout.yaml is only for reporting, once per change. If anyone tunes on
// heldout.yaml it is no longer held out: rename it heldout-vN-retired.yaml
// (it stays a regression set) and have a fresh one written.
//
//go:embed sets/*.yaml
var setFiles embed.FS

// SetNames lists the embedded evaluation sets.
func SetNames() []string {
	es, _ := setFiles.ReadDir("sets")
	var out []string
	for _, e := range es {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return out
}

// Case is one message of an evaluation set and what a helpful reply is.
type Case struct {
	Q      string   `yaml:"q"`
	After  string   `yaml:"after"` // the message before, in the same chat
	Set    string   `yaml:"set"`
	Voice  string   `yaml:"voice"`
	Topic  string   `yaml:"topic"`
	Also   []string `yaml:"also"`
	Crisis string   `yaml:"crisis"`
	Region string   `yaml:"region"`
}

// LoadSet reads an embedded set by name ("dev", "heldout") or a file path.
func LoadSet(name string, open func(string) ([]byte, error)) ([]Case, error) {
	var data []byte
	var err error
	if slices.Contains(SetNames(), name) {
		data, err = setFiles.ReadFile("sets/" + name + ".yaml")
	} else {
		data, err = open(name)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the evaluation set %s: %w", name, err)
	}
	var f struct {
		Cases []Case `yaml:"cases"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("cannot read the evaluation set %s: %w", name, err)
	}
	return f.Cases, nil
}

// evaluations numbers the runs of Evaluate, so that each run's messages are
// separate chats in the engine's memory of follow-ups.
var evaluations atomic.Int64

// SetTally counts one group of cases.
type SetTally struct{ Total, Helped int }

// Report is how the bot did on an evaluation set. Crisis recall and false
// crisis are counts, never folded into an average.
type Report struct {
	Sets map[string]*SetTally
	// Helped counts the non-crisis cases answered helpfully, out of Everyday.
	Helped, Everyday int
	// CrisisCaught counts crisis cases whose reply leads with the right
	// line (crisis line or emergency number), out of Crisis.
	CrisisCaught, Crisis int
	// FalseCrisis counts ordinary messages that got a crisis reply.
	FalseCrisis int
	// OrdinaryCases is how many ordinary messages there were.
	OrdinaryCases int
	Misses        []string
	// FalseCrises lists the ordinary messages that got a crisis reply.
	FalseCrises []string
}

// Evaluate asks every case of a set and scores the replies: a topic case
// helps when the reply answers its topic (or one of also); a crisis case
// when the reply leads with the crisis line or, for an emergency, the
// emergency number; a country case when its helplines are that region's; an
// off-topic case when no topic is claimed.
func Evaluate(ctx context.Context, e *bots.Engine, cases []Case) (Report, error) {
	rep := Report{Sets: map[string]*SetTally{}}
	contact := map[string]string{}
	for _, c := range e.Base().Crisis {
		contact[c.ID] = c.Contact
	}
	run := evaluations.Add(1) // chats of one evaluation never meet another's
	for i, c := range cases {
		chat := fmt.Sprintf("eval:%d:%d", run, i)
		if c.After != "" {
			if _, err := e.Answer(ctx, bots.Question{Text: c.After, Chat: chat}); err != nil {
				return rep, err
			}
		}
		r, err := e.Answer(ctx, bots.Question{Text: c.Q, Chat: chat})
		if err != nil {
			return rep, err
		}
		t := rep.Sets[c.Set]
		if t == nil {
			t = &SetTally{}
			rep.Sets[c.Set] = t
		}
		t.Total++
		ok, why := judge(c, r, contact)
		if ok {
			t.Helped++
		} else {
			rep.Misses = append(rep.Misses, fmt.Sprintf("[%s] %q: want %s, got %s", c.Set, c.Q, want(c), why))
		}
		if c.Set == "crisis" {
			rep.Crisis++
			if ok {
				rep.CrisisCaught++
			}
			continue
		}
		rep.OrdinaryCases++
		if r.Kind() == bots.KindCrisis {
			rep.FalseCrisis++
			rep.FalseCrises = append(rep.FalseCrises, fmt.Sprintf("[%s] %q: %s", c.Set, c.Q, got(r)))
		}
		if c.Set != "scary" {
			rep.Everyday++
			if ok {
				rep.Helped++
			}
		}
	}
	return rep, nil
}

func want(c Case) string {
	switch {
	case c.Crisis != "":
		return "crisis " + c.Crisis
	case c.Region != "":
		return "region " + c.Region + ", topic " + c.Topic
	case c.Set == "offtopic":
		return "no topic"
	case c.Set == "scary" && c.Topic == "":
		return "not crisis"
	}
	return strings.Join(append([]string{c.Topic}, c.Also...), "|")
}

func got(r bots.Reply) string {
	s := string(r.Kind()) + "/" + string(r.Intent())
	if r.Topic() != "" {
		s += " " + r.Topic()
	}
	if r.Kind() == bots.KindFallback {
		var ids []string
		for _, x := range r.Suggestions() {
			ids = append(ids, x.ID)
		}
		s += " offering " + strings.Join(ids, ",")
	}
	return s + " [" + r.Referral().Region() + "]"
}

func judge(c Case, r bots.Reply, contact map[string]string) (bool, string) {
	topicOK := c.Topic == "" || r.Topic() == c.Topic || slices.Contains(c.Also, r.Topic())
	switch c.Set {
	case "crisis":
		lead := r.Lead()
		if r.Kind() != bots.KindCrisis || len(lead) == 0 {
			return false, got(r)
		}
		emergency := strings.HasPrefix(lead[0], "Emergency:")
		if (contact[c.Crisis] == knowledge.ContactEmergency) != emergency {
			return false, "wrong line first: " + got(r)
		}
		return true, ""
	case "scary":
		if r.Kind() == bots.KindCrisis {
			return false, got(r)
		}
		return true, ""
	case "offtopic":
		if r.Topic() != "" {
			return false, got(r)
		}
		return true, ""
	case "country":
		if r.Referral().Region() != c.Region || !topicOK || r.Topic() == "" {
			return false, got(r)
		}
		return true, ""
	}
	if r.Topic() == "" || !topicOK {
		return false, got(r)
	}
	return true, ""
}

// Print writes a report: each group's score, the helpful share of ordinary
// messages, and crisis recall and false crisis as counts.
func (rep Report) Print(w io.Writer, name string, misses bool) {
	fmt.Fprintf(w, "%s: %d/%d ordinary messages helped (%.1f%%); crisis led with the right line %d/%d; false crisis %d of %d ordinary\n",
		name, rep.Helped, rep.Everyday, pct(rep.Helped, rep.Everyday), rep.CrisisCaught, rep.Crisis, rep.FalseCrisis, rep.OrdinaryCases)
	var names []string
	for n := range rep.Sets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := rep.Sets[n]
		fmt.Fprintf(w, "  %-9s %3d/%-3d %5.1f%%\n", n, t.Helped, t.Total, pct(t.Helped, t.Total))
	}
	if misses {
		for _, m := range rep.FalseCrises {
			fmt.Fprintln(w, "  false crisis", m)
		}
		for _, m := range rep.Misses {
			fmt.Fprintln(w, "  miss", m)
		}
	}
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
