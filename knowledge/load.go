package knowledge

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/agnivade/levenshtein"
	"go.yaml.in/yaml/v3"
)

// The embed pattern and Files must agree: Files refuses every other YAML
// spelling (.yml, .YAML), so what validates is exactly what is built in.
// TestEmbeddedEqualsFolder holds the two together.
//
//go:embed *.yaml
var embedded embed.FS

// The JSON Schema for editors is made from the types in schema.go:
//go:generate go test -run ^TestJSONSchemaIsCurrent$ . -args -update

// Ext is the one file ending the knowledge files use.
const Ext = ".yaml"

// Files lists the knowledge files directly inside fsys, sorted: the one list
// that loading, validating, reloading and the built-in copy all use. Files
// that look like YAML under another ending are problems, not skipped, since
// the built-in copy would silently leave them out.
func Files(fsys fs.FS, dir string) ([]string, Problems) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, Problems{{Pos: Position{File: dir, Line: 1, Col: 1}, Message: fmt.Sprintf("cannot read the knowledge folder: %v", err)}}
	}
	var names []string
	var ps Problems
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue // editors' hidden swap and backup files
		}
		ext := path.Ext(n)
		switch {
		case ext == Ext:
			names = append(names, n)
		case strings.EqualFold(ext, ".yml") || strings.EqualFold(ext, Ext):
			ps = append(ps, Problem{Pos: Position{File: path.Join(dir, n), Line: 1, Col: 1},
				Message: fmt.Sprintf("the bot only reads and builds in files ending in %q, so this file would be left out; rename it to %q", Ext, strings.TrimSuffix(n, ext)+Ext)})
		}
	}
	sort.Strings(names)
	return names, ps
}

// Embedded is the knowledge base built into the binary.
func Embedded() fs.FS { return embedded }

// EmbeddedName is how messages name the embedded folder.
const EmbeddedName = "knowledge"

// Problem is one thing wrong in the knowledge files.
type Problem struct {
	Pos     Position
	Message string
	Warning bool
}

func (p Problem) String() string {
	if p.Warning {
		return fmt.Sprintf("%s: warning: %s", p.Pos, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.Pos, p.Message)
}

// Problems is the error Load returns when a knowledge base has errors.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	n := 0
	for _, p := range ps {
		if p.Warning {
			continue
		}
		if n > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p.String())
		n++
	}
	return b.String()
}

// Errors counts the problems that are not warnings.
func (ps Problems) Errors() int {
	n := 0
	for _, p := range ps {
		if !p.Warning {
			n++
		}
	}
	return n
}

// LoadDir loads the YAML files directly inside a folder on disk.
func LoadDir(dir string) (*Base, error) { return Load(os.DirFS(dir), dir) }

// Load reads every .yaml file at the top of fsys, naming them under dir in
// messages. It returns a Problems error, and no Base, when anything is wrong.
func Load(fsys fs.FS, dir string) (*Base, error) {
	b, ps := Check(fsys, dir)
	if ps.Errors() > 0 {
		return nil, ps
	}
	return b, nil
}

// Check loads and checks the files and returns every problem found, warnings
// included. The Base is nil when there are errors.
func Check(fsys fs.FS, dir string) (*Base, Problems) { return check(fsys, dir, false) }

// LoadEarlier loads an earlier version of the knowledge only to compare
// answers with (test-questions --compare): it returns the Base even when it
// fails checks added since, as long as every file could be read. Never
// answer people from it.
func LoadEarlier(fsys fs.FS, dir string) (*Base, Problems) { return check(fsys, dir, true) }

func check(fsys fs.FS, dir string, lenient bool) (*Base, Problems) {
	names, ps := Files(fsys, dir)
	if ps.Errors() > 0 {
		return nil, ps
	}
	if len(names) == 0 {
		return nil, Problems{{Pos: Position{File: dir, Line: 1, Col: 1}, Message: "no .yaml files found; the knowledge folder needs the topic, region and message files"}}
	}

	datas := make([][]byte, len(names))
	read := make([]bool, len(names))
	sum := sha256.New()
	for i, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			ps = append(ps, Problem{Pos: Position{File: path.Join(dir, n), Line: 1, Col: 1}, Message: fmt.Sprintf("cannot read this file: %v", err)})
			continue
		}
		datas[i], read[i] = data, true
		sum.Write([]byte(n))
		sum.Write(data)
	}
	content := sum.Sum(nil)
	key := ""
	if len(ps) == 0 && !lenient {
		key = cacheKey(dir, content)
		if b := readCachedBase(key); b != nil {
			return b, slices.Clone(b.Warnings)
		}
	}

	var files []*file
	unreadable := false
	for i, n := range names {
		if !read[i] {
			continue
		}
		f, fps := parse(path.Join(dir, n), datas[i])
		ps = append(ps, fps...)
		if f == nil {
			unreadable = true
		} else {
			files = append(files, f)
		}
	}
	if unreadable {
		// A file that is not YAML at all would only add confusing follow-on
		// problems (a missing section), so stop at the syntax error.
		return nil, ps
	}
	files = dropCopies(files, &ps)
	b := merge(files, &ps)
	b.Version = hex.EncodeToString(content)[:12]
	b.index()
	ps = append(ps, validate(b, dir)...)
	for _, p := range ps {
		if p.Warning {
			b.Warnings = append(b.Warnings, p)
		}
	}
	if ps.Errors() > 0 && !lenient {
		return nil, ps
	}
	if ps.Errors() == 0 {
		storeBase(key, b)
	}
	return b, ps
}

var lineRe = regexp.MustCompile(`line (\d+)(?:, column (\d+))?: (.*)`)

// parse decodes one file strictly: unknown keys and wrong types are problems.
func parse(name string, data []byte) (*file, Problems) {
	if p, ok := encodingProblem(name, data); ok {
		return nil, Problems{p}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Problems{syntaxProblem(name, data, err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, Problems{{Pos: Position{File: name, Line: 1, Col: 1}, Message: "this file is empty; add content or delete the file"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Problems{{Pos: Position{File: name, Line: root.Line, Col: root.Column}, Message: "the file must start with a key such as 'topics:' or 'regions:', not a list or plain text"}}
	}
	f := &file{}
	var ps Problems
	if err := root.Decode(f); err != nil {
		// A value of the wrong type or a key given twice leaves the file
		// half-decoded: what follows from it (a topic without words, ids
		// that no longer exist) would only bury the cause, so stop here.
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				p := yamlProblem(name, e)
				if p.Pos.Col == 1 { // the library gives lines only: point at the key
					line := lineAt(data, p.Pos.Line)
					p.Pos.Col = len(line) - len(strings.TrimLeft(line, " -")) + 1
				}
				ps = append(ps, p)
			}
			ps = missingDash(name, data, ps)
		} else {
			ps = append(ps, yamlProblem(name, err.Error()))
		}
		curlyValues(name, root, &ps)
		return nil, ps
	}
	annotate(name, root, reflect.ValueOf(f), &ps)
	curlyValues(name, root, &ps)
	return f, ps
}

// missingDash collapses a run of keys that each appear twice in one entry
// into its one cause: a new entry written without its "- ", so that its keys
// repeat the entry above. Other problems are kept.
func missingDash(name string, data []byte, ps Problems) Problems {
	var dups []int
	for i, p := range ps {
		if strings.Contains(p.Message, "appears twice in this entry") {
			dups = append(dups, i)
		}
	}
	if len(dups) < 2 {
		return ps
	}
	first := ps[dups[0]]
	line := lineAt(data, first.Pos.Line)
	body := strings.TrimLeft(line, " ")
	indent := len(line) - len(body)
	out := Problems{{Pos: Position{name, first.Pos.Line, indent + 1}, Message: fmt.Sprintf(
		"a new entry seems to start here without its '- ': its %d keys repeat those of the entry above; write '- %s' two spaces to the left, lined up with the other entries' dashes",
		len(dups), strings.TrimSpace(body))}}
	for i, p := range ps {
		if !slices.Contains(dups, i) {
			out = append(out, p)
		}
	}
	return out
}

// tabProblem finds a line indented with a tab: YAML allows only spaces, and
// the library names the line where the block began rather than the tab's.
func tabProblem(name string, data []byte) (Problem, bool) {
	for i, line := range strings.Split(string(data), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if j := strings.IndexByte(indent, '\t'); j >= 0 && strings.TrimSpace(line) != "" {
			return Problem{Pos: Position{File: name, Line: i + 1, Col: j + 1}, Message: "this line is indented with a tab; YAML needs spaces, so replace the tab with spaces lined up with the lines above"}, true
		}
	}
	return Problem{}, false
}

var dupKeyRe = regexp.MustCompile(`mapping key "([^"]*)" already defined at line (\d+)`)

// yamlProblem turns a yaml library message into a maintainer's words.
func yamlProblem(name, msg string) Problem {
	p := Problem{Pos: Position{File: name, Line: 1, Col: 1}, Message: msg}
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		p.Pos.Line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			p.Pos.Col, _ = strconv.Atoi(m[2])
		}
		p.Message = m[3]
	}
	p.Message = strings.TrimPrefix(p.Message, "yaml: ")
	if m := dupKeyRe.FindStringSubmatch(p.Message); m != nil {
		p.Message = fmt.Sprintf("%q appears twice in this entry (first on line %s); keep one", m[1], m[2])
		return p
	}
	// Two passes: what the schema needed, then what was found, so that
	// neither replacement swallows the other's words.
	needs := strings.NewReplacer(
		" into string", " where this needs text",
		" into []string", " where this needs a list like [a, b]",
		" into float64", " where this needs a number",
		" into *float64", " where this needs a number",
		" into knowledge.Kind", " where this needs symptom, treatment or faq",
		" into []knowledge.", " where this needs a list of ",
		" into knowledge.", " where this needs ",
		" into *knowledge.", " where this needs ",
	)
	found := strings.NewReplacer(
		"cannot unmarshal !!seq", "found a list",
		"cannot unmarshal !!map", "found keys (name: value)",
		"cannot unmarshal !!str", "found the text",
		"cannot unmarshal !!int", "found the number",
		"cannot unmarshal !!bool", "found yes/no",
		"cannot unmarshal !!float", "found the number",
		"did not find expected key", "the indentation or a quote is off near here (did not find expected key); check that this line lines up with the ones above it",
		"mapping values are not allowed in this context", "a ':' inside text needs the whole text in quotes (\"...\")",
		"found character that cannot start any token", "a character here cannot start a value (a stray @ or `); put the text in quotes",
		"found unexpected end of stream", "the file ended inside quoted text; check for a missing closing quote (\" or ')",
		"did not find expected alphabetic or numeric character", "a stray character (like * or &) starts a value here; put the text in quotes",
		"could not find expected ':'", "this line is neither 'key: value' nor part of a text above; check its indentation",
		"did not find expected ',' or ']'", "a list that starts with [ is not closed with ]; close it on the same line",
	)
	p.Message = found.Replace(needs.Replace(p.Message))
	for _, n := range []string{"Topic", "Region", "Contact", "Source", "CrisisCategory", "Synonym", "Messages", "Triggers", "Example"} {
		p.Message = strings.ReplaceAll(p.Message, "needs "+n, "needs "+strings.ToLower(n)+" entries (key: value)")
		p.Message = strings.ReplaceAll(p.Message, "list of "+n, "list of "+strings.ToLower(n)+" entries")
	}
	return p
}

// annotate walks the YAML nodes beside the decoded values: it records where
// each struct and field stands, and reports keys the schema does not know.
func annotate(name string, n *yaml.Node, v reflect.Value, ps *Problems) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		// Recorded even for an entry that is not a mapping ("-" alone), so
		// that its problems still point at its line.
		loc := v.FieldByName("Located")
		if loc.IsValid() {
			pos := reflect.ValueOf(Position{File: name, Line: n.Line, Col: n.Column})
			setUnexported(loc.FieldByName("Pos"), pos)
			setUnexported(loc.FieldByName("Fields"), reflect.ValueOf(FieldPositions{}))
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		fields, known := yamlFields(v.Type())
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if seen[k.Value] {
				*ps = append(*ps, Problem{Pos: Position{name, k.Line, k.Column}, Message: fmt.Sprintf("%q appears twice here; keep one", k.Value)})
			}
			seen[k.Value] = true
			idx, ok := fields[k.Value]
			if !ok {
				*ps = append(*ps, Problem{Pos: Position{name, k.Line, k.Column}, Message: unknownKey(k.Value, known)})
				continue
			}
			if loc.IsValid() {
				m := loc.FieldByName("Fields")
				m = reflect.NewAt(m.Type(), m.Addr().UnsafePointer()).Elem()
				set := func(key string, line, col int) {
					m.SetMapIndex(reflect.ValueOf(key), reflect.ValueOf(Position{name, line, col}))
				}
				set(k.Value, val.Line, val.Column)
				if val.Kind == yaml.SequenceNode { // each item, so a problem points at its line
					for i, item := range val.Content {
						set(fmt.Sprintf("%s.%d", k.Value, i), item.Line, item.Column)
					}
				}
				if val.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 { // text starts on the next line
					set(k.Value+".text", val.Line+1, k.Column+2)
				}
			}
			annotate(name, val, v.Field(idx), ps)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i := 0; i < len(n.Content) && i < v.Len(); i++ {
			annotate(name, n.Content[i], v.Index(i), ps)
		}
	}
}

type fieldTable struct {
	index map[string]int
	keys  []string
}

var fieldTables sync.Map // reflect.Type -> fieldTable

// yamlFields maps a struct's YAML keys to its field indexes, once per type.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	if ft, ok := fieldTables.Load(t); ok {
		return ft.(fieldTable).index, ft.(fieldTable).keys
	}
	ft := fieldTable{index: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			ft.index[tag] = i
			ft.keys = append(ft.keys, tag)
		}
	}
	fieldTables.Store(t, ft)
	return ft.index, ft.keys
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

func setUnexported(f reflect.Value, x reflect.Value) {
	reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem().Set(x)
}

func unknownKey(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := levenshtein.ComputeDistance(strings.ToLower(k), c); d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key %q; did you mean %q?", k, best)
	}
	return fmt.Sprintf("unknown key %q here; the keys allowed here are: %s", k, strings.Join(known, ", "))
}

// dropCopies finds a file whose topics, regions and crisis categories all
// repeat another file's, like "faq copy.yaml" left by a file manager, and
// reports it once instead of every id, word and question twice.
func dropCopies(files []*file, ps *Problems) []*file {
	keys := func(f *file) map[string]bool {
		m := map[string]bool{}
		for _, t := range f.Topics {
			m["topic "+t.ID] = true
		}
		for _, r := range f.Regions {
			m["region "+r.Code] = true
		}
		for _, c := range f.Categories {
			m["crisis category "+c.ID] = true
		}
		return m
	}
	copyish := func(f *file) bool {
		n := strings.ToLower(path.Base(f.Pos.File))
		return strings.Contains(n, "copy") || strings.Contains(n, "kopie") || strings.Contains(n, "(") || strings.Contains(n, "backup") || strings.Contains(n, "~")
	}
	sets := make([]map[string]bool, len(files))
	for i, f := range files {
		sets[i] = keys(f)
	}
	dropped := map[int]bool{}
	for i, f := range files {
		if len(sets[i]) < 2 {
			continue
		}
		for j, g := range files {
			if i == j || dropped[j] || !subset(sets[i], sets[j]) {
				continue
			}
			if len(sets[i]) == len(sets[j]) && (copyish(g) && !copyish(f) || copyish(f) == copyish(g) && i < j) {
				continue // the same ids both ways: the other one is the copy
			}
			var some []string
			for k := range sets[i] {
				some = append(some, k)
			}
			sort.Strings(some)
			*ps = append(*ps, Problem{Pos: Position{File: f.Pos.File, Line: 1, Col: 1}, Message: fmt.Sprintf(
				"this file repeats %d entries of %s (%s, ...), so it looks like a copy and would give each of them twice; delete it, or give its entries new ids",
				len(sets[i]), g.Pos.File, some[0])})
			dropped[i] = true
			break
		}
	}
	var out []*file
	for i, f := range files {
		if !dropped[i] {
			out = append(out, f)
		}
	}
	return out
}

func subset(a, b map[string]bool) bool {
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// merge gathers every file's parts into one Base, reporting parts given twice.
func merge(files []*file, ps *Problems) *Base {
	b := &Base{}
	var msgs, trig, dflt, thr *file
	for _, f := range files {
		for i := range f.Topics {
			b.Topics = append(b.Topics, &f.Topics[i])
		}
		for i := range f.Regions {
			b.Regions = append(b.Regions, &f.Regions[i])
		}
		for i := range f.Categories {
			b.Crisis = append(b.Crisis, &f.Categories[i])
		}
		for i := range f.Synonyms {
			b.Synonyms = append(b.Synonyms, &f.Synonyms[i])
		}
		b.Examples = append(b.Examples, f.Examples...)
		b.NotCrisis = append(b.NotCrisis, f.NotCrisis...)
		b.OffTopic = append(b.OffTopic, f.OffTopic...)
		for i := range f.NotCrisis {
			b.notCrisisAt = append(b.notCrisisAt, f.AtItem("not_crisis", i))
		}
		for i := range f.OffTopic {
			b.offTopicAt = append(b.offTopicAt, f.AtItem("off_topic", i))
		}
		b.DosingRelated = append(b.DosingRelated, f.DosingRelated...)
		once := func(seen **file, has bool, key string, set func()) {
			if !has {
				return
			}
			if *seen != nil {
				*ps = append(*ps, Problem{Pos: f.At(key), Message: fmt.Sprintf("%q is already given in %s; keep it in one file", key, (*seen).Pos.File)})
				return
			}
			*seen = f
			set()
		}
		once(&msgs, f.Messages != nil, "messages", func() { b.Messages = *f.Messages })
		once(&trig, f.Triggers != nil, "triggers", func() { b.Triggers = *f.Triggers })
		once(&dflt, f.DefaultRegion != "", "default_region", func() { b.DefaultRegion = f.DefaultRegion })
		once(&thr, f.Threshold != nil, "threshold", func() { b.Threshold = *f.Threshold })
	}
	return b
}
