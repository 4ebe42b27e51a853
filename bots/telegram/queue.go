package telegram

import (
	"context"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/time/rate"
)

// job is one update waiting in its chat's queue.
type job struct {
	u    tgbotapi.Update
	at   time.Time
	done func() // called when the update needs no more work
}

// chat is one conversation: its queue, whether a worker is on it, and its
// send limiters, which outlive the worker until they are full again so that
// a chat that falls quiet for a moment cannot start a new burst.
type chat struct {
	id      int64
	queue   []job
	running bool
	lim     *rate.Limiter
	group   *rate.Limiter // nil in private chats
}

// wait blocks until a message may go to this chat now: the chat's own
// limit, the group limit, then the global one. The global token is taken
// last, right before the send, and the chat's tokens are taken only then:
// taking them first would let a long global wait squeeze two messages to
// one chat closer than its interval. Only the chat's worker uses its
// limiters, so a token seen free is still free when taken.
func (c *chat) wait(ctx context.Context, global *rate.Limiter) error {
	for _, l := range []*rate.Limiter{c.lim, c.group} {
		if l != nil {
			if err := untilToken(ctx, l); err != nil {
				return err
			}
		}
	}
	if err := global.Wait(ctx); err != nil {
		return err
	}
	now := time.Now()
	c.lim.AllowN(now, 1)
	if c.group != nil {
		c.group.AllowN(now, 1)
	}
	return nil
}

// untilToken waits until l has a token, without taking it.
func untilToken(ctx context.Context, l *rate.Limiter) error {
	for {
		missing := 1 - l.TokensAt(time.Now())
		if missing <= 0 {
			return nil
		}
		d := time.Duration(missing / float64(l.Limit()) * float64(time.Second))
		t := time.NewTimer(d + 100*time.Microsecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// idle is true when forgetting the chat changes nothing: no work and full
// limiters, as a new chat would have.
func (c *chat) idle(now time.Time) bool {
	if c.running || len(c.queue) > 0 {
		return false
	}
	if c.lim.TokensAt(now) < float64(c.lim.Burst()) {
		return false
	}
	return c.group == nil || c.group.TokensAt(now) >= float64(c.group.Burst())
}

func (b *Bot) newChat(id int64, group bool) *chat {
	l := b.cfg.Limits
	c := &chat{id: id, lim: rate.NewLimiter(rate.Every(l.ChatInterval), l.ChatBurst)}
	if group {
		c.group = rate.NewLimiter(rate.Every(l.GroupInterval), l.GroupBurst)
	}
	return c
}

// dispatcher runs one worker per chat with work, so replies in one chat
// keep their order while chats proceed side by side.
type dispatcher struct {
	mu      sync.Mutex
	ctx     context.Context
	chats   map[int64]*chat
	closed  bool
	wg      sync.WaitGroup
	newChat func(id int64, group bool) *chat
	// run handles a job and says whether it is finished (false: stopped
	// before its reply went out; it must not be confirmed).
	run func(ctx context.Context, c *chat, j job) bool
}

func newDispatcher(newChat func(int64, bool) *chat, run func(context.Context, *chat, job) bool) *dispatcher {
	return &dispatcher{chats: map[int64]*chat{}, newChat: newChat, run: run}
}

func (d *dispatcher) start(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ctx = ctx
}

// push queues a job for a chat; false once the dispatcher is closed.
func (d *dispatcher) push(id int64, group bool, j job) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.ctx == nil {
		return false
	}
	c := d.chats[id]
	if c == nil {
		c = d.newChat(id, group)
		d.chats[id] = c
	}
	c.queue = append(c.queue, j)
	if !c.running {
		c.running = true
		d.wg.Add(1)
		go d.work(d.ctx, c)
	}
	return true
}

func (d *dispatcher) work(ctx context.Context, c *chat) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(c.queue) == 0 {
			c.running = false
			if c.idle(time.Now()) {
				delete(d.chats, c.id)
			}
			d.mu.Unlock()
			return
		}
		j := c.queue[0]
		c.queue[0] = job{}
		c.queue = c.queue[1:]
		d.mu.Unlock()
		if d.run(ctx, c, j) && j.done != nil {
			j.done()
		}
	}
}

// close stops taking jobs; those queued still run.
func (d *dispatcher) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
}

// wait returns when every queued job has run.
func (d *dispatcher) wait() { d.wg.Wait() }

// sweep forgets idle chats and returns how many are still known.
func (d *dispatcher) sweep(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, c := range d.chats {
		if c.idle(now) {
			delete(d.chats, id)
		}
	}
	return len(d.chats)
}

// tracker knows which updates were taken and which are finished. The offset
// confirmed to Telegram never passes an unfinished update, so a restart
// answers exactly those.
type tracker struct {
	mu       sync.Mutex
	next     int   // one past the highest update taken
	inflight []int // taken and not yet finished, with finished ones behind the first
	done     map[int]bool
	progress chan struct{} // closed when the offset moves
}

func newTracker() *tracker {
	return &tracker{done: map[int]bool{}, progress: make(chan struct{})}
}

// take reports whether id is new, and marks it taken.
func (t *tracker) take(id int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id < t.next {
		return false
	}
	t.next = id + 1
	t.inflight = append(t.inflight, id)
	return true
}

// finish marks id answered.
func (t *tracker) finish(id int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done[id] = true
	moved := false
	for len(t.inflight) > 0 && t.done[t.inflight[0]] {
		delete(t.done, t.inflight[0])
		t.inflight = t.inflight[1:]
		moved = true
	}
	if moved {
		close(t.progress)
		t.progress = make(chan struct{})
	}
}

// offset is the first update not yet finished, or one past the last taken.
func (t *tracker) offset() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.inflight) > 0 {
		return t.inflight[0]
	}
	return t.next
}

// moved is closed when the offset next moves.
func (t *tracker) moved() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.progress
}

// recentIDs remembers the last n update ids, for webhook redeliveries.
type recentIDs struct {
	mu   sync.Mutex
	ring []int
	pos  int
	set  map[int]bool
}

func newRecentIDs(n int) *recentIDs {
	return &recentIDs{ring: make([]int, n), set: make(map[int]bool, n)}
}

// add reports whether id is new, and remembers it.
func (r *recentIDs) add(id int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set[id] {
		return false
	}
	if old := r.ring[r.pos]; old != 0 {
		delete(r.set, old)
	}
	r.ring[r.pos] = id
	r.pos = (r.pos + 1) % len(r.ring)
	r.set[id] = true
	return true
}

// forget drops id so that a redelivery is taken.
func (r *recentIDs) forget(id int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.set, id)
}
