package feedback

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kratombot/kratombot/bots"
)

// BenchmarkScrub is the cost a fallback reply pays before its question is
// queued; it should stay in microseconds even for long messages.
func BenchmarkScrub(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"short", "how long does kratom withdrawal last, email me at jo@example.com"},
		{"long", strings.Repeat("day 3 call 555 0100 see www.example.com @someone ", 60)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				Scrub(bc.in)
			}
		})
	}
}

// BenchmarkRecord is what a reply waits for when it records an event: a
// queue send, never the database.
func BenchmarkRecord(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "f.db"), Options{Queue: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())
	ev := bots.Event{Platform: "telegram", Kind: bots.KindAnswer, Intent: bots.IntentTopic, Topic: "sleep"}
	ctx := context.Background()
	for b.Loop() {
		s.Record(ctx, ev)
	}
}
