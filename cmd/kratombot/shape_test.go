package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kratombot/kratombot/knowledge"
)

// TestOneCLIShape holds every knowledge command to one shape: --knowledge
// DIR or a positional PATH, where a file means its folder.
func TestOneCLIShape(t *testing.T) {
	const dir = "../../knowledge"
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"validate", dir}, 0, "is valid", ""},
		{[]string{"validate", dir + "/faq.yaml"}, 0, dir + " is valid", ""},
		{[]string{"validate", "--knowledge", dir}, 0, "is valid", ""},
		{[]string{"validate", "--knowledge", dir + "/crisis.yaml"}, 0, "is valid", ""},
		{[]string{"validate", "--knowledge", dir, dir + "/faq.yaml"}, 0, "is valid", ""},
		{[]string{"validate", "no-such-folder"}, 1, "", "no-such-folder does not exist"},
		{[]string{"validate", "--knowledge", dir, "../../questions"}, 2, "", "two knowledge folders given"},
		{[]string{"test-questions", dir}, 0, "passed", ""},
		{[]string{"test-questions", dir + "/questions.yaml"}, 0, "passed", ""},
		{[]string{"test-questions", "--knowledge", dir + "/faq.yaml"}, 0, "passed", ""},
		{[]string{"chat", dir + "/faq.yaml"}, 0, "kratombot", ""},
		{[]string{"ask", "--knowledge", dir + "/faq.yaml", "hi"}, 0, "1-800-662-4357", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, "quit\n", tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant stdout %q, stderr %q", code, tt.code, out, errs, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestUnknownRegionIsSaid: a region nobody has written helplines for is
// named as unknown with the list of known ones, never quietly replaced by
// the default's helplines.
func TestUnknownRegionIsSaid(t *testing.T) {
	for _, cmd := range [][]string{{"ask", "--region", "nz", "hi"}, {"chat", "--region", "nz"}, {"test-questions", "--region", "nz"}} {
		code, out, errs := runCLI(t, "quit\n", cmd...)
		if code != 2 || !strings.Contains(errs, `region "nz" is not known`) || !strings.Contains(errs, "US (United States)") || strings.Contains(out, "1-800") {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", cmd, code, out, errs)
		}
	}
	code, out, _ := runCLI(t, "/region nz\n/region uk\nquit\n", "chat")
	if code != 0 || !strings.Contains(out, `I don't know the region "nz". The regions I know are: US (United States)`) {
		t.Errorf("chat /region nz: exit %d\n%s", code, out)
	}
	if strings.Contains(out, `I don't know the region "uk"`) {
		t.Errorf("chat /region uk is a known region (an alias):\n%s", out)
	}
}

// TestEnvExampleListsRealRegions keeps the deploy example honest: every
// region code it names exists in the built-in knowledge.
func TestEnvExampleListsRealRegions(t *testing.T) {
	data, err := os.ReadFile("../../deploy/kratombot.env.example")
	if err != nil {
		t.Fatal(err)
	}
	b, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\(((?:[A-Z]{2,4}, )+[A-Z]{2,4})\)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("the env example no longer lists the region codes in (US, CA, ...); update this test")
	}
	for _, code := range strings.Split(string(m[1]), ", ") {
		if _, ok := b.Region(code); !ok {
			t.Errorf("deploy/kratombot.env.example names region %s, which the knowledge does not have", code)
		}
	}
}

// TestCompareBeforeAndAfter: a maintainer saves a run, edits the knowledge,
// and sees question by question what the edit fixed and what it broke.
func TestCompareBeforeAndAfter(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(minimalDir, "all.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// before: "cant sleep" expects restless-legs (a miss), "i want to die" passes
	before := strings.Replace(string(src), "  - q: cant sleep\n    topic: sleep\n", "  - q: cant sleep\n    topic: restless-legs\n", 1)
	writeFile(t, dir, "all.yaml", before)
	run := filepath.Join(t.TempDir(), "before.json")
	if code, out, errs := runCLI(t, "", "test-questions", "--save", run, dir); code != 0 || !strings.Contains(out, "saved this run to") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	// after: the maintainer teaches restless-legs the phrasing with one example line
	after := strings.Replace(before, "words: [restless legs, jerky, kicking]", "words: [restless legs, jerky, kicking]\n    examples: [cant sleep]", 1)
	if after == before {
		t.Fatal("the minimal fixture changed; update this test")
	}
	writeFile(t, dir, "all.yaml", after)
	code, out, errs := runCLI(t, "", "test-questions", "--compare", run, dir)
	if !strings.Contains(out, "Compared with "+run+": 1 fixed, 0 broken") || !strings.Contains(out, `FIXED  "cant sleep" now reaches restless-legs (before: sleep)  (`+filepath.Join(dir, "all.yaml")) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

// TestPathWinsOverTheEnvironment: a folder typed on the command line is the
// one checked, even with KRATOMBOT_KNOWLEDGE set to another.
func TestPathWinsOverTheEnvironment(t *testing.T) {
	t.Setenv("KRATOMBOT_KNOWLEDGE", "../../questions")
	code, out, errs := runCLI(t, "", "validate", minimalDir)
	if code != 0 || !strings.Contains(out, minimalDir+" is valid") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
}
