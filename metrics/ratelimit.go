package metrics

import (
	"log/slog"
	"sync"
	"time"
)

// rateLimitEvery is how often a platform's 429s are summarised in the log.
var rateLimitEvery = time.Minute

// rateLimits gathers 429s per platform between summary lines.
var rateLimits = struct {
	sync.Mutex
	m map[string]*limited
}{m: map[string]*limited{}}

type limited struct {
	count   int       // 429s not yet in a log line
	last    time.Time // when the last line was written
	pending bool      // a line is scheduled
	log     *slog.Logger
}

// NoteRateLimited counts a 429 Too Many Requests from a platform
// (kratombot_rate_limited_total) and keeps the log quiet in a storm: the
// first 429 is logged at once, later ones as one line a minute with their
// count. Adapters call it instead of logging each 429. A nil log counts
// without logging.
func NoteRateLimited(log *slog.Logger, platform string) {
	RateLimited.WithLabelValues(platform).Inc()
	if log == nil {
		return
	}
	rateLimits.Lock()
	defer rateLimits.Unlock()
	l := rateLimits.m[platform]
	if l == nil {
		l = &limited{}
		rateLimits.m[platform] = l
	}
	l.log = log
	l.count++
	now := time.Now()
	if now.Sub(l.last) >= rateLimitEvery {
		writeSummary(platform, l, now)
		return
	}
	if !l.pending {
		l.pending = true
		time.AfterFunc(l.last.Add(rateLimitEvery).Sub(now), func() {
			rateLimits.Lock()
			defer rateLimits.Unlock()
			l.pending = false
			if l.count > 0 {
				writeSummary(platform, l, time.Now())
			}
		})
	}
}

// writeSummary logs the 429s gathered; rateLimits is locked.
func writeSummary(platform string, l *limited, now time.Time) {
	msg := platform + ": rate limited (429 Too Many Requests); replies wait as the platform asks"
	if l.last.IsZero() {
		l.log.Warn(msg, "count", l.count)
	} else {
		l.log.Warn(msg, "count", l.count, "since", l.last.UTC().Format(time.RFC3339))
	}
	l.count, l.last = 0, now
}
