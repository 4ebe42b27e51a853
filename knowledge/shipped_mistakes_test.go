package knowledge

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// TestMistakesInTheShippedFiles makes each mistake maintainers made (issue
// 11) deep inside the real faq.yaml, beside the rest of the shipped
// knowledge, and expects exactly one problem at the line to change. The
// lines are found, not written down, so the test holds as the files grow.
func TestMistakesInTheShippedFiles(t *testing.T) {
	fixedNow(t)
	shipped := fstest.MapFS{}
	names, _ := Files(os.DirFS("."), ".")
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		shipped[n] = &fstest.MapFile{Data: data}
	}
	faq := string(shipped["faq.yaml"].Data)
	lines := strings.Split(faq, "\n")
	// the n-th line (1-based) matching re, from the middle of the file on
	find := func(re string) int {
		r := regexp.MustCompile(re)
		for i := len(lines) / 2; i < len(lines); i++ {
			if r.MatchString(lines[i]) {
				return i + 1
			}
		}
		t.Fatalf("faq.yaml has no line matching %q after its middle", re)
		return 0
	}
	edit := func(line int, f func(string) string) string {
		out := append([]string{}, lines...)
		out[line-1] = f(out[line-1])
		return strings.Join(out, "\n")
	}

	reviewed := find(`^    reviewed: `)
	topic := find(`^  - id: `)
	title := find(`^    title: `)
	para := find(`^      [A-Z].*[a-z]\.$`)
	related := find(`^    related: `)
	tests := []struct {
		name    string
		text    string
		file    string // another file name: a copy beside faq.yaml
		at      int
		col     int
		message string
	}{
		{"a key indented 3 spaces", edit(reviewed, func(l string) string { return l[1:] }), "", reviewed, 4,
			"this line is indented 3 space(s), which matches no line above it"},
		{"a topic indented 1 space", edit(topic, func(l string) string { return l[1:] }), "", topic, 2,
			"this line is indented 1 space(s), which matches no line above it"},
		{"a quote not closed", edit(title, func(l string) string { return `    title: "` + strings.Trim(l[len("    title: "):], `"`) }), "", title, 12,
			`the quote (") opened here is not closed on this line`},
		{"curly quotes round a title with a colon", edit(title, func(string) string { return "    title: “Alcohol: is it safe?”" }), "", title, 12,
			"curly quotes"},
		{"a paragraph de-indented", edit(para, func(l string) string { return l[2:] }), "", para, 5,
			"this line is indented less than the text above it"},
		{"a key indented like the answer", edit(related, func(l string) string { return "  " + l }), "", related, 7,
			"looks like a key indented too far"},
		{"Windows-1252", edit(para, func(l string) string { return l + " Caf\xe9." }), "", para, len([]rune(lines[para-1])) + 5,
			`the byte 0xE9 here ("é" in Windows-1252)`},
		{"a stray copy", faq, "faq copy.yaml", 1, 1, "so it looks like a copy"},
		{"the '- ' of a topic lost", edit(topic, func(l string) string { return "    " + l[len("  - "):] }), "", topic, 5,
			"a new entry seems to start here without its '- '"},
	}
	// a topic renamed while other topics and examples still name it: one
	// problem at the first place naming it, with the new id suggested
	renamed, first := "", Position{}
	for _, l := range lines {
		if !strings.HasPrefix(l, "  - id: ") {
			continue
		}
		id := strings.TrimPrefix(l, "  - id: ")
		related := regexp.MustCompile(`^\s+related: \[.*\b` + regexp.QuoteMeta(id) + `\b`)
		var at []Position
		for _, n := range names {
			for i, fl := range strings.Split(string(shipped[n].Data), "\n") {
				if related.MatchString(fl) {
					at = append(at, Position{"knowledge/" + n, i + 1, strings.Index(fl, id) + 1})
				}
			}
		}
		if len(at) >= 3 {
			renamed, first = id, at[0]
			break
		}
	}
	if renamed == "" {
		t.Fatal("no faq topic is named as related by three others; update this test")
	}
	line := 0
	for i, l := range lines {
		if l == "  - id: "+renamed {
			line = i + 1
		}
	}
	tests = append(tests, struct {
		name    string
		text    string
		file    string
		at      int
		col     int
		message string
	}{"a topic renamed", edit(line, func(l string) string { return l + "s" }), "", 0, 0,
		fmt.Sprintf("topic %q does not exist, but ", renamed)})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, f := range shipped {
				fsys[n] = f
			}
			name := "faq.yaml"
			if tt.file != "" {
				name = tt.file
			}
			fsys[name] = &fstest.MapFile{Data: []byte(tt.text)}
			_, ps := Check(fsys, "knowledge")
			want := fmt.Sprintf("knowledge/%s:%d:%d: ", name, tt.at, tt.col)
			if tt.at == 0 { // the renamed topic: at the first place naming it
				want = first.String() + ": "
				if !strings.Contains(ps.Error(), fmt.Sprintf(`did you mean %q?`, renamed+"s")) {
					t.Errorf("the new id should be suggested: %v", ps)
				}
			}
			if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), want) || !strings.Contains(ps[0].Message, tt.message) {
				t.Errorf("want one problem %s...%s, got %d:\n%v", want, tt.message, len(ps), ps)
			}
		})
	}
}
