package reload

import (
	"context"
	"fmt"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/knowledge"
)

// CrisisCheck asks an engine built on b every crisis example: each crisis
// category's examples and the example questions with kind: crisis. Each one
// that does not get the crisis reply is a problem at its line. A reload
// refuses knowledge with any, and test-questions fails on them, because a
// crisis that gets an ordinary answer is the one miss that can cost a life.
func CrisisCheck(ctx context.Context, b *knowledge.Base) (knowledge.Problems, error) {
	e, err := bots.New(b)
	if err != nil {
		return nil, fmt.Errorf("building the answer engine on the new knowledge: %w", err)
	}
	var ps knowledge.Problems
	ask := func(text string, at knowledge.Position, what string) error {
		r, err := e.Answer(ctx, bots.Question{Text: text})
		if err != nil {
			return fmt.Errorf("checking the crisis examples stopped: %w", err)
		}
		if r.Kind() != bots.KindCrisis {
			ps = append(ps, knowledge.Problem{Pos: at, Message: fmt.Sprintf(
				"the crisis example %q (%s) gets an ordinary answer (%s), not the crisis line; add its words to the phrases of a crisis category in crisis.yaml", text, what, r.Kind())})
		}
		return nil
	}
	for _, c := range b.Crisis {
		for i, ex := range c.Examples {
			if err := ask(ex, c.AtItem("examples", i), "crisis category "+c.ID); err != nil {
				return ps, err
			}
		}
	}
	for _, ex := range b.Examples {
		if ex.Kind == "crisis" {
			if err := ask(ex.Q, ex.Pos, "an example question"); err != nil {
				return ps, err
			}
		}
	}
	return ps, nil
}
