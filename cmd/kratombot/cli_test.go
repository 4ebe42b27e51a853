package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestAskJSONContract holds `ask --json` to the documented one-line contract
// other tools build on.
func TestAskJSONContract(t *testing.T) {
	in := "cant sleep since i quit\ni want to end it all\nwhat is the capital of peru\n\n\x00\xff\n"
	code, out, errs := runCLI(t, in, "ask", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("want one line per question (5), got %d:\n%s", len(lines), out)
	}
	want := []struct{ kind, topic string }{{"answer", "sleep"}, {"crisis", ""}, {"fallback", ""}, {"fallback", ""}, {"fallback", ""}}
	for i, l := range lines {
		var j struct {
			Kind        string            `json:"kind"`
			Topic       *string           `json:"topic"`
			Text        string            `json:"text"`
			Referral    string            `json:"referral"`
			Suggestions []json.RawMessage `json:"suggestions"`
		}
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, l)
		}
		if j.Kind != want[i].kind || j.Topic == nil || *j.Topic != want[i].topic {
			t.Errorf("line %d: kind %q topic %v, want %+v", i+1, j.Kind, j.Topic, want[i])
		}
		if j.Referral == "" || !strings.Contains(j.Text, j.Referral) || j.Suggestions == nil {
			t.Errorf("line %d: text must include the referral and suggestions must be a list: %s", i+1, l)
		}
	}
	if !strings.HasPrefix(strings.SplitN(lines[1], `"text":"`, 2)[1], "Please reach out now: 988") {
		t.Errorf("the crisis text must start with the crisis line: %s", lines[1])
	}
}

func TestAskPlainOneLinePerQuestion(t *testing.T) {
	code, out, _ := runCLI(t, "rls\nhi\n", "ask", "--region", "UK")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "FRANK") {
		t.Fatalf("exit %d, got:\n%s", code, out)
	}
}

// In a conversation, as on the platforms, a place the writer says they are
// in holds for the replies after it, and a place where only a relative is
// does not: an emergency number must work where the writer is.
func TestAskConversationKeepsTheWritersPlace(t *testing.T) {
	tests := []struct {
		name, first, want string
	}{
		{"the writer's own place holds", "im in leeds and cant sleep since i quit", "Emergency: call 999"},
		{"a sister's place does not", "my sister lives in australia and uses kratom, i'm in ohio", "Emergency: call 911"},
		{"a trip back from does not", "we just got back from a trip to thailand and now im in withdrawal", "Emergency: call 911"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tt.first+"\nmy husband just had a seizure\n", "ask", "--conversation")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 0 || len(lines) != 2 {
				t.Fatalf("exit %d: %s\n%s", code, errs, out)
			}
			if !strings.HasPrefix(lines[1], tt.want) {
				t.Errorf("after %q, a seizure got:\n%s\nwant it to start with %q", tt.first, lines[1], tt.want)
			}
		})
	}
}

func TestAskArgs(t *testing.T) {
	code, out, _ := runCLI(t, "", "ask", "is", "kratom", "an", "opioid")
	if code != 0 || !strings.Contains(out, "1-800-662-4357") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestValidate(t *testing.T) {
	code, out, _ := runCLI(t, "", "validate")
	if code != 0 || !strings.Contains(out, "is valid") {
		t.Fatalf("the shipped knowledge must validate: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	src, _ := os.ReadFile("../../knowledge/testdata/minimal/all.yaml")
	broken := strings.Replace(string(src), "    related: [restless-legs]", "    related: [restles-legs]\n    colour: blue", 1)
	if err := os.WriteFile(filepath.Join(dir, "all.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "validate", dir)
	if code != 1 {
		t.Fatalf("a broken folder must exit 1, got %d", code)
	}
	lineOf := func(sub string) int {
		for i, l := range strings.Split(broken, "\n") {
			if strings.Contains(l, sub) {
				return i + 1
			}
		}
		return 0
	}
	for _, want := range []string{
		fmt.Sprintf("all.yaml:%d:5: unknown key \"colour\"", lineOf("colour")),
		fmt.Sprintf("all.yaml:%d:15: topic \"sleep\" lists related topic \"restles-legs\", which does not exist", lineOf("restles-legs")),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "problem(s) to fix") {
		t.Errorf("stderr should sum up: %q", errs)
	}
}

func TestBrokenKnowledgeDirIsAClearError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "faq.yaml"), []byte("topics:\n  - id: x\n    title: [unclosed\n"), 0o644)
	code, _, errs := runCLI(t, "", "ask", "--knowledge", dir, "hi")
	if code != 1 || !strings.Contains(errs, "faq.yaml:") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestNoArgsWithoutTerminalPrintsHelp(t *testing.T) {
	code, out, _ := runCLI(t, "")
	if code != 0 || !strings.Contains(out, "Usage:") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errs := runCLI(t, "", "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("exit %d, %q", code, errs)
	}
}

func TestChatSession(t *testing.T) {
	code, out, _ := runCLI(t, "cant sleep\n1\n/region uk\n/crisis\nquit\n", "chat")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Get help") {
			n++
		}
	}
	if n < 5 || !strings.Contains(out, "Samaritans") || !strings.Contains(out, "Restless") {
		t.Fatalf("every reply in the chat needs the referral (%d seen); /region uk should switch helplines:\n%s", n, out)
	}
}
