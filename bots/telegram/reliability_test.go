package telegram

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/bots/telegram/telegramtest"
)

// hookSite is one stable webhook address whose handler can be swapped, as
// a load balancer keeps its address while the processes behind it restart.
type hookSite struct {
	url string
	mu  sync.Mutex
	mux *http.ServeMux
}

func newHookSite(t testing.TB) *hookSite {
	hs := &hookSite{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.mu.Lock()
		mux := hs.mux
		hs.mu.Unlock()
		if mux == nil {
			http.Error(w, "no process behind the address", http.StatusBadGateway)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	hs.url = srv.URL + WebhookPath
	return hs
}

// bot builds a webhook-mode bot served at the site's address.
func (hs *hookSite) bot(t testing.TB, fake *telegramtest.Server, edit func(*Config, *Deps)) *harness {
	mux := http.NewServeMux()
	h := newHarness(t, fake, func(c *Config, d *Deps) {
		c.WebhookURL = hs.url
		d.Mux = mux
		if edit != nil {
			edit(c, d)
		}
	})
	hs.mu.Lock()
	hs.mux = mux
	hs.mu.Unlock()
	return h
}

// countReplies counts, per chat, the whole replies (ending with the
// referral) that contain each title.
func countTitles(fake *telegramtest.Server, chat int64, title string) int {
	n := 0
	for _, m := range fake.SentTo(chat) {
		if strings.Contains(m.Text, title) {
			n++
		}
	}
	return n
}

// The webhook request is answered 200 only once the reply went out: while
// Telegram refuses sends (429 for a second), the request times out with a
// 503, Telegram delivers the update again, and the person still gets one
// reply.
func TestWebhookAcknowledgesOnlyAfterTheReply(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.TooMany("sendMessage", 1, 1)
	hs := newHookSite(t)
	h := hs.bot(t, fake, func(c *Config, _ *Deps) { c.WebhookWait = 200 * time.Millisecond }).start()
	fake.WaitCalls("setWebhook", 1, 5*time.Second)
	id := fake.AddMessage(1, "cant sleep")
	fake.WaitSent(1, 10*time.Second)
	waitConfirmed(t, fake, 10*time.Second)
	quiet(t, fake, 1)
	if n := fake.Deliveries(id); n < 2 {
		t.Errorf("the update was delivered %d time(s); the first request should have been left unacknowledged while the reply waited", n)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// SIGTERM in webhook mode: new updates are refused, the replies that fit
// the grace period go out and are acknowledged, the rest stay with
// Telegram, and the next process answers them. Nothing is lost; at most the
// replies being sent at the cut are sent twice.
func TestWebhookStopLosesNothing(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	hs := newHookSite(t)
	cfg := func(c *Config, _ *Deps) {
		c.Limits = Limits{Global: 400, GlobalBurst: 1, ChatInterval: 150 * time.Millisecond}
		c.ShutdownTimeout = 200 * time.Millisecond
		c.MaxQueued = 5
	}
	h := hs.bot(t, fake, cfg).start()
	fake.WaitCalls("setWebhook", 1, 5*time.Second)
	titles := []string{"Trouble sleeping", "Restless legs", "Seeing a professional"}
	questions := []string{"cant sleep", "my legs wont stop moving", "should i see a doctor"}
	const chats = 20
	for round := range questions {
		for chat := int64(1); chat <= chats; chat++ {
			fake.AddMessage(chat, questions[round])
		}
	}
	fake.WaitSent(chats, 10*time.Second)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	first := len(fake.Sent())
	if first == 3*chats {
		t.Fatal("every reply went out before the stop; the redelivery path was not tested")
	}
	if fake.Pending() == 0 {
		t.Fatal("every update was acknowledged although not every reply went out")
	}
	hs.bot(t, fake, cfg).start()
	waitConfirmed(t, fake, 20*time.Second)
	quietFor(fake, 100*time.Millisecond)
	lost, doubled := 0, 0
	for chat := int64(1); chat <= chats; chat++ {
		for _, title := range titles {
			switch n := countTitles(fake, chat, title); {
			case n == 0:
				lost++
			case n > 1:
				doubled += n - 1
			}
		}
	}
	t.Logf("webhook SIGTERM: %d of %d replies before the stop, %d lost, %d doubled", first, 3*chats, lost, doubled)
	if lost > 0 {
		t.Errorf("%d replies lost", lost)
	}
	if doubled > chats { // at most one reply in flight per chat at the cut
		t.Errorf("%d replies doubled, more than were in flight", doubled)
	}
}

// Two instances polling with one token: Telegram ends the earlier
// getUpdates with a 409; that instance stops with a clear error instead of
// answering twice, and the other answers everything once.
func TestSecondPollerStopsTheFirst(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	a := newHarness(t, fake, nil).start()
	fake.WaitCalls("getUpdates", 1, 5*time.Second)
	time.Sleep(50 * time.Millisecond) // a's long poll is waiting at the server
	b := newHarness(t, fake, nil).start()
	select {
	case err := <-a.done:
		a.cancel = nil
		if err == nil || !strings.Contains(err.Error(), "another process") || !strings.Contains(err.Error(), "webhook mode") {
			t.Fatalf("the first poller returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first poller kept polling after a 409")
	}
	if fake.Conflicts() == 0 {
		t.Error("the fake gave no 409")
	}
	for chat := int64(1); chat <= 30; chat++ {
		fake.AddMessage(chat, "cant sleep")
	}
	fake.WaitSent(30, 10*time.Second)
	quiet(t, fake, 30)
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "log", a.logs.String(), "another instance is polling")
}

// floodCase is one chat writing fast while others ask one question each.
func floodCase(t *testing.T, webhook bool) {
	fake := telegramtest.NewServer(t, testToken)
	cfg := func(c *Config, _ *Deps) {
		c.Limits = Limits{Global: 1000, GlobalBurst: 1, ChatInterval: 100 * time.Millisecond}
		c.BusyPoll = 20 * time.Millisecond
	}
	h := startBot(t, fake, webhook, cfg, 5*time.Second)
	const flooder, flood, others = int64(1), 300, 20
	for i := 0; i < flood; i++ {
		text := "cant sleep"
		if i == flood/2 {
			text = "i want to die"
		}
		fake.AddMessage(flooder, text)
		if i%(flood/others) == 0 {
			fake.AddMessage(int64(100+i/(flood/others)), "my legs wont stop moving")
		}
	}
	for c := int64(100); c < 100+others; c++ {
		waitReply(t, fake, c, 1)
	}
	waitConfirmed(t, fake, 20*time.Second)
	quietFor(fake, 200*time.Millisecond)
	ms := fake.SentTo(flooder)
	notices, crisis, answers := 0, 0, 0
	for _, m := range ms {
		p := plain(t, m)
		switch {
		case strings.Contains(p, "still answering your earlier messages"):
			notices++
		case strings.HasPrefix(p, "Please reach out now: 988"):
			crisis++
		default:
			answers++
		}
		if !strings.Contains(p, referral) {
			t.Errorf("a message without a referral: %q", p)
		}
	}
	t.Logf("flood of %d: %d answers, %d notice(s), %d crisis replies", flood, answers, notices, crisis)
	if notices != 1 {
		t.Errorf("%d notices, want exactly one", notices)
	}
	if crisis != 1 {
		t.Errorf("the crisis in the flood got %d replies, want 1", crisis)
	}
	if answers >= flood/2 {
		t.Errorf("%d of the flood's messages were answered: nothing was dropped", answers)
	}
	for c := int64(100); c < 100+others; c++ {
		if n := len(fake.SentTo(c)); n != 1 {
			t.Errorf("chat %d got %d replies, want 1", c, n)
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestFloodIsBoundedAndCrisisIsNeverDropped(t *testing.T) {
	t.Run("polling", func(t *testing.T) { floodCase(t, false) })
	t.Run("webhook", func(t *testing.T) { floodCase(t, true) })
}

// A crisis goes before the messages a chat has waiting.
func TestCrisisJumpsTheChatsQueue(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	// all four arrive in one getUpdates answer
	fake.AddMessage(1, "cant sleep")
	fake.AddMessage(1, "my legs wont stop moving")
	fake.AddMessage(1, "should i see a doctor")
	fake.AddMessage(1, "i want to die")
	h := newHarness(t, fake, func(c *Config, _ *Deps) {
		c.Limits.ChatInterval = 200 * time.Millisecond
	}).start()
	fake.WaitSent(4, 10*time.Second)
	ms := fake.SentTo(1)
	pos := -1
	for i, m := range ms {
		if strings.HasPrefix(plain(t, m), "Please reach out now: 988") {
			pos = i
		}
	}
	// the batch is read for crisis words before any of it is queued
	if pos != 0 {
		t.Errorf("the crisis reply came at position %d of %d; it must go first, not wait behind the chat's queue", pos, len(ms))
	}
	_ = h
}

// Telegram's own error texts: "message is too long" is split again and
// sent; "message to be replied not found" (and the newer "replied message
// not found") is sent again without the reply, crisis line included.
func TestSendErrorsTelegramReallyReturns(t *testing.T) {
	t.Run("too long", func(t *testing.T) {
		fake := telegramtest.NewServer(t, testToken)
		fake.Fail("sendMessage", 1, 400, "Bad Request: message is too long")
		h := newHarness(t, fake, nil).start()
		fake.AddMessage(1, "cant sleep")
		ms := fake.WaitSent(2, 10*time.Second)
		quiet(t, fake, 2)
		whole := plain(t, ms[0]) + "\n" + plain(t, ms[1])
		mustContain(t, "the reply split again", whole, "Trouble sleeping", "Sleep problems", referral)
		if strings.Contains(plain(t, ms[0]), referral) || !strings.Contains(plain(t, ms[1]), referral) {
			t.Errorf("the referral is not in the last part")
		}
		if len(ms[0].Buttons()) > 0 || len(ms[1].Buttons()) == 0 {
			t.Errorf("buttons not on the last part")
		}
		_ = h
	})
	for _, text := range []string{"Bad Request: message to be replied not found", "Bad Request: replied message not found", "Bad Request: reply message not found"} {
		t.Run(text, func(t *testing.T) {
			fake := telegramtest.NewServer(t, testToken)
			fake.Fail("sendMessage", 1, 400, text)
			h := newHarness(t, fake, nil).start()
			fake.AddUpdate(telegramtest.GroupMessage(-7, 8, "/ask@kratomhelp_bot i want to die"))
			m := fake.WaitSent(1, 10*time.Second)[0]
			if m.ReplyTo != 0 || !strings.HasPrefix(plain(t, m), "Please reach out now: 988") {
				t.Errorf("resent as a reply to %d: %.60q", m.ReplyTo, plain(t, m))
			}
			_ = h
		})
	}
}

// In a forum topic every part of a reply, the answer to a button and the
// flood notice stay in the topic where the person asked.
func TestForumTopicsKeepEveryMessageInTheTopic(t *testing.T) {
	const group, topic = -100555, 42
	h := run(t, nil)
	h.fake.AddTopicUpdate(telegramtest.TopicMessage(group, 8, "/help@kratomhelp_bot"), topic)
	waitReply(t, h.fake, group, 1)
	h.fake.AddTopicUpdate(telegramtest.GroupCallback(group, 8, 1, "o:restless-legs"), topic)
	waitReply(t, h.fake, group, 2)
	// General has no thread id
	h.fake.AddUpdate(telegramtest.GroupMessage(group, 8, "/ask@kratomhelp_bot cant sleep"))
	waitReply(t, h.fake, group, 3)
	ms := h.fake.SentTo(group)
	if len(ms) < 4 {
		t.Fatalf("%d messages; the help text should take several", len(ms))
	}
	for i, m := range ms[:len(ms)-1] {
		if m.Thread != topic {
			t.Errorf("message %d of %d went to thread %d, want the topic %d", i+1, len(ms), m.Thread, topic)
		}
	}
	if last := ms[len(ms)-1]; last.Thread != 0 {
		t.Errorf("a reply in General went to thread %d", last.Thread)
	}
}

// "Was this helpful?" counts once per message and person, ignores forged
// topics, and then shows as thanked.
func TestFeedbackCountsOncePerMessageAndPerson(t *testing.T) {
	h := run(t, func(c *Config, _ *Deps) { c.Feedback = true })
	h.fake.AddMessage(3, "cant sleep")
	m := h.fake.WaitSent(1, 5*time.Second)[0]
	press := func(chat, from int64, msg int, data string, markup *tgbotapi.InlineKeyboardMarkup) {
		u := telegramtest.Callback(chat, msg, data)
		u.CallbackQuery.From.ID = from
		u.CallbackQuery.Message.ReplyMarkup = markup
		h.fake.AddUpdate(u)
	}
	press(3, 3, m.MessageID, "h:y:sleep", m.Markup)
	press(3, 3, m.MessageID, "h:y:sleep", m.Markup)               // again
	press(3, 3, m.MessageID, "h:n:sleep", m.Markup)               // changed their mind: still once
	press(3, 3, m.MessageID, "h:y:no-such-topic", m.Markup)       // forged
	press(3, 3, m.MessageID, "h:y:"+strings.Repeat("x", 40), nil) // forged
	h.fake.WaitCalls("answerCallbackQuery", 5, 5*time.Second)
	// in a group, each person once
	h.fake.AddUpdate(telegramtest.GroupMessage(-9, 8, "/ask@kratomhelp_bot cant sleep"))
	g := h.fake.WaitSent(2, 5*time.Second)[1]
	for _, from := range []int64{8, 9, 8} {
		u := telegramtest.GroupCallback(-9, from, g.MessageID, "h:y:sleep")
		h.fake.AddUpdate(u)
	}
	h.fake.WaitCalls("answerCallbackQuery", 8, 5*time.Second)
	time.Sleep(50 * time.Millisecond)
	var fb []bots.Event
	for _, ev := range h.events.All() {
		if ev.Helpful != nil {
			fb = append(fb, ev)
		}
	}
	if len(fb) != 3 {
		t.Errorf("%d feedback events, want 3 (one private, two people in the group): %+v", len(fb), fb)
	}
	for _, ev := range fb {
		if ev.Topic != "sleep" {
			t.Errorf("feedback recorded for topic %q", ev.Topic)
		}
	}
	edits := h.fake.Edits()
	if len(edits) != 1 || edits[0].MessageID != m.MessageID {
		t.Fatalf("edits = %+v, want the private answer's buttons marked once", edits)
	}
	var labels []string
	for _, row := range edits[0].Markup.InlineKeyboard {
		for _, b := range row {
			labels = append(labels, b.Text)
		}
	}
	all := strings.Join(labels, " | ")
	if !strings.Contains(all, "Thanks for your feedback") || strings.Contains(all, "Helpful") || !strings.Contains(all, "Restless") {
		t.Errorf("buttons after feedback: %s", all)
	}
	answers := h.fake.CallbackAnswers()
	if answers[1].Text != feedbackAgain || answers[0].Text != feedbackThanks {
		t.Errorf("callback answers %+v", answers)
	}
}

// 429s are summed up in one log line a minute, not a warning each.
func Test429sAreSummedUp(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.TooMany("sendMessage", 20, 1)
	h := newHarness(t, fake, nil).start()
	for chat := int64(1); chat <= 10; chat++ {
		fake.AddMessage(chat, "cant sleep")
	}
	fake.WaitSent(10, 20*time.Second)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	if n := strings.Count(logs, "slow down"); n < 1 || n > 2 {
		t.Errorf("%d log lines about 429s, want the first and one summary:\n%s", n, logs)
	}
	if !strings.Contains(logs, "sendMessage=") {
		t.Errorf("no counts in the summary:\n%s", logs)
	}
}

// Start-up: a network error is retried until Telegram answers; only a
// refused token stops the bot. Connected is called once Telegram answered.
func TestStartupRetriesAndReportsConnection(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.Stop()
	var connected atomic.Int32
	h := newHarness(t, fake, func(_ *Config, d *Deps) { d.Connected = func() { connected.Add(1) } }).start()
	time.Sleep(150 * time.Millisecond)
	if connected.Load() != 0 {
		t.Fatal("connected before Telegram answered")
	}
	select {
	case err := <-h.done:
		t.Fatalf("Run gave up on a network error: %v", err)
	default:
	}
	fake.Start()
	fake.AddMessage(1, "cant sleep")
	fake.WaitSent(1, 10*time.Second)
	if connected.Load() == 0 {
		t.Error("connected was not called")
	}
	_ = h.stop()

	for _, code := range []int{401, 404} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			fake := telegramtest.NewServer(t, testToken)
			fake.Fail("getMe", 1, code, map[int]string{401: "Unauthorized", 404: "Not Found"}[code])
			h := newHarness(t, fake, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := h.bot.Run(ctx); err == nil || !strings.Contains(err.Error(), "token was refused") {
				t.Errorf("Run = %v, want the token refused", err)
			}
		})
	}
}

// startBot starts the bot on a webhook or by long polling, and waits until
// it has told the fake Bot API which (setWebhook or a first getUpdates).
func startBot(tb testing.TB, fake *telegramtest.Server, webhook bool, edit func(*Config, *Deps), wait time.Duration) *harness {
	if webhook {
		h := newHookSite(tb).bot(tb, fake, edit).start()
		fake.WaitCalls("setWebhook", 1, wait)
		return h
	}
	h := newHarness(tb, fake, edit).start()
	fake.WaitCalls("getUpdates", 1, wait)
	return h
}
