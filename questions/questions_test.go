package questions

import (
	"context"
	"strings"
	"testing"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/knowledge"
)

func engine(t *testing.T, dir string) *bots.Engine {
	t.Helper()
	b, err := knowledge.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := bots.New(b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRun(t *testing.T) {
	e := engine(t, "../knowledge/testdata/minimal")
	examples := []knowledge.Example{
		{Q: "cant sleep", Topic: "sleep"},
		{Q: "my legs wont stop moving", Topic: "restless-legs"},
		{Q: "i want to die", Kind: "crisis"},
		{Q: "what is the capital of peru", Kind: "fallback"},
		{Q: "how much kratom should i take", Kind: "dosing"},
		{Q: "hello", Kind: "greeting"},
		{Q: "thanks", Kind: "thanks"},
		{Q: "help", Kind: "help"},
		{Q: "cant sleep", Topic: "restless-legs"},          // miss: reaches sleep
		{Q: "what is the capital of peru", Kind: "crisis"}, // a crisis miss
	}
	res := Run(context.Background(), e, examples, 0.75)
	if res.Total != 10 || res.Passed != 8 {
		t.Fatalf("passed %d/%d, want 8/10; misses %+v", res.Passed, res.Total, res.Misses)
	}
	if got := res.Summary(); got != "8/10 passed (80.0%), threshold 75%" {
		t.Errorf("summary = %q", got)
	}
	want := []Miss{
		{Index: 8, Question: "cant sleep", Want: "restless-legs", Got: "sleep"},
		{Index: 9, Question: "what is the capital of peru", Want: "crisis", Got: "fallback", Crisis: true},
	}
	for i, m := range res.Misses {
		if i >= len(want) || m.Index != want[i].Index || m.Want != want[i].Want || m.Crisis != want[i].Crisis || !strings.HasPrefix(m.Got, want[i].Got) {
			t.Errorf("miss %d = %+v, want %+v", i, m, want[min(i, len(want)-1)])
		}
	}
	if res.OK() {
		t.Error("a missed crisis example must fail the run even above the threshold")
	}
	res.Misses = res.Misses[:1]
	if !res.OK() {
		t.Error("80% against a 75% threshold with no crisis miss should pass")
	}
	res.Threshold = 0.85
	if res.OK() {
		t.Error("80% against 85% should fail")
	}
}

func TestRunHonoursContext(t *testing.T) {
	e := engine(t, "../knowledge/testdata/minimal")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Run(ctx, e, []knowledge.Example{{Q: "cant sleep", Topic: "sleep"}}, 0)
	if res.Err == nil || res.OK() {
		t.Fatalf("a cancelled run must not pass: %+v", res)
	}
	if res.Threshold != DefaultThreshold {
		t.Errorf("threshold 0 should mean %v, got %v", DefaultThreshold, res.Threshold)
	}
}

func TestSummaryRounding(t *testing.T) {
	tests := []struct {
		passed, total int
		threshold     float64
		want          string
	}{
		{184, 200, 0.85, "184/200 passed (92.0%), threshold 85%"},
		{1699, 2000, 0.85, "1699/2000 passed (84.9%), threshold 85%"}, // never rounded up to look like a pass
		{2, 3, 0.875, "2/3 passed (66.6%), threshold 87.5%"},
		{0, 0, 0.9, "0/0 passed (0.0%), threshold 90%"},
	}
	for _, tt := range tests {
		r := Result{Total: tt.total, Passed: tt.passed, Threshold: tt.threshold}
		if got := r.Summary(); got != tt.want {
			t.Errorf("Summary() = %q, want %q", got, tt.want)
		}
	}
	if (Result{Total: 200, Passed: 170, Threshold: 0.85}).OK() != true {
		t.Error("exactly at the threshold passes")
	}
	if (Result{Total: 0, Threshold: 0.85}).OK() {
		t.Error("no examples is not a pass")
	}
}

func TestParse(t *testing.T) {
	b, err := knowledge.LoadDir("../knowledge/testdata/minimal")
	if err != nil {
		t.Fatal(err)
	}
	good := "threshold: 0.9\nexamples:\n  - q: cant sleep\n    topic: sleep\n  - q: i want to die\n    kind: crisis\n"
	f, err := Parse("ex.yaml", []byte(good), b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Threshold != 0.9 || len(f.Examples) != 2 || f.Positions[1].Line != 5 || f.Examples[1].Kind != "crisis" {
		t.Errorf("parsed %+v", f)
	}

	tests := []struct {
		name, yaml string
		want       []string // each problem, file:line:col: and a part of the message
	}{
		{"unknown topic", "examples:\n  - q: cant sleep\n    topic: slep\n",
			[]string{`ex.yaml:2:5: example "cant sleep" expects topic "slep", which does not exist`}},
		{"bad kind", "examples:\n  - q: hi\n    kind: hello\n",
			[]string{`ex.yaml:2:5: example "hi" has kind "hello"`}},
		{"both", "examples:\n  - q: hi\n    kind: greeting\n    topic: sleep\n",
			[]string{`ex.yaml:2:5: example "hi" gives both topic and kind`}},
		{"neither", "examples:\n  - q: hi\n",
			[]string{`ex.yaml:2:5: example "hi" needs 'topic:'`}},
		{"no question", "examples:\n  - topic: sleep\n",
			[]string{`ex.yaml:2:5: this example has no question`}},
		{"unknown key", "treshold: 0.8\nexamples:\n  - q: hi\n    kind: greeting\n    note: x\n",
			[]string{`ex.yaml:1:1: unknown key "treshold"`, `ex.yaml:5:5: unknown key "note"`}},
		{"threshold out of range", "threshold: 85\nexamples:\n  - q: hi\n    kind: greeting\n",
			[]string{`ex.yaml:1:12: threshold must be a number between 0 and 1`}},
		{"no examples", "threshold: 0.8\n",
			[]string{`ex.yaml:1:1: there are no examples`}},
		{"not yaml", "threshold: 0.8\nexamples:\n  - q: hi: there\n    kind: greeting\n",
			[]string{`ex.yaml:3:10: a ':' inside text needs the whole text in quotes`}},
		{"a list", "- q: hi\n",
			[]string{`ex.yaml:1:1: the file must have 'examples:'`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("ex.yaml", []byte(tt.yaml), b)
			ps, ok := err.(knowledge.Problems)
			if !ok {
				t.Fatalf("want knowledge.Problems, got %v", err)
			}
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(tt.want), ps)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(ps[i].String(), w) {
					t.Errorf("problem %d = %q, want it to start with %q", i, ps[i].String(), w)
				}
			}
		})
	}
}

// TestShippedExamples is the content test CI runs: the examples kept in
// knowledge/questions.yaml must reach their threshold over the shipped
// knowledge, every crisis example included.
func TestShippedExamples(t *testing.T) {
	b, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		t.Fatalf("the shipped knowledge does not load:\n%v", err)
	}
	e, err := bots.New(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Examples) < 150 {
		t.Errorf("knowledge/questions.yaml has %d examples; keep at least 150", len(b.Examples))
	}
	res := Run(context.Background(), e, b.Examples, b.Threshold)
	t.Log(res.Summary())
	for _, m := range res.Misses {
		t.Logf("MISS %q expected %s, got %s", m.Question, m.Want, m.Got)
	}
	if !res.OK() {
		t.Errorf("the example questions fail: %s, %d crisis miss(es)", res.Summary(), res.CrisisMisses())
	}
}
