package bots

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kratombot/kratombot/knowledge"
)

// forgetModels empties the in-process memo, so the next engine trains or
// reads the cache folder.
func forgetModels() {
	modelMemo.Lock()
	defer modelMemo.Unlock()
	modelMemo.m, modelMemo.keys = nil, nil
}

// TestModelCacheAnswersTheSame: an engine whose models come from the cache
// folder answers exactly as the one that trained them, and a damaged cache
// file is trained over, never trusted.
func TestModelCacheAnswersTheSame(t *testing.T) {
	dir := t.TempDir()
	SetModelCache(dir)
	defer SetModelCache("")
	defer forgetModels()
	kb, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		t.Fatal(err)
	}
	forgetModels()
	trained, _ := New(kb)
	files, _ := filepath.Glob(filepath.Join(dir, "models-*.bin"))
	if len(files) != 1 {
		t.Fatalf("want one cached model file, got %v", files)
	}
	forgetModels()
	cached, _ := New(kb)
	msgs := []string{"cant sleep since i quit", "my husband wont stop using kratom", "i dont see the point anymore", "insomina", "whats the weather", "im in leeds, any groups near me"}
	same := func(e *Engine, what string) {
		for _, m := range msgs {
			a, _ := trained.Answer(context.Background(), Question{Text: m})
			b, _ := e.Answer(context.Background(), Question{Text: m})
			if a.Text() != b.Text() || a.Intent() != b.Intent() {
				t.Errorf("%s: %q answered differently:\n%s\n---\n%s", what, m, a.Text(), b.Text())
			}
		}
	}
	same(cached, "from the cache folder")

	whole, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for what, damaged := range map[string][]byte{
		"not a model": []byte("not a model"),
		"cut short":   whole[:len(whole)/2],
		"with more":   append(whole[:len(whole):len(whole)], 0),
	} {
		if err := os.WriteFile(files[0], damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		forgetModels()
		retrained, _ := New(kb)
		same(retrained, "after a cache file "+what)
	}
}

// FuzzDecodeModels: a cache file is read back at start, so whatever a disk
// or another program left in it must be refused or whole, never a panic.
func FuzzDecodeModels(f *testing.F) {
	s := &savedModels{Topics: saveLinear(&linearModel{ids: newFeatureRows(2), w: []float32{1, 2}, bias: []float32{0, 1}, classes: 2}), NoCrisis: 1,
		Crisis: &savedLinear{Keys: make([]byte, 8), W: make([]byte, 8), Bias: []float32{0, 0}, Classes: 2}}
	good, err := encodeModels(s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte(modelMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, ok := decodeModels(data); ok && s.valid() {
			s.Topics.model()
			s.Crisis.model()
		}
	})
}

// TestModelCacheKeepsOnlyTheNewest: every knowledge edit trains a model of
// several megabytes; the cache folder must not grow with each one.
func TestModelCacheKeepsOnlyTheNewest(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		f := filepath.Join(dir, "models-"+name+".bin")
		if err := os.WriteFile(f, []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(time.Duration(i-10) * time.Minute)
		os.Chtimes(f, when, when)
	}
	old := filepath.Join(dir, "models-z.gob") // written before the format changed
	if err := os.WriteFile(old, []byte("z"), 0o600); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-time.Hour)
	os.Chtimes(old, when, when)
	pruneCache(dir, "a") // "a" was just written, under an old time stamp
	files, _ := filepath.Glob(filepath.Join(dir, "models-*"))
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := []string{"models-a.bin", "models-d.bin", "models-e.bin"}
	if !slices.Equal(names, want) {
		t.Errorf("kept %v, want %v", names, want)
	}
}
