package knowledge

import (
	"os"
	"testing"
)

func TestLoadMinimal(t *testing.T) {
	b, err := LoadDir("testdata/minimal")
	if err != nil {
		t.Fatalf("minimal knowledge should load:\n%v", err)
	}
	if len(b.Topics) != 3 || len(b.Regions) != 2 || b.Default().Code != "US" {
		t.Fatalf("got %d topics, %d regions, default %v", len(b.Topics), len(b.Regions), b.Default())
	}
	if p := b.Topics[0].At("answer"); p.Line == 0 || p.File != "testdata/minimal/all.yaml" {
		t.Fatalf("answer position not recorded: %v", p)
	}
	_ = os.Stdout
}
