package telegram

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/botstest"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/bots/telegram/telegramtest"
	"github.com/kratombot/kratombot/knowledge"
	"github.com/kratombot/kratombot/redact"
)

// testToken looks like a real token so that any leak is easy to find.
const testToken = "123456789:AAH-kratombot-SECRETtoken_xyz987"

var (
	engineOnce sync.Once
	testEngine *bots.Engine
	engineErr  error
)

// engine is the test knowledge: the minimal fixture plus HTML-like text and
// a help text longer than one message.
func engine(t testing.TB) *bots.Engine {
	t.Helper()
	engineOnce.Do(func() {
		var b *knowledge.Base
		if b, engineErr = knowledge.LoadDir("testdata/knowledge"); engineErr == nil {
			testEngine, engineErr = bots.New(b)
		}
	})
	if engineErr != nil {
		t.Fatalf("test knowledge: %v", engineErr)
	}
	return testEngine
}

// harness is one bot running against a fake Bot API.
type harness struct {
	t       testing.TB
	fake    *telegramtest.Server
	bot     *Bot
	logs    *botstest.Log
	events  *botstest.Events
	regions *bots.MemoryRegions
	cancel  context.CancelFunc
	done    chan error
}

// fastConfig keeps Telegram's behaviour but scales time down so tests run
// in well under a second each.
func fastConfig(fake *telegramtest.Server) Config {
	endpoint := ""
	if fake != nil {
		endpoint = fake.Endpoint()
	}
	return Config{
		Token: testToken, Endpoint: endpoint,
		Limits:      Limits{Global: 2000, GlobalBurst: 20, ChatInterval: 5 * time.Millisecond, GroupInterval: 5 * time.Millisecond},
		PollTimeout: 10 * time.Second, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		ShutdownTimeout: 10 * time.Second, RequestTimeout: 5 * time.Second, SweepInterval: time.Minute,
		BusyPoll: 20 * time.Millisecond,
	}
}

// newHarness builds a bot; the logger deliberately has no redactor so that
// tests see what the adapter itself lets through.
func newHarness(t testing.TB, fake *telegramtest.Server, edit func(*Config, *Deps)) *harness {
	t.Helper()
	h := &harness{t: t, fake: fake, logs: &botstest.Log{}, events: &botstest.Events{}, regions: &bots.MemoryRegions{}}
	cfg := fastConfig(fake)
	d := Deps{
		Engine: engine(t), Log: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Redactor: redact.New(), Recorder: h.events, Regions: h.regions,
	}
	if edit != nil {
		edit(&cfg, &d)
	}
	b, err := New(cfg, d)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.bot = b
	return h
}

// start runs the bot until the test ends or stop is called.
func (h *harness) start() *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- h.bot.Run(ctx) }()
	h.t.Cleanup(func() {
		if h.cancel != nil {
			h.stop()
		}
	})
	return h
}

// stop cancels Run like SIGTERM does and returns its result.
func (h *harness) stop() error {
	h.t.Helper()
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		return err
	case <-time.After(20 * time.Second):
		h.t.Fatal("Run did not return after its context was cancelled")
		return nil
	}
}

// run starts a bot with the fast config against a new fake.
func run(t testing.TB, edit func(*Config, *Deps)) *harness {
	t.Helper()
	return newHarness(t, telegramtest.NewServer(t, testToken), edit).start()
}

// plain is what a person reads of a sent message.
func plain(t testing.TB, m telegramtest.Sent) string {
	t.Helper()
	if m.ParseMode == "" {
		return m.Text
	}
	p, err := telegramtest.ParseHTML(m.Text)
	if err != nil {
		t.Fatalf("message is not valid HTML (%v): %q", err, m.Text)
	}
	return p
}

// quiet waits a little and checks that nothing more was sent: replies are
// never repeated.
// waitConfirmed waits until the bot has confirmed every update it was given.
func waitConfirmed(t testing.TB, fake *telegramtest.Server, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for fake.Pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d updates still unconfirmed after %v", fake.Pending(), timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func quiet(t testing.TB, fake *telegramtest.Server, want int) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	if got := len(fake.Sent()); got != want {
		for _, m := range fake.Sent() {
			t.Logf("chat %d: %.60q", m.ChatID, m.Text)
		}
		t.Fatalf("%d messages sent, want exactly %d", got, want)
	}
}

func hasButton(m telegramtest.Sent, data string) bool {
	for _, b := range m.Buttons() {
		if b == data {
			return true
		}
	}
	return false
}

const referral = "SAMHSA National Helpline"

func mustContain(t testing.TB, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

func newMux() *http.ServeMux { return http.NewServeMux() }

// serveMux serves mux on 127.0.0.1 for the test and returns its base URL.
func serveMux(t testing.TB, mux *http.ServeMux) string {
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func getStatus(t testing.TB, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitReply waits until chat has n whole replies (each ends with the
// referral) and returns what a person reads of the nth.
func waitReply(t testing.TB, fake *telegramtest.Server, chat int64, n int) string {
	t.Helper()
	end := time.Now().Add(5 * time.Second)
	for {
		var cur []string
		done := 0
		for _, m := range fake.SentTo(chat) {
			p := plain(t, m)
			cur = append(cur, p)
			if strings.Contains(p, "Get help") {
				done++
				if done == n {
					return strings.Join(cur, "\n\n")
				}
				cur = nil
			}
		}
		if time.Now().After(end) {
			t.Fatalf("chat %d: waited for %d replies, got %d", chat, n, done)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
