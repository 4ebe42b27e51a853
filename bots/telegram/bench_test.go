package telegram

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/telegram/telegramtest"
)

// BenchmarkBurst300From100Chats measures how long a burst of 300 messages
// from 100 chats takes to drain, against the floor the send limits allow:
// the slower of the global rate and the busiest chat's interval. Target:
// within 1.1x of the floor. "scaled" divides Telegram's limits by ten;
// "telegram" uses them as they are (about ten seconds a run).
func BenchmarkBurst300From100Chats(b *testing.B) {
	for _, tc := range []struct {
		name     string
		limits   Limits
		busyPoll time.Duration
	}{
		{"scaled", Limits{Global: 300, GlobalBurst: 1, ChatInterval: 100 * time.Millisecond, ChatBurst: 1}, 25 * time.Millisecond},
		{"telegram", DefaultLimits(), 0}, // the default
	} {
		b.Run(tc.name, func(b *testing.B) { benchBurst(b, tc.limits, tc.busyPoll) })
	}
}

func benchBurst(b *testing.B, l Limits, busyPoll time.Duration) {
	const chats, perChat = 100, 3
	fake := telegramtest.NewServer(b, testToken)
	fake.SetLimits(telegramtest.Limits{ChatInterval: l.ChatInterval, Slack: l.ChatInterval / 4,
		GlobalWindow: time.Second, GlobalMax: int(l.Global) + l.GlobalBurst + int(l.Global/10)})
	h := newHarness(b, fake, func(c *Config, _ *Deps) {
		c.Limits = l
		c.BusyPoll = busyPoll
	}).start()

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
	calls0 := fake.Calls("getUpdates")
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
	b.ReportMetric(float64(fake.Calls("getUpdates")-calls0)/float64(b.N), "getUpdates/drain")
	_ = h.stop()
}

// BenchmarkFlood is the flood case from issue 9: one chat sends 1,000
// messages in 10 seconds while 20 other chats write once each, spread over
// the flood, with Telegram's own limits. It reports the slowest and median
// time from another chat's message to its reply (target: under 2 s), what
// the flooding chat got, and the peak heap. About 12 s a run:
//
//	go test -run '^$' -bench BenchmarkFlood -benchtime 1x ./bots/telegram
func BenchmarkFlood(b *testing.B) {
	for _, mode := range []string{"polling", "webhook"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				benchFlood(b, mode == "webhook")
			}
		})
	}
}

func benchFlood(b *testing.B, webhook bool) {
	const flooder, flood, others = int64(1), 1000, 20
	const spread = 10 * time.Second
	fake := telegramtest.NewServer(b, testToken)
	l := DefaultLimits()
	fake.SetLimits(telegramtest.Limits{ChatInterval: l.ChatInterval, Slack: l.ChatInterval / 4,
		GlobalWindow: time.Second, GlobalMax: int(l.Global) + l.GlobalBurst + int(l.Global/10)})
	cfg := func(c *Config, _ *Deps) {
		c.Limits = l
		c.BusyPoll = 0 // the default
	}
	h := startBot(b, fake, webhook, cfg, 10*time.Second)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	asked := map[int64]time.Time{}
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < flood; i++ {
		time.Sleep(time.Until(start.Add(spread * time.Duration(i) / flood)))
		fake.AddMessage(flooder, "cant sleep")
		if i%(flood/others) == flood/others/2 {
			c := int64(100 + i/(flood/others))
			asked[c] = time.Now()
			fake.AddMessage(c, "my legs wont stop moving")
		}
	}
	var lat []time.Duration
	for c, at := range asked {
		waitReply(b, fake, c, 1)
		lat = append(lat, fake.SentTo(c)[0].At.Sub(at))
	}
	b.StopTimer()
	close(stop)
	slices.Sort(lat)
	got := len(fake.SentTo(flooder))
	b.ReportMetric(lat[len(lat)-1].Seconds(), "s-slowest-other")
	b.ReportMetric(lat[len(lat)/2].Seconds(), "s-median-other")
	b.ReportMetric(float64(got), "flooder-msgs")
	b.ReportMetric(float64(peak.Load())/(1<<20), "MB-peak-heap")
	b.ReportMetric(float64(len(fake.Violations())), "violations")
	_ = h.stop()
}
