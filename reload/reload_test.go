package reload

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/botstest"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/knowledge"
	"github.com/kratombot/kratombot/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const (
	oldAnswer = "Sleep problems are common in withdrawal."
	newAnswer = "Poor sleep is one of the most common withdrawal symptoms."
)

// fixture copies the minimal knowledge into a temporary folder and starts
// an engine on it.
func fixture(t *testing.T) (dir string, e *bots.Engine, src []byte) {
	t.Helper()
	src, err := os.ReadFile("../knowledge/testdata/minimal/all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte(oldAnswer)) {
		t.Fatalf("the minimal fixture no longer says %q; update this test", oldAnswer)
	}
	dir = t.TempDir()
	write(t, dir, "all.yaml", src)
	b, err := knowledge.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err = bots.New(b)
	if err != nil {
		t.Fatal(err)
	}
	return dir, e, src
}

// write replaces a file the way editors do: a temporary file renamed over
// the old one, so that no reader sees half a file.
func write(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func sleepAnswer(t *testing.T, e *bots.Engine) string {
	t.Helper()
	r, err := e.Open(context.Background(), "sleep", "")
	if err != nil {
		t.Fatal(err)
	}
	return r.Text()
}

func logger(l *botstest.Log) *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func TestReloadInvalidEditKeepsOldAnswers(t *testing.T) {
	dir, e, src := fixture(t)
	var l botstest.Log
	r := New(dir, e, logger(&l))
	before := e.Version()
	errsBefore := testutil.ToFloat64(metrics.Reloads.WithLabelValues("error"))

	// a misspelt key on the "answer:" line of the sleep topic
	broken := bytes.Replace(src, []byte("    answer: |\n      Sleep problems"), []byte("    anwser: |\n      Sleep problems"), 1)
	if bytes.Equal(broken, src) {
		t.Fatal("could not break the fixture")
	}
	line := 1 + bytes.Count(broken[:bytes.Index(broken, []byte("anwser:"))], []byte("\n"))
	write(t, dir, "all.yaml", broken)

	err := r.Reload(context.Background())
	var ps knowledge.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Reload error should wrap knowledge.Problems, got %v", err)
	}
	at := filepath.Join(dir, "all.yaml") + ":" + itoa(line) + ":5: "
	if !strings.Contains(err.Error(), at) || !strings.Contains(err.Error(), `did you mean "answer"`) {
		t.Errorf("the error should point at %s with a suggestion:\n%v", at, err)
	}
	if !strings.Contains(l.String(), at) {
		t.Errorf("the log should name %s:\n%s", at, l.String())
	}
	if e.Version() != before || !strings.Contains(sleepAnswer(t, e), oldAnswer) {
		t.Error("a broken edit replaced the knowledge in use")
	}
	if got := testutil.ToFloat64(metrics.Reloads.WithLabelValues("error")) - errsBefore; got != 1 {
		t.Errorf("reload errors counted %v times, want 1", got)
	}
}

func TestReloadValidEditChangesAnswers(t *testing.T) {
	dir, e, src := fixture(t)
	r := New(dir, e, nil)
	before := e.Version()
	okBefore := testutil.ToFloat64(metrics.Reloads.WithLabelValues("ok"))

	write(t, dir, "all.yaml", bytes.Replace(src, []byte(oldAnswer), []byte(newAnswer), 1))
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.Version() == before || !strings.Contains(sleepAnswer(t, e), newAnswer) {
		t.Errorf("the edit was not picked up: %q", sleepAnswer(t, e))
	}
	if got := testutil.ToFloat64(metrics.Knowledge.WithLabelValues(e.Version())); got != 1 {
		t.Errorf("knowledge version metric = %v, want 1 for %s", got, e.Version())
	}
	if got := testutil.ToFloat64(metrics.Reloads.WithLabelValues("ok")) - okBefore; got != 1 {
		t.Errorf("ok reloads counted %v times, want 1", got)
	}
	// the same files again: nothing to swap, nothing counted
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(metrics.Reloads.WithLabelValues("ok")) - okBefore; got != 1 {
		t.Errorf("an unchanged folder was counted as a reload")
	}
}

func TestReloadKeepsOldWhenFolderEmptied(t *testing.T) {
	dir, e, _ := fixture(t)
	r := New(dir, e, nil)
	if err := os.Remove(filepath.Join(dir, "all.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(context.Background()); err == nil {
		t.Fatal("an empty folder should be rejected")
	}
	if !strings.Contains(sleepAnswer(t, e), oldAnswer) {
		t.Error("the old answers were lost")
	}
}

// TestWatch edits the folder as a maintainer would and waits for the
// watcher to act; the wait is a guard against hanging, not a timing check.
func TestWatch(t *testing.T) {
	dir, e, src := fixture(t)
	var l botstest.Log
	r := New(dir, e, logger(&l))
	r.Debounce = 20 * time.Millisecond
	results := make(chan error, 16)
	r.OnResult = func(_ string, err error) { results <- err }
	ctx, cancel := context.WithCancel(context.Background())
	done, err := r.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		<-done
	}()
	next := func() error {
		t.Helper()
		select {
		case err := <-results:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("no reload after an edit")
			return nil
		}
	}

	// an invalid edit: logged with file:line, old answers kept
	write(t, dir, "all.yaml", bytes.Replace(src, []byte("    title: Trouble sleeping"), []byte("    title: [Trouble sleeping"), 1))
	if err := next(); err == nil {
		t.Fatal("the broken edit was accepted")
	}
	if !strings.Contains(l.String(), filepath.Join(dir, "all.yaml")+":") {
		t.Errorf("the log does not name the file and line:\n%s", l.String())
	}
	if !strings.Contains(sleepAnswer(t, e), oldAnswer) {
		t.Fatal("the broken edit changed the answers")
	}

	// a valid edit: picked up without a restart
	write(t, dir, "all.yaml", bytes.Replace(src, []byte(oldAnswer), []byte(newAnswer), 1))
	for err := next(); err != nil; err = next() {
		// a burst of events may end in an earlier state; wait for the last
	}
	if !strings.Contains(sleepAnswer(t, e), newAnswer) {
		t.Errorf("the edit was not picked up: %q", sleepAnswer(t, e))
	}

	// files that are not YAML do not trigger a reload
	if err := os.WriteFile(filepath.Join(dir, ".all.yaml.swp"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// a new YAML file does
	extra := []byte("synonyms:\n  - means: sleep\n    words: [shuteye]\n")
	write(t, dir, "extra.yaml", extra)
	if err := next(); err != nil {
		t.Fatalf("adding a file: %v", err)
	}
	select {
	case err := <-results:
		t.Errorf("an extra reload happened (swap or text files?): %v", err)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestWatchStopsWithContext(t *testing.T) {
	dir, e, _ := fixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done, err := New(dir, e, nil).Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not stop")
	}
	if _, err := New(filepath.Join(dir, "missing"), e, nil).Watch(context.Background()); err == nil {
		t.Error("watching a folder that does not exist should fail")
	}
}

// TestReloadWhileAnswering swaps good and broken knowledge while many
// goroutines answer; run with -race. Every answer must come from one whole
// version and carry a referral.
func TestReloadWhileAnswering(t *testing.T) {
	dir, e, src := fixture(t)
	r := New(dir, e, nil)
	good := bytes.Replace(src, []byte(oldAnswer), []byte(newAnswer), 1)
	broken := bytes.Replace(src, []byte("id: sleep"), []byte("id: Sleep Problems"), 1)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var answers atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				rep, err := e.Answer(context.Background(), bots.Question{Text: "i cant sleep"})
				if err != nil {
					t.Error(err)
					return
				}
				text := rep.Text()
				if !strings.Contains(text, oldAnswer) && !strings.Contains(text, newAnswer) {
					t.Errorf("an answer from no whole version: %q", text)
				}
				if !strings.Contains(text, "1-800-662-4357") {
					t.Errorf("an answer without the referral: %q", text)
				}
				answers.Add(1)
			}
		}()
	}
	for i := range 30 {
		var data []byte
		switch i % 3 {
		case 0:
			data = good
		case 1:
			data = broken
		default:
			data = src
		}
		write(t, dir, "all.yaml", data)
		err := r.Reload(context.Background())
		if (i%3 == 1) != (err != nil) {
			t.Errorf("reload %d: err = %v", i, err)
		}
	}
	// let the answerers overlap the swaps at least a little
	for answers.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	if !strings.Contains(sleepAnswer(t, e), oldAnswer) {
		t.Error("the last good version is not in use")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
