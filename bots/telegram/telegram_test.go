package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/bots/telegram/telegramtest"
)

func TestStartWelcomesWithMenuAndRegistersCommands(t *testing.T) {
	h := run(t, nil)
	h.fake.AddMessage(42, "/start")
	m := h.fake.WaitSent(1, 5*time.Second)[0]
	if m.ChatID != 42 || m.ParseMode != "HTML" {
		t.Fatalf("sent to %d in mode %q", m.ChatID, m.ParseMode)
	}
	mustContain(t, "welcome", plain(t, m), "not medical advice", referral)
	for _, b := range []string{"o:menu:symptom", "o:menu:treatment", "o:menu:faq", "o:resources"} {
		if !hasButton(m, b) {
			t.Errorf("welcome has no button %q: %v", b, m.Buttons())
		}
	}
	h.fake.WaitCalls("setMyCommands", 1, 5*time.Second)
	var got []string
	for _, c := range h.fake.Commands() {
		got = append(got, c.Command)
	}
	if want := "start help ask symptoms treatment faq resources crisis region privacy"; strings.Join(got, " ") != want {
		t.Errorf("command menu = %v, want %s", got, want)
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run returned %v after a clean stop", err)
	}
}

func TestCommands(t *testing.T) {
	h := run(t, nil)
	tests := []struct {
		cmd     string
		want    []string // in what a person reads
		button  string   // a button the reply must offer
		first   string   // what the first message must start with
		maxSent int      // 0: one message
	}{
		{cmd: "/help", want: []string{"Paragraph 1 of the help", "Paragraph 12 of the help"}, button: "o:menu:symptom", maxSent: 3},
		{cmd: "/symptoms", want: []string{"Trouble sleeping", "Restless legs"}, button: "o:sleep"},
		{cmd: "/treatment", want: []string{"Seeing a professional"}, button: "o:see-a-professional"},
		{cmd: "/faq", want: []string{"Choose a topic"}},
		{cmd: "/resources", want: []string{"These services can help", "988"}, button: "o:region:UK"},
		{cmd: "/crisis", first: "Please reach out now: 988", want: []string{"call now"}},
		{cmd: "/privacy", want: []string{"Nothing you write is stored"}},
		{cmd: "/restless_legs", want: []string{"Restless legs are a common withdrawal symptom"}},
		{cmd: "/nonsense", want: []string{"Paragraph 1 of the help"}, maxSent: 3},
		{cmd: "/help@kratomhelp_bot", want: []string{"Paragraph 1 of the help"}, maxSent: 3},
	}
	for i, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			chat := int64(1000 + i)
			h.fake.AddMessage(chat, tc.cmd)
			waitReply(t, h.fake, chat, 1)
			ms := h.fake.SentTo(chat)
			if tc.maxSent == 0 && len(ms) != 1 || len(ms) > max(tc.maxSent, 1) {
				t.Fatalf("%d messages, want 1..%d", len(ms), max(tc.maxSent, 1))
			}
			var all []string
			for _, m := range ms {
				all = append(all, plain(t, m))
			}
			text := strings.Join(all, "\n\n")
			mustContain(t, tc.cmd, text, tc.want...)
			if !strings.Contains(all[len(all)-1], referral) {
				t.Errorf("the last message has no referral:\n%s", all[len(all)-1])
			}
			if tc.first != "" && !strings.HasPrefix(all[0], tc.first) {
				t.Errorf("first message starts %.40q, want %q", all[0], tc.first)
			}
			if tc.button != "" && !hasButton(ms[len(ms)-1], tc.button) {
				t.Errorf("no button %q in %v", tc.button, ms[len(ms)-1].Buttons())
			}
		})
	}
}

func TestFreeTextGetsAnswerWithReferralAndRelatedButtons(t *testing.T) {
	h := run(t, nil)
	h.fake.AddMessage(7, "I cant sleep since quitting")
	m := h.fake.WaitSent(1, 5*time.Second)[0]
	p := plain(t, m)
	if !strings.HasPrefix(m.Text, "<b>Trouble sleeping</b>") {
		t.Errorf("the title is not bold first: %.60q", m.Text)
	}
	mustContain(t, "answer", p, "Sleep problems are common", referral)
	if !hasButton(m, "o:restless-legs") {
		t.Errorf("related topic not offered: %v", m.Buttons())
	}
	if hasButton(m, "h:y:sleep") {
		t.Errorf("feedback buttons shown although feedback is off")
	}
	quiet(t, h.fake, 1)
	evs := h.events.All()
	if len(evs) != 1 || evs[0].Platform != "telegram" || evs[0].Topic != "sleep" || evs[0].Question != "" {
		t.Errorf("events = %+v, want one telegram event for sleep without the question", evs)
	}
	if strings.Contains(h.logs.String(), "cant sleep") {
		t.Errorf("the message text was logged:\n%s", h.logs.String())
	}
}

func TestLogTextLogsMessagesOnlyWhenAsked(t *testing.T) {
	h := run(t, func(c *Config, _ *Deps) { c.LogText = true })
	h.fake.AddMessage(7, "I cant sleep since quitting")
	h.fake.WaitSent(1, 5*time.Second)
	mustContain(t, "log", h.logs.String(), "cant sleep")
}

func TestCrisisLineComesFirst(t *testing.T) {
	tests := []struct{ text, first string }{
		{"i want to die", "Please reach out now: 988"},
		{"I think my friend took an overdose", "Emergency: call 911 now."},
		{"i want to die, also how much kratom for sleep", "Please reach out now: 988"},
	}
	h := run(t, nil)
	for i, tc := range tests {
		chat := int64(50 + i)
		h.fake.AddMessage(chat, tc.text)
		ms := h.fake.WaitSent(i+1, 5*time.Second)
		m := ms[len(ms)-1]
		if m.ChatID != chat {
			t.Fatalf("reply went to %d", m.ChatID)
		}
		if p := plain(t, m); !strings.HasPrefix(p, tc.first) || !strings.Contains(p, referral) {
			t.Errorf("%q: reply is\n%s\nwant it to start with %q and carry the referral", tc.text, p, tc.first)
		}
	}
}

func TestButtonsOpenTopicsAndSetRegion(t *testing.T) {
	h := run(t, nil)
	h.fake.AddUpdate(telegramtest.Callback(9, 1, "o:restless-legs"))
	m := h.fake.WaitSent(1, 5*time.Second)[0]
	mustContain(t, "topic", plain(t, m), "Restless legs are a common", referral)

	h.fake.AddUpdate(telegramtest.Callback(9, 1, "o:region:UK"))
	m = h.fake.WaitSent(2, 5*time.Second)[1]
	mustContain(t, "UK helplines", plain(t, m), "Samaritans", "FRANK")
	if r, ok, _ := h.regions.ChatRegion(context.Background(), "telegram:9"); !ok || r != "UK" {
		t.Errorf("chat region = %q, %v; want UK remembered", r, ok)
	}
	// later answers in that chat use its region
	h.fake.AddMessage(9, "cant sleep")
	m = h.fake.WaitSent(3, 5*time.Second)[2]
	mustContain(t, "UK answer", plain(t, m), "FRANK")
	if strings.Contains(plain(t, m), referral) {
		t.Errorf("UK chat got the US referral")
	}
	// an old or foreign button only stops its spinner
	h.fake.AddUpdate(telegramtest.Callback(9, 1, "zzz"))
	h.fake.WaitCalls("answerCallbackQuery", 3, 5*time.Second)
	quiet(t, h.fake, 3)
}

func TestRegionCommandAndDefault(t *testing.T) {
	h := run(t, func(c *Config, _ *Deps) { c.Region = "UK" })
	h.fake.AddMessage(5, "cant sleep")
	m := h.fake.WaitSent(1, 5*time.Second)[0]
	mustContain(t, "default region", plain(t, m), "FRANK")

	h.fake.AddMessage(6, "/region usa")
	m = h.fake.WaitSent(2, 5*time.Second)[1]
	mustContain(t, "region reply", plain(t, m), "988", referral)
	h.fake.AddMessage(6, "cant sleep")
	m = h.fake.WaitSent(3, 5*time.Second)[2]
	mustContain(t, "US chat", plain(t, m), referral)

	h.fake.AddMessage(6, "/region atlantis")
	m = h.fake.WaitSent(4, 5*time.Second)[3]
	if !hasButton(m, "o:region:UK") {
		t.Errorf("an unknown region should offer the known ones: %v", m.Buttons())
	}
}

func TestFeedbackButtonsRecordAndThank(t *testing.T) {
	h := run(t, func(c *Config, _ *Deps) { c.Feedback = true })
	h.fake.AddMessage(3, "cant sleep")
	m := h.fake.WaitSent(1, 5*time.Second)[0]
	if !hasButton(m, "h:y:sleep") || !hasButton(m, "h:n:sleep") {
		t.Fatalf("no feedback buttons on a topic answer: %v", m.Buttons())
	}
	h.fake.AddMessage(3, "/help")
	ms := h.fake.WaitSent(3, 5*time.Second)
	for _, m := range ms[1:] {
		if hasButton(m, "h:y:sleep") || strings.Contains(strings.Join(m.Buttons(), " "), "h:") {
			t.Errorf("feedback buttons on a non-topic reply: %v", m.Buttons())
		}
	}
	sent := len(h.fake.Sent())
	h.fake.AddUpdate(telegramtest.Callback(3, m.MessageID, "h:n:sleep"))
	h.fake.WaitCalls("answerCallbackQuery", 1, 5*time.Second)
	quiet(t, h.fake, sent) // thanks come on the button, not as a message
	if a := h.fake.CallbackAnswers(); len(a) != 1 || a[0].Text == "" {
		t.Errorf("callback answers = %+v, want one with a thank-you", a)
	}
	var fb []bots.Event
	for _, ev := range h.events.All() {
		if ev.Helpful != nil {
			fb = append(fb, ev)
		}
	}
	if len(fb) != 1 || fb[0].Topic != "sleep" || *fb[0].Helpful || fb[0].Platform != "telegram" {
		t.Errorf("feedback events = %+v, want one not-helpful for sleep", fb)
	}
}

func TestLongReplyIsSplitWithReferralLast(t *testing.T) {
	h := run(t, nil)
	h.fake.AddMessage(11, "/help")
	h.fake.WaitSent(2, 5*time.Second)
	quietFor(h.fake, 50*time.Millisecond)
	ms := h.fake.SentTo(11)
	if len(ms) < 2 {
		t.Fatalf("the help text over 4096 characters went in %d message(s)", len(ms))
	}
	for i, m := range ms {
		p := plain(t, m)
		if n := len(utf16.Encode([]rune(p))); n > 4096 {
			t.Errorf("part %d has %d characters", i, n)
		}
		if has := strings.Contains(p, referral); has != (i == len(ms)-1) {
			t.Errorf("part %d of %d: referral present = %v", i+1, len(ms), has)
		}
		if has := len(m.Buttons()) > 0; has != (i == len(ms)-1) {
			t.Errorf("part %d of %d: buttons present = %v", i+1, len(ms), has)
		}
		// split at paragraph boundaries: no part starts or ends mid-sentence
		if !strings.HasPrefix(p, "Paragraph") && !strings.HasPrefix(p, "Get help") {
			t.Errorf("part %d starts mid-paragraph: %.40q", i+1, p)
		}
	}
}

func quietFor(fake *telegramtest.Server, d time.Duration) {
	for n := -1; n != len(fake.Sent()); {
		n = len(fake.Sent())
		time.Sleep(d)
	}
}

func TestYAMLTextIsEscaped(t *testing.T) {
	h := run(t, nil)
	h.fake.AddMessage(12, "why does everything hurt")
	m := h.fake.WaitSent(1, 5*time.Second)[0]
	p := plain(t, m) // fails the test if Telegram could not parse it
	mustContain(t, "escaped answer", p, `Aches & <pains> "everywhere"`, "<b>this is not markup</b> and </script> is just text", "A & B < C > D")
	if !strings.HasPrefix(m.Text, "<b>Aches &amp; &lt;pains&gt;") {
		t.Errorf("title not escaped and bold: %.60q", m.Text)
	}
}

// In groups Telegram's privacy mode (on by default) delivers commands meant
// for the bot, replies to it and messages via it, not messages that only
// @mention it; /ask is the way in. With privacy off the bot receives
// everything and answers only what is addressed to it.
func TestGroupsAnswerOnlyWhatIsAddressedToTheBot(t *testing.T) {
	const group = -100123
	for _, privacy := range []bool{true, false} {
		t.Run(fmt.Sprintf("privacy=%v", privacy), func(t *testing.T) {
			h := run(t, nil)
			h.fake.SetPrivacy(privacy)
			me := h.fake.Me
			replyTo := func(from *tgbotapi.User, text string) tgbotapi.Update {
				u := telegramtest.GroupMessage(group, 8, text)
				u.Message.ReplyToMessage = &tgbotapi.Message{MessageID: 1, From: from, Chat: u.Message.Chat}
				return u
			}
			steps := []struct {
				u         tgbotapi.Update
				delivered bool // by Telegram
				answer    bool // by the bot
				want      string
			}{
				{telegramtest.GroupMessage(group, 8, "I cant sleep"), !privacy, false, ""},
				{telegramtest.GroupMessage(group, 8, "/help@otherbot"), !privacy, false, ""},
				{replyTo(&tgbotapi.User{ID: 99}, "cant sleep either"), !privacy, false, ""},
				{telegramtest.GroupMessage(group, 8, "@KratomHelp_bot I cant sleep"), !privacy, !privacy, "Sleep problems"},
				{telegramtest.GroupMessage(group, 8, "/ask@kratomhelp_bot my legs wont stop moving"), true, true, "Restless legs"},
				{telegramtest.GroupMessage(group, 8, "/symptoms@kratomhelp_bot"), true, true, "Trouble sleeping"},
				// the bot has now sent to the group: a bare command reaches it
				{telegramtest.GroupMessage(group, 8, "/ask I cant sleep"), true, true, "Sleep problems"},
				{replyTo(&me, "and restless legs?"), true, true, "Restless legs"},
				{telegramtest.GroupMessage(group, 8, "email me at x@kratomhelp_botnet.com"), !privacy, false, ""},
			}
			want := 0
			for i, st := range steps {
				id := h.fake.AddUpdate(st.u)
				if (id != 0) != st.delivered {
					t.Fatalf("step %d: delivered = %v, want %v", i, id != 0, st.delivered)
				}
				if !st.answer {
					continue
				}
				want++
				m := h.fake.WaitSent(want, 5*time.Second)[want-1]
				if m.ChatID != group || m.ReplyTo != st.u.Message.MessageID {
					t.Errorf("step %d: reply in chat %d to message %d, want a reply to %d in the group", i, m.ChatID, m.ReplyTo, st.u.Message.MessageID)
				}
				mustContain(t, fmt.Sprintf("step %d", i), plain(t, m), st.want, referral)
			}
			// a final addressed message proves the ones before it were handled (in order)
			h.fake.AddUpdate(telegramtest.GroupMessage(group, 8, "/ask@kratomhelp_bot thanks"))
			h.fake.WaitSent(want+1, 5*time.Second)
			quiet(t, h.fake, want+1)
		})
	}
}

func TestBadInputGetsCalmReply(t *testing.T) {
	sticker := telegramtest.Message(1, "")
	photo := telegramtest.Message(2, "")
	photo.Message.Caption = "cant sleep"
	tests := []struct {
		name string
		u    tgbotapi.Update
		want string
	}{
		{"sticker (no text)", sticker, "not sure I understood"},
		{"photo with caption", photo, "Sleep problems"},
		{"huge", telegramtest.Message(3, strings.Repeat("sleep ", 20000)), referral},
		{"binary", telegramtest.Message(4, "\x00\xff\xfe\x01sleep\x80"), referral},
		{"odd unicode", telegramtest.Message(5, "\u202e\u200bｓｌｅｅｐ\U0001F600\u0301"), referral},
		{"lone slash", telegramtest.Message(6, "/"), referral},
		{"odd command", telegramtest.Message(7, "/@@@ x"), referral},
		{"command with newline", telegramtest.Message(8, "/region\nuk"), "FRANK"},
		{"broken entities", tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 1, Chat: &tgbotapi.Chat{ID: 9, Type: "private"},
			Text: "/x", Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: 99}}}}, referral},
	}
	h := run(t, nil)
	for _, tc := range tests {
		h.fake.AddUpdate(tc.u)
		if p := waitReply(t, h.fake, tc.u.Message.Chat.ID, 1); !strings.Contains(p, tc.want) {
			t.Errorf("%s: reply\n%s\nwant %q and a referral", tc.name, p, tc.want)
		}
	}
	if strings.Contains(h.logs.String(), "panic") {
		t.Errorf("bad input caused a panic:\n%s", h.logs.String())
	}
}

func TestPanicIsRecoveredWithoutText(t *testing.T) {
	h := newHarness(t, telegramtest.NewServer(t, testToken), nil)
	h.bot.hook = func(u tgbotapi.Update) {
		if u.Message != nil && strings.Contains(u.Message.Text, "private words") {
			panic("handling " + u.Message.Text + " with " + testToken)
		}
		if u.Message != nil && strings.Contains(u.Message.Text, "index") {
			var s []int
			_ = s[len(u.Message.Text)]
		}
	}
	h.start()
	h.fake.AddMessage(21, "my private words")
	h.fake.AddMessage(22, "index please")
	h.fake.AddMessage(21, "cant sleep")
	h.fake.WaitSent(3, 5*time.Second)
	for _, m := range h.fake.SentTo(21)[:1] {
		mustContain(t, "reply after a panic", plain(t, m), referral)
	}
	mustContain(t, "next reply", plain(t, h.fake.SentTo(21)[1]), "Sleep problems")
	logs := h.logs.String()
	mustContain(t, "log", logs, "recovered from a panic", "index out of range", "a value of type string")
	for _, leak := range []string{"private words", testToken, "SECRETtoken"} {
		if strings.Contains(logs, leak) {
			t.Errorf("the panic log shows %q:\n%s", leak, logs)
		}
	}
	quiet(t, h.fake, 3)
}

func TestBurstOf300From100ChatsWithinLimits(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	// Telegram's limits scaled down, checked by the server as messages
	// arrive: one that breaks them gets a 429 and counts as a violation. The
	// margins absorb scheduling delays on a busy 2-core machine, where
	// requests sent on time can arrive bunched.
	fake.SetLimits(telegramtest.Limits{ChatInterval: 100 * time.Millisecond, GlobalWindow: time.Second, GlobalMax: 200 + 40, Slack: 50 * time.Millisecond})
	h := newHarness(t, fake, func(c *Config, _ *Deps) {
		c.Limits = Limits{Global: 200, GlobalBurst: 1, ChatInterval: 100 * time.Millisecond}
	}).start()
	questions := []string{"cant sleep", "my legs wont stop moving", "should i see a doctor"}
	titles := []string{"Trouble sleeping", "Restless legs", "Seeing a professional"}
	fake.WaitCalls("getUpdates", 1, 5*time.Second)
	calls0, start := fake.Calls("getUpdates"), time.Now()
	for round := range questions {
		for chat := int64(1); chat <= 100; chat++ {
			fake.AddMessage(chat, questions[round])
		}
	}
	fake.WaitSent(300, 30*time.Second)
	// While replies are going out Telegram answers getUpdates at once with
	// the unconfirmed updates: the bot asks at most once per BusyPoll, not
	// once per reply (300) or in a loop. Generous: a slow machine may
	// stretch the gaps, never shrink them.
	if calls, most := fake.Calls("getUpdates")-calls0, 2*int(time.Since(start)/h.bot.cfg.BusyPoll)+10; calls > most {
		t.Errorf("%d getUpdates calls while draining the burst, want at most %d", calls, most)
	}
	quiet(t, fake, 300)
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("%d sends broke the limits, first: %s", len(v), v[0])
	}
	for chat := int64(1); chat <= 100; chat++ {
		ms := fake.SentTo(chat)
		if len(ms) != 3 {
			t.Fatalf("chat %d got %d replies, want 3", chat, len(ms))
		}
		for i, m := range ms {
			if !strings.Contains(m.Text, titles[i]) {
				t.Fatalf("chat %d reply %d is %.40q, want %q: order broken", chat, i, m.Text, titles[i])
			}
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if fake.Pending() != 0 {
		t.Errorf("%d updates left unconfirmed after a clean stop", fake.Pending())
	}
}

func TestGroupLimit(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.SetLimits(telegramtest.Limits{GroupInterval: 60 * time.Millisecond, Slack: 30 * time.Millisecond})
	h := newHarness(t, fake, func(c *Config, _ *Deps) {
		c.Limits.GroupInterval = 60 * time.Millisecond
	}).start()
	for i := 0; i < 6; i++ {
		fake.AddUpdate(telegramtest.GroupMessage(-42, 1, "/crisis@kratomhelp_bot"))
	}
	fake.WaitSent(6, 10*time.Second)
	quiet(t, fake, 6)
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("group limit broken: %v", v)
	}
	_ = h
}

func Test429StormsLoseAndRepeatNothing(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.TooMany("sendMessage", 40, 1)
	h := newHarness(t, fake, nil).start()
	for round := 0; round < 2; round++ {
		for chat := int64(1); chat <= 20; chat++ {
			fake.AddMessage(chat, []string{"cant sleep", "should i see a doctor"}[round])
		}
	}
	fake.WaitSent(40, 20*time.Second)
	quiet(t, fake, 40)
	for chat := int64(1); chat <= 20; chat++ {
		ms := fake.SentTo(chat)
		if len(ms) != 2 || !strings.Contains(ms[0].Text, "Trouble sleeping") || !strings.Contains(ms[1].Text, "Seeing a professional") {
			t.Fatalf("chat %d: %d replies, out of order or missing", chat, len(ms))
		}
	}
	if fake.RateLimited() != 40 {
		t.Errorf("%d 429s given, want 40", fake.RateLimited())
	}
	mustContain(t, "log", h.logs.String(), "slow down")
}

func TestGetUpdatesHonoursRetryAfter(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.TooMany("getUpdates", 1, 1)
	h := newHarness(t, fake, nil).start()
	fake.AddMessage(1, "cant sleep")
	fake.WaitSent(1, 10*time.Second)
	times := fake.CallTimes("getUpdates")
	if len(times) < 2 {
		t.Fatalf("%d getUpdates calls", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < time.Second {
		t.Errorf("asked again %v after a 429 with retry_after 1", gap)
	}
	_ = h
}

func TestNoSpinWhenServerAnswersAtOnce(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.IgnoreTimeout(true)
	h := newHarness(t, fake, func(c *Config, _ *Deps) { c.MinBackoff = 50 * time.Millisecond }).start()
	fake.WaitCalls("getUpdates", 1, 5*time.Second)
	time.Sleep(500 * time.Millisecond)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls("getUpdates"); n > 13 {
		t.Errorf("%d getUpdates calls in half a second against a server that does not wait: spinning", n)
	}
}

func TestServerGoingAwayAndComingBack(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	h := newHarness(t, fake, nil).start()
	for chat := int64(1); chat <= 3; chat++ {
		fake.AddMessage(chat, "cant sleep")
	}
	fake.WaitSent(3, 5*time.Second)
	// Stop only once the bot has read Telegram's answers and confirmed the
	// updates: cutting a send whose answer never arrived is a resend by
	// design, not the outage this test is about.
	waitConfirmed(t, fake, 5*time.Second)

	fake.Stop()
	for chat := int64(1); chat <= 5; chat++ {
		fake.AddMessage(chat, "should i see a doctor")
	}
	time.Sleep(150 * time.Millisecond) // a few failed polls
	fake.Drop("sendMessage", 2)        // and connections lost mid-send after it returns
	fake.Start()

	fake.WaitSent(8, 10*time.Second)
	quiet(t, fake, 8)
	for chat := int64(1); chat <= 5; chat++ {
		ms := fake.SentTo(chat)
		if n := map[bool]int{true: 2, false: 1}[chat <= 3]; len(ms) != n {
			t.Errorf("chat %d got %d replies, want %d", chat, len(ms), n)
		}
	}
	mustContain(t, "log", h.logs.String(), "cannot get updates", "retrying")
}

func TestTokenNeverInLogsOrErrors(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.Stop() // the first calls fail at the transport: the library's errors hold the URL
	h := newHarness(t, fake, nil).start()
	time.Sleep(100 * time.Millisecond)
	fake.Start()
	fake.Drop("getUpdates", 2)
	fake.AddMessage(1, "cant sleep")
	fake.Drop("sendMessage", 1)
	fake.WaitSent(1, 10*time.Second)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	mustContain(t, "log", logs, "[REDACTED]", "cannot reach Telegram", "retrying")
	for _, leak := range []string{testToken, "SECRETtoken"} {
		if strings.Contains(logs, leak) {
			t.Fatalf("the token is in the log:\n%s", logs)
		}
	}

	// a refused token ends Run with an error that does not show it
	wrong := telegramtest.NewServer(t, "987654321:another-token-entirely")
	h2 := newHarness(t, wrong, nil)
	err := h2.bot.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refused the bot token") {
		t.Fatalf("Run with a wrong token: %v", err)
	}
	if strings.Contains(err.Error(), "SECRETtoken") {
		t.Fatalf("the error shows the token: %v", err)
	}

	// and the library's own logger goes through the redactor
	libPrint(fmt.Sprintf("Post %q: connection refused", fake.Endpoint()))
	libLogger{}.Printf("Endpoint: %s", "https://api.telegram.org/bot"+testToken+"/getMe")
	if logs := h2.logs.String(); strings.Contains(logs, "SECRETtoken") || !strings.Contains(logs, "[REDACTED]") {
		t.Fatalf("library log not redacted:\n%s", logs)
	}
}

func TestStopMidBurstLosesNothing(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.SetLimits(telegramtest.Limits{ChatInterval: 20 * time.Millisecond, Slack: 10 * time.Millisecond})
	cfg := func(c *Config, _ *Deps) {
		c.Limits = Limits{Global: 400, GlobalBurst: 1, ChatInterval: 20 * time.Millisecond}
	}
	h := newHarness(t, fake, cfg).start()
	titles := []string{"Trouble sleeping", "Restless legs", "Seeing a professional"}
	questions := []string{"cant sleep", "my legs wont stop moving", "should i see a doctor"}
	// more than one getUpdates batch, so some updates are still at Telegram at the stop
	for round := range questions {
		for chat := int64(1); chat <= 50; chat++ {
			fake.AddMessage(chat, questions[round])
		}
	}
	fake.WaitSent(10, 10*time.Second)
	if err := h.stop(); err != nil { // as on SIGTERM
		t.Fatalf("Run returned %v on stop", err)
	}
	first := len(fake.Sent())
	if first == 150 {
		t.Fatal("every reply went out before the stop; the restart path was not tested")
	}
	// every update taken was answered and confirmed; the rest wait at Telegram
	if fake.Pending() != 150-first {
		t.Errorf("%d updates pending after %d replies; the offset confirmed the wrong ones", fake.Pending(), first)
	}

	newHarness(t, fake, cfg).start()
	fake.WaitSent(150, 20*time.Second)
	quiet(t, fake, 150)
	for chat := int64(1); chat <= 50; chat++ {
		ms := fake.SentTo(chat)
		if len(ms) != 3 {
			t.Fatalf("chat %d got %d replies, want 3", chat, len(ms))
		}
		for i, m := range ms {
			if !strings.Contains(m.Text, titles[i]) {
				t.Fatalf("chat %d reply %d out of order", chat, i)
			}
		}
	}
}

func TestCommandMenuFailureDoesNotStopTheBot(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.Fail("setMyCommands", 1, 500, "Internal Server Error")
	h := newHarness(t, fake, nil).start()
	fake.AddMessage(1, "/start")
	fake.WaitSent(1, 5*time.Second)
	mustContain(t, "log", h.logs.String(), "could not register the command menu")
}

func TestPermanentSendErrorsAreNotRetried(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.Fail("sendMessage", 1, 403, "Forbidden: bot was blocked by the user")
	h := newHarness(t, fake, nil).start()
	fake.AddMessage(1, "cant sleep")
	fake.AddMessage(2, "cant sleep")
	fake.WaitSent(1, 5*time.Second)
	quiet(t, fake, 1)
	if n := fake.Calls("sendMessage"); n != 2 {
		t.Errorf("%d sendMessage calls, want 2 (no retry of the blocked chat)", n)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if fake.Pending() != 0 {
		t.Errorf("a reply that can never be sent holds back the offset")
	}
}

func TestWebhook(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	mux := newMux()
	srv := serveMux(t, mux)
	h := newHarness(t, fake, func(c *Config, d *Deps) {
		c.WebhookURL = srv + WebhookPath
		d.Mux = mux
	}).start()
	fake.WaitCalls("setWebhook", 1, 5*time.Second)
	url, secret := fake.Webhook()
	if url != srv+WebhookPath || len(secret) < 32 {
		t.Fatalf("registered webhook %q with a secret of %d characters", url, len(secret))
	}
	u := telegramtest.Message(1, "cant sleep")
	u.UpdateID = 500
	for _, bad := range []string{"", "wrong", secret + "x", strings.ToUpper(secret)} {
		code, err := telegramtest.PostWebhook(url, bad, u)
		if err != nil || code != 403 {
			t.Errorf("secret %q: status %d, %v; want 403", bad, code, err)
		}
	}
	quiet(t, fake, 0)
	for i := 0; i < 2; i++ { // Telegram may deliver an update twice
		if code, err := telegramtest.PostWebhook(url, secret, u); err != nil || code != 200 {
			t.Fatalf("status %d, %v", code, err)
		}
	}
	fake.WaitSent(1, 5*time.Second)
	quiet(t, fake, 1)
	if n := fake.Calls("getUpdates"); n != 0 {
		t.Errorf("%d getUpdates calls in webhook mode", n)
	}
	if code := getStatus(t, url); code != 405 {
		t.Errorf("GET on the webhook: %d, want 405", code)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	u.UpdateID = 501
	if code, _ := telegramtest.PostWebhook(url, secret, u); code != 503 {
		t.Errorf("after stop: status %d, want 503 so Telegram delivers it again later", code)
	}

	// Long polling with the webhook left behind: it may be another
	// deployment's, so the bot stops with an error saying how to take over.
	h2 := newHarness(t, fake, nil)
	err := h2.bot.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "TELEGRAM_MODE=polling") {
		t.Fatalf("polling while a webhook is set: %v", err)
	}
	if fake.Calls("deleteWebhook") != 0 {
		t.Errorf("the webhook was removed although polling was not asked for")
	}
	// asked for explicitly: the webhook is removed and polling works
	newHarness(t, fake, func(c *Config, _ *Deps) { c.Polling = true }).start()
	fake.AddMessage(2, "cant sleep")
	fake.WaitSent(2, 10*time.Second)
	if fake.Calls("deleteWebhook") != 1 {
		t.Errorf("deleteWebhook called %d times", fake.Calls("deleteWebhook"))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	e := engine(t)
	tests := []struct {
		name string
		cfg  Config
		d    Deps
	}{
		{"no engine", Config{Token: testToken}, Deps{}},
		{"no token", Config{Token: " "}, Deps{Engine: e}},
		{"bad endpoint", Config{Token: testToken, Endpoint: "http://127.0.0.1:1/bot"}, Deps{Engine: e}},
		{"relative webhook", Config{Token: testToken, WebhookURL: "/hook"}, Deps{Engine: e, Mux: newMux()}},
		{"webhook without mux", Config{Token: testToken, WebhookURL: "https://example.org/telegram/webhook"}, Deps{Engine: e}},
		{"bad secret", Config{Token: testToken, WebhookURL: "https://example.org/x", WebhookSecret: "has spaces"}, Deps{Engine: e, Mux: newMux()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, tc.d)
			if err == nil {
				t.Fatal("New accepted it")
			}
			if strings.Contains(err.Error(), "SECRETtoken") {
				t.Fatalf("error shows the token: %v", err)
			}
		})
	}
}

func TestRunTwiceIsRefused(t *testing.T) {
	h := run(t, nil)
	h.fake.WaitCalls("getUpdates", 1, 5*time.Second)
	if err := h.bot.Run(context.Background()); err == nil {
		t.Fatal("a second Run was accepted")
	}
}

func TestStopWhileTelegramIsUnreachable(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.Stop()
	h := newHarness(t, fake, nil).start()
	time.Sleep(50 * time.Millisecond)
	if err := h.stop(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}
