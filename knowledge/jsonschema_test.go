package knowledge

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invopop/jsonschema"
	validator "github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// The JSON Schema editors use to flag mistakes as people type is generated
// from the Go types the loader decodes into, so the two never disagree.
// invopop/jsonschema reflects the types (reading the yaml tags and the doc
// comments below); this test fails when the checked-in file is stale and
// rewrites it with -update (go generate ./knowledge runs that).
var update = flag.Bool("update", false, "rewrite knowledge/schema/knowledge.schema.json")

const schemaFile = "schema/knowledge.schema.json"

func generateSchema(t *testing.T) []byte {
	t.Helper()
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true, // which keys are required is said below, per type
		ExpandedStruct:             true,
		DoNotReference:             true, // one tree without $defs: every YAML editor follows it
	}
	if err := r.AddGoComments("github.com/kratombot/kratombot/knowledge", "./"); err != nil {
		t.Fatal(err)
	}
	s := r.Reflect(&file{})
	s.Version = "http://json-schema.org/draft-07/schema#"
	s.ID = "https://github.com/kratombot/kratombot/knowledge/schema/knowledge.schema.json"
	s.Title = "kratombot knowledge file"
	s.Description = "Any file in the knowledge folder: topics, regions, crisis categories, vocabulary, messages or example questions. Run `kratombot validate knowledge` for the checks a schema cannot do."
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func TestJSONSchemaIsCurrent(t *testing.T) {
	got := generateSchema(t)
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with the Go types; run: go generate ./knowledge", schemaFile)
	}
}

// TestJSONSchemaAcceptsTheShippedFiles and flags what editors should flag.
func TestJSONSchemaJudgesLikeTheLoader(t *testing.T) {
	c := validator.NewCompiler()
	doc, err := validator.UnmarshalJSON(bytes.NewReader(generateSchema(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("knowledge.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("knowledge.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.yaml")
	files = append(files, "testdata/minimal/all.yaml")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if !strings.HasPrefix(string(data), "# yaml-language-server: $schema=") && !strings.HasPrefix(f, "testdata") {
			t.Errorf("%s does not start with the yaml-language-server line that points editors at the schema", f)
		}
		if err := sch.Validate(yamlValue(t, data)); err != nil {
			t.Errorf("the schema rejects %s, which the loader accepts:\n%v", f, err)
		}
	}
	for _, bad := range []string{
		"topics:\n  - id: a\n    title: A\n    kind: symptoms\n    answer: x\n    sources: []\n    reviewed: 2026-01-01\n",
		"topics:\n  - id: a\n    title: A\n    kind: faq\n    answer: x\n    relatd: [b]\n    sources: []\n    reviewed: 2026-01-01\n",
		"topics:\n  - id: Bad Id\n    title: A\n    kind: faq\n    answer: x\n    sources: []\n    reviewed: 2026-01-01\n",
		"regions:\n  - code: NZ\n    name: New Zealand\n    referral: []\n    crisis: []\n",
		"categories:\n  - id: seizure\n    contact: ambulance\n    message: x\n    phrases: [a]\n    examples: [b]\n",
		"topcs: []\n",
	} {
		if err := sch.Validate(yamlValue(t, []byte(bad))); err == nil {
			t.Errorf("the schema accepts a mistake:\n%s", bad)
		}
	}
}

// yamlValue is a YAML document as the JSON values a schema validator takes.
func yamlValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var conv func(any) any
	conv = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = conv(e)
			}
		case []any:
			for i, e := range x {
				x[i] = conv(e)
			}
		case int:
			return json.Number(fmt.Sprint(x))
		case float64:
			return json.Number(fmt.Sprint(x))
		case time.Time:
			return x.Format("2006-01-02")
		}
		return v
	}
	return conv(v)
}

// What the reflected types cannot say: required keys, fixed values and
// formats. These methods exist only in tests, where the schema is made.

func required(s *jsonschema.Schema, keys ...string) { s.Required = keys }

func prop(s *jsonschema.Schema, key string) *jsonschema.Schema {
	p, ok := s.Properties.Get(key)
	if !ok {
		panic("no property " + key)
	}
	return p
}

func maxLen(n uint64) *uint64 { return &n }

func (Topic) JSONSchemaExtend(s *jsonschema.Schema) {
	required(s, "id", "title", "kind", "answer", "sources", "reviewed")
	prop(s, "id").Pattern = idRe.String()
	prop(s, "title").MaxLength = maxLen(MaxTitle)
	prop(s, "answer").MaxLength = maxLen(MaxAnswer)
	prop(s, "reviewed").Pattern = `^\d{4}-\d{2}-\d{2}$`
	prop(s, "reviewed").Description = "The day someone last checked this topic against its sources, as YYYY-MM-DD."
	prop(s, "related").Items.Pattern = idRe.String()
}

func (Kind) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Enum: []any{string(Symptom), string(Treatment), string(FAQ)},
		Description: "symptom, treatment or faq: which menu the topic is in."}
}

func (Source) JSONSchemaExtend(s *jsonschema.Schema) {
	required(s, "title", "url")
	prop(s, "url").Pattern = `^https://\S+\.\S+$`
}

func (Region) JSONSchemaExtend(s *jsonschema.Schema) {
	required(s, "code", "name", "emergency", "referral", "crisis")
	prop(s, "code").Pattern = codeRe.String()
	prop(s, "emergency").Pattern = `[0-9]`
	prop(s, "emergency").Description = "The number people dial in an emergency, in straight quotes, like \"911\"."
}

func (Contact) JSONSchemaExtend(s *jsonschema.Schema) { required(s, "name") }

func (CrisisCategory) JSONSchemaExtend(s *jsonschema.Schema) {
	required(s, "id", "contact", "message", "phrases", "examples")
	prop(s, "contact").Enum = []any{ContactCrisis, ContactEmergency}
	prop(s, "contact").Description = "crisis: show the crisis line first; emergency: show the emergency number first."
}

func (Synonym) JSONSchemaExtend(s *jsonschema.Schema) { required(s, "means", "words") }

func (Example) JSONSchemaExtend(s *jsonschema.Schema) {
	required(s, "q")
	prop(s, "kind").Enum = []any{"crisis", "fallback", "dosing", "greeting", "thanks", "help"}
}

func (file) JSONSchemaExtend(s *jsonschema.Schema) {
	prop(s, "threshold").Minimum = "0"
	prop(s, "threshold").Maximum = "1"
}
