package discord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kratombot/kratombot/bots/botstest"

	"github.com/bwmarrin/discordgo"
	"github.com/kratombot/kratombot/bots"
)

// Fuzz tests for the Discord adapter. Run one for a while with
//
//	go test -run '^$' -fuzz '^FuzzDiscordAsk$' -fuzztime 60s ./bots/discord
//
// Without -fuzz only the seeds run, as ordinary quick tests.

// fuzzSeeds are inputs people type, or could: empty, invalid UTF-8,
// control and zero-width characters, markdown and mentions, emoji, RTL
// marks, crisis words, topic ids and region names. Long ones come from
// longPad.
var fuzzSeeds = []string{
	"",
	" \t\n ",
	"cant sleep",
	"i want to kill myself",
	"my friend took an overdose and is not breathing",
	"what dose should i take",
	"sleep",
	"restless-legs",
	"UK",
	"united kingdom",
	"**@everyone** `rm -rf` <@123> ||spoiler|| > quote\n# heading",
	"\\*_~`|\\\\ https://example.org/a_b*c \\",
	"\x00\x01\x1b[31m\x7f\xff\xfe\x80sleep\xc0\xaf",
	"\u202e\u200b\u200c\u200d\u2066\ufeff ｓｌｅｅｐ \u0301",
	"مرحبا \u200f كيف \u200e sleep",
	strings.Repeat("\U0001F600", 20) + "\U0001F3F3\uFE0F\u200D\U0001F308",
	strings.Repeat("é", 40),
}

// longPad goes before the value in the long variant of each input: past
// what the engine reads for topics (bots.MaxQuestion), where crisis words
// must still be found. Padding rather than long seeds keeps the corpus
// small: the fuzzer minimises every new find, in time quadratic in its
// length, and a long one holds a worker up for the whole run.
var longPad = strings.Repeat("i feel awful and cannot sleep ", 36)

// fuzzCase decodes the byte that picks, in turn, the command, the engine
// and whether the value is padded long.
func fuzzCase(engines []fuzzEngine, which uint8, value string) (fuzzCommand, fuzzEngine, string) {
	k := int(which)
	c := fuzzCommands[k%len(fuzzCommands)]
	k /= len(fuzzCommands)
	fe := engines[k%len(engines)]
	if k/len(engines)%2 == 1 {
		value = longPad + value
	}
	return c, fe, value
}

// fuzzCommand is a command a fuzzed value is given to, with its option.
type fuzzCommand struct{ name, option string }

var fuzzCommands = []fuzzCommand{
	{cmdAsk, "question"},
	{cmdSymptoms, "symptom"},
	{cmdTreatment, "step"},
	{cmdFAQ, "topic"},
	{cmdResources, "region"},
}

// commandInteraction is the interaction as a struct, so that text no JSON
// decoder would produce (invalid UTF-8) reaches Respond too.
func commandInteraction(typ discordgo.InteractionType, command, option, value string) *discordgo.Interaction {
	return &discordgo.Interaction{
		ID: "1", AppID: "333333333333333333", Type: typ, Token: "t", Version: 1, GuildID: testGuild,
		Member: &discordgo.Member{User: &discordgo.User{ID: testUser}},
		Data: discordgo.ApplicationCommandInteractionData{ID: "555", Name: command, Options: []*discordgo.ApplicationCommandInteractionDataOption{
			{Name: option, Type: discordgo.ApplicationCommandOptionString, Value: value, Focused: typ == discordgo.InteractionApplicationCommandAutocomplete},
		}},
	}
}

// fuzzInteractions are the interactions that bring value to command: as
// Discord sends it, through JSON, and as raw bytes when JSON would have
// changed them.
func fuzzInteractions(t *testing.T, typ discordgo.InteractionType, command, option, value string) []*discordgo.Interaction {
	payload := commandJSON("1", command, str(option, value))
	if typ == discordgo.InteractionApplicationCommandAutocomplete {
		payload = autocompleteJSON("1", command, option, value)
	}
	out := []*discordgo.Interaction{decodeInteraction(t, payload)}
	if !utf8.ValidString(value) {
		out = append(out, commandInteraction(typ, command, option, value))
	}
	return out
}

// addSeeds adds every seed for a command with each engine, and a few
// long; see fuzzCase.
func addSeeds(f *testing.F) {
	n := len(fuzzCommands)
	for i, s := range fuzzSeeds {
		f.Add(uint8(i%n), s)
		f.Add(uint8(n+(i+2)%n), s)
		if i%3 == 0 {
			f.Add(uint8(2*n+(i+1)%n+n*(i%2)), s)
		}
	}
}

// optionValue is the string the command's first option carries.
func optionValue(i *discordgo.Interaction) string {
	d, _ := i.Data.(discordgo.ApplicationCommandInteractionData)
	if len(d.Options) == 0 {
		return ""
	}
	s, _ := d.Options[0].Value.(string)
	return s
}

type fuzzEngine struct {
	name string
	e    *bots.Engine
	h    *Handler
	logs *botstest.Log // at debug level
}

// takeLogs returns and forgets what the handler logged.
func (fe fuzzEngine) takeLogs() string {
	return fe.logs.Take()
}

// fuzzEngines are the minimal fixture and the knowledge built to break
// Discord's limits, whose long referrals span several fields.
func fuzzEngines(f *testing.F) []fuzzEngine {
	var out []fuzzEngine
	for _, e := range []struct {
		name string
		e    *bots.Engine
	}{{"minimal", minimalEngine(f)}, {"limits", limitsEngine(f)}} {
		logs := &botstest.Log{}
		log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		out = append(out, fuzzEngine{e.name, e.e, NewHandler(e.e, Options{Feedback: true, Log: log}), logs})
	}
	return out
}

// expect is what the reply to value given to command must hold: the
// referral lines, and the crisis line the content must start with ("" when
// none). It asks the engine directly, the way the command is documented to.
func expect(t *testing.T, e *bots.Engine, command, value string) (referral []string, lead string) {
	ctx := context.Background()
	v := strings.TrimSpace(value)
	var r bots.Reply
	var err error
	switch {
	case command == cmdResources:
		if code, ok := e.Region(v); ok && v != "" {
			r, err = e.Open(ctx, "region:"+code, "")
		} else {
			r, err = e.Open(ctx, "resources", "")
		}
	case command == cmdAsk:
		r, err = e.Answer(ctx, bots.Question{Text: value})
	case v == "":
		r, err = e.Open(ctx, "menu:"+string(topicKinds[command].kind), "")
	default: // a topic id from autocomplete, else free text
		if r, err = e.Open(ctx, v, ""); err == nil && r.Topic() != v {
			r, err = e.Answer(ctx, bots.Question{Text: v})
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind() == bots.KindCrisis {
		lead = r.Lead()[0]
	}
	return r.Referral().Lines(), lead
}

// FuzzDiscordAsk gives arbitrary text to /ask and to the other commands'
// options, decoded from JSON as Discord sends it and as raw bytes. Respond
// must answer without panicking (a recovered panic is logged), within Discord's
// limits, ephemeral, with the referral in its own fields and, in a crisis,
// the crisis line first; and the text must not reach the log.
func FuzzDiscordAsk(f *testing.F) {
	engines := fuzzEngines(f)
	addSeeds(f)
	n := uint8(len(fuzzCommands))
	f.Add(uint8(0), "i want to die")
	f.Add(uint8(1), "i want to die")
	f.Add(2*n, "i want to die")
	f.Add(3*n+1, "i want to die")
	f.Add(n+1, "s01")
	f.Add(uint8(4), "usa")
	// what each command logs whatever it is asked, so that only the
	// question showing up in the log counts as a leak
	usual := map[string]string{}
	for _, c := range fuzzCommands {
		for _, fe := range engines {
			fe.h.Respond(context.Background(), commandInteraction(discordgo.InteractionApplicationCommand, c.name, c.option, "zz"))
			usual[c.name] += fe.takeLogs()
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		c, fe, value := fuzzCase(engines, which, value)
		for _, i := range fuzzInteractions(t, discordgo.InteractionApplicationCommand, c.name, c.option, value) {
			resp, sent := fe.h.Respond(context.Background(), i)
			logs := fe.takeLogs()
			if v := optionValue(i); len(strings.TrimSpace(v)) >= 4 && strings.Contains(logs, v) && !strings.Contains(usual[c.name], v) {
				t.Errorf("%s: what the person wrote was logged", fe.name)
			}
			if strings.Contains(logs, "could not handle an interaction") {
				t.Fatalf("%s: /%s %s:%q panicked", fe.name, c.name, c.option, optionValue(i))
			}
			if resp == nil {
				t.Fatalf("%s: /%s %s:%q got no response", fe.name, c.name, c.option, optionValue(i))
			}
			b, err := encode(resp)
			if err != nil {
				t.Fatalf("%s: the response does not encode: %v", fe.name, err)
			}
			w := decodeWire(t, b)
			if w.Type != int(discordgo.InteractionResponseChannelMessageWithSource) {
				t.Fatalf("%s: response type %d", fe.name, w.Type)
			}
			ref, lead := expect(t, fe.e, c.name, optionValue(i))
			checkMessage(t, w, ref, true)
			if lead != "" && !strings.HasPrefix(w.Data.Content, md.Bold(md.Escape(lead))) {
				t.Errorf("%s: a crisis reply does not start with %q:\n%s", fe.name, lead, w.Data.Content)
			}
			sent(context.Background())
		}
	})
}

// checkChoices asserts Discord's limits on an autocomplete result.
func checkChoices(t *testing.T, raw []byte, w wireResp) {
	t.Helper()
	if w.Type != int(discordgo.InteractionApplicationCommandAutocompleteResult) || w.Data == nil {
		t.Fatalf("not an autocomplete result: %s", raw)
	}
	if !bytes.Contains(raw, []byte(`"choices":[`)) {
		t.Errorf("no choices array: %s", raw)
	}
	if len(w.Data.Choices) > maxChoices {
		t.Errorf("%d choices, over %d", len(w.Data.Choices), maxChoices)
	}
	for _, c := range w.Data.Choices {
		v, ok := c.Value.(string)
		if nc := n(c.Name); nc < 1 || nc > maxName || !utf8.ValidString(c.Name) || strings.TrimSpace(c.Name) == "" {
			t.Errorf("choice name %q is %d characters", c.Name, nc)
		}
		if !ok || v == "" || n(v) > maxName {
			t.Errorf("choice value %#v", c.Value)
		}
	}
}

// FuzzDiscordAutocomplete types arbitrary text into each command's
// autocompleted option: at most 25 choices, each named with 1 to 100
// characters, and never a panic (Respond's recover would answer nothing).
func FuzzDiscordAutocomplete(f *testing.F) {
	engines := fuzzEngines(f)
	addSeeds(f)
	f.Add(uint8(len(fuzzCommands)+1), "x")
	f.Add(uint8(len(fuzzCommands)+1), "symptom 17")
	f.Add(uint8(4), "u")
	f.Fuzz(func(t *testing.T, which uint8, typed string) {
		c, fe, typed := fuzzCase(engines, which, typed)
		for _, i := range fuzzInteractions(t, discordgo.InteractionApplicationCommandAutocomplete, c.name, c.option, typed) {
			resp, _ := fe.h.Respond(context.Background(), i)
			if resp == nil {
				t.Fatalf("%s: autocomplete for /%s %q got no response (a recovered panic?)", fe.name, c.name, optionValue(i))
			}
			b, err := encode(resp)
			if err != nil {
				t.Fatalf("%s: the response does not encode: %v", fe.name, err)
			}
			checkChoices(t, b, decodeWire(t, b))
		}
	})
}

// FuzzDiscordEndpoint posts arbitrary bytes, correctly signed, to the HTTP
// interactions endpoint: it must never panic or fail with a 5xx. A body
// over MaxBody is 413, one that is not an interaction 400, anything else
// 200 with a valid response; a correct signature is never refused.
func FuzzDiscordEndpoint(f *testing.F) {
	logs := &botstest.Log{} // a recovered panic answers calmly, so it is caught here
	b := &Bot{
		Config:  Config{PublicKey: testKey.Public().(ed25519.PublicKey)},
		Handler: NewHandler(minimalEngine(f), Options{Feedback: true, Log: slog.New(slog.NewTextHandler(logs, nil))}),
	}
	for _, s := range [][]byte{
		nil,
		[]byte("null"),
		[]byte("\x00not json"),
		[]byte(`{"id":"1","application_id":"2","type":1,"token":"t","version":1}`),
		commandJSON("1", "ask", str("question", "cant sleep")),
		commandJSON("2", "ask", str("question", "i want to die")),
		commandJSON("3", "resources", str("region", "UK")),
		commandJSON("4", "symptoms"),
		autocompleteJSON("5", "symptoms", "symptom", "rest"),
		autocompleteJSON("6", "resources", "region", "u"),
		componentJSON("7", "open:region:UK"),
		componentJSON("8", "open", "restless-legs"),
		componentJSON("9", "fb:1:sleep"),
		[]byte(`{"id":"1","type":2,"token":"t","data":{"name":"ask","options":[{"name":"question","type":4,"value":42}]}}`),
		[]byte(`{"id":"1","type":2,"token":"t","data":{"name":"symptoms","options":[null]}}`),
		[]byte(`{"id":"1","type":3,"token":"t","data":{"custom_id":"open","values":[]}}`),
		[]byte(`{"id":"1","type":4,"token":"t","data":{"name":"symptoms","options":[{"name":"symptom","focused":true,"value":{"a":1}}]}}`),
		[]byte(`{"id":"1","type":5,"token":"t","data":{"custom_id":"x","components":[]}}`),
		[]byte(`{"id":"1","type":99,"token":"t","data":"\ud800"}`),
		append([]byte(`{"type":1}`), bytes.Repeat([]byte(" "), MaxBody)...),
	} {
		f.Add(s)
	}
	ukRef := func() []string {
		r, _ := b.Handler.e.Open(context.Background(), "resources", "UK")
		return r.Referral().Lines()
	}()
	f.Fuzz(func(t *testing.T, body []byte) {
		defer func() {
			if strings.Contains(logs.String(), "could not handle an interaction") {
				t.Fatalf("handling %q panicked", body)
			}
		}()
		// a fresh endpoint each time: the fuzzer repeats bodies, and a
		// repeated interaction id is rightly refused (409)
		fresh := &Bot{Config: b.Config, Handler: b.Handler}
		w := serve(fresh.Endpoint(), signed(body, time.Now(), testKey))
		switch {
		case w.Code >= 500:
			t.Fatalf("status %d for a signed body: %s", w.Code, w.Body)
		case len(body) > MaxBody:
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("a %d-byte body: status %d, want 413", len(body), w.Code)
			}
			return
		}
		var i discordgo.Interaction
		if json.Unmarshal(body, &i) != nil {
			if w.Code != http.StatusBadRequest {
				t.Fatalf("a body that is not an interaction: status %d, want 400: %s", w.Code, w.Body)
			}
			return
		}
		if w.Code != http.StatusOK {
			t.Fatalf("an interaction: status %d, want 200: %s", w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
		raw := w.Body.Bytes()
		resp := decodeWire(t, raw)
		switch discordgo.InteractionResponseType(resp.Type) {
		case discordgo.InteractionResponsePong:
			if i.Type != discordgo.InteractionPing {
				t.Errorf("PONG to an interaction of type %d", i.Type)
			}
		case discordgo.InteractionApplicationCommandAutocompleteResult:
			checkChoices(t, raw, resp)
		case discordgo.InteractionResponseChannelMessageWithSource, discordgo.InteractionResponseUpdateMessage:
			// /resources and region buttons may show the UK's helplines
			ref := usReferral
			if fs := resp.Data; fs != nil && len(fs.Embeds) == 1 && strings.Contains(string(raw), "FRANK") {
				ref = ukRef
			}
			checkMessage(t, resp, ref, true)
		default:
			t.Errorf("response type %d: %s", resp.Type, raw)
		}
	})
}

// FuzzMarkdownEscape checks the escaper every text shown on Discord goes
// through: it only ever adds backslashes, and outside links it leaves no
// markdown character that Discord would read as formatting.
func FuzzMarkdownEscape(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add("  # x\n\t> y\n>>> z")
	f.Add("see https://example.org/a_b*c and http://x.y/~u_ or https:/nope_")
	f.Fuzz(func(t *testing.T, s string) {
		e := md.Escape(s)
		valid := strings.ToValidUTF8(s, "")
		if !utf8.ValidString(e) {
			t.Fatalf("Escape(%q) is not valid UTF-8: %q", s, e)
		}
		drop := func(x string) string { return strings.ReplaceAll(x, `\`, "") }
		if drop(e) != drop(valid) {
			t.Fatalf("Escape(%q) = %q changes more than backslashes", s, e)
		}
		if strings.Contains(valid, "http://") || strings.Contains(valid, "https://") {
			return // links are left whole, markdown characters and all
		}
		var back strings.Builder
		lineStart := true
		for i := 0; i < len(e); i++ {
			c := e[i]
			switch {
			case c == '\\' && i+1 < len(e) && strings.IndexByte("\\*_~`|#>", e[i+1]) >= 0:
				i++
				c = e[i]
			case strings.IndexByte("\\*_~`|", c) >= 0:
				t.Fatalf("Escape(%q) = %q leaves %q at byte %d unescaped", s, e, c, i)
			case lineStart && (c == '#' || c == '>'):
				t.Fatalf("Escape(%q) = %q leaves a line starting with %q", s, e, c)
			}
			back.WriteByte(c)
			lineStart = c == '\n' || (lineStart && (c == ' ' || c == '\t'))
		}
		if back.String() != valid {
			t.Fatalf("unescaping Escape(%q) = %q gives %q", s, e, back.String())
		}
	})
}
