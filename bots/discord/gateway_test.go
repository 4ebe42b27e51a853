package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/botstest"

	"github.com/bwmarrin/discordgo"
	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/redact"
)

// A made-up token in the shape of a real one.
const testToken = "MTA5ODc2NTQzMjEwOTg3NjU0.GqZr7x.fake_token_for_tests_0123456789abcd"

// startBot runs a Bot against the fake until the test ends. Its log handler
// does not redact, so the test shows that nothing logs the token at all,
// even at debug level.
func startBot(t *testing.T, f *fakeDiscord, cfg Config, opt Options) (logs *botstest.Log, stop func() error) {
	t.Helper()
	logs = &botstest.Log{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opt.Log = log
	e := minimalEngine(t)
	b := &Bot{
		Config: cfg, Handler: NewHandler(e, opt), Commands: Commands(e),
		Log: log, Redactor: redact.New(), Client: f.client(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	var err error
	done := false
	stop = func() error {
		if !done {
			done = true
			cancel()
			err = recv(t, errc, "Run to return")
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return logs, stop
}

type identify struct {
	Token   string `json:"token"`
	Intents *int   `json:"intents"`
	Shard   *[2]int
	Session string `json:"session_id"`
	Seq     int64  `json:"seq"`
}

func decodeHandshake(t *testing.T, op gatewayOp) identify {
	t.Helper()
	var id identify
	if err := json.Unmarshal(op.D, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// checkCallback decodes one interaction callback and checks it belongs to
// the interaction and carries no bot token.
func checkCallback(t *testing.T, cb request, id string) wireResp {
	t.Helper()
	if want := "/api/v9/interactions/" + id + "/itoken-" + id + "/callback"; cb.path != want {
		t.Errorf("callback to %s, want %s", cb.path, want)
	}
	if cb.auth != "" {
		t.Error("the callback carried an Authorization header; it needs none")
	}
	return decodeWire(t, cb.body)
}

func TestGateway(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	rec := &botstest.Events{}
	store := &bots.MemoryRegions{}
	logs, stop := startBot(t, f, Config{Token: testToken, AppID: fakeApp, ShardCount: 1}, Options{Recorder: rec, Regions: store, Feedback: true})

	// One bulk overwrite, global, before the gateway opens.
	reg := recv(t, f.registrations, "command registration")
	if reg.path != "/api/v9/applications/"+fakeApp+"/commands" || reg.auth != "Bot "+testToken {
		t.Errorf("registration at %s with %q", reg.path, strings.ReplaceAll(reg.auth, testToken, "TOKEN"))
	}
	var cmds []discordgo.ApplicationCommand
	if err := json.Unmarshal(reg.body, &cmds); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
		if c.Type != discordgo.ChatApplicationCommand || c.Contexts == nil || len(*c.Contexts) != 2 {
			t.Errorf("command %s: type %d contexts %v", c.Name, c.Type, c.Contexts)
		}
	}
	if want := []string{"ask", "symptoms", "treatment", "faq", "resources", "help", "privacy"}; !slices.Equal(names, want) {
		t.Errorf("registered %v, want %v", names, want)
	}
	if len(cmds) == 7 && (!cmds[1].Options[0].Autocomplete || len(cmds[4].Options[0].Choices) != 2) {
		t.Errorf("symptom autocomplete / region choices missing: %s", reg.body)
	}

	hs := recv(t, f.handshakes, "identify")
	id := decodeHandshake(t, hs)
	if hs.Op != 2 || id.Token != "Bot "+testToken || id.Intents == nil || *id.Intents != 0 || id.Shard != nil {
		t.Errorf("identify op %d intents %v shard %v (token ok: %v)", hs.Op, id.Intents, id.Shard, id.Token == "Bot "+testToken)
	}

	tests := []struct {
		name     string
		payload  []byte
		typ      int
		referral []string
	}{
		{"ask", commandJSON("101", "ask", str("question", "my secret question: cant sleep")), 4, usReferral},
		{"crisis", commandJSON("102", "ask", str("question", "i want to die")), 4, usCrisisRef},
		{"symptoms", commandJSON("103", "symptoms"), 4, usReferral},
		{"symptom", commandJSON("104", "symptoms", str("symptom", "restless-legs")), 4, usReferral},
		{"treatment", commandJSON("105", "treatment"), 4, usReferral},
		{"faq", commandJSON("106", "faq", str("topic", "doctor")), 4, usReferral},
		{"resources", commandJSON("107", "resources", str("region", "UK")), 4, ukReferral},
		{"help", commandJSON("108", "help"), 4, ukReferral},
		{"privacy", commandJSON("109", "privacy"), 4, ukReferral},
		{"button", componentJSON("110", "open:sleep"), 4, ukReferral},
		{"feedback", componentJSON("111", "fb:0:sleep"), 7, ukReferral},
		{"autocomplete", autocompleteJSON("112", "symptoms", "symptom", "sle"), 8, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.send(t, tt.payload)
			var i discordgo.Interaction
			_ = json.Unmarshal(tt.payload, &i)
			w := checkCallback(t, recv(t, f.callbacks, "callback"), i.ID)
			if w.Type != tt.typ {
				t.Fatalf("type %d, want %d", w.Type, tt.typ)
			}
			if tt.typ == 8 {
				if len(w.Data.Choices) != 1 || w.Data.Choices[0].Value != "sleep" {
					t.Errorf("choices %+v", w.Data.Choices)
				}
				return
			}
			checkMessage(t, w, tt.referral, true)
			if tt.name == "resources" {
				// the choice is stored once the reply is out, just after the fake saw it
				waitFor(t, "the region to be remembered", func() bool {
					r, _, _ := store.ChatRegion(context.Background(), "discord:"+testUser)
					return r == "UK"
				})
			}
		})
	}

	// The gateway drops; discordgo resumes the session, and answers go on.
	select {
	case f.drop <- struct{}{}:
	case <-timeout():
		t.Fatal("could not drop the connection")
	}
	hs = recv(t, f.handshakes, "resume")
	id = decodeHandshake(t, hs)
	if hs.Op != 6 || id.Session != "fake-session" || id.Seq == 0 {
		t.Errorf("after the drop: op %d session %q seq %d", hs.Op, id.Session, id.Seq)
	}
	f.send(t, commandJSON("120", "help"))
	checkMessage(t, checkCallback(t, recv(t, f.callbacks, "callback after reconnect"), "120"), ukReferral, true)

	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	evs := rec.All()
	helpful := 0
	for _, ev := range evs {
		if ev.Helpful != nil {
			helpful++
		}
	}
	if len(evs) != 12 || helpful != 1 {
		t.Errorf("%d events (%d feedback), want 12 (1)", len(evs), helpful)
	}
	out := logs.String()
	if strings.Contains(out, testToken) {
		t.Errorf("the token is in the logs:\n%s", out)
	}
	if strings.Contains(out, "secret question") {
		t.Errorf("message text is in the logs:\n%s", out)
	}
	if !strings.Contains(out, "discordgo:") {
		t.Errorf("discordgo's warning about the drop did not reach the log:\n%s", out)
	}
	if f.gatewayGets.Load() != 1 || f.appLookups.Load() != 0 {
		t.Errorf("gateway looked up %d times, app id %d times", f.gatewayGets.Load(), f.appLookups.Load())
	}
}

func TestGatewayShard(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	_, stop := startBot(t, f, Config{Token: testToken, ShardID: 1, ShardCount: 2}, Options{Public: true})
	hs := recv(t, f.handshakes, "identify")
	if id := decodeHandshake(t, hs); id.Shard == nil || *id.Shard != [2]int{1, 2} {
		t.Errorf("shard %v, want [1 2]", id.Shard)
	}
	if len(f.registrations) != 0 || f.appLookups.Load() != 0 {
		t.Error("only shard 0 registers the commands")
	}
	f.send(t, commandJSON("1", "symptoms", str("symptom", "sleep")))
	checkMessage(t, checkCallback(t, recv(t, f.callbacks, "callback"), "1"), usReferral, false)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestCallbackFailures(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	f.callbackFail = []int{http.StatusTooManyRequests, http.StatusNotFound}
	rec := &botstest.Events{}
	logs, stop := startBot(t, f, Config{Token: testToken, AppID: fakeApp, ShardCount: 1}, Options{Recorder: rec})
	recv(t, f.handshakes, "identify")

	// 429, retried once after retry_after, then 404: not sent, not recorded.
	f.send(t, commandJSON("1", "help"))
	recv(t, f.callbacks, "first attempt")
	recv(t, f.callbacks, "retry")
	// Then a reply that goes through.
	f.send(t, commandJSON("2", "help"))
	recv(t, f.callbacks, "callback")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if evs := rec.All(); len(evs) != 1 {
		t.Errorf("%d events, want 1 (the failed reply is not counted)", len(evs))
	}
	out := logs.String()
	if !strings.Contains(out, "could not send a reply") || !strings.Contains(out, "10062") {
		t.Errorf("the failure is not logged:\n%s", out)
	}
	if strings.Contains(out, "itoken-") || strings.Contains(out, "SHOULD-NOT-BE-LOGGED") {
		t.Errorf("the interaction token or the response body is in the log:\n%s", out)
	}
}

func TestRegisterInServerForHTTPMode(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	pub := testKey.Public().(ed25519.PublicKey)
	logs, stop := startBot(t, f, Config{Token: testToken, GuildID: testGuild, PublicKey: pub, ShardCount: 1}, Options{})
	reg := recv(t, f.registrations, "registration")
	if want := fmt.Sprintf("/api/v9/applications/%s/guilds/%s/commands", fakeApp, testGuild); reg.path != want {
		t.Errorf("registered at %s, want %s", reg.path, want)
	}
	waitFor(t, "the registration to finish", func() bool { return strings.Contains(logs.String(), "slash commands registered") })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if f.appLookups.Load() != 1 {
		t.Errorf("app id looked up %d times, want 1", f.appLookups.Load())
	}
	if f.gatewayGets.Load() != 0 || len(f.handshakes) != 0 {
		t.Error("HTTP mode opened a gateway connection")
	}
}

// newBot is a Bot against the fake, for tests that run it themselves.
func newBot(t *testing.T, f *fakeDiscord, cfg Config, opt Options) (*Bot, *botstest.Log) {
	logs := &botstest.Log{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opt.Log = log
	e := minimalEngine(t)
	return &Bot{
		Config: cfg, Handler: NewHandler(e, opt), Commands: Commands(e),
		Log: log, Redactor: redact.New(), Client: f.client(),
		RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond,
	}, logs
}

// A refused token stops Run by itself, saying which token.
func TestRegisterFails(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	f.registerStatus = http.StatusUnauthorized
	b, _ := newBot(t, f, Config{Token: testToken, AppID: fakeApp, ShardCount: 1}, Options{})
	errc := make(chan error, 1)
	go func() { errc <- b.Run(context.Background()) }()
	err := recv(t, errc, "Run to stop on a refused token")
	if err == nil || !strings.Contains(err.Error(), "registering the slash commands") || !strings.Contains(err.Error(), "refused DISCORD_BOT_TOKEN") {
		t.Fatalf("Run: %v", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("the error holds the token: %v", err)
	}
}

// A network error at start is retried with backoff: Run neither returns nor
// takes the other platforms down, and connects once Discord answers.
func TestStartRetriesNetworkErrors(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	f.registerFailures.Store(3) // 502 Bad Gateway three times
	b, logs := newBot(t, f, Config{Token: testToken, AppID: fakeApp, ShardCount: 1}, Options{})
	var connected atomic.Int32
	b.Connected = func() { connected.Add(1) }
	b.Client.Transport = &flaky{base: b.Client.Transport, fail: 2} // and two transport errors before that
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	recv(t, f.handshakes, "the gateway connection after the retries")
	waitFor(t, "READY to count as connected", func() bool { return connected.Load() == 1 })
	cancel()
	if err := recv(t, errc, "Run to return"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// discordgo retries a 502 itself a few times, so the count varies
	if n := strings.Count(logs.String(), "cannot reach Discord; retrying"); n < 2 {
		t.Errorf("%d retry warnings, want at least 2:\n%s", n, logs.String())
	}
}

// A Discord that cannot be reached at all: Run waits until ctx ends and
// then returns nil.
func TestStartUnreachableUntilStopped(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	b, logs := newBot(t, f, Config{Token: testToken, AppID: fakeApp, ShardCount: 1}, Options{})
	b.Client.Transport = &flaky{base: b.Client.Transport, fail: 1 << 30}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	waitFor(t, "a few retries", func() bool { return strings.Count(logs.String(), "retrying") >= 3 })
	cancel()
	if err := recv(t, errc, "Run to return"); err != nil {
		t.Fatalf("Run after the network never came: %v", err)
	}
}

// flaky fails its first fail requests like a network that is down.
type flaky struct {
	base http.RoundTripper
	fail int32
	n    atomic.Int32
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.n.Add(1) <= f.fail {
		return nil, errors.New("dial tcp: connection refused")
	}
	return f.base.RoundTrip(r)
}

func TestHTTPModeWithoutToken(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	_, stop := startBot(t, f, Config{PublicKey: testKey.Public().(ed25519.PublicKey), ShardCount: 1}, Options{})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(f.registrations) != 0 || f.gatewayGets.Load() != 0 {
		t.Error("without a token nothing reaches Discord")
	}
}
