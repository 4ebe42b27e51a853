package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/knowledge"
)

const (
	testUser  = "111111111111111111"
	testGuild = "222222222222222222"
)

func loadEngine(t testing.TB, dir string) *bots.Engine {
	t.Helper()
	b, err := knowledge.LoadDir(dir)
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	e, err := bots.New(b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// minimalEngine is the core's tiny complete fixture: topics sleep,
// restless-legs, see-a-professional; regions US and UK.
func minimalEngine(t testing.TB) *bots.Engine {
	return loadEngine(t, filepath.Join("..", "..", "knowledge", "testdata", "minimal"))
}

func shippedEngine(t testing.TB) *bots.Engine {
	t.Helper()
	b, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		t.Fatalf("the shipped knowledge does not load: %v", err)
	}
	e, err := bots.New(b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// limitsEngine is knowledge built to break Discord's limits: 60 symptom
// topics with 99-character titles (the overview and the menu overflow), one
// answer near the knowledge's maximum full of markdown characters that
// escaping makes longer, 30 related topics, and regions whose referral and
// crisis lines are far longer than one embed field holds.
func limitsEngine(t testing.TB) *bots.Engine {
	t.Helper()
	dir := t.TempDir()
	var y strings.Builder
	note := strings.Repeat("open every day of the year, free and confidential, ", 4)
	y.WriteString("default_region: US\nregions:\n")
	for _, code := range []string{"US", "UK"} {
		fmt.Fprintf(&y, "  - code: %s\n    name: Region %s\n    emergency: \"911\"\n    referral:\n", code, code)
		for i := 1; i <= 8; i++ {
			fmt.Fprintf(&y, "      - name: %s treatment helpline number %d\n        phone: 1-800-555-01%02d\n        url: https://example.org/help/%d\n        note: %s\n", code, i, i, i, note)
		}
		y.WriteString("    crisis:\n")
		for i := 1; i <= 6; i++ {
			fmt.Fprintf(&y, "      - name: %s crisis line %d\n        phone: 1-800-555-02%02d\n        note: %s\n", code, i, i, note)
		}
		y.WriteString("    more:\n")
		for i := 1; i <= 30; i++ {
			fmt.Fprintf(&y, "      - name: %s more help %d\n        url: https://example.org/more/%d\n        note: %s\n", code, i, i, note)
		}
	}
	y.WriteString(`categories:
  - id: suicide
    contact: crisis
    message: You matter. Please reach out now.
    phrases: [suicide, kill myself, want to die]
    examples: [i want to kill myself]
  - id: self-harm
    contact: crisis
    message: You deserve support right now.
    phrases: [hurt myself]
    examples: [i keep wanting to hurt myself]
  - id: harm-to-others
    contact: crisis
    message: Please reach out now, before anyone gets hurt.
    phrases: [hurt someone]
    examples: [i am scared i will hurt someone]
  - id: overdose
    contact: emergency
    message: Call for help now.
    phrases: [overdose, not breathing]
    examples: [my friend is not breathing]
  - id: seizure
    contact: emergency
    message: Call for help now.
    phrases: [seizure]
    examples: [he is having a seizure]
  - id: medical-emergency
    contact: emergency
    message: Call for help now.
    phrases: [chest pain, unresponsive]
    examples: [she is unresponsive on the floor]
messages:
  welcome: Welcome.
  help: Ask me about symptoms, treatment or common questions.
  fallback: I am not sure I understood.
  thanks: You are welcome.
  greeting: Hello.
  dosing: I cannot give doses; a clinician plans that with you.
  crisis_intro: If you are in danger, call now.
  resources: These services can help.
  privacy: Nothing you write is stored.
triggers:
  greeting: [hi, hello]
  thanks: [thanks, thank you]
  help: [help, menu]
  dosing: [dose]
topics:
`)
	para := strings.Repeat("*rest* _well_ `now` | ~ ", 15) // 360 characters, 150 of them to escape
	for i := 1; i <= 60; i++ {
		title := fmt.Sprintf("Symptom %02d ", i)
		title += strings.Repeat("x", 99-len(title))
		answer := "Short answer for this symptom."
		if i == 1 {
			answer = strings.TrimSpace(strings.Repeat(para+"\n\n", 9)) // 9 paragraphs, 3256 characters before escaping
		}
		fmt.Fprintf(&y, "  - id: s%02d\n    title: %s\n    kind: symptom\n    words: [word%c%c]\n    questions: [question number %d]\n    answer: |\n", i, title, 'a'+rune(i/26), 'a'+rune(i%26), i)
		for _, l := range strings.Split(answer, "\n") {
			fmt.Fprintf(&y, "      %s\n", l)
		}
		if i == 1 {
			y.WriteString("    related: [")
			for j := 2; j <= 31; j++ {
				if j > 2 {
					y.WriteString(", ")
				}
				fmt.Fprintf(&y, "s%02d", j)
			}
			y.WriteString("]\n")
		}
		y.WriteString("    sources:\n      - title: Example\n        url: https://example.org/\n    reviewed: 2026-11-01\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "all.yaml"), []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return loadEngine(t, dir)
}

// Interactions as Discord sends them, as JSON, so that every test goes
// through discordgo's own decoding.

type opt struct {
	Name    string `json:"name"`
	Type    int    `json:"type"`
	Value   any    `json:"value,omitempty"`
	Focused bool   `json:"focused,omitempty"`
}

func interactionJSON(typ discordgo.InteractionType, id string, data any, inGuild bool) []byte {
	m := map[string]any{
		"id": id, "application_id": "333333333333333333", "type": typ,
		"token": "itoken-" + id, "version": 1, "channel_id": "444444444444444444",
		"locale": "en-US", "data": data,
	}
	user := map[string]any{"id": testUser, "username": "someone", "discriminator": "0"}
	if inGuild {
		m["guild_id"] = testGuild
		m["member"] = map[string]any{"user": user, "roles": []string{}}
		m["context"] = 0
	} else {
		m["user"] = user
		m["context"] = 1
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func commandJSON(id, name string, opts ...opt) []byte {
	return interactionJSON(discordgo.InteractionApplicationCommand, id,
		map[string]any{"id": "555", "name": name, "type": 1, "options": opts}, true)
}

func autocompleteJSON(id, name, option, typed string) []byte {
	return interactionJSON(discordgo.InteractionApplicationCommandAutocomplete, id,
		map[string]any{"id": "555", "name": name, "type": 1, "options": []opt{{Name: option, Type: 3, Value: typed, Focused: true}}}, true)
}

func componentJSON(id, customID string, values ...string) []byte {
	d := map[string]any{"custom_id": customID, "component_type": 2}
	if values != nil {
		d["component_type"] = 3
		d["values"] = values
	}
	return interactionJSON(discordgo.InteractionMessageComponent, id, d, false)
}

func str(name, v string) opt { return opt{Name: name, Type: 3, Value: v} }

func decodeInteraction(t testing.TB, b []byte) *discordgo.Interaction {
	t.Helper()
	var i discordgo.Interaction
	if err := json.Unmarshal(b, &i); err != nil {
		t.Fatalf("decoding interaction: %v", err)
	}
	return &i
}

// The response as it goes over the wire, decoded independently of discordgo.

type wireResp struct {
	Type int       `json:"type"`
	Data *wireData `json:"data"`
}

type wireData struct {
	Content         string       `json:"content"`
	Flags           int          `json:"flags"`
	Embeds          []wireEmbed  `json:"embeds"`
	Components      []wireComp   `json:"components"`
	Choices         []wireChoice `json:"choices"`
	AllowedMentions *struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

type wireEmbed struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Fields      []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"fields"`
	Footer *struct {
		Text string `json:"text"`
	} `json:"footer"`
}

type wireComp struct {
	Type        int        `json:"type"`
	CustomID    string     `json:"custom_id"`
	Label       string     `json:"label"`
	Disabled    bool       `json:"disabled"`
	Placeholder string     `json:"placeholder"`
	Components  []wireComp `json:"components"`
	Options     []struct {
		Label string `json:"label"`
		Value string `json:"value"`
	} `json:"options"`
}

type wireChoice struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

func decodeWire(t testing.TB, b []byte) wireResp {
	t.Helper()
	var w wireResp
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("decoding response %s: %v", b, err)
	}
	return w
}

func respond(t testing.TB, h *Handler, payload []byte) (wireResp, func(context.Context)) {
	t.Helper()
	resp, sent := h.Respond(context.Background(), decodeInteraction(t, payload))
	if resp == nil {
		t.Fatal("no response")
	}
	b, err := encode(resp)
	if err != nil {
		t.Fatal(err)
	}
	return decodeWire(t, b), sent
}

func n(s string) int { return utf8.RuneCountInString(s) }

// checkMessage asserts everything every message must satisfy: Discord's
// limits, the referral present in full in its own field(s) at the end,
// mentions disabled, and whether it is ephemeral.
func checkMessage(t testing.TB, w wireResp, referral []string, ephemeral bool) {
	t.Helper()
	if w.Data == nil {
		t.Fatalf("response type %d has no data", w.Type)
	}
	d := w.Data
	if got := d.Flags&int(discordgo.MessageFlagsEphemeral) != 0; w.Type == 4 && got != ephemeral {
		t.Errorf("ephemeral = %v, want %v", got, ephemeral)
	}
	if d.AllowedMentions == nil || d.AllowedMentions.Parse == nil || len(d.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions should allow nothing: %+v", d.AllowedMentions)
	}
	if n(d.Content) > maxContent {
		t.Errorf("content is %d characters", n(d.Content))
	}
	if len(d.Embeds) != 1 {
		t.Fatalf("want one embed, got %d", len(d.Embeds))
	}
	e := d.Embeds[0]
	total := n(e.Title) + n(e.Description)
	if n(e.Title) > maxTitle || n(e.Description) > maxDescription {
		t.Errorf("title %d / description %d characters", n(e.Title), n(e.Description))
	}
	if len(e.Fields) > maxFields {
		t.Errorf("%d fields", len(e.Fields))
	}
	var ref []string
	inRef := false
	for _, f := range e.Fields {
		total += n(f.Name) + n(f.Value)
		if f.Name == "" || f.Value == "" || n(f.Name) > 256 || n(f.Value) > maxFieldValue {
			t.Errorf("field %q has a %d-character value", f.Name, n(f.Value))
		}
		if f.Name == labelReferral {
			inRef = true
		} else if inRef && f.Name != labelMore {
			t.Errorf("field %q comes after the referral", f.Name)
		}
		if inRef {
			ref = append(ref, f.Value)
		}
	}
	if e.Footer != nil {
		total += n(e.Footer.Text)
	}
	if total > maxEmbedTotal {
		t.Errorf("embed holds %d characters in all", total)
	}
	all := strings.Join(ref, "\n")
	if len(referral) == 0 {
		t.Fatal("test bug: no referral to look for")
	}
	for _, l := range referral {
		if !strings.Contains(all, md.Escape(l)) {
			t.Errorf("referral line %q missing from the referral fields:\n%s", l, all)
		}
	}
	if len(d.Components) > maxRows {
		t.Errorf("%d component rows", len(d.Components))
	}
	for _, row := range d.Components {
		if row.Type != 1 || len(row.Components) == 0 || len(row.Components) > maxRowButtons {
			t.Errorf("bad row: %+v", row)
		}
		for _, c := range row.Components {
			if c.CustomID == "" || len(c.CustomID) > maxCustom {
				t.Errorf("custom_id %q", c.CustomID)
			}
			switch c.Type {
			case 2:
				if c.Label == "" || n(c.Label) > maxButtonLabel {
					t.Errorf("button label %q", c.Label)
				}
			case 3:
				if len(c.Options) == 0 || len(c.Options) > maxChoices || c.Placeholder == "" {
					t.Errorf("select menu with %d options", len(c.Options))
				}
				for _, o := range c.Options {
					if o.Label == "" || n(o.Label) > maxName || o.Value == "" || len(o.Value) > maxName {
						t.Errorf("select option %+v", o)
					}
				}
			default:
				t.Errorf("unexpected component type %d", c.Type)
			}
		}
	}
}

// buttons lists the custom ids of all components.
func buttons(w wireResp) []string {
	var out []string
	for _, row := range w.Data.Components {
		for _, c := range row.Components {
			out = append(out, c.CustomID)
		}
	}
	return out
}

func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
