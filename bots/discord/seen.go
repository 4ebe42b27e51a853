package discord

import (
	"sync"
	"time"
)

// replayWindow is how long an interaction id is remembered: an interaction
// token lives 15 minutes, so nothing older can be answered anyway.
const replayWindow = 15 * time.Minute

// maxSeen bounds the memory for remembered ids (about 100 bytes each); past
// it the oldest are forgotten first.
const maxSeen = 200_000

// recentIDs remembers interaction ids answered in the last replayWindow, so
// that a replayed request or a redelivered event is answered once. The zero
// value is ready; it is safe for concurrent use.
type recentIDs struct {
	mu    sync.Mutex
	at    map[string]time.Time
	order []seenID // oldest first
}

type seenID struct {
	id string
	at time.Time
}

// first records id and says whether it is new. An empty id is always new:
// there is nothing to recognise it by.
func (r *recentIDs) first(id string, now time.Time) bool {
	if id == "" {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		r.at = map[string]time.Time{}
	}
	// forget what is too old, or too much
	drop := 0
	for drop < len(r.order) && (now.Sub(r.order[drop].at) > replayWindow || len(r.order)-drop >= maxSeen) {
		if r.at[r.order[drop].id] == r.order[drop].at {
			delete(r.at, r.order[drop].id)
		}
		drop++
	}
	if drop > 0 {
		r.order = append(r.order[:0:0], r.order[drop:]...)
	}
	if _, ok := r.at[id]; ok {
		return false
	}
	r.at[id] = now
	r.order = append(r.order, seenID{id, now})
	return true
}

// len is how many ids are remembered, for tests.
func (r *recentIDs) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.at)
}
