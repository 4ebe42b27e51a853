// Package botstest holds test doubles for kratombot's tests, as
// net/http/httptest does for net/http: a log sink that goroutines can share
// and a bots.Recorder that keeps what it is given.
//
// It is for tests only and must never be imported by code that runs in the
// bot: it keeps everything it sees in memory.
package botstest

import (
	"bytes"
	"context"
	"sync"

	"github.com/kratombot/kratombot/bots"
)

// Log is an io.Writer for loggers that many goroutines write to at once;
// String returns everything written so far. The zero value is ready.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Take returns what was written and forgets it, for tests that check each
// step's log on its own.
func (l *Log) Take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// Events is a bots.Recorder that keeps every event. The zero value is ready.
type Events struct {
	mu  sync.Mutex
	evs []bots.Event
}

// Record implements bots.Recorder.
func (e *Events) Record(_ context.Context, ev bots.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

// All returns a copy of the events recorded so far, oldest first.
func (e *Events) All() []bots.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]bots.Event(nil), e.evs...)
}
