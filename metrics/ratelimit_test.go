package metrics

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A storm of 429s is one line at once and then one line per period with
// the count, not a line each.
func TestRateLimitSummary(t *testing.T) {
	old := rateLimitEvery
	rateLimitEvery = 200 * time.Millisecond
	defer func() { rateLimitEvery = old }()
	var buf syncBuf
	log := slog.New(slog.NewTextHandler(&buf, nil))
	for range 300 {
		NoteRateLimited(log, "test-storm")
	}
	if n := strings.Count(buf.String(), "rate limited"); n != 1 {
		t.Fatalf("%d lines right after 300 429s, want 1:\n%s", n, buf.String())
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(buf.String(), "count=299") {
		if time.Now().After(deadline) {
			t.Fatalf("the summary of the other 299 never came:\n%s", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(buf.String(), "rate limited"); n != 2 {
		t.Errorf("%d lines, want 2:\n%s", n, buf.String())
	}
}
