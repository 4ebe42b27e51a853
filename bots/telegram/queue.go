package telegram

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// job is one update waiting in its chat's queue, or a notice to send.
type job struct {
	u      incoming
	at     time.Time
	crisis bool // answered before anything else queued in its chat
	light  bool // a feedback press: sends no message, never dropped or counted
	notice bool // the one "still answering" notice of a flood; no update
	// done is called once when the job needs no more work: finished is
	// false only when the bot stopped before the reply went out.
	done func(finished bool)
	seq  uint64 // arrival order, set by push
}

func (j job) finish(ok bool) {
	if j.done != nil {
		j.done(ok)
	}
}

// outcome is what push did with a job.
type outcome int

const (
	queued  outcome = iota // it will be handled
	dropped                // the chat is flooding: it needs no more work
	refused                // the bot is stopping: not taken
)

// noticeEvery is how often a chat that floods is told that some of its
// messages were skipped.
const noticeEvery = time.Minute

// chat is one conversation: its queue, whether a worker is on it, and its
// send limiters, which outlive the worker until they are full again so that
// a chat that falls quiet for a moment cannot start a new burst.
type chat struct {
	id      int64
	queue   []job
	running bool
	lim     *rate.Limiter
	group   *rate.Limiter // nil in private chats
	// flooding is set when the queue overflowed and cleared when it is
	// empty again: meanwhile the chat's new messages are dropped, except
	// crises.
	flooding bool
	noticeAt time.Time // when the last "still answering" notice was queued
	seq      uint64    // the arrival order of the job being handled
}

// wait blocks until a message may go to this chat now: the chat's own
// limit, the group limit, then the global one. The global token is taken
// last, right before the send, and the chat's tokens are taken only then:
// taking them first would let a long global wait squeeze two messages to
// one chat closer than its interval. Only the chat's worker uses its
// limiters, so a token seen free is still free when taken.
func (c *chat) wait(ctx context.Context, global *gate) error {
	for _, l := range []*rate.Limiter{c.lim, c.group} {
		if l != nil {
			if err := untilToken(ctx, l); err != nil {
				return err
			}
		}
	}
	if err := global.wait(ctx, c.seq); err != nil {
		return err
	}
	now := time.Now()
	c.lim.AllowN(now, 1)
	if c.group != nil {
		c.group.AllowN(now, 1)
	}
	return nil
}

// gate is the global send limit, served oldest message first: replies then
// finish close to the order their updates arrived, so that the offset
// confirmed to Telegram (which can only confirm a prefix) keeps up with
// them, and a crash leaves few answered updates unconfirmed.
type gate struct {
	lim     *rate.Limiter
	mu      sync.Mutex
	waiting ticketHeap
}

type ticket struct {
	seq  uint64
	turn chan struct{} // closed when the ticket is first in line
	i    int
}

type ticketHeap []*ticket

func (h ticketHeap) Len() int           { return len(h) }
func (h ticketHeap) Less(i, j int) bool { return h[i].seq < h[j].seq }
func (h ticketHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].i = i; h[j].i = j }
func (h *ticketHeap) Push(x any)        { t := x.(*ticket); t.i = len(*h); *h = append(*h, t) }
func (h *ticketHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return t
}

func newGate(l rate.Limit, burst int) *gate { return &gate{lim: rate.NewLimiter(l, burst)} }

// wait takes a global token once every older waiting message has had one.
func (g *gate) wait(ctx context.Context, seq uint64) error {
	t := &ticket{seq: seq, turn: make(chan struct{})}
	g.mu.Lock()
	heap.Push(&g.waiting, t)
	g.signal()
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		heap.Remove(&g.waiting, t.i)
		g.signal()
		g.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.turn:
		}
		r := g.lim.Reserve()
		tm := time.NewTimer(r.Delay())
		select {
		case <-ctx.Done():
			tm.Stop()
			r.Cancel()
			return ctx.Err()
		case <-tm.C:
			return nil
		}
	}
}

// signal tells the first in line that it is its turn. g.mu is held.
func (g *gate) signal() {
	if len(g.waiting) == 0 {
		return
	}
	t := g.waiting[0]
	select {
	case <-t.turn:
	default:
		close(t.turn)
	}
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
	if c.running || len(c.queue) > 0 || (!c.noticeAt.IsZero() && now.Sub(c.noticeAt) < noticeEvery) {
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
// keep their order while chats proceed side by side. Each chat holds at
// most maxWaiting messages besides the one being answered: one person
// flooding cannot hold back the others or fill memory.
type dispatcher struct {
	mu         sync.Mutex
	ctx        context.Context
	chats      map[int64]*chat
	closed     bool
	wg         sync.WaitGroup
	maxWaiting int
	seq        uint64
	newChat    func(id int64, group bool) *chat
	// run handles a job and says whether it is finished (false: stopped
	// before its reply went out; it must not be confirmed).
	run func(ctx context.Context, c *chat, j job) bool
}

func newDispatcher(maxWaiting int, newChat func(int64, bool) *chat, run func(context.Context, *chat, job) bool) *dispatcher {
	return &dispatcher{chats: map[int64]*chat{}, maxWaiting: maxWaiting, newChat: newChat, run: run}
}

func (d *dispatcher) start(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ctx = ctx
}

// push queues a job for a chat. A crisis goes before everything waiting
// and is never dropped. Past the bound the chat is flooding: its messages
// are dropped until its queue is empty, and one notice (at most one a
// minute) is queued behind what it holds, so that the notice never delays
// an answer.
func (d *dispatcher) push(id int64, group bool, j job) outcome {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.ctx == nil {
		return refused
	}
	c := d.chats[id]
	if c == nil {
		c = d.newChat(id, group)
		d.chats[id] = c
	}
	d.seq++
	j.seq = d.seq
	switch {
	case j.crisis:
		j.seq = 0 // and before every other chat's messages at the global limit
		i := 0
		for i < len(c.queue) && c.queue[i].crisis {
			i++
		}
		c.queue = append(c.queue, job{})
		copy(c.queue[i+1:], c.queue[i:])
		c.queue[i] = j
	case j.light:
		c.queue = append(c.queue, j)
	case c.flooding || c.waiting() >= d.maxWaiting:
		if !c.flooding {
			c.flooding = true
			if now := time.Now(); c.noticeAt.IsZero() || now.Sub(c.noticeAt) >= noticeEvery {
				c.noticeAt = now
				c.queue = append(c.queue, job{u: j.u, at: now, notice: true, seq: j.seq})
			}
		}
		return dropped
	default:
		c.queue = append(c.queue, j)
	}
	if !c.running {
		c.running = true
		d.wg.Add(1)
		go d.work(d.ctx, c)
	}
	return queued
}

// waiting counts the messages queued, notices aside.
func (c *chat) waiting() int {
	n := 0
	for _, j := range c.queue {
		if !j.notice && !j.light {
			n++
		}
	}
	return n
}

// shed drops what flooding chats still hold waiting (crises and notices
// stay) and says how many it dropped. Long polling calls it when Telegram's
// window of 100 updates is full of updates already taken: a flood holding
// the offset back would otherwise hide every other chat's messages.
func (d *dispatcher) shed() int {
	d.mu.Lock()
	var out []job
	for _, c := range d.chats {
		if !c.flooding {
			continue
		}
		keep := c.queue[:0]
		for _, j := range c.queue {
			if j.crisis || j.notice || j.light {
				keep = append(keep, j)
			} else {
				out = append(out, j)
			}
		}
		clear(c.queue[len(keep):])
		c.queue = keep
	}
	d.mu.Unlock()
	for _, j := range out {
		j.finish(true)
	}
	return len(out)
}

func (d *dispatcher) work(ctx context.Context, c *chat) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(c.queue) == 0 {
			c.running = false
			c.flooding = false
			if c.idle(time.Now()) {
				delete(d.chats, c.id)
			}
			d.mu.Unlock()
			return
		}
		j := c.queue[0]
		c.queue[0] = job{}
		c.queue = c.queue[1:]
		c.seq = j.seq
		d.mu.Unlock()
		j.finish(d.run(ctx, c, j))
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

// holding reports whether updates were taken and are not all finished.
func (t *tracker) holding() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.inflight) > 0
}

// moved is closed when the offset next moves.
func (t *tracker) moved() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.progress
}

// recent remembers the last n keys it was given, forgetting the oldest:
// update ids for webhook redeliveries, hashed presses for feedback. The
// zero key marks an empty slot and is never remembered.
type recent[K comparable] struct {
	mu   sync.Mutex
	ring []K
	pos  int
	set  map[K]bool
}

func newRecent[K comparable](n int) *recent[K] {
	return &recent[K]{ring: make([]K, n), set: make(map[K]bool, n)}
}

// recentIDs remembers the last n update ids.
type recentIDs = recent[int]

func newRecentIDs(n int) *recentIDs { return newRecent[int](n) }

// add reports whether k is new, and remembers it.
func (r *recent[K]) add(k K) bool {
	var zero K
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set[k] {
		return false
	}
	if old := r.ring[r.pos]; old != zero {
		delete(r.set, old)
	}
	r.ring[r.pos] = k
	r.pos = (r.pos + 1) % len(r.ring)
	r.set[k] = true
	return true
}

// has reports whether k is remembered.
func (r *recent[K]) has(k K) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.set[k]
}
