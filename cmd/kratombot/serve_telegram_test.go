package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/botstest"

	"github.com/kratombot/kratombot/bots/telegram"
	"github.com/kratombot/kratombot/bots/telegram/telegramtest"
)

const tgTestToken = "555000111:AAE-serve-test-SECRETtoken"

// tgEnv points serve at a fake Bot API with only Telegram configured.
func tgEnv(t *testing.T, fake *telegramtest.Server) {
	for _, v := range []string{"DISCORD_BOT_TOKEN", "DISCORD_PUBLIC_KEY", "KRATOMBOT_STORE", "KRATOMBOT_HTTP_ADDR", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_MODE", "KRATOMBOT_REGION", "KRATOMBOT_LOG_TEXT"} {
		t.Setenv(v, "")
	}
	t.Setenv("TELEGRAM_BOT_TOKEN", tgTestToken)
	t.Setenv("TELEGRAM_API_ENDPOINT", fake.Endpoint())
}

// tgServe runs `kratombot serve` on the minimal knowledge until stop is
// called, which returns the exit code.
func tgServe(t *testing.T, args ...string) (stderr *botstest.Log, stop func() int) {
	return serveUntilStopped(t, append([]string{"--knowledge", "../../knowledge/testdata/minimal"}, args...)...)
}

// serveUntilStopped runs `kratombot serve args...` until stop is called,
// which returns the exit code; a test that never calls it stops serve at
// its end.
func serveUntilStopped(t *testing.T, args ...string) (stderr *botstest.Log, stop func() int) {
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &botstest.Log{}
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), io.Discard, stderr)
	}()
	stopped := false
	stop = func() int {
		cancel()
		if stopped {
			return 0
		}
		stopped = true
		select {
		case code := <-exit:
			return code
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	return stderr, stop
}

func TestServeTelegramLongPolling(t *testing.T) {
	fake := telegramtest.NewServer(t, tgTestToken)
	tgEnv(t, fake)
	t.Setenv("KRATOMBOT_REGION", "uk")
	stderr, stop := tgServe(t)
	fake.AddMessage(1, "cant sleep")
	m := fake.WaitSent(1, 10*time.Second)[0]
	if !strings.Contains(m.Text, "Trouble sleeping") || !strings.Contains(m.Text, "FRANK") {
		t.Errorf("reply %q lacks the answer or the UK referral", m.Text)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, stderr.String())
	}
	if fake.Pending() != 0 {
		t.Error("the answered update was not confirmed on stop")
	}
	logs := stderr.String()
	if strings.Contains(logs, "SECRETtoken") || strings.Contains(logs, "cant sleep") {
		t.Errorf("the log shows the token or the message:\n%s", logs)
	}
	if !strings.Contains(logs, "telegram connected") {
		t.Errorf("no start line in the log:\n%s", logs)
	}
}

func TestServeTelegramWebhook(t *testing.T) {
	fake := telegramtest.NewServer(t, tgTestToken)
	tgEnv(t, fake)
	t.Setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram/webhook")
	t.Setenv("TELEGRAM_WEBHOOK_SECRET", "serve-test-webhook-secret")
	stderr, stop := tgServe(t, "--http-addr", "127.0.0.1:0")
	addrRe := regexp.MustCompile(`msg="http listening" addr=(\S+)`)
	var base string
	deadline := time.Now().Add(10 * time.Second)
	for base == "" {
		if m := addrRe.FindStringSubmatch(stderr.String()); m != nil {
			base = "http://" + m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("serve did not listen:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	fake.WaitCalls("setWebhook", 1, 10*time.Second)
	if url, secret := fake.Webhook(); url != "https://bot.example.org/telegram/webhook" || secret != "serve-test-webhook-secret" {
		t.Fatalf("webhook registered as %q with secret %q", url, secret)
	}
	u := telegramtest.Message(3, "i want to die")
	u.UpdateID = 77
	if code, err := telegramtest.PostWebhook(base+telegram.WebhookPath, "nope", u); err != nil || code != 403 {
		t.Errorf("wrong secret: %d %v", code, err)
	}
	if code, err := telegramtest.PostWebhook(base+telegram.WebhookPath, "serve-test-webhook-secret", u); err != nil || code != 200 {
		t.Fatalf("right secret: %d %v", code, err)
	}
	m := fake.WaitSent(1, 10*time.Second)[0]
	if !strings.Contains(m.Text, "988") {
		t.Errorf("crisis reply %q lacks 988", m.Text)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "serve-test-webhook-secret") {
		t.Errorf("the webhook secret is in the log")
	}
}

func TestServeTelegramWrongTokenFails(t *testing.T) {
	fake := telegramtest.NewServer(t, "999:some-other-token-value")
	tgEnv(t, fake)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stderr botstest.Log
	code := run(ctx, []string{"serve", "--knowledge", "../../knowledge/testdata/minimal"}, strings.NewReader(""), io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "refused the bot token") {
		t.Errorf("exit %d:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "SECRETtoken") {
		t.Errorf("the token is in the output:\n%s", stderr.String())
	}
}

// TestServeTelegramSIGTERMMidBurst runs the real binary's main in a child
// process, sends it SIGTERM while replies are waiting on the per-chat limit,
// and checks it exits 0 with every reply sent once and every update
// confirmed.
func TestServeTelegramSIGTERMMidBurst(t *testing.T) {
	if os.Getenv("KRATOMBOT_TELEGRAM_CHILD") == "1" {
		os.Args = []string{"kratombot", "serve", "--knowledge", "../../knowledge/testdata/minimal"}
		main()
		return
	}
	fake := telegramtest.NewServer(t, tgTestToken)
	for chat := int64(1); chat <= 5; chat++ {
		fake.AddMessage(chat, "cant sleep")
		fake.AddMessage(chat, "should i see a doctor")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeTelegramSIGTERMMidBurst$")
	cmd.Env = append(os.Environ(), "KRATOMBOT_TELEGRAM_CHILD=1", "TELEGRAM_BOT_TOKEN="+tgTestToken,
		"TELEGRAM_API_ENDPOINT="+fake.Endpoint(), "TELEGRAM_WEBHOOK_URL=", "DISCORD_BOT_TOKEN=", "DISCORD_PUBLIC_KEY=",
		"KRATOMBOT_STORE=", "KRATOMBOT_HTTP_ADDR=")
	var stderr botstest.Log
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// the first replies are out; the second in each chat wait a second
	fake.WaitSent(3, 20*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("kratombot serve ended with %v after SIGTERM:\n%s", err, stderr.String())
	}
	if n := len(fake.Sent()); n != 10 {
		t.Errorf("%d replies after SIGTERM, want all 10 exactly once", n)
	}
	if fake.Pending() != 0 {
		t.Errorf("%d updates left unconfirmed: a restart would answer them twice", fake.Pending())
	}
	if strings.Contains(stderr.String(), "SECRETtoken") {
		t.Errorf("the token is in the output")
	}
}
