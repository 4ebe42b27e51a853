package questions

import (
	"context"
	"os"
	"testing"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/knowledge"
)

func TestEvalSetsReport(t *testing.T) {
	b, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		t.Fatal(err)
	}
	e, err := bots.New(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range SetNames() {
		cases, err := LoadSet(name, os.ReadFile)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Evaluate(context.Background(), e, cases)
		if err != nil {
			t.Fatal(err)
		}
		if os.Getenv("EVAL_SET") == name {
			rep.Print(os.Stdout, name, true)
		} else {
			rep.Print(os.Stdout, name, false)
		}
	}
}
