package knowledge

import (
	"bytes"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestEmbeddedEqualsFolder proves that what `validate` checks in the
// knowledge folder is exactly what the binary and the image ship.
func TestEmbeddedEqualsFolder(t *testing.T) {
	folder := os.DirFS(".")
	onDisk, ps := Files(folder, EmbeddedName)
	if len(ps) > 0 {
		t.Fatalf("the knowledge folder has files the bot would leave out:\n%v", ps)
	}
	built, ps := Files(Embedded(), EmbeddedName)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if !slices.Equal(onDisk, built) {
		t.Fatalf("the folder has %v but the binary builds in %v", onDisk, built)
	}
	for _, n := range onDisk {
		a, _ := fs.ReadFile(folder, n)
		b, _ := fs.ReadFile(Embedded(), n)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the folder and the binary", n)
		}
	}
}

func TestOtherYAMLEndingsAreRefused(t *testing.T) {
	valid, err := os.ReadFile("testdata/minimal/all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"all.yaml":        {Data: valid},
		"faq-alcohol.yml": {Data: []byte("topics: []\n")},
		"OLD.YAML":        {Data: []byte("topics: []\n")},
		".faq.yaml.swp":   {Data: []byte("x")},
		".hidden.yaml":    {Data: []byte("x")},
		"notes.txt":       {Data: []byte("x")},
		"sub/inside.yaml": {Data: []byte("x")},
	}
	_, ps := Check(fsys, "knowledge")
	want := []string{
		`knowledge/OLD.YAML:1:1: the bot only reads and builds in files ending in ".yaml", so this file would be left out; rename it to "OLD.yaml"`,
		`knowledge/faq-alcohol.yml:1:1: the bot only reads and builds in files ending in ".yaml", so this file would be left out; rename it to "faq-alcohol.yaml"`,
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
