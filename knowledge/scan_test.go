package knowledge

import (
	"os"
	"testing"
)

// TestScannersQuietOnValidFiles: the line finders used after a syntax error
// must find nothing in files that are fine, or they would blame a good line.
func TestScannersQuietOnValidFiles(t *testing.T) {
	names, _ := Files(os.DirFS("."), ".")
	names = append(names, "testdata/minimal/all.yaml")
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := indentProblem(n, data); ok {
			t.Errorf("indentation blamed in a valid file: %v", p)
		}
		if p, ok := unclosedQuote(n, data); ok {
			t.Errorf("a quote blamed in a valid file: %v", p)
		}
		if p, ok := encodingProblem(n, data); ok {
			t.Errorf("the encoding blamed in a valid file: %v", p)
		}
	}
}

// A # starts a comment only outside quotes: "baby #2" is text, and a
// quote left open is still found whatever follows it.
func TestUnclosedQuoteReadsCommentsAsYAMLDoes(t *testing.T) {
	tests := []struct {
		line string
		open bool
	}{
		{`  - "before baby #2"`, false},
		{`  - 'number #1 question' # a comment`, false},
		{`    words: [a, "b #c", d] # a comment`, false},
		{`    title: "Sleep" # the heading`, false},
		{`    title: "Sleep # the heading`, true},
		{`  - "it's #1`, true},
	}
	for _, tt := range tests {
		_, open := unclosedQuote("t.yaml", []byte("topics:\n"+tt.line+"\n"))
		if open != tt.open {
			t.Errorf("%s: unclosed quote found = %v, want %v", tt.line, open, tt.open)
		}
	}
}
