package bots

import (
	"context"
	"sync"
)

// Event is something that happened in a conversation, for counting. It
// holds no user or chat id. Question is set only for fallbacks, so that a
// store can keep questions that found no topic; scrubbing personal data from
// it is the receiver's duty.
type Event struct {
	Platform string
	Kind     Kind
	Intent   Intent
	Topic    string
	Question string
	// Helpful is set when a person pressed "Was this helpful?".
	Helpful *bool
}

// NewEvent describes a reply that was sent on a platform.
func NewEvent(platform string, q Question, r Reply) Event {
	ev := Event{Platform: platform, Kind: r.Kind(), Intent: r.Intent(), Topic: r.Topic()}
	if r.Intent() == IntentFallback {
		ev.Question = q.Text
	}
	return ev
}

// Recorder receives events. It must not block a reply for long and must not
// log the question.
type Recorder interface {
	Record(ctx context.Context, ev Event)
}

// Recorders sends each event to every recorder in turn.
type Recorders []Recorder

// Record implements Recorder.
func (rs Recorders) Record(ctx context.Context, ev Event) {
	for _, r := range rs {
		if r != nil {
			r.Record(ctx, ev)
		}
	}
}

// RegionStore remembers the region a chat chose with /region. Chat keys are
// platform-prefixed ("telegram:42"); a store that persists them should hash
// them.
type RegionStore interface {
	ChatRegion(ctx context.Context, chat string) (region string, ok bool, err error)
	SetChatRegion(ctx context.Context, chat, region string) error
}

// MemoryRegions is a RegionStore that forgets on restart; the default.
type MemoryRegions struct {
	mu sync.Mutex
	m  map[string]string
}

// ChatRegion implements RegionStore.
func (m *MemoryRegions) ChatRegion(_ context.Context, chat string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.m[chat]
	return r, ok, nil
}

// SetChatRegion implements RegionStore.
func (m *MemoryRegions) SetChatRegion(_ context.Context, chat, region string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]string{}
	}
	m.m[chat] = region
	return nil
}
