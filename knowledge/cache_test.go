package knowledge

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// useCache points the checked-knowledge cache at a fresh folder for one test.
func useCache(t *testing.T) string {
	dir := t.TempDir()
	SetCache(dir)
	t.Cleanup(func() { SetCache("") })
	return dir
}

func cachedFiles(t *testing.T, dir string) []string {
	files, err := filepath.Glob(filepath.Join(dir, "knowledge-*.gob"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// A start from the cache must answer exactly as a start that checks the
// files: the same topics, helplines, warnings and file:line positions.
func TestCachedKnowledgeIsTheSame(t *testing.T) {
	fixedNow(t)
	minimal, err := os.ReadFile("testdata/minimal/all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old := strings.Replace(string(minimal), "reviewed: 2026-11-01", "reviewed: 2024-01-01", 1)
	for _, tc := range []struct {
		name string
		load func() (*Base, Problems)
	}{
		{"shipped", func() (*Base, Problems) { return Check(Embedded(), EmbeddedName) }},
		{"minimal", func() (*Base, Problems) { return Check(os.DirFS("testdata/minimal"), "testdata/minimal") }},
		{"with a warning", func() (*Base, Problems) {
			return Check(fstest.MapFS{"all.yaml": {Data: []byte(old)}}, "k")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := useCache(t)
			checked, ps := tc.load()
			if checked == nil {
				t.Fatalf("does not load: %v", ps)
			}
			if len(cachedFiles(t, dir)) != 1 {
				t.Fatalf("checked knowledge was not kept in %s", dir)
			}
			cached, cps := tc.load()
			if cached == checked {
				t.Fatal("the second load returned the same Base instead of reading the cache")
			}
			if !reflect.DeepEqual(cached, checked) {
				t.Error("the Base read from the cache differs from the one checked from the files")
			}
			if !reflect.DeepEqual(cps, ps) {
				t.Errorf("problems from the cache %v, from the files %v", cps, ps)
			}
			if tc.name == "with a warning" && (len(cps) != 1 || !cps[0].Warning || cps[0].Pos.Line == 0) {
				t.Errorf("the old review date's warning is lost: %v", cps)
			}
		})
	}
}

// What the cache keeps must never let a broken edit reach people, nor let a
// damaged cache file stop the bot.
func TestCachedKnowledgeNeverHidesAProblem(t *testing.T) {
	fixedNow(t)
	valid, err := os.ReadFile("testdata/minimal/all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(valid), "reviewed: 2026-11-01", "reviewed: 2026-13-01", 1)

	t.Run("a broken edit after a good start", func(t *testing.T) {
		useCache(t)
		if _, err := Load(fstest.MapFS{"all.yaml": {Data: valid}}, "k"); err != nil {
			t.Fatal(err)
		}
		_, err := Load(fstest.MapFS{"all.yaml": {Data: []byte(broken)}}, "k")
		if err == nil || !strings.Contains(err.Error(), "k/all.yaml:") {
			t.Fatalf("the broken edit loaded or lost its file:line: %v", err)
		}
	})
	t.Run("a broken edit twice", func(t *testing.T) {
		dir := useCache(t)
		for range 2 {
			if _, err := Load(fstest.MapFS{"all.yaml": {Data: []byte(broken)}}, "k"); err == nil {
				t.Fatal("the broken edit loaded")
			}
		}
		if n := len(cachedFiles(t, dir)); n != 0 {
			t.Fatalf("%d broken bases kept", n)
		}
	})
	t.Run("a damaged cache file", func(t *testing.T) {
		dir := useCache(t)
		fsys := fstest.MapFS{"all.yaml": {Data: valid}}
		if _, err := Load(fsys, "k"); err != nil {
			t.Fatal(err)
		}
		for _, f := range cachedFiles(t, dir) {
			if err := os.WriteFile(f, []byte("not gob"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		b, err := Load(fsys, "k")
		if err != nil || len(b.Topics) != 3 {
			t.Fatalf("a damaged cache stopped the load: %v", err)
		}
	})
	t.Run("a year later", func(t *testing.T) {
		useCache(t)
		fsys := fstest.MapFS{"all.yaml": {Data: valid}}
		if _, ps := Check(fsys, "k"); len(ps) != 0 {
			t.Fatalf("unexpected problems: %v", ps)
		}
		now = func() time.Time { return time.Date(2027, 12, 1, 12, 0, 0, 0, time.UTC) }
		if _, ps := Check(fsys, "k"); len(ps) == 0 {
			t.Fatal("a review date that grew old on a later day gave no warning: the cache kept the earlier day's result")
		}
	})
}

// The cache folder keeps only the newest few checked versions.
func TestCachedKnowledgeIsPruned(t *testing.T) {
	fixedNow(t)
	dir := useCache(t)
	valid, err := os.ReadFile("testdata/minimal/all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		data := strings.Replace(string(valid), "title: ", "title: v"+string(rune('a'+i))+" ", 1)
		if _, err := Load(fstest.MapFS{"all.yaml": {Data: []byte(data)}}, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(cachedFiles(t, dir)); n != keepCachedBases {
		t.Fatalf("%d checked versions kept, want %d", n, keepCachedBases)
	}
}

// The compact positions must come back exactly, including an entry from
// another file and the difference between no map and an empty one.
func TestFieldPositionsRoundTrip(t *testing.T) {
	for _, fp := range []FieldPositions{
		nil,
		{},
		{"answer": {"k/all.yaml", 12, 5}, "answer.text": {"k/all.yaml", 13, 7}, "examples.0": {"k/all.yaml", 20, 9}},
		{"id": {"k/a.yaml", 1, 3}, "title": {"k/b.yaml", 2, 3}},
	} {
		data, err := fp.GobEncode()
		if err != nil {
			t.Fatal(err)
		}
		var got FieldPositions
		if err := got.GobDecode(data); err != nil {
			t.Fatalf("%v: %v", fp, err)
		}
		if !reflect.DeepEqual(got, fp) {
			t.Errorf("wrote %#v, read %#v", fp, got)
		}
	}
}

// A damaged cache file must be refused, never panic: a start then checks
// the files again.
func FuzzFieldPositions(f *testing.F) {
	good, _ := FieldPositions{"answer": {"k/all.yaml", 12, 5}}.GobEncode()
	f.Add(good)
	f.Add([]byte{1})
	f.Add([]byte{1, 0, 200, 200, 200, 200, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var fp FieldPositions
		_ = fp.GobDecode(data)
	})
}
