package telegram

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/botstest"
	"github.com/kratombot/kratombot/bots/telegram/telegramtest"
	"github.com/kratombot/kratombot/redact"
)

// restartChild runs the bot in a child process (this test binary) so that
// it can be killed for real; see TestRestartsLoseNothing.
const restartChild = "KRATOMBOT_TELEGRAM_RESTART_CHILD"

// childBot is the child's side: a bot with Telegram's limits divided by
// ten, long polling or a webhook on KRATOMBOT_TEST_WEBHOOK_ADDR, until
// SIGTERM (clean stop) or SIGKILL.
func childBot(t *testing.T) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg := Config{
		Token: testToken, Endpoint: os.Getenv("KRATOMBOT_TEST_ENDPOINT"),
		Limits:      Limits{Global: 300, GlobalBurst: 1, ChatInterval: 100 * time.Millisecond, GroupInterval: 300 * time.Millisecond},
		PollTimeout: 10 * time.Second, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		BusyPoll: 25 * time.Millisecond, ShutdownTimeout: 500 * time.Millisecond,
	}
	mux := http.NewServeMux()
	addr := os.Getenv("KRATOMBOT_TEST_WEBHOOK_ADDR")
	if addr != "" {
		cfg.WebhookURL = "http://" + addr + WebhookPath
		cfg.WebhookSecret = "restart-test-secret"
	}
	b, err := New(cfg, Deps{Engine: engine(t), Mux: mux, Redactor: redact.New(),
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: mux}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
	}
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// restartRun is one measurement: a burst of 300 messages from 100 chats,
// the bot stopped by sig after cut replies went out, then started again.
type restartRun struct {
	mode          string // "polling" or "webhook"
	sig           syscall.Signal
	cut           int
	sent, doubled int
	lost          int
}

// TestRestartsLoseNothing kills the bot (SIGKILL, SIGTERM) in the middle of
// a burst, in both modes, starts it again, and counts the replies lost
// (must be 0) and sent twice (at most those in flight at the cut). The
// figures are logged: go test -run TestRestartsLoseNothing -v ./bots/telegram
func TestRestartsLoseNothing(t *testing.T) {
	if os.Getenv(restartChild) == "1" {
		childBot(t)
		return
	}
	if testing.Short() {
		t.Skip("starts the bot six times in child processes")
	}
	var runs []restartRun
	for _, mode := range []string{"polling", "webhook"} {
		for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
			for _, cut := range []int{60, 180} {
				if sig == syscall.SIGTERM && cut == 180 {
					continue
				}
				r := restartRun{mode: mode, sig: sig, cut: cut}
				t.Run(fmt.Sprintf("%s/%v/after-%d", mode, sig, cut), func(t *testing.T) { measureRestart(t, &r) })
				runs = append(runs, r)
			}
		}
	}
	for _, r := range runs {
		t.Logf("%-7s %-10v cut after %3d replies: %3d replies before the restart, lost %d, doubled %d", r.mode, r.sig, r.cut, r.sent, r.lost, r.doubled)
	}
}

func measureRestart(t *testing.T, r *restartRun) {
	fake := telegramtest.NewServer(t, testToken)
	env := append(os.Environ(), restartChild+"=1", "KRATOMBOT_TEST_ENDPOINT="+fake.Endpoint())
	if r.mode == "webhook" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		env = append(env, "KRATOMBOT_TEST_WEBHOOK_ADDR="+addr)
	}
	start := func() (*exec.Cmd, *botstest.Log) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRestartsLoseNothing$")
		cmd.Env = env
		var stderr botstest.Log
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &stderr
	}
	titles := []string{"Trouble sleeping", "Restless legs", "Seeing a professional"}
	questions := []string{"cant sleep", "my legs wont stop moving", "should i see a doctor"}
	const chats = 100
	cmd, stderr := start()
	if r.mode == "webhook" {
		fake.WaitCalls("setWebhook", 1, 30*time.Second)
	} else {
		fake.WaitCalls("getUpdates", 1, 30*time.Second)
	}
	for round := range questions {
		for chat := int64(1); chat <= chats; chat++ {
			fake.AddMessage(chat, questions[round])
		}
	}
	fake.WaitSent(r.cut, 60*time.Second)
	if err := cmd.Process.Signal(r.sig); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if r.sig == syscall.SIGTERM && err != nil {
		t.Errorf("SIGTERM: the bot ended with %v:\n%s", err, stderr.String())
	}
	r.sent = len(fake.Sent())
	cmd2, stderr2 := start()
	defer func() {
		_ = cmd2.Process.Signal(syscall.SIGTERM)
		_ = cmd2.Wait()
		if t.Failed() {
			t.Logf("first run:\n%s\nsecond run:\n%s", stderr.String(), stderr2.String())
		}
	}()
	waitConfirmed(t, fake, 60*time.Second)
	quietFor(fake, 300*time.Millisecond)
	for chat := int64(1); chat <= chats; chat++ {
		for _, title := range titles {
			switch n := countTitles(fake, chat, title); {
			case n == 0:
				r.lost++
			case n > 1:
				r.doubled += n - 1
			}
		}
	}
	if r.lost > 0 {
		t.Errorf("%d replies lost", r.lost)
	}
	// In flight at a cut: a reply being sent in each chat with one due, and
	// in long polling those answered since the last getUpdates confirmed
	// them (BusyPoll apart, at 300 a second: under 10).
	if r.doubled > 40 {
		t.Errorf("%d replies doubled", r.doubled)
	}
	if strings.Contains(stderr.String()+stderr2.String(), "SECRETtoken") {
		t.Error("the token is in the output")
	}
}
