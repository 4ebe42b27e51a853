package discord

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kratombot/kratombot/bots/botstest"

	"github.com/bwmarrin/discordgo"
	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/knowledge"
)

// The referral lines as the engine makes them, so that wording changes in
// the core do not break these tests; the lines must reach Discord whole.
var usReferral, ukReferral, usCrisisRef []string

func TestMain(m *testing.M) {
	b, err := knowledge.LoadDir(filepath.Join("..", "..", "knowledge", "testdata", "minimal"))
	if err != nil {
		panic(err)
	}
	e, err := bots.New(b)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	us, _ := e.Open(ctx, "resources", "US")
	uk, _ := e.Open(ctx, "resources", "UK")
	crisis, _ := e.Open(ctx, "crisis", "US")
	usReferral, ukReferral, usCrisisRef = us.Referral().Lines(), uk.Referral().Lines(), crisis.Referral().Lines()
	if !strings.Contains(strings.Join(usReferral, " "), "1-800-662-4357") || !strings.Contains(strings.Join(ukReferral, " "), "0300 123 6600") ||
		!strings.Contains(strings.Join(usCrisisRef, " "), "988") || !strings.Contains(strings.Join(usCrisisRef, " "), "911") {
		panic("the minimal fixture's helplines changed")
	}
	os.Exit(m.Run())
}

func TestCommands(t *testing.T) {
	e := minimalEngine(t)
	tests := []struct {
		name     string
		payload  []byte
		intent   bots.Intent
		topic    string
		referral []string
		want     []string // in the description or title
		buttons  []string
	}{
		{"ask a topic", commandJSON("1", "ask", str("question", "why can't I sleep")), bots.IntentTopic, "sleep", usReferral,
			[]string{"Trouble sleeping", "Sleep problems are common"}, []string{"open:restless-legs"}},
		{"ask nonsense", commandJSON("2", "ask", str("question", "qwxz plorp")), bots.IntentFallback, "", usReferral,
			[]string{"not sure"}, nil},
		{"ask dosing", commandJSON("3", "ask", str("question", "what dose should i take")), bots.IntentDosing, "", usReferral,
			[]string{"cannot give doses"}, []string{"open:see-a-professional"}},
		{"symptoms overview", commandJSON("4", "symptoms"), bots.IntentOverview, "", usReferral,
			[]string{"Withdrawal symptoms", "Trouble sleeping", "Restless legs"}, []string{"open:sleep", "open:restless-legs"}},
		{"symptoms chosen", commandJSON("5", "symptoms", str("symptom", "restless-legs")), bots.IntentTopic, "restless-legs", usReferral,
			[]string{"Restless legs are a common"}, nil},
		{"symptoms typed freely", commandJSON("6", "symptoms", str("symptom", "insomnia")), bots.IntentTopic, "sleep", usReferral,
			[]string{"Sleep problems"}, nil},
		{"treatment overview", commandJSON("7", "treatment"), bots.IntentOverview, "", usReferral,
			[]string{"Treatment and support", "Seeing a professional"}, []string{"open:see-a-professional"}},
		{"treatment chosen", commandJSON("8", "treatment", str("step", "see-a-professional")), bots.IntentTopic, "see-a-professional", usReferral,
			[]string{"A doctor can help"}, nil},
		{"faq overview", commandJSON("9", "faq"), bots.IntentOverview, "", usReferral, []string{"Common questions"}, nil},
		{"faq typed", commandJSON("10", "faq", str("topic", "should i see a doctor")), bots.IntentTopic, "see-a-professional", usReferral,
			[]string{"A doctor"}, nil},
		{"resources", commandJSON("11", "resources"), bots.IntentResources, "", usReferral,
			[]string{"Helplines: United States", "These services can help", "Emergency: call 911"}, []string{"open:region:UK"}},
		{"resources UK", commandJSON("12", "resources", str("region", "UK")), bots.IntentResources, "", ukReferral,
			[]string{"Helplines: United Kingdom", "Samaritans"}, []string{"open:region:US"}},
		{"resources in an unknown region", commandJSON("20", "resources", str("region", "nz")), bots.IntentResources, "", usReferral,
			[]string{`I don't know the region "nz"`, "US (United States)", "Helplines: United States"}, []string{"open:region:UK"}},
		{"help", commandJSON("13", "help"), bots.IntentHelp, "", usReferral,
			[]string{"Ask me about symptoms"}, []string{"open:menu:symptom", "open:menu:treatment", "open:menu:faq", "open:resources"}},
		{"privacy", commandJSON("14", "privacy"), bots.IntentPrivacy, "", usReferral, []string{"Nothing you write is stored"}, nil},
		{"unknown command", commandJSON("15", "nope"), bots.IntentHelp, "", usReferral, []string{"Ask me about"}, nil},
		{"button opens a topic", componentJSON("16", "open:restless-legs"), bots.IntentTopic, "restless-legs", usReferral,
			[]string{"Restless legs"}, nil},
		{"menu opens a topic", componentJSON("17", "open", "sleep"), bots.IntentTopic, "sleep", usReferral, []string{"Sleep problems"}, nil},
		{"button opens a menu", componentJSON("18", "open:menu:symptom"), bots.IntentOverview, "", usReferral, []string{"Trouble sleeping"}, nil},
		{"unknown button", componentJSON("19", "what:ever"), bots.IntentHelp, "", usReferral, []string{"Ask me about"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &botstest.Events{}
			h := NewHandler(e, Options{Recorder: rec})
			w, sent := respond(t, h, tt.payload)
			if w.Type != int(discordgo.InteractionResponseChannelMessageWithSource) {
				t.Fatalf("type %d", w.Type)
			}
			checkMessage(t, w, tt.referral, true)
			text := w.Data.Embeds[0].Title + "\n" + w.Data.Embeds[0].Description
			for _, s := range tt.want {
				if !strings.Contains(text, md.Escape(s)) {
					t.Errorf("reply lacks %q:\n%s", s, text)
				}
			}
			got := buttons(w)
			for _, b := range tt.buttons {
				if !slices.Contains(got, b) {
					t.Errorf("no button %q in %v", b, got)
				}
			}
			if len(rec.All()) != 0 {
				t.Fatal("recorded before the reply was sent")
			}
			sent(context.Background())
			evs := rec.All()
			if len(evs) != 1 || evs[0].Platform != Platform || evs[0].Intent != tt.intent || evs[0].Topic != tt.topic || evs[0].Helpful != nil {
				t.Errorf("events %+v, want one with intent %s topic %q", evs, tt.intent, tt.topic)
			}
		})
	}
}

func TestCrisisComesFirst(t *testing.T) {
	e := minimalEngine(t)
	for _, tt := range []struct {
		q, first string // first: what the first line must hold
	}{
		{"i want to kill myself", "988"},
		{"I think my friend took an overdose and is not breathing", "911"},
	} {
		t.Run(tt.q, func(t *testing.T) {
			r, _ := e.Answer(context.Background(), bots.Question{Text: tt.q})
			if r.Kind() != bots.KindCrisis || len(r.Lead()) == 0 || !strings.Contains(r.Lead()[0], tt.first) {
				t.Fatalf("test bug: the engine's crisis reply changed: %q", r.Lead())
			}
			for _, public := range []bool{false, true} {
				h := NewHandler(e, Options{Public: public, Feedback: true})
				w, _ := respond(t, h, commandJSON("1", "ask", str("question", tt.q)))
				checkMessage(t, w, r.Referral().Lines(), !public)
				if !strings.HasPrefix(w.Data.Content, "**"+md.Escape(r.Lead()[0])+"**") {
					t.Errorf("content does not lead with the crisis line:\n%s", w.Data.Content)
				}
				if !strings.Contains(w.Data.Content, "911") {
					t.Errorf("content lacks the emergency number:\n%s", w.Data.Content)
				}
			}
		})
	}
}

func TestPublicReplies(t *testing.T) {
	h := NewHandler(minimalEngine(t), Options{Public: true})
	w, _ := respond(t, h, commandJSON("1", "symptoms", str("symptom", "sleep")))
	checkMessage(t, w, usReferral, false)
	if w.Data.Flags != 0 {
		t.Errorf("flags %d, want none", w.Data.Flags)
	}
}

func TestAutocomplete(t *testing.T) {
	e := minimalEngine(t)
	h := NewHandler(e, Options{})
	tests := []struct {
		name, command, option, typed string
		want                         []string // choice values, in order
	}{
		{"nothing typed lists the kind", "symptoms", "symptom", "", []string{"sleep", "restless-legs"}},
		{"prefix first", "symptoms", "symptom", "rest", []string{"restless-legs"}},
		{"by title", "symptoms", "symptom", "trouble", []string{"sleep"}},
		{"other kinds excluded", "symptoms", "symptom", "doctor", nil},
		{"treatment", "treatment", "step", "", []string{"see-a-professional"}},
		{"faq has no topics here", "faq", "topic", "", nil},
		{"regions", "resources", "region", "un", []string{"US", "UK"}},
		{"region by name", "resources", "region", "kingdom", []string{"UK"}},
		{"odd input", "symptoms", "symptom", "\x00\xff\u200b" + strings.Repeat("é", 7000), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, sent := h.Respond(context.Background(), decodeInteraction(t, autocompleteJSON("1", tt.command, tt.option, tt.typed)))
			sent(context.Background())
			b, err := encode(resp)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"choices":[`) {
				t.Errorf("no choices array in %s", b)
			}
			w := decodeWire(t, b)
			if w.Type != int(discordgo.InteractionApplicationCommandAutocompleteResult) {
				t.Fatalf("type %d", w.Type)
			}
			var got []string
			for _, c := range w.Data.Choices {
				got = append(got, c.Value.(string))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("choices %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAutocompleteLimits(t *testing.T) {
	h := NewHandler(limitsEngine(t), Options{})
	for _, typed := range []string{"", "symptom", "x"} {
		w, _ := respond(t, h, autocompleteJSON("1", "symptoms", "symptom", typed))
		if len(w.Data.Choices) != maxChoices {
			t.Errorf("typed %q: %d choices, want %d", typed, len(w.Data.Choices), maxChoices)
		}
		for _, c := range w.Data.Choices {
			if n(c.Name) > maxName || c.Name == "" || len(c.Value.(string)) > maxName {
				t.Errorf("choice %+v", c)
			}
		}
	}
	w, _ := respond(t, h, autocompleteJSON("1", "symptoms", "symptom", "symptom 17"))
	if len(w.Data.Choices) == 0 || w.Data.Choices[0].Value != "s17" {
		t.Errorf("best match not first: %+v", w.Data.Choices)
	}
}

func TestLimits(t *testing.T) {
	e := limitsEngine(t)
	h := NewHandler(e, Options{Feedback: true})
	ctx := context.Background()
	usRef, _ := e.Open(ctx, "resources", "US")
	crisis, _ := e.Answer(ctx, bots.Question{Text: "i want to die"})
	long, _ := e.Open(ctx, "s01", "")
	tests := []struct {
		name     string
		payload  []byte
		referral []string
	}{
		{"long answer, many related topics", componentJSON("1", "open:s01"), usRef.Referral().Lines()},
		{"long overview", commandJSON("2", "symptoms"), usRef.Referral().Lines()},
		{"long helplines", commandJSON("3", "resources", str("region", "UK")), func() []string { r, _ := e.Open(ctx, "resources", "UK"); return r.Referral().Lines() }()},
		{"long crisis referral", commandJSON("4", "ask", str("question", "i want to die")), crisis.Referral().Lines()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := respond(t, h, tt.payload)
			checkMessage(t, w, tt.referral, true)
			if n(w.Data.Embeds[0].Description) == 0 {
				t.Error("no description left")
			}
		})
	}

	// The long answer is cut at a paragraph boundary, never mid-paragraph.
	w, _ := respond(t, h, componentJSON("1", "open:s01"))
	desc := w.Data.Embeds[0].Description
	var paras []string
	for _, p := range long.Paragraphs() {
		paras = append(paras, md.Escape(p))
	}
	full := strings.Join(paras, "\n\n")
	if n(full) <= maxDescription {
		t.Fatalf("test bug: the long answer (%d) fits without trimming", n(full))
	}
	if !strings.HasPrefix(full, desc) || !strings.HasPrefix(full[len(desc):], "\n\n") {
		t.Errorf("description not cut at a paragraph boundary: ...%q", desc[max(0, len(desc)-40):])
	}
	if got := len(w.Data.Components[0].Components[0].Options); w.Data.Components[0].Components[0].Type != 3 || got != maxChoices {
		t.Errorf("30 related topics should be a select menu of 25, got %+v", w.Data.Components[0])
	}
	if got := buttons(w); !slices.Contains(got, "fb:1:s01") {
		t.Errorf("no feedback buttons: %v", got)
	}
	// 30 referral and crisis lines with notes span several fields.
	w, _ = respond(t, h, commandJSON("4", "ask", str("question", "i want to die")))
	if f := w.Data.Embeds[0].Fields; len(f) < 3 {
		t.Errorf("the long crisis referral should span several fields, got %d", len(f))
	}
}

func TestFeedback(t *testing.T) {
	e := minimalEngine(t)
	rec := &botstest.Events{}
	h := NewHandler(e, Options{Feedback: true, Recorder: rec})

	w, _ := respond(t, h, commandJSON("1", "symptoms", str("symptom", "sleep")))
	got := buttons(w)
	if !slices.Contains(got, "fb:1:sleep") || !slices.Contains(got, "fb:0:sleep") {
		t.Fatalf("no feedback buttons: %v", got)
	}
	for _, payload := range [][]byte{commandJSON("2", "help"), commandJSON("3", "symptoms"), commandJSON("4", "ask", str("question", "i want to die"))} {
		w, _ := respond(t, NewHandler(e, Options{Feedback: true}), payload)
		for _, b := range buttons(w) {
			if strings.HasPrefix(b, "fb:") {
				t.Errorf("feedback button %q on a reply that is not a topic", b)
			}
		}
	}
	w, _ = respond(t, NewHandler(e, Options{}), commandJSON("5", "symptoms", str("symptom", "sleep")))
	for _, b := range buttons(w) {
		if strings.HasPrefix(b, "fb:") {
			t.Errorf("feedback button %q without a store", b)
		}
	}

	for _, tt := range []struct {
		id      string
		helpful bool
	}{{"fb:1:sleep", true}, {"fb:0:sleep", false}} {
		w, sent := respond(t, h, componentJSON("6", tt.id))
		if w.Type != int(discordgo.InteractionResponseUpdateMessage) {
			t.Fatalf("type %d, want an update", w.Type)
		}
		checkMessage(t, w, usReferral, false)
		got := buttons(w)
		if slices.Contains(got, "fb:1:sleep") || !slices.Contains(got, idThanks) || !slices.Contains(got, "open:restless-legs") {
			t.Errorf("buttons after feedback: %v", got)
		}
		before := len(rec.All())
		sent(context.Background())
		evs := rec.All()[before:]
		if len(evs) != 1 || evs[0].Helpful == nil || *evs[0].Helpful != tt.helpful || evs[0].Topic != "sleep" || evs[0].Platform != Platform {
			t.Errorf("events %+v", evs)
		}
	}
	// A forged feedback id records nothing.
	before := len(rec.All())
	_, sent := respond(t, h, componentJSON("7", "fb:1:no-such-topic"))
	sent(context.Background())
	for _, ev := range rec.All()[before:] {
		if ev.Helpful != nil {
			t.Errorf("forged feedback recorded: %+v", ev)
		}
	}
}

func TestRegionRemembered(t *testing.T) {
	e := minimalEngine(t)
	store := &bots.MemoryRegions{}
	h := NewHandler(e, Options{Regions: store})
	ctx := context.Background()

	_, sent := respond(t, h, commandJSON("1", "resources", str("region", "UK")))
	if _, ok, _ := store.ChatRegion(ctx, "discord:"+testUser); ok {
		t.Fatal("region stored before the reply was sent")
	}
	sent(ctx)
	if r, ok, _ := store.ChatRegion(ctx, "discord:"+testUser); !ok || r != "UK" {
		t.Fatalf("region %q %v, want UK", r, ok)
	}
	w, _ := respond(t, h, commandJSON("2", "ask", str("question", "cant sleep")))
	checkMessage(t, w, ukReferral, true)

	// The region buttons under /resources remember too (in a DM: User, not Member).
	_, sent = respond(t, h, componentJSON("3", "open:region:US"))
	sent(ctx)
	if r, _, _ := store.ChatRegion(ctx, "discord:"+testUser); r != "US" {
		t.Fatalf("region %q after the US button", r)
	}
	// An unknown region shows the person's own helplines and keeps the choice.
	w, sent = respond(t, h, commandJSON("4", "resources", str("region", "Atlantis")))
	sent(ctx)
	checkMessage(t, w, usReferral, true)
	if r, _, _ := store.ChatRegion(ctx, "discord:"+testUser); r != "US" {
		t.Fatalf("region %q after an unknown region", r)
	}
}

func TestBadInput(t *testing.T) {
	e := minimalEngine(t)
	h := NewHandler(e, Options{Feedback: true, Regions: &bots.MemoryRegions{}, Recorder: &botstest.Events{}})
	questions := map[string]string{
		"empty":       "",
		"spaces":      " \t\n ",
		"huge":        strings.Repeat("withdrawal ", 20000),
		"binary":      "\x00\x01\xff\xfe\x80",
		"odd unicode": "\u202e\u200b\u0301 \U0001F480 ｷﾗｷﾗ \ufeff",
		"markdown":    "**@everyone** `rm -rf` <@123> ||spoiler||",
	}
	for name, q := range questions {
		t.Run(name, func(t *testing.T) {
			w, sent := respond(t, h, commandJSON("1", "ask", str("question", q)))
			checkMessage(t, w, usReferral, true)
			sent(context.Background())
			w, _ = respond(t, h, commandJSON("2", "symptoms", str("symptom", q)))
			checkMessage(t, w, usReferral, true)
			w, _ = respond(t, h, componentJSON("3", "open:"+q))
			checkMessage(t, w, usReferral, true)
		})
	}
	// Malformed interactions: missing data, wrong option types, no user.
	raw := []string{
		`{"id":"1","type":2,"token":"t"}`,
		`{"id":"1","type":2,"token":"t","data":{"name":"ask","options":[{"name":"question","type":4,"value":42}]}}`,
		`{"id":"1","type":2,"token":"t","data":{"name":"symptoms","options":[null]}}`,
		`{"id":"1","type":3,"token":"t","data":{}}`,
		`{"id":"1","type":3,"token":"t","data":{"custom_id":"open","values":[]}}`,
		`{"id":"1","type":3,"token":"t","data":{"custom_id":"fb:1:"}}`,
		`{"id":"1","type":5,"token":"t","data":{"custom_id":"x"}}`,
		`{"id":"1","type":99,"token":"t"}`,
	}
	for _, r := range raw {
		var i discordgo.Interaction
		if json.Unmarshal([]byte(r), &i) != nil {
			continue // discordgo cannot decode it; it never reaches Respond
		}
		w, sent := respond(t, h, []byte(r))
		sent(context.Background())
		checkMessage(t, w, usReferral, true)
	}
	// Autocomplete without a focused option or data.
	for _, r := range []string{`{"id":"1","type":4,"token":"t","data":{}}`, `{"id":"1","type":4,"token":"t","data":{"name":"symptoms","options":[]}}`} {
		resp, _ := h.Respond(context.Background(), decodeInteraction(t, []byte(r)))
		if resp == nil || resp.Type != discordgo.InteractionApplicationCommandAutocompleteResult {
			t.Errorf("%s: %+v", r, resp)
		}
	}
	if resp, _ := h.Respond(context.Background(), nil); resp != nil {
		t.Error("a nil interaction got a response")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if resp, _ := h.Respond(ctx, decodeInteraction(t, commandJSON("1", "help"))); resp != nil {
		t.Error("a cancelled context still got a response")
	}
}

// Every topic in the shipped knowledge, opened on Discord, carries the
// referral and fits Discord's limits, in every region.
func TestShippedKnowledge(t *testing.T) {
	e := shippedEngine(t)
	h := NewHandler(e, Options{Feedback: true})
	ctx := context.Background()
	ids := []string{"help", "privacy", "welcome", "resources", "crisis", "menu:symptom", "menu:treatment", "menu:faq"}
	for _, tp := range e.Base().Topics {
		ids = append(ids, tp.ID)
	}
	for _, region := range e.Regions() {
		h.opt.Region = region.ID
		for _, id := range ids {
			r, err := e.Open(ctx, id, region.ID)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := respond(t, h, componentJSON("1", "open:"+id))
			checkMessage(t, w, r.Referral().Lines(), true)
			if len(r.Lead()) > 0 && !strings.HasPrefix(w.Data.Content, "**"+md.Escape(r.Lead()[0])) {
				t.Errorf("%s/%s: crisis lead not first", region.ID, id)
			}
		}
		w, _ := respond(t, h, commandJSON("1", "resources", str("region", region.ID)))
		r, _ := e.Open(ctx, "region:"+region.ID, "")
		checkMessage(t, w, r.Referral().Lines(), true)
	}
	if n := len(Commands(e)[4].Options[0].Choices); n != len(e.Regions()) {
		t.Errorf("/resources has %d region choices for %d regions", n, len(e.Regions()))
	}
}

func TestCommandDefinitions(t *testing.T) {
	e := minimalEngine(t)
	cmds := Commands(e)
	nameRe := regexp.MustCompile(`^[-_a-z0-9]{1,32}$`)
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
		if !nameRe.MatchString(c.Name) || c.Description == "" || utf8.RuneCountInString(c.Description) > 100 {
			t.Errorf("command %q / %q", c.Name, c.Description)
		}
		if c.Contexts == nil || !slices.Contains(*c.Contexts, discordgo.InteractionContextGuild) || !slices.Contains(*c.Contexts, discordgo.InteractionContextBotDM) {
			t.Errorf("%s not usable in servers and DMs", c.Name)
		}
		for _, o := range c.Options {
			if !nameRe.MatchString(o.Name) || o.Description == "" || utf8.RuneCountInString(o.Description) > 100 {
				t.Errorf("option %s %q / %q", c.Name, o.Name, o.Description)
			}
			if o.Autocomplete && len(o.Choices) > 0 {
				t.Errorf("%s %s: autocomplete and choices are exclusive", c.Name, o.Name)
			}
		}
	}
	if want := []string{"ask", "symptoms", "treatment", "faq", "resources", "help", "privacy"}; !slices.Equal(names, want) {
		t.Errorf("commands %v, want %v", names, want)
	}
	auto := map[string]string{"symptoms": "symptom", "treatment": "step", "faq": "topic"}
	for _, c := range cmds {
		if o, ok := auto[c.Name]; ok && (len(c.Options) != 1 || c.Options[0].Name != o || !c.Options[0].Autocomplete || c.Options[0].Required) {
			t.Errorf("%s should have one optional autocomplete option %q", c.Name, o)
		}
	}
	if q := cmds[0].Options[0]; !q.Required || q.Name != "question" {
		t.Errorf("/ask question: %+v", q)
	}
	region := cmds[4].Options[0]
	if len(region.Choices) != 2 || region.Choices[0].Value != "US" || region.Choices[1].Value != "UK" || region.Autocomplete {
		t.Errorf("/resources region choices %+v", region.Choices)
	}
	b, err := json.Marshal(cmds)
	if err != nil || !strings.Contains(string(b), `"contexts":[0,1]`) {
		t.Errorf("payload %s: %v", b, err)
	}
}

func TestRegionsOverflowToAutocomplete(t *testing.T) {
	var many []bots.Suggestion
	for i := 0; i < 30; i++ {
		many = append(many, bots.Suggestion{ID: string(rune('A'+i%26)) + string(rune('A'+i/26)), Label: "Region"})
	}
	cmds := Commands(fakeRegions{minimalEngine(t), many})
	if o := cmds[4].Options[0]; !o.Autocomplete || len(o.Choices) != 0 {
		t.Errorf("30 regions should use autocomplete: %+v", o)
	}
	if got := matchRegions(many, "a"); len(got) != 2 || got[0].ID != "AA" {
		t.Errorf("matchRegions: %+v", got)
	}
}

type fakeRegions struct {
	*bots.Engine
	rs []bots.Suggestion
}

func (f fakeRegions) Regions() []bots.Suggestion { return f.rs }

func TestMarkdownEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text.", "plain text."},
		{"*bold* _it_ ~s~ `c` |x|", `\*bold\* \_it\_ \~s\~ \` + "`c\\`" + ` \|x\|`},
		{`back\slash`, `back\\slash`},
		{"# not a heading\n> not a quote", "\\# not a heading\n\\> not a quote"},
		{"a # b > c", "a # b > c"},
		{"see https://example.org/a_b*c and more_", "see https://example.org/a_b*c and more\\_"},
		{"bad \xff utf8", "bad  utf8"},
	}
	for _, tt := range tests {
		if got := (Markdown{}).Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := trimEscape(`abc\`); got != "abc" {
		t.Errorf("trimEscape: %q", got)
	}
	if got := trimEscape(`abc\\`); got != `abc\\` {
		t.Errorf("trimEscape kept pair: %q", got)
	}
}

func TestFieldsKeepEveryLine(t *testing.T) {
	long := strings.Repeat("word ", 600) // one line of 3000 characters
	lines := []string{"first", long, "last"}
	fs := fields("Name", lines)
	var all []string
	for i, f := range fs {
		if n(f.Value) > maxFieldValue {
			t.Errorf("field %d is %d characters", i, n(f.Value))
		}
		if (i == 0) != (f.Name == "Name") {
			t.Errorf("field %d named %q", i, f.Name)
		}
		all = append(all, f.Value)
	}
	joined := strings.Join(all, " ")
	if strings.Count(joined, "word") != 600 || !strings.HasPrefix(joined, "first") || !strings.HasSuffix(joined, "last") {
		t.Errorf("words lost: %d", strings.Count(joined, "word"))
	}
}

var _ Engine = (*bots.Engine)(nil)

type panicky struct{ *bots.Engine }

func (panicky) Answer(context.Context, bots.Question) (bots.Reply, error) { panic("boom") }

type brokenStore struct{}

func (brokenStore) ChatRegion(context.Context, string) (string, bool, error) {
	return "", false, errors.New("database is down")
}
func (brokenStore) SetChatRegion(context.Context, string, string) error {
	return errors.New("database is down")
}

func TestFailuresStayCalm(t *testing.T) {
	e := minimalEngine(t)
	logs := &botstest.Log{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// A panic inside the engine does not take the bot down, and the person
	// still gets a calm reply with the referral.
	h := NewHandler(panicky{e}, Options{Log: log})
	w, _ := respond(t, h, commandJSON("1", "ask", str("question", "private words")))
	checkMessage(t, w, usReferral, true)
	// A region store that fails falls back to the default region.
	h = NewHandler(e, Options{Log: log, Regions: brokenStore{}})
	w, sent := respond(t, h, commandJSON("2", "resources", str("region", "UK")))
	sent(context.Background())
	checkMessage(t, w, ukReferral, true)
	w, _ = respond(t, h, commandJSON("3", "ask", str("question", "private words")))
	checkMessage(t, w, usReferral, true)
	if out := logs.String(); strings.Contains(out, "private words") || !strings.Contains(out, "database is down") {
		t.Errorf("logs:\n%s", out)
	}
}

func TestLogTextOnlyWhenAsked(t *testing.T) {
	for _, logText := range []bool{false, true} {
		logs := &botstest.Log{}
		log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		h := NewHandler(minimalEngine(t), Options{Log: log, LogText: logText})
		respond(t, h, commandJSON("1", "ask", str("question", "private words")))
		if got := strings.Contains(logs.String(), "private words"); got != logText {
			t.Errorf("LogText=%v: text logged = %v", logText, got)
		}
	}
}
