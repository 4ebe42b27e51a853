package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/botstest"
	"github.com/kratombot/kratombot/bots/telegram/telegramtest"
)

// botCall makes one Bot API call on the fake as another program would.
func botCall(fake *telegramtest.Server, method string, form url.Values) error {
	u := strings.Replace(strings.Replace(fake.Endpoint(), "%s", tgTestToken, 1), "%s", method, 1)
	resp, err := http.PostForm(u, form)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// serveExit runs serve until it returns by itself and gives its exit code.
func serveExit(t *testing.T, stderr *botstest.Log) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return run(ctx, []string{"serve", "--knowledge", "../../knowledge/testdata/minimal"}, strings.NewReader(""), io.Discard, stderr)
}

// A second instance polling with the same token: Telegram ends this one's
// getUpdates with a 409, and serve exits non-zero saying why, instead of
// answering every message twice.
func TestServeTelegramSecondPollerExitsNonZero(t *testing.T) {
	fake := telegramtest.NewServer(t, tgTestToken)
	tgEnv(t, fake)
	other := make(chan error, 1)
	go func() {
		for fake.Calls("getUpdates") == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // serve's long poll is waiting
		other <- botCall(fake, "getUpdates", url.Values{"timeout": {"1"}})
	}()
	var stderr botstest.Log
	code := serveExit(t, &stderr)
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	if code == 0 {
		t.Fatalf("serve exited 0 with another poller:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "another process is getting this bot's updates") {
		t.Errorf("the error does not say why:\n%s", stderr.String())
	}
}

// A webhook registered for the bot (perhaps another deployment's) is not
// removed unless TELEGRAM_MODE=polling asks for long polling.
func TestServeTelegramWebhookActive(t *testing.T) {
	fake := telegramtest.NewServer(t, tgTestToken)
	tgEnv(t, fake)
	t.Setenv("TELEGRAM_MODE", "")
	if err := botCall(fake, "setWebhook", url.Values{"url": {"https://elsewhere.example.org/hook"}}); err != nil {
		t.Fatal(err)
	}
	var stderr botstest.Log
	if code := serveExit(t, &stderr); code == 0 || !strings.Contains(stderr.String(), "TELEGRAM_MODE=polling") {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	if fake.Calls("deleteWebhook") != 0 {
		t.Fatal("the webhook was removed without TELEGRAM_MODE=polling")
	}

	t.Setenv("TELEGRAM_MODE", "polling")
	stderr2, stop := tgServe(t)
	fake.AddMessage(1, "cant sleep")
	fake.WaitSent(1, 10*time.Second)
	if code := stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr2.String())
	}
	if fake.Calls("deleteWebhook") != 1 {
		t.Errorf("deleteWebhook called %d times", fake.Calls("deleteWebhook"))
	}
}

func TestServeTelegramModeIsChecked(t *testing.T) {
	fake := telegramtest.NewServer(t, tgTestToken)
	tgEnv(t, fake)
	for _, tc := range []struct{ mode, webhook, want string }{
		{"sometimes", "", "TELEGRAM_MODE"},
		{"webhook", "", "needs TELEGRAM_WEBHOOK_URL"},
		{"polling", "https://bot.example.org/telegram/webhook", "choose one"},
	} {
		t.Setenv("TELEGRAM_MODE", tc.mode)
		t.Setenv("TELEGRAM_WEBHOOK_URL", tc.webhook)
		t.Setenv("KRATOMBOT_HTTP_ADDR", map[bool]string{true: "127.0.0.1:0"}[tc.webhook != ""])
		var stderr botstest.Log
		if code := serveExit(t, &stderr); code == 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("TELEGRAM_MODE=%s: exit %d:\n%s", tc.mode, code, stderr.String())
		}
	}
}
