// Package metrics declares kratombot's Prometheus collectors in one place so
// that every platform adapter counts the same things under the same names.
//
// It must never put message text, user ids or chat ids in a label: labels
// are platforms, kinds, intents and topic ids only.
package metrics

import (
	"context"
	"net/http"

	"github.com/kratombot/kratombot/bots"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds kratombot's collectors; a registry of our own keeps tests
// free of global state clashes.
var Registry = prometheus.NewRegistry()

var (
	// Updates counts platform events handled (messages, commands, callbacks).
	Updates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kratombot_updates_total", Help: "Platform updates handled.",
	}, []string{"platform"})
	// Replies counts replies sent, by kind (answer, crisis, fallback) and intent.
	Replies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kratombot_replies_total", Help: "Replies sent by kind and intent.",
	}, []string{"platform", "kind", "intent"})
	// Crisis counts crisis replies.
	Crisis = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kratombot_crisis_replies_total", Help: "Crisis replies sent.",
	}, []string{"platform"})
	// Fallbacks counts questions that found no topic.
	Fallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kratombot_fallbacks_total", Help: "Questions that found no topic.",
	}, []string{"platform"})
	// RateLimited counts 429 answers from a platform.
	RateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kratombot_rate_limited_total", Help: "429 Too Many Requests answers from the platform.",
	}, []string{"platform"})
	// SendErrors counts sends that failed for good.
	SendErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kratombot_send_errors_total", Help: "Messages that could not be sent.",
	}, []string{"platform"})
	// SendLatency is the time from receiving an update to the reply being accepted.
	SendLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kratombot_send_seconds", Help: "Time from update to reply sent.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"platform"})
	// Knowledge is 1 for the knowledge version in use.
	Knowledge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kratombot_knowledge_info", Help: "The knowledge version in use (value 1).",
	}, []string{"version"})
	// Reloads counts knowledge reloads by result (ok, error).
	Reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kratombot_knowledge_reloads_total", Help: "Knowledge reloads by result.",
	}, []string{"result"})
)

func init() {
	Registry.MustRegister(Updates, Replies, Crisis, Fallbacks, RateLimited, SendErrors, SendLatency, Knowledge, Reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Handler serves /metrics.
func Handler() http.Handler { return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{}) }

// SetKnowledge records the knowledge version now in use.
func SetKnowledge(version string) {
	Knowledge.Reset()
	Knowledge.WithLabelValues(version).Set(1)
}

// Recorder counts replies; it is a bots.Recorder.
type Recorder struct{}

// Record implements bots.Recorder.
func (Recorder) Record(_ context.Context, ev bots.Event) {
	if ev.Helpful != nil {
		return
	}
	Replies.WithLabelValues(ev.Platform, string(ev.Kind), string(ev.Intent)).Inc()
	switch ev.Kind {
	case bots.KindCrisis:
		Crisis.WithLabelValues(ev.Platform).Inc()
	case bots.KindFallback:
		Fallbacks.WithLabelValues(ev.Platform).Inc()
	}
}
