package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// kb runs the CLI in-process; it is this file's own helper so that the
// ops tests do not depend on another file's.
func kb(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const minimalDir = "../../knowledge/testdata/minimal"

func TestTestQuestions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // lines or parts expected on stdout, in order
		stderr   string
		noStdout string
	}{
		{
			name: "shipped examples pass", args: []string{"test-questions"}, code: 0,
			stdout: []string{"passed (", "threshold 85%"},
		},
		{
			name: "knowledge folder's own examples", args: []string{"test-questions", "--knowledge", minimalDir}, code: 0,
			// 2 example questions and the 7 examples of the crisis categories
			stdout: []string{"9/9 passed (100.0%), threshold 50%\n"}, noStdout: "MISS",
		},
		{
			name: "below the file's threshold",
			args: []string{"test-questions", "--knowledge", minimalDir, writeFile(t, dir, "below.yaml",
				"threshold: 0.9\nexamples:\n  - q: cant sleep\n    topic: sleep\n  - q: kicking all night\n    topic: sleep\n")},
			code:   1,
			stdout: []string{"1/2 passed (50.0%), threshold 90%\n", `MISS "kicking all night" expected sleep, got fallback (offered restless-legs, sleep, see-a-professional)  (` + filepath.Join(dir, "below.yaml") + ":5)"},
			stderr: "below the threshold",
		},
		{
			name: "a crisis miss fails above the threshold",
			args: []string{"test-questions", "--knowledge", minimalDir, writeFile(t, dir, "crisis.yaml",
				"threshold: 0.5\nexamples:\n  - q: cant sleep\n    topic: sleep\n  - q: i feel like giving up\n    kind: crisis\n  - q: hi\n    kind: greeting\n")},
			code:   1,
			stdout: []string{"2/3 passed (66.6%), threshold 50%\n", `MISS "i feel like giving up" expected crisis, got fallback`},
			stderr: "crisis example(s) did not reach the crisis line",
		},
		{
			name: "problems in the file are file:line:col",
			args: []string{"test-questions", "--knowledge", minimalDir, writeFile(t, dir, "bad.yaml",
				"examples:\n  - q: cant sleep\n    topic: sleeep\n")},
			code:   1,
			stdout: []string{filepath.Join(dir, "bad.yaml") + `:2:5: example "cant sleep" expects topic "sleeep", which does not exist`},
			stderr: "1 problem(s) to fix",
		},
		{
			name: "missing file", args: []string{"test-questions", filepath.Join(dir, "nope.yaml")}, code: 1,
			stderr: "nope.yaml does not exist",
		},
		{
			name: "two files", args: []string{"test-questions", "a.yaml", "b.yaml"}, code: 2,
			stderr: "at most one PATH",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := kb(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errs)
			}
			rest := out
			for _, w := range tt.stdout {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("stdout lacks %q (in order):\n%s", w, out)
					break
				}
				rest = rest[i+len(w):]
			}
			if tt.noStdout != "" && strings.Contains(out, tt.noStdout) {
				t.Errorf("stdout should not contain %q:\n%s", tt.noStdout, out)
			}
			if !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errs)
			}
		})
	}
}

func TestTestQuestionsMissNamesLine(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(minimalDir, "all.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data := strings.Replace(string(src), "  - q: cant sleep\n    topic: sleep\n", "  - q: cant sleep\n    topic: restless-legs\n", 1)
	writeFile(t, dir, "all.yaml", data)
	code, out, _ := kb(t, "test-questions", "--knowledge", dir)
	line := strings.Count(data[:strings.Index(data, "  - q: cant sleep")], "\n") + 1
	want := `MISS "cant sleep" expected restless-legs, got sleep  (` + filepath.Join(dir, "all.yaml") + ":" + itoa(line) + ")"
	if code != 0 || !strings.Contains(out, want) {
		// 1 of 2 passes the 50% threshold of the minimal knowledge
		t.Errorf("exit %d, want 0 and %q in:\n%s", code, want, out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
