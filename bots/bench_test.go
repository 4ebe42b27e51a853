package bots

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kratombot/kratombot/knowledge"
	"go.yaml.in/yaml/v3"
)

var benchQuestions = []string{
	"cant sleep since i quit", "rls is killing me at night", "how long do kratom wds last",
	"is kratom an opioid", "my husband uses kratom how do i help him", "what is 7oh",
	"sweating like crazy", "how do i find rehab without insurance", "i feel so depressed",
	"whats the weather", "insomina", "can i use subs for kratom withdrawal",
}

// reportP99 runs f b.N times and reports the 99th percentile latency, the
// number the core issue sets a target for (under 50 µs on one core).
func reportP99(b *testing.B, f func(i int)) {
	durs := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		f(i)
		durs[i] = time.Since(start)
	}
	b.StopTimer()
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	b.ReportMetric(float64(durs[len(durs)*99/100].Nanoseconds())/1000, "p99-µs")
}

// BenchmarkAnswer is one question on the shipped knowledge.
func BenchmarkAnswer(b *testing.B) {
	e, _ := shipped(b)
	ctx := context.Background()
	reportP99(b, func(i int) {
		_, _ = e.Answer(ctx, Question{Text: benchQuestions[i%len(benchQuestions)]})
	})
}

// BenchmarkAnswerAsPeopleWrite is one message from the development sets:
// typos, long posts, crises described, follow-ups; slower than the short
// questions of BenchmarkAnswer because a post is read sentence by sentence.
func BenchmarkAnswerAsPeopleWrite(b *testing.B) {
	e, _ := shipped(b)
	var qs []string
	for _, name := range []string{"dev", "dev-safety"} {
		data, err := os.ReadFile("../questions/sets/" + name + ".yaml")
		if err != nil {
			b.Fatal(err)
		}
		var set struct{ Cases []struct{ Q string } }
		if err := yaml.Unmarshal(data, &set); err != nil {
			b.Fatal(err)
		}
		for _, c := range set.Cases {
			qs = append(qs, c.Q)
		}
	}
	ctx := context.Background()
	reportP99(b, func(i int) {
		_, _ = e.Answer(ctx, Question{Text: qs[i%len(qs)]})
	})
}

// generated is a valid knowledge base of n topics with made-up words.
func generated(n int) fstest.MapFS {
	rng := rand.New(rand.NewSource(1))
	letters := "abcdefghijklmnopqrstuvwxyz"
	word := func() string {
		l := 4 + rng.Intn(6)
		b := make([]byte, l)
		for i := range b {
			b[i] = letters[rng.Intn(len(letters))]
		}
		return string(b)
	}
	common := make([]string, 3000)
	for i := range common {
		common[i] = word()
	}
	var y strings.Builder
	y.WriteString("topics:\n")
	for i := 0; i < n; i++ {
		var ans []string
		for j := 0; j < 80; j++ {
			ans = append(ans, common[rng.Intn(len(common))])
		}
		// ten examples a topic, as the understanding issue sizes it
		var ex []string
		for j := 0; j < 10; j++ {
			ex = append(ex, fmt.Sprintf("\"%s %s %s e%dx%d\"", common[rng.Intn(3000)], common[rng.Intn(3000)], common[rng.Intn(3000)], i, j))
		}
		fmt.Fprintf(&y, "  - id: topic-%d\n    title: Topic %d %s %s\n    kind: faq\n    words: [w%dx, w%dy]\n    questions: [\"what about q%d %s\"]\n    examples: [%s]\n    answer: |\n      %s\n    sources:\n      - title: Source\n        url: https://example.org/%d\n    reviewed: 2026-11-01\n",
			i, i, common[rng.Intn(3000)], common[rng.Intn(3000)], i, i, i, common[rng.Intn(3000)], strings.Join(ex, ", "), strings.Join(ans, " "), i)
	}
	min, _ := knowledgeFixture()
	min["topics.yaml"] = &fstest.MapFile{Data: []byte(y.String())}
	return min
}

// knowledgeFixture is the minimal test knowledge without its topics.
func knowledgeFixture() (fstest.MapFS, error) {
	return fstest.MapFS{"rest.yaml": &fstest.MapFile{Data: []byte(`
default_region: US
regions:
  - code: US
    name: United States
    emergency: "911"
    referral: [{name: SAMHSA National Helpline, phone: 1-800-662-4357}]
    crisis: [{name: 988 Lifeline, phone: "988"}]
categories:
  - {id: suicide, contact: crisis, message: Reach out now., phrases: [kill myself], examples: [i want to kill myself]}
  - {id: self-harm, contact: crisis, message: Reach out now., phrases: [hurt myself], examples: [i keep wanting to hurt myself]}
  - {id: harm-to-others, contact: crisis, message: Reach out now., phrases: [hurt someone], examples: [i am scared i will hurt someone]}
  - {id: overdose, contact: emergency, message: Call now., phrases: [overdose], examples: [my friend took an overdose]}
  - {id: seizure, contact: emergency, message: Call now., phrases: [seizure], examples: [he is having a seizure]}
  - {id: medical-emergency, contact: emergency, message: Call now., phrases: [not breathing], examples: [she is not breathing]}
messages: {welcome: w, help: h, fallback: f, thanks: t, greeting: g, dosing: d, crisis_intro: c, resources: r, privacy: p, privacy_store: ps}
triggers: {greeting: [hi], thanks: [thanks], help: [help], dosing: [dose]}
`)}}, nil
}

// BenchmarkLoad10k is loading, checking and indexing 10,000 topics
// (target: under 500 ms).
func BenchmarkLoad10k(b *testing.B) {
	fsys := generated(10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		kb, err := knowledge.Load(fsys, "gen")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := New(kb); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnswer10k is one question on 10,000 topics (target: under 1 ms).
func BenchmarkAnswer10k(b *testing.B) {
	kb, err := knowledge.Load(generated(10000), "gen")
	if err != nil {
		b.Fatal(err)
	}
	e, _ := New(kb)
	qs := []string{"what about q42", "topic 977", "w5000x", "nothing matches here", "kill myself"}
	for _, t := range kb.Topics[:20] {
		qs = append(qs, t.Answer[:40])
	}
	ctx := context.Background()
	reportP99(b, func(i int) {
		_, _ = e.Answer(ctx, Question{Text: qs[i%len(qs)]})
	})
}

// BenchmarkIndex10k is building the index alone, to tell it from YAML parsing.
func BenchmarkIndex10k(b *testing.B) {
	kb, err := knowledge.Load(generated(10000), "gen")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		newIndex(kb)
	}
}

// BenchmarkHugeWord is the worst message a person can send: one 4096-letter
// accented "word" (Telegram's longest message). Its cost must stay linear:
// about 2 ms, nearly all Unicode normalisation, where it once took 100 ms.
func BenchmarkHugeWord(b *testing.B) {
	e := minimal(b)
	q := Question{Text: strings.Repeat("é", 4096)}
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		_, _ = e.Answer(ctx, q)
	}
}

// BenchmarkLoadShipped loads, checks, indexes and trains on the shipped
// knowledge: what a start on new knowledge or a reload costs (target: 150 ms).
func BenchmarkLoadShipped(b *testing.B) { loadShipped(b) }

// BenchmarkLoadShippedCached is a start on knowledge whose checked copy and
// models are in the cache folder: reading them back and indexing.
func BenchmarkLoadShippedCached(b *testing.B) {
	useCacheFolder(b)
	kb, _ := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	forgetModels()
	New(kb) // trains once and writes the cache
	b.ResetTimer()
	loadShipped(b)
}

// loadShipped starts an engine on the shipped knowledge b.N times, each time
// with nothing in the process's memory of trained models.
func loadShipped(b *testing.B) {
	defer forgetModels()
	for i := 0; i < b.N; i++ {
		forgetModels()
		kb, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := New(kb); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad10kCached is a start on 10,000 topics whose checked knowledge
// and models are in the cache folder (target: 500 ms).
func BenchmarkLoad10kCached(b *testing.B) {
	useCacheFolder(b)
	fsys := generated(10000)
	kb, err := knowledge.Load(fsys, "gen")
	if err != nil {
		b.Fatal(err)
	}
	forgetModels()
	New(kb) // trains once and writes the caches
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		forgetModels()
		kb, err := knowledge.Load(fsys, "gen")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := New(kb); err != nil {
			b.Fatal(err)
		}
	}
}

// useCacheFolder keeps models and checked knowledge in a fresh folder for
// one benchmark, as KRATOMBOT_CACHE_DIR does for the binary.
func useCacheFolder(b *testing.B) {
	dir := b.TempDir()
	SetModelCache(dir)
	knowledge.SetCache(dir)
	b.Cleanup(func() {
		SetModelCache("")
		knowledge.SetCache("")
	})
}
