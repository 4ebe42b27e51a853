package reload

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/bots/botstest"
	"github.com/kratombot/kratombot/knowledge"
)

func askKind(t *testing.T, e *bots.Engine, text string) bots.Kind {
	t.Helper()
	r, err := e.Answer(context.Background(), bots.Question{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return r.Kind()
}

// TestReloadRefusesCrisisCutShort: crisis categories cut off after the
// first one must never go live; overdose messages keep the emergency reply.
func TestReloadRefusesCrisisCutShort(t *testing.T) {
	dir, e, src := fixture(t)
	var l botstest.Log
	r := New(dir, e, logger(&l))
	before := e.Version()
	cut := bytes.Index(src, []byte("  - id: self-harm"))
	end := bytes.Index(src, []byte("synonyms:"))
	if cut < 0 || end < cut {
		t.Fatal("the minimal fixture changed; update this test")
	}
	write(t, dir, "all.yaml", append(append([]byte{}, src[:cut]...), src[end:]...))

	err := r.Reload(context.Background())
	var ps knowledge.Problems
	if !errors.As(err, &ps) || !strings.Contains(err.Error(), "crisis categories missing after this one: self-harm, harm-to-others, overdose, seizure, medical-emergency") {
		t.Fatalf("want the missing categories named, got %v", err)
	}
	if e.Version() != before || askKind(t, e, "my friend is not breathing") != bots.KindCrisis {
		t.Error("the half-written crisis data went live")
	}
	if !strings.Contains(l.String(), "knowledge edit rejected") {
		t.Errorf("the log should say why:\n%s", l.String())
	}
}

// TestReloadRunsCrisisExamples: an edit that validates but would give a
// crisis example an ordinary answer is refused, naming the example's line.
func TestReloadRunsCrisisExamples(t *testing.T) {
	dir, e, src := fixture(t)
	var l botstest.Log
	r := New(dir, e, logger(&l))
	before := e.Version()
	// A crisis example question that no phrase catches would get an
	// ordinary answer. (The categories' own examples always reach the
	// crisis line: the engine knows them word for word.)
	edited := append(append([]byte{}, src...), []byte("\n  - q: he went stiff and started jerking\n    kind: crisis\n")...)
	line := 1 + bytes.Count(edited[:bytes.Index(edited, []byte("  - q: he went stiff"))], []byte("\n"))
	write(t, dir, "all.yaml", edited)

	err := r.Reload(context.Background())
	at := filepath.Join(dir, "all.yaml") + ":" + itoa(line) + ":"
	if err == nil || !strings.Contains(err.Error(), at) || !strings.Contains(err.Error(), `the crisis example "he went stiff and started jerking" (an example question) gets an ordinary answer`) {
		t.Fatalf("want the example at %s named, got %v", at, err)
	}
	if !strings.Contains(l.String(), at) {
		t.Errorf("the log should name %s:\n%s", at, l.String())
	}
	if e.Version() != before {
		t.Error("knowledge that misses a crisis example went live")
	}
}

func TestCrisisCheckShippedKnowledge(t *testing.T) {
	b, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := CrisisCheck(context.Background(), b)
	if err != nil || len(ps) > 0 {
		t.Fatalf("every shipped crisis example must reach the crisis line: %v\n%v", err, ps)
	}
}
