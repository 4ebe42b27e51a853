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

// describe sets the hover text of keys that have no doc comment in schema.go.
func describe(s *jsonschema.Schema, texts map[string]string) {
	for k, d := range texts {
		if p := prop(s, k); p.Description == "" {
			p.Description = d
		}
	}
}

func (Topic) JSONSchemaExtend(s *jsonschema.Schema) {
	required(s, "id", "title", "kind", "answer", "sources", "reviewed")
	prop(s, "id").Pattern = idRe.String()
	prop(s, "title").MaxLength = maxLen(MaxTitle)
	prop(s, "answer").MaxLength = maxLen(MaxAnswer)
	prop(s, "reviewed").Pattern = `^\d{4}-\d{2}-\d{2}$`
	prop(s, "reviewed").Description = "The day someone last checked this topic against its sources, as YYYY-MM-DD."
	prop(s, "related").Items.Pattern = idRe.String()
	prop(s, "elsewhere").Pattern = idRe.String()
	prop(s, "for_regions").Items.Pattern = codeRe.String()
	describe(s, map[string]string{
		"id":          "A short name in lowercase words joined by hyphens, like restless-legs. Never change it once published.",
		"title":       "A few words people see as a heading and on buttons (under 100 characters).",
		"words":       "Words and short phrases people type that mean this topic.",
		"questions":   "Whole questions people ask that this topic answers.",
		"answer":      "The answer, written as 'answer: |' with the text indented below. No doses, amounts, phone numbers or links.",
		"related":     "Ids of other topics offered as buttons after this answer.",
		"for_regions": "Region codes this answer is about (like [US]); people in any other region get the 'elsewhere' topic instead.",
		"elsewhere":   "The id of the topic that answers people outside 'for_regions'.",
		"sources":     "Where the facts come from: a title and an https:// url each.",
	})
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
	describe(s, map[string]string{
		"code":     "2 to 4 capital letters, like US or INTL.",
		"name":     "The region's name as people see it.",
		"aliases":  "Other names people type for /region, like usa or britain.",
		"referral": "The helplines every message in this region ends with.",
		"crisis":   "The suicide and crisis lines, shown first in a crisis.",
		"more":     "Further services shown by /resources.",
	})
}

func (Contact) JSONSchemaExtend(s *jsonschema.Schema) {
	required(s, "name")
	describe(s, map[string]string{
		"phone": "Digits, spaces and hyphens, like 1-800-662-4357; in quotes when only digits, like \"988\".",
		"text":  "A number people can text, like \"988\".",
		"url":   "A web address starting with https://.",
		"note":  "A few words such as opening hours.",
	})
}

func (CrisisCategory) JSONSchemaExtend(s *jsonschema.Schema) {
	required(s, "id", "contact", "message", "phrases", "examples")
	prop(s, "contact").Enum = []any{ContactCrisis, ContactEmergency}
	prop(s, "contact").Description = "crisis: show the crisis line first; emergency: show the emergency number first."
	describe(s, map[string]string{
		"id":      "One of suicide, self-harm, harm-to-others, overdose, seizure, medical-emergency, or a new one.",
		"message": "What the person reads first, after the crisis line or emergency number.",
		"phrases": "Two or three words that, in a message, mean this crisis. Never one everyday word.",
	})
}

func (Synonym) JSONSchemaExtend(s *jsonschema.Schema) {
	required(s, "means", "words")
	describe(s, map[string]string{
		"means": "The word the topics use.",
		"words": "Slang, short forms and misspellings people type for it.",
	})
}

func (Example) JSONSchemaExtend(s *jsonschema.Schema) {
	required(s, "q")
	prop(s, "kind").Enum = []any{"crisis", "fallback", "dosing", "greeting", "thanks", "help", "bot"}
	describe(s, map[string]string{
		"q":     "The question as people type it.",
		"topic": "The id of the topic it must reach.",
		"kind":  "Or the kind of reply it must get instead of a topic.",
	})
}

func (file) JSONSchemaExtend(s *jsonschema.Schema) {
	prop(s, "threshold").Minimum = "0"
	prop(s, "threshold").Maximum = "1"
	describe(s, map[string]string{
		"topics":         "Symptoms, treatment steps and common questions.",
		"default_region": "The region code used when a person has not chosen one.",
		"regions":        "Helplines by country or area.",
		"categories":     "Crisis categories: phrases that mean someone may be in danger now.",
		"synonyms":       "Slang, short forms and misspellings, and what they mean.",
		"messages":       "The bot's fixed texts outside topics.",
		"triggers":       "Words that mark small talk and dosing questions.",
		"dosing_related": "Topics offered after the bot declines a dosing question.",
		"threshold":      "The share of example questions that must pass, like 0.85.",
		"examples":       "Example questions with the topic or kind each must reach (test-questions).",
	})
}
