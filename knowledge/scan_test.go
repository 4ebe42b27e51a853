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
