// Package feedback is kratombot's opt-in store (KRATOMBOT_STORE): anonymous
// counts of the topics shown and whether people found them helpful, the
// questions that found no topic with personal data scrubbed out, and each
// chat's chosen region under a salted hash, in SQLite (one process) or
// PostgreSQL (several replicas).
//
// It must never keep a user id, a chat id or a question that has not been
// scrubbed, never put a question or a DSN in a log or an error, and never
// make a reply wait on the database: counts go through a small queue that
// drops (and counts the drop) when the database cannot keep up.
package feedback

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kratombot/kratombot/bots"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite" (pure Go, no cgo)
)

// Backends.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options tune a Store; the zero value is sensible.
type Options struct {
	// Key is the secret that chat ids are hashed under (HMAC-SHA-256). It
	// lives outside the database (KRATOMBOT_STORE_KEY or a key file, see
	// LoadKey), so a copy of the database alone cannot be turned back into
	// chat ids. With neither Key nor KeyFile, regions are kept in memory
	// only and those in the database are left alone (report uses this).
	Key []byte
	// KeyFile holds the key when Key is empty; it is created (mode 0600,
	// random) when missing, once the store is reached (DefaultKeyFile).
	KeyFile string
	// KnownTopic, when set, refuses events about topics the knowledge does
	// not have (forged button data): only real topic ids are stored.
	KnownTopic func(id string) bool
	// KnownWord reports the bot's own words (bots.Engine.KnownWords), which
	// a stored question may keep besides common English.
	KnownWord func(word string) bool
	// Queue is how many events wait for the database before new ones are
	// dropped (default 1024).
	Queue int
	// Timeout bounds each database call (default 2s for region look-ups,
	// which a reply waits for, and 5s for background writes).
	Timeout time.Duration
	// KeepQuestions is how long unanswered questions are kept (default 90
	// days); topic counts hold nothing personal and are kept.
	KeepQuestions time.Duration
	// RetryMin and RetryMax bound the wait between attempts to reach a
	// store that is down (default 1s doubling to 30s).
	RetryMin, RetryMax time.Duration
	// Log receives connection and write failures (never the data itself).
	Log *slog.Logger
	// Now is the clock, for tests.
	Now func() time.Time
}

// Store states, for metrics and /readyz.
const (
	StateConnecting  = "connecting"
	StateUp          = "up"
	StateUnavailable = "unavailable"
)

// maxRegions bounds the regions held in memory; past it an arbitrary one is
// forgotten there (the database keeps it).
const maxRegions = 100_000

// Store is the feedback store. It implements bots.Recorder and
// bots.RegionStore and is safe for concurrent use. Nothing a reply does
// waits on the database when it is down: events queue (and drop when the
// queue is full), region choices are kept in memory first, and the writer
// reconnects in the background.
type Store struct {
	db      *sql.DB
	backend string
	dsn     string
	key     []byte
	opt     Options
	scrub   Scrubber

	state    atomic.Value // string: StateConnecting, StateUp or StateUnavailable
	ready    atomic.Bool  // the schema is in place and the last write worked
	migrated atomic.Bool  // connect succeeded once

	regMu   sync.Mutex
	regions map[string]string // chat -> region, in memory only; the durable copy is the database

	queue   chan item
	stop    chan struct{}
	done    chan struct{}
	bg      context.Context // cancelled by Close: ends connection attempts
	cancel  context.CancelFunc
	closing atomic.Bool
	once    sync.Once
	dropped atomic.Uint64
	failed  atomic.Uint64
	lastLog atomic.Int64
}

// item is one queued event, a region choice, or a flush request when
// flushed is set.
type item struct {
	nudge   bool // wakes the writer, carries nothing
	ev      bots.Event
	region  *regionWrite
	flushed chan struct{}
}

// regionWrite is a region choice waiting for the database; the chat is
// hashed when it is written, once the key is known.
type regionWrite struct{ chat, region string }

var (
	_ bots.Recorder    = (*Store)(nil)
	_ bots.RegionStore = (*Store)(nil)
)

// ParseSpec reads a KRATOMBOT_STORE value: "postgres://..." or
// "postgresql://..." (or a key=value DSN with host=) is PostgreSQL;
// "sqlite:PATH" or a plain PATH is an SQLite file.
func ParseSpec(spec string) (backend, dsn string, err error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		return "", "", errors.New("no store given; set KRATOMBOT_STORE to a file path (SQLite) or a postgres:// address")
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return Postgres, spec, nil
	case strings.Contains(spec, "host=") && strings.Contains(spec, "="):
		return Postgres, spec, nil
	case strings.HasPrefix(spec, "sqlite://"):
		spec = strings.TrimPrefix(spec, "sqlite://")
	case strings.HasPrefix(spec, "sqlite:"):
		spec = strings.TrimPrefix(spec, "sqlite:")
	case strings.Contains(spec, "://"):
		return "", "", fmt.Errorf("the store address starts with %q, which is not known; use a file path for SQLite or postgres:// for PostgreSQL", spec[:strings.Index(spec, "://")+3])
	}
	if spec == "" {
		return "", "", errors.New("the store has no file name; use sqlite:/var/lib/kratombot/feedback.db")
	}
	return SQLite, spec, nil
}

var passwordRe = regexp.MustCompile(`(?i)password\s*=\s*('[^']*'|\S+)`)

// Secrets returns the parts of a store address that must never be printed
// (the password), for a redactor.
func Secrets(spec string) []string {
	var out []string
	if u, err := url.Parse(strings.TrimSpace(spec)); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p, url.QueryEscape(p), url.PathEscape(p))
		}
		if p := u.Query().Get("password"); p != "" {
			out = append(out, p)
		}
	}
	for _, m := range passwordRe.FindAllStringSubmatch(spec, -1) {
		out = append(out, strings.Trim(m[1], "'"))
	}
	return out
}

// Open connects to the store named by spec (see ParseSpec), brings its
// tables up to date and starts the background writer; it fails when the
// database cannot be reached. Close it when done. serve uses Start.
func Open(ctx context.Context, spec string, o Options) (*Store, error) {
	s, err := openSpec(ctx, spec, o)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.connect(cctx); err != nil {
		s.db.Close()
		return nil, err
	}
	s.start()
	return s, nil
}

// Start is Open for a bot that must answer whatever the database does: it
// returns at once (an error only for a store address that can never work),
// and reaches the database in the background, retrying with backoff and
// logging a warning while it cannot. Until then, and during any later
// outage, events wait in the queue and region choices are kept in memory.
func Start(ctx context.Context, spec string, o Options) (*Store, error) {
	s, err := openSpec(ctx, spec, o)
	if err != nil {
		return nil, err
	}
	s.start()
	return s, nil
}

// openSpec prepares the store a spec names, not yet connected: the part
// Open and Start share.
func openSpec(ctx context.Context, spec string, o Options) (*Store, error) {
	backend, dsn, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	return open(ctx, backend, dsn, o)
}

func open(_ context.Context, backend, dsn string, o Options) (*Store, error) {
	if o.Queue <= 0 {
		o.Queue = 1024
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.KeepQuestions <= 0 {
		o.KeepQuestions = 90 * 24 * time.Hour
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(30*time.Second, o.RetryMin)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	key := o.Key
	if len(key) > 0 && len(key) < 16 {
		return nil, errors.New("the store key is too short; use at least 32 random characters (e.g. openssl rand -hex 32)")
	}
	var db *sql.DB
	var err error
	switch backend {
	case SQLite:
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		// immediate transactions wait for the write lock (busy_timeout)
		// instead of failing when another process writes, e.g. report
		db, err = sql.Open("sqlite", dsn+sep+"_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
		if err == nil {
			// one connection: SQLite writes one at a time anyway, and a
			// second connection to ":memory:" would be another database
			db.SetMaxOpenConns(1)
		}
	case Postgres:
		db, err = sql.Open("pgx", dsn)
		if err == nil {
			db.SetMaxOpenConns(4)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		return nil, fmt.Errorf("unknown store backend %q", backend)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the %s feedback store: %w", backend, err)
	}
	bg, cancel := context.WithCancel(context.Background())
	s := &Store{db: db, backend: backend, dsn: dsn, key: key, opt: o, scrub: Scrubber{Known: o.KnownWord},
		regions: map[string]string{},
		queue:   make(chan item, o.Queue), stop: make(chan struct{}), done: make(chan struct{}),
		bg: bg, cancel: cancel}
	s.state.Store(StateConnecting)
	return s, nil
}

// Backend is "sqlite" or "postgres", for logs.
func (s *Store) Backend() string { return s.backend }

// State is StateConnecting, StateUp or StateUnavailable.
func (s *Store) State() string { return s.state.Load().(string) }

// Up says whether the database is reachable and writable as far as the last
// attempt knows.
func (s *Store) Up() bool { return s.ready.Load() }

// Dropped counts events lost because the queue was full or the store closed.
func (s *Store) Dropped() uint64 { return s.dropped.Load() }

// Failed counts events lost because the database refused a write.
func (s *Store) Failed() uint64 { return s.failed.Load() }

// schemaVersion is what kratombot_meta says once the migrations ran; a
// kratombot from before migrations refuses any other.
const schemaVersion = "2"

// connect makes sure the database can be reached and written, brings the
// schema up to date and checks the key; it marks the store up.
func (s *Store) connect(ctx context.Context) error {
	if s.backend == SQLite && s.dsn != ":memory:" && !strings.HasPrefix(s.dsn, "file:") {
		// create it readable by the bot's user only: it holds questions
		f, err := os.OpenFile(s.dsn, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("cannot create the feedback store file (does its folder exist and can the bot write there?): %w", err)
		}
		f.Close()
	}
	if len(s.key) == 0 && s.opt.KeyFile != "" {
		key, err := loadKeyFile(s.opt.KeyFile)
		if err != nil {
			return err
		}
		s.key = key
	}
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("cannot reach the %s feedback store: %w", s.backend, err)
	}
	if err := migrate(ctx, s.db, s.backend); err != nil {
		return err
	}
	if s.keyed() {
		if err := s.checkKey(ctx); err != nil {
			return err
		}
	}
	if err := s.prune(ctx); err != nil {
		return err
	}
	s.migrated.Store(true)
	s.ready.Store(true)
	s.state.Store(StateUp)
	return nil
}

// keyed says whether regions go to the database: only under a real key.
func (s *Store) keyed() bool { return len(s.key) > 0 }

// keyCheck is what the database keeps to notice a new key: an HMAC of a
// fixed text, which tells nothing about the key.
func (s *Store) keyCheck() string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("kratombot store key check"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// checkKey notes the key in use. A different key (a rotation) makes every
// stored region unreachable, so they are removed: chats choose again.
func (s *Store) checkKey(ctx context.Context) error {
	want := s.keyCheck()
	var got string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM kratombot_meta WHERE name = 'key_check'`).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = s.db.ExecContext(ctx, s.bind(`INSERT INTO kratombot_meta (name, value) VALUES ('key_check', ?) ON CONFLICT (name) DO NOTHING`), want)
		if err != nil {
			return fmt.Errorf("setting up the feedback store: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("reading the feedback store's key check: %w", err)
	case got == want:
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cannot reach the %s feedback store: %w", s.backend, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM kratombot_regions`); err != nil {
		return fmt.Errorf("forgetting regions saved under the old store key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.bind(`UPDATE kratombot_meta SET value = ? WHERE name = 'key_check'`), want); err != nil {
		return fmt.Errorf("noting the new store key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("noting the new store key: %w", err)
	}
	s.opt.Log.Warn("feedback store: the store key changed (KRATOMBOT_STORE_KEY or the key file); regions saved under the old key were forgotten, chats choose them again")
	return nil
}

// bind turns ? placeholders into PostgreSQL's $1, $2, ...
func (s *Store) bind(q string) string {
	if s.backend != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// chatKey is what is stored instead of a chat id: an HMAC-SHA-256 of it
// under the key kept outside the database.
func (s *Store) chatKey(chat string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(chat))
	return hex.EncodeToString(m.Sum(nil))
}

// ChatRegion implements bots.RegionStore. The copy in memory answers first;
// the database is asked only when it is up, and a store that is down is not
// an error (the chat gets the default region, the state is in the metrics).
func (s *Store) ChatRegion(ctx context.Context, chat string) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, fmt.Errorf("looking up the chat's region: %w", err)
	}
	s.regMu.Lock()
	region, ok := s.regions[chat]
	s.regMu.Unlock()
	if ok {
		return region, region != "", nil
	}
	if !s.ready.Load() || !s.keyed() {
		return "", false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	err := s.db.QueryRowContext(ctx, s.bind(`SELECT region FROM kratombot_regions WHERE chat = ?`), s.chatKey(chat)).Scan(&region)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case errors.Is(err, context.Canceled):
		return "", false, fmt.Errorf("looking up the chat's region in the feedback store: %w", err)
	case err != nil:
		// a slow or broken database: later look-ups skip it until the
		// writer has reached it again; the chat gets the default meanwhile
		s.markDown(err)
		return "", false, nil
	}
	s.remember(chat, region)
	return region, true, nil
}

// markDown notes that a look-up found the database down and wakes the
// writer, which reconnects in the background.
func (s *Store) markDown(err error) {
	if s.ready.Swap(false) {
		s.state.Store(StateUnavailable)
		s.opt.Log.Warn("feedback store unavailable: the bot answers without it and keeps trying in the background",
			"backend", s.backend, "err", err)
		s.lastLog.Store(time.Now().UnixNano())
	}
	select {
	case s.queue <- item{nudge: true}:
	default:
	}
}

// remember keeps a region in memory ("" = the chat forgot its choice).
func (s *Store) remember(chat, region string) {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	if _, ok := s.regions[chat]; !ok && len(s.regions) >= maxRegions {
		for k := range s.regions {
			delete(s.regions, k)
			break
		}
	}
	s.regions[chat] = region
}

// SetChatRegion implements bots.RegionStore; an empty region forgets it.
// The choice holds in memory at once and is written in the background.
func (s *Store) SetChatRegion(_ context.Context, chat, region string) error {
	region = clip(region, 16)
	s.remember(chat, region)
	if s.closing.Load() {
		s.dropped.Add(1)
		return nil
	}
	if len(s.opt.Key) == 0 && s.opt.KeyFile == "" {
		return nil // no key: memory only
	}
	select {
	case s.queue <- item{region: &regionWrite{chat: chat, region: region}}:
	default:
		s.dropped.Add(1)
	}
	return nil
}

// Record implements bots.Recorder. It never waits: the event is queued, or
// dropped and counted when the queue is full.
func (s *Store) Record(_ context.Context, ev bots.Event) {
	if s.closing.Load() {
		s.dropped.Add(1)
		return
	}
	// scrub here, so that raw text never even sits in the queue
	if ev.Question != "" {
		if ev.Kind == bots.KindFallback && ev.Helpful == nil {
			ev.Question = s.scrub.Scrub(ev.Question)
		} else {
			ev.Question = ""
		}
	}
	if ev.Topic != "" && s.opt.KnownTopic != nil && !s.opt.KnownTopic(ev.Topic) {
		ev.Topic = "" // forged or stale button data: not a topic of ours
	}
	if ev.Topic == "" && ev.Question == "" {
		return // nothing this store counts
	}
	select {
	case s.queue <- item{ev: ev}:
	default:
		s.dropped.Add(1)
	}
}

// Flush waits until the events recorded so far are written.
func (s *Store) Flush(ctx context.Context) error {
	if s.closing.Load() {
		return errors.New("the feedback store is closed")
	}
	done := make(chan struct{})
	select {
	case s.queue <- item{flushed: done}:
	case <-ctx.Done():
		return fmt.Errorf("waiting to flush the feedback store: %w", ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flushing the feedback store: %w", ctx.Err())
	}
}

// Close writes what is queued (waiting at most until ctx ends) and closes
// the database. A store that is down drops what is queued at once.
func (s *Store) Close(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		s.closing.Store(true)
		close(s.stop)
		// a connection attempt in flight gets a moment to finish, so that
		// what is queued is written; a store that is down is not waited for
		stopTrying := time.AfterFunc(closeGrace, s.cancel)
		defer stopTrying.Stop()
		select {
		case <-s.done:
		case <-ctx.Done():
			s.cancel()
			err = fmt.Errorf("closing the feedback store before all counts were written: %w", ctx.Err())
		}
		s.cancel()
		if cerr := s.db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the feedback store: %w", cerr)
		}
	})
	return err
}

// closeGrace is how long Close lets a connection attempt in flight go on.
const closeGrace = 3 * time.Second

func (s *Store) start() { go s.run() }

// run is the writer: it reaches the database (again) when it is down, and
// gathers whatever is queued into one transaction.
func (s *Store) run() {
	defer close(s.done)
	prune := time.NewTicker(6 * time.Hour)
	defer prune.Stop()
	for {
		if !s.ready.Load() && !s.reconnect() {
			s.discard()
			return
		}
		select {
		case it := <-s.queue:
			batch := []item{it}
		more:
			for len(batch) < 512 {
				select {
				case it := <-s.queue:
					batch = append(batch, it)
				default:
					break more
				}
			}
			s.write(batch)
		case <-prune.C:
			ctx, cancel := context.WithTimeout(s.bg, 30*time.Second)
			if err := s.prune(ctx); err != nil {
				s.warn("could not remove old unanswered questions", err)
			}
			cancel()
		case <-s.stop:
			var batch []item
			for drained := false; !drained; {
				select {
				case it := <-s.queue:
					batch = append(batch, it)
				default:
					drained = true
				}
			}
			s.write(batch)
			return
		}
	}
}

// reconnect tries to reach the database until it works (true) or the store
// is closed (false), waiting longer after each failure.
func (s *Store) reconnect() bool {
	wait := s.opt.RetryMin
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(s.bg, 10*time.Second)
		err := s.probe(ctx)
		cancel()
		if err == nil {
			if s.State() != StateConnecting || attempt > 0 {
				s.opt.Log.Info("feedback store: reachable again; counting resumes", "backend", s.backend)
			}
			return true
		}
		if s.bg.Err() != nil {
			return false
		}
		first := s.State() != StateUnavailable
		s.state.Store(StateUnavailable)
		if first {
			s.lastLog.Store(time.Now().UnixNano())
			s.opt.Log.Warn("feedback store unavailable: the bot answers without it and keeps trying in the background",
				"backend", s.backend, "err", err)
		} else {
			s.warn("still unavailable", err)
		}
		select {
		case <-s.stop:
			return false
		case <-time.After(wait):
		}
		wait = min(wait*2, s.opt.RetryMax)
	}
}

// probe checks the database: the full set-up if it never worked, else a
// write that changes nothing (a read-only or locked database fails it).
func (s *Store) probe(ctx context.Context) error {
	if !s.migrated.Load() {
		return s.connect(ctx)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE kratombot_meta SET value = value WHERE name = 'schema'`); err != nil {
		return fmt.Errorf("cannot write to the %s feedback store: %w", s.backend, err)
	}
	s.ready.Store(true)
	s.state.Store(StateUp)
	return nil
}

// discard drops what is queued when the store closes while down.
func (s *Store) discard() {
	for {
		select {
		case it := <-s.queue:
			if it.flushed != nil {
				close(it.flushed)
			} else {
				s.dropped.Add(1)
			}
		default:
			return
		}
	}
}

type topicKey struct{ platform, topic string }
type topicCount struct{ shown, helpful, notHelpful int64 }

func (s *Store) write(batch []item) {
	topics := map[topicKey]*topicCount{}
	questions := map[string]int64{}
	regions := map[string]string{}
	var events int
	for _, it := range batch {
		switch {
		case it.flushed != nil, it.nudge:
			continue
		case it.region != nil:
			regions[it.region.chat] = it.region.region // the last choice wins
			events++
			continue
		}
		events++
		ev := it.ev
		if ev.Topic != "" {
			k := topicKey{clip(ev.Platform, 32), clip(ev.Topic, 100)}
			c := topics[k]
			if c == nil {
				c = &topicCount{}
				topics[k] = c
			}
			switch {
			case ev.Helpful == nil:
				c.shown++
			case *ev.Helpful:
				c.helpful++
			default:
				c.notHelpful++
			}
		}
		if ev.Question != "" {
			questions[ev.Question]++
		}
	}
	if events > 0 && !s.ready.Load() && !s.reconnect() {
		s.dropped.Add(uint64(events)) // closing while the store is down
		events = 0
	}
	if events > 0 {
		if err := s.writeCounts(topics, questions, regions); err != nil {
			s.failed.Add(uint64(events))
			s.ready.Store(false)
			s.state.Store(StateUnavailable)
			s.lastLog.Store(time.Now().UnixNano())
			s.opt.Log.Warn("feedback store unavailable: these counts are lost; the bot answers without it and keeps trying in the background",
				"backend", s.backend, "err", err, "lost", events)
		}
	}
	for _, it := range batch {
		if it.flushed != nil {
			close(it.flushed)
		}
	}
}

func (s *Store) writeCounts(topics map[topicKey]*topicCount, questions map[string]int64, regions map[string]string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second+s.opt.Timeout)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	day := s.day()
	for k, c := range topics {
		if _, err := tx.ExecContext(ctx, s.bind(`INSERT INTO kratombot_topics (day, platform, topic, shown, helpful, not_helpful) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (day, platform, topic) DO UPDATE SET shown = kratombot_topics.shown + excluded.shown,
			helpful = kratombot_topics.helpful + excluded.helpful, not_helpful = kratombot_topics.not_helpful + excluded.not_helpful`),
			day, k.platform, k.topic, c.shown, c.helpful, c.notHelpful); err != nil {
			return err
		}
	}
	for q, n := range questions {
		if _, err := tx.ExecContext(ctx, s.bind(`INSERT INTO kratombot_unanswered (day, question, asked) VALUES (?, ?, ?)
			ON CONFLICT (day, question) DO UPDATE SET asked = kratombot_unanswered.asked + excluded.asked`),
			day, q, n); err != nil {
			return err
		}
	}
	for chat, region := range regions {
		key := s.chatKey(chat)
		var err error
		if region == "" {
			_, err = tx.ExecContext(ctx, s.bind(`DELETE FROM kratombot_regions WHERE chat = ?`), key)
		} else {
			_, err = tx.ExecContext(ctx, s.bind(`INSERT INTO kratombot_regions (chat, region, updated) VALUES (?, ?, ?)
				ON CONFLICT (chat) DO UPDATE SET region = excluded.region, updated = excluded.updated`), key, region, day)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// prune forgets unanswered questions older than KeepQuestions.
func (s *Store) prune(ctx context.Context) error {
	cut := s.opt.Now().UTC().Add(-s.opt.KeepQuestions).Format(time.DateOnly)
	if _, err := s.db.ExecContext(ctx, s.bind(`DELETE FROM kratombot_unanswered WHERE day < ?`), cut); err != nil {
		return fmt.Errorf("removing old unanswered questions: %w", err)
	}
	return nil
}

// warn logs a failure at most once a minute; the error comes from the
// driver and holds no question text.
func (s *Store) warn(msg string, err error) {
	now := time.Now().UnixNano()
	last := s.lastLog.Load()
	if now-last < int64(time.Minute) || !s.lastLog.CompareAndSwap(last, now) {
		return
	}
	s.opt.Log.Warn("feedback store: "+msg, "backend", s.backend, "err", err,
		"dropped", s.dropped.Load(), "failed", s.failed.Load())
}

func (s *Store) day() string { return s.opt.Now().UTC().Format(time.DateOnly) }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
