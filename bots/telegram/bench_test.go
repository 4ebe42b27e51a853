package telegram

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/telegram/telegramtest"
)

// BenchmarkBurst300From100Chats measures how long a burst of 300 messages
// from 100 chats takes to drain, against the floor the send limits allow:
// the slower of the global rate and the busiest chat's interval. Target:
// within 1.2x of the floor. "scaled" divides Telegram's limits by ten;
// "telegram" uses them as they are (about ten seconds a run).
func BenchmarkBurst300From100Chats(b *testing.B) {
	for _, tc := range []struct {
		name   string
		limits Limits
	}{
		{"scaled", Limits{Global: 300, GlobalBurst: 1, ChatInterval: 100 * time.Millisecond, ChatBurst: 1}},
		{"telegram", DefaultLimits()},
	} {
		b.Run(tc.name, func(b *testing.B) { benchBurst(b, tc.limits) })
	}
}

func benchBurst(b *testing.B, l Limits) {
	const chats, perChat = 100, 3
	fake := telegramtest.NewServer(b, testToken)
	fake.SetLimits(telegramtest.Limits{ChatInterval: l.ChatInterval, Slack: l.ChatInterval / 4,
		GlobalWindow: time.Second, GlobalMax: int(l.Global) + l.GlobalBurst + int(l.Global/10)})
	h := newHarness(b, fake, func(c *Config, _ *Deps) { c.Limits = l }).start()

	// people write in no particular order
	var order []int64
	for c := int64(1); c <= chats; c++ {
		for i := 0; i < perChat; i++ {
			order = append(order, c)
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	questions := []string{"cant sleep", "my legs wont stop moving", "should i see a doctor"}

	n := len(order)
	l = l.withDefaults()
	floor := max(time.Duration(float64(n-l.GlobalBurst)/l.Global*float64(time.Second)),
		time.Duration(perChat-l.ChatBurst)*l.ChatInterval)

	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		time.Sleep(2 * l.ChatInterval) // limiters full again, as after a quiet spell
		b.StartTimer()
		start := time.Now()
		for k, c := range order {
			fake.AddMessage(c, questions[k%perChat])
		}
		fake.WaitSent((i+1)*n, 30*floor+10*time.Second)
		total += time.Since(start)
	}
	b.StopTimer()
	drain := total / time.Duration(b.N)
	b.ReportMetric(drain.Seconds(), "s/drain")
	b.ReportMetric(floor.Seconds(), "s/floor")
	b.ReportMetric(drain.Seconds()/floor.Seconds(), "x-floor")
	b.ReportMetric(float64(len(fake.Violations())), "violations")
	_ = h.stop()
}
