package telegram

import (
	"encoding/binary"
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"github.com/kratombot/kratombot/metrics"
)

// pressSet remembers which person pressed "Was this helpful?" under which
// message, so that a press counts once. It keeps only salted hashes, in
// memory, and forgets the oldest past its size.
type pressSet struct {
	seed    maphash.Seed
	pressed *recent[uint64]
}

func newPressSet(n int) *pressSet {
	return &pressSet{seed: maphash.MakeSeed(), pressed: newRecent[uint64](n)}
}

// add reports whether this person had not pressed under this message yet.
func (p *pressSet) add(chatID int64, messageID int, person int64) bool {
	var buf [24]byte
	binary.LittleEndian.PutUint64(buf[0:], uint64(chatID))
	binary.LittleEndian.PutUint64(buf[8:], uint64(messageID))
	binary.LittleEndian.PutUint64(buf[16:], uint64(person))
	return p.pressed.add(maphash.Bytes(p.seed, buf[:]) | 1) // never the zero key
}

// slowLog sums up Telegram's 429 "Too Many Requests" answers: the first is
// logged at once, the rest in one line a minute with their counts, instead
// of a warning each.
type slowLog struct {
	log     *slog.Logger
	mu      sync.Mutex
	last    time.Time
	counts  map[string]int
	longest time.Duration
}

// note counts one 429 for method, where Telegram asked to wait d.
func (s *slowLog) note(method string, d time.Duration) {
	metrics.RateLimited.WithLabelValues(Platform).Inc()
	s.mu.Lock()
	if s.counts == nil {
		s.counts = map[string]int{}
	}
	s.counts[method]++
	s.longest = max(s.longest, d)
	due := s.last.IsZero() || time.Since(s.last) >= time.Minute
	s.mu.Unlock()
	if due {
		s.flush(time.Now())
	}
}

// flush logs the counts so far, if any; a zero now flushes whatever is due
// at shutdown.
func (s *slowLog) flush(now time.Time) {
	s.mu.Lock()
	if len(s.counts) == 0 || (!now.IsZero() && !s.last.IsZero() && now.Sub(s.last) < time.Minute) {
		s.mu.Unlock()
		return
	}
	counts, longest := s.counts, s.longest
	s.counts, s.longest = nil, 0
	if now.IsZero() {
		now = time.Now()
	}
	s.last = now
	s.mu.Unlock()
	args := []any{"longest_wait", longest}
	total := 0
	for m, n := range counts {
		args = append(args, m, n)
		total += n
	}
	s.log.Warn("Telegram asked the bot to slow down (429 Too Many Requests); waiting as asked", append([]any{"count", total}, args...)...)
}
