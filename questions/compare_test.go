package questions

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	before := []Outcome{
		{Q: "cant sleep", Want: "sleep", Got: "fallback", OK: false},
		{Q: "legs wont stop", Want: "restless-legs", Got: "restless-legs", OK: true},
		{Q: "i want to die", Want: "crisis", Got: "crisis", OK: true},
		{Q: "bad dreams", Want: "nightmares", Got: "fallback", OK: false},
		{Q: "old question", Want: "sleep", Got: "sleep", OK: true},
	}
	after := []Outcome{
		{Q: "Cant  sleep", Want: "sleep", Got: "sleep", OK: true, At: "q.yaml:3"},
		{Q: "legs wont stop", Want: "restless-legs", Got: "sleep", OK: false, At: "q.yaml:5"},
		{Q: "i want to die", Want: "crisis", Got: "crisis", OK: true},
		{Q: "bad dreams", Want: "nightmares", Got: "sleep", OK: false},
		{Q: "new question", Want: "sleep", Got: "fallback", OK: false},
	}
	d := Compare(before, after)
	var out bytes.Buffer
	d.Write(&out, "origin/main")
	want := `Compared with origin/main: 1 fixed, 1 broken, 1 missed differently, 1 new, 1 gone, 1 unchanged
BROKE  "legs wont stop" expected restless-legs, now gets sleep (before: restless-legs)  (q.yaml:5)
FIXED  "Cant  sleep" now reaches sleep (before: fallback)  (q.yaml:3)
MOVED  "bad dreams" expected nightmares, now gets sleep (before: fallback)
NEW    "new question" expected sleep, misses: gets fallback
GONE   "old question" expected sleep
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestSavedRunRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.json")
	s := Saved{Knowledge: "abc", Score: "1/1", Outcomes: []Outcome{{Q: "q", Want: "w", Got: "w", OK: true}}}
	if err := WriteSaved(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSaved(path)
	if err != nil || len(got.Outcomes) != 1 || got.Outcomes[0] != s.Outcomes[0] {
		t.Fatalf("got %+v, %v", got, err)
	}
	os.WriteFile(path, []byte("topics: []"), 0o644)
	if _, err := ReadSaved(path); err == nil || !strings.Contains(err.Error(), "is not a run saved by test-questions --save") {
		t.Errorf("a file that is not a saved run: %v", err)
	}
}

func TestKnowledgeAtGitRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repo := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.org"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	dir := filepath.Join(repo, "knowledge")
	os.MkdirAll(filepath.Join(dir, "schema"), 0o755)
	os.WriteFile(filepath.Join(dir, "faq copy.yaml"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(dir, "schema", "s.json"), []byte("{}"), 0o644)
	run("init", "-q")
	run("add", ".")
	run("commit", "-qm", "first")
	os.WriteFile(filepath.Join(dir, "faq copy.yaml"), []byte("new"), 0o644)

	fsys, err := KnowledgeAt(context.Background(), dir, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	data, err := fs.ReadFile(fsys, "faq copy.yaml")
	if err != nil || string(data) != "old" {
		t.Errorf("want the committed file, got %q, %v", data, err)
	}
	if _, err := fs.Stat(fsys, "schema"); err == nil {
		t.Error("folders inside the knowledge folder are not knowledge")
	}
	if _, err := KnowledgeAt(context.Background(), dir, "no-such-branch"); err == nil || !strings.Contains(err.Error(), "cannot read the knowledge at no-such-branch") {
		t.Errorf("an unknown revision: %v", err)
	}
}
