package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/bots/botstest"
)

// slowEngine holds every answer until release is closed, like a store
// look-up or an engine stuck behind a slow disk; it notes the questions.
type slowEngine struct {
	*bots.Engine
	release chan struct{}
	asked   atomic.Pointer[bots.Question]
}

func (s *slowEngine) Answer(ctx context.Context, q bots.Question) (bots.Reply, error) {
	s.asked.Store(&q)
	<-s.release
	return s.Engine.Answer(ctx, q)
}

// An answer not ready within DeferAfter is deferred (type 5, ephemeral) and
// then sent by editing the original response (Discord's deferral rule:
// https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-interaction).
func TestGatewayDefersSlowAnswers(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	rec := &botstest.Events{}
	b, _ := newBot(t, f, Config{Token: testToken, AppID: fakeApp, ShardCount: 1}, Options{Recorder: rec})
	slow := &slowEngine{Engine: minimalEngine(t), release: make(chan struct{})}
	b.Handler = NewHandler(slow, Options{Recorder: rec})
	b.DeferAfter = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	recv(t, f.handshakes, "identify")

	f.send(t, commandJSON("301", "ask", str("question", "cant sleep")))
	w := checkCallback(t, recv(t, f.callbacks, "the deferral"), "301")
	if w.Type != int(discordgo.InteractionResponseDeferredChannelMessageWithSource) || w.Data == nil || w.Data.Flags&64 == 0 {
		t.Errorf("deferral type %d flags %d, want 5 with the ephemeral flag", w.Type, w.Data.Flags)
	}
	if len(rec.All()) != 0 {
		t.Error("an event was recorded before the answer went out")
	}
	close(slow.release)
	edit := recv(t, f.edits, "the follow-up")
	if want := "/api/v9/webhooks/333333333333333333/itoken-301/messages/@original"; edit.path != want {
		t.Errorf("follow-up to %s, want %s", edit.path, want)
	}
	if edit.auth != "" {
		t.Error("the follow-up carried the bot token; the interaction token is enough")
	}
	var msg struct {
		Embeds []struct {
			Description string `json:"description"`
			Fields      []struct {
				Value string `json:"value"`
			} `json:"fields"`
		} `json:"embeds"`
	}
	if err := json.Unmarshal(edit.body, &msg); err != nil || len(msg.Embeds) == 0 {
		t.Fatalf("follow-up body %s: %v", edit.body, err)
	}
	if !strings.Contains(string(edit.body), "1-800-662-4357") && !strings.Contains(string(edit.body), "findtreatment") {
		t.Errorf("the follow-up lacks the referral: %s", edit.body)
	}
	waitFor(t, "the event once the follow-up went out", func() bool { return len(rec.All()) == 1 })
	if q := slow.asked.Load(); q == nil || q.Chat != "discord:444444444444444444:"+testUser {
		t.Errorf("Question.Chat = %+v, want discord:<channel>:<user>", q)
	}
	cancel()
	if err := recv(t, errc, "Run to return"); err != nil {
		t.Fatal(err)
	}
	if len(f.callbacks) != 0 {
		t.Error("the answer was sent twice")
	}
}

// The same over the HTTP interactions endpoint: the HTTP response is the
// deferral, the answer follows as an edit.
func TestHTTPDefersSlowAnswers(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	rec := &botstest.Events{}
	slow := &slowEngine{Engine: minimalEngine(t), release: make(chan struct{})}
	b := &Bot{
		Config:     Config{PublicKey: testKey.Public().(ed25519.PublicKey)},
		Handler:    NewHandler(slow, Options{Recorder: rec, Public: true}),
		Client:     f.client(),
		DeferAfter: 50 * time.Millisecond,
	}
	srv := httptest.NewServer(b.Endpoint())
	defer srv.Close()
	req := signed(commandJSON("401", "ask", str("question", "cant sleep")), time.Now(), testKey)
	req.RequestURI, req.URL.Scheme, req.URL.Host = "", "http", strings.TrimPrefix(srv.URL, "http://")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var w wireResp
	json.NewDecoder(resp.Body).Decode(&w)
	// the HTTP response comes back while the answer is still held
	if resp.StatusCode != 200 || w.Type != int(discordgo.InteractionResponseDeferredChannelMessageWithSource) || (w.Data != nil && w.Data.Flags&64 != 0) {
		t.Errorf("HTTP response %d %+v; want 200, type 5, public", resp.StatusCode, w)
	}
	close(slow.release)
	edit := recv(t, f.edits, "the follow-up")
	resp.Body.Close()
	if !strings.Contains(edit.path, "/webhooks/333333333333333333/itoken-401/messages/@original") {
		t.Errorf("follow-up to %s", edit.path)
	}
	waitFor(t, "the event", func() bool { return len(rec.All()) == 1 })
}

// A signed request replayed byte for byte while its timestamp is fresh is
// answered once (interaction ids are unique:
// https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object).
func TestHTTPReplayAnsweredOnce(t *testing.T) {
	h, rec := testEndpoint(t, Options{})
	body := commandJSON("501", "ask", str("question", "cant sleep"))
	now := time.Now()
	first := serve(h, signed(body, now, testKey))
	again := serve(h, signed(body, now, testKey))
	if first.Code != 200 || again.Code != http.StatusConflict {
		t.Errorf("first %d, replay %d; want 200 then 409", first.Code, again.Code)
	}
	if n := len(rec.All()); n != 1 {
		t.Errorf("%d events, want 1: a replay must not be counted", n)
	}
	// a PING is always answered
	ping := []byte(`{"id":"502","application_id":"2","type":1,"token":"t","version":1}`)
	for range 2 {
		if w := serve(h, signed(ping, now, testKey)); w.Code != 200 {
			t.Errorf("PING: %d", w.Code)
		}
	}
}

// The gateway can deliver an event again (a resume replays missed events);
// it is answered once.
func TestGatewayRedeliveryAnsweredOnce(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	rec := &botstest.Events{}
	_, stop := startBot(t, f, Config{Token: testToken, AppID: fakeApp, ShardCount: 1}, Options{Recorder: rec})
	recv(t, f.handshakes, "identify")
	f.send(t, commandJSON("601", "help"))
	f.send(t, commandJSON("601", "help"))
	f.send(t, commandJSON("602", "help"))
	recv(t, f.callbacks, "first")
	recv(t, f.callbacks, "second")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(f.callbacks); n != 0 {
		t.Errorf("%d extra callbacks: the redelivered interaction was answered twice", n)
	}
}

func TestRecentIDsAreBounded(t *testing.T) {
	var r recentIDs
	t0 := time.Now()
	if !r.first("a", t0) || r.first("a", t0.Add(time.Minute)) {
		t.Fatal("an id seen a minute ago must be refused")
	}
	if !r.first("a", t0.Add(replayWindow+time.Second)) {
		t.Error("an id older than the replay window is forgotten (its token is dead anyway)")
	}
	for i := range maxSeen + 10 {
		r.first(string(rune(i+1000)), t0.Add(replayWindow+2*time.Second))
	}
	if r.len() > maxSeen {
		t.Errorf("%d ids kept, want at most %d", r.len(), maxSeen)
	}
}

// HTTP mode counts as connected once the endpoint is served.
func TestHTTPModeConnected(t *testing.T) {
	f := newFakeDiscord(t, testToken)
	b, _ := newBot(t, f, Config{PublicKey: testKey.Public().(ed25519.PublicKey), ShardCount: 1}, Options{})
	var connected atomic.Int32
	b.Connected = func() { connected.Add(1) }
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	waitFor(t, "connected", func() bool { return connected.Load() == 1 })
	cancel()
	recv(t, errc, "Run")
}

// Custom ids and select values come back from the client and can be forged:
// only the knowledge's topic ids reach the recorder (and so the store).
func TestForgedCustomIDsRecordNoTopic(t *testing.T) {
	e := minimalEngine(t)
	rec := &botstest.Events{}
	h := NewHandler(e, Options{Recorder: rec, Feedback: true})
	for k, payload := range [][]byte{
		componentJSON("801", "fb:1:John Smith has HIV \x1b[31m"),
		componentJSON("802", "fb:0:../../etc/passwd"),
		componentJSON("803", "open:Jane Doe \x1b]0;x\x07"),
		componentJSON("804", "open", "no-such-topic \u202e"),
		componentJSON("805", "open:region:XX"),
	} {
		_, sent := respond(t, h, payload)
		sent(context.Background())
		for _, ev := range rec.All() {
			if _, ok := e.Base().Topic(ev.Topic); ev.Topic != "" && !ok {
				t.Errorf("case %d: a forged topic %q reached the recorder", k, ev.Topic)
			}
			if ev.Helpful != nil {
				t.Errorf("case %d: a forged vote was recorded: %+v", k, ev)
			}
		}
	}
}
