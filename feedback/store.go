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
	"crypto/rand"
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
	// Queue is how many events wait for the database before new ones are
	// dropped (default 1024).
	Queue int
	// Timeout bounds each database call (default 2s for region look-ups,
	// which a reply waits for, and 5s for background writes).
	Timeout time.Duration
	// KeepQuestions is how long unanswered questions are kept (default 90
	// days); topic counts hold nothing personal and are kept.
	KeepQuestions time.Duration
	// Log receives write failures (never the data itself).
	Log *slog.Logger
	// Now is the clock, for tests.
	Now func() time.Time
}

// Store is the feedback store. It implements bots.Recorder and
// bots.RegionStore and is safe for concurrent use.
type Store struct {
	db      *sql.DB
	backend string
	salt    []byte
	opt     Options

	queue   chan item
	stop    chan struct{}
	done    chan struct{}
	closing atomic.Bool
	once    sync.Once
	dropped atomic.Uint64
	failed  atomic.Uint64
	lastLog atomic.Int64
}

// item is one queued event, or a flush request when flushed is set.
type item struct {
	ev      bots.Event
	flushed chan struct{}
}

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

// Open connects to the store named by spec (see ParseSpec), creates its
// tables if needed and starts the background writer. Close it when done.
func Open(ctx context.Context, spec string, o Options) (*Store, error) {
	backend, dsn, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	s, err := open(ctx, backend, dsn, o)
	if err != nil {
		return nil, err
	}
	s.start()
	return s, nil
}

func open(ctx context.Context, backend, dsn string, o Options) (*Store, error) {
	if o.Queue <= 0 {
		o.Queue = 1024
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.KeepQuestions <= 0 {
		o.KeepQuestions = 90 * 24 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var db *sql.DB
	var err error
	switch backend {
	case SQLite:
		if dsn != ":memory:" && !strings.HasPrefix(dsn, "file:") {
			// create it readable by the bot's user only: it holds questions
			f, ferr := os.OpenFile(dsn, os.O_RDWR|os.O_CREATE, 0o600)
			if ferr != nil {
				return nil, fmt.Errorf("cannot create the feedback store file (does its folder exist and can the bot write there?): %w", ferr)
			}
			f.Close()
		}
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
	s := &Store{db: db, backend: backend, opt: o,
		queue: make(chan item, o.Queue), stop: make(chan struct{}), done: make(chan struct{})}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.migrate(cctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Backend is "sqlite" or "postgres", for logs.
func (s *Store) Backend() string { return s.backend }

// Dropped counts events lost because the queue was full or the store closed.
func (s *Store) Dropped() uint64 { return s.dropped.Load() }

// Failed counts events lost because the database refused a write.
func (s *Store) Failed() uint64 { return s.failed.Load() }

const schemaVersion = "1"

var schema = []string{
	`CREATE TABLE IF NOT EXISTS kratombot_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS kratombot_topics (
		day TEXT NOT NULL, platform TEXT NOT NULL, topic TEXT NOT NULL,
		shown BIGINT NOT NULL DEFAULT 0, helpful BIGINT NOT NULL DEFAULT 0, not_helpful BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (day, platform, topic))`,
	`CREATE TABLE IF NOT EXISTS kratombot_unanswered (
		day TEXT NOT NULL, question TEXT NOT NULL, asked BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (day, question))`,
	`CREATE TABLE IF NOT EXISTS kratombot_regions (chat TEXT PRIMARY KEY, region TEXT NOT NULL, updated TEXT NOT NULL)`,
}

// migrate creates the tables and the salt, once, even when several replicas
// start together.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cannot reach the %s feedback store: %w", s.backend, err)
	}
	defer tx.Rollback()
	if s.backend == Postgres {
		// replicas racing on CREATE TABLE IF NOT EXISTS can still collide
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7253941)`); err != nil {
			return fmt.Errorf("preparing the postgres feedback store: %w", err)
		}
	}
	for _, q := range schema {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("creating the feedback store's tables: %w", err)
		}
	}
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return fmt.Errorf("making a salt for chat ids: %w", err)
	}
	for _, kv := range [][2]string{{"salt", hex.EncodeToString(salt)}, {"schema", schemaVersion}} {
		if _, err := tx.ExecContext(ctx, s.bind(`INSERT INTO kratombot_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), kv[0], kv[1]); err != nil {
			return fmt.Errorf("setting up the feedback store: %w", err)
		}
	}
	var saltHex, version string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM kratombot_meta WHERE name = 'salt'`).Scan(&saltHex); err != nil {
		return fmt.Errorf("reading the feedback store's salt: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT value FROM kratombot_meta WHERE name = 'schema'`).Scan(&version); err != nil {
		return fmt.Errorf("reading the feedback store's version: %w", err)
	}
	if version != schemaVersion {
		return fmt.Errorf("the feedback store was made by a newer kratombot (schema %s, this one knows %s); upgrade the bot or use a new store", version, schemaVersion)
	}
	if s.salt, err = hex.DecodeString(saltHex); err != nil || len(s.salt) < 16 {
		return errors.New("the feedback store's salt is damaged; delete the kratombot_meta row named salt (chats will choose their region again)")
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("setting up the feedback store: %w", err)
	}
	return s.prune(ctx)
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
// under the store's random salt.
func (s *Store) chatKey(chat string) string {
	m := hmac.New(sha256.New, s.salt)
	m.Write([]byte(chat))
	return hex.EncodeToString(m.Sum(nil))
}

// ChatRegion implements bots.RegionStore.
func (s *Store) ChatRegion(ctx context.Context, chat string) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	var region string
	err := s.db.QueryRowContext(ctx, s.bind(`SELECT region FROM kratombot_regions WHERE chat = ?`), s.chatKey(chat)).Scan(&region)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("looking up the chat's region in the feedback store: %w", err)
	}
	return region, true, nil
}

// SetChatRegion implements bots.RegionStore; an empty region forgets it.
func (s *Store) SetChatRegion(ctx context.Context, chat, region string) error {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	key := s.chatKey(chat)
	var err error
	if region == "" {
		_, err = s.db.ExecContext(ctx, s.bind(`DELETE FROM kratombot_regions WHERE chat = ?`), key)
	} else {
		_, err = s.db.ExecContext(ctx, s.bind(`INSERT INTO kratombot_regions (chat, region, updated) VALUES (?, ?, ?)
			ON CONFLICT (chat) DO UPDATE SET region = excluded.region, updated = excluded.updated`),
			key, clip(region, 16), s.day())
	}
	if err != nil {
		return fmt.Errorf("saving the chat's region in the feedback store: %w", err)
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
			ev.Question = Scrub(ev.Question)
		} else {
			ev.Question = ""
		}
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
// the database.
func (s *Store) Close(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		s.closing.Store(true)
		close(s.stop)
		select {
		case <-s.done:
		case <-ctx.Done():
			err = fmt.Errorf("closing the feedback store before all counts were written: %w", ctx.Err())
		}
		if cerr := s.db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the feedback store: %w", cerr)
		}
	})
	return err
}

func (s *Store) start() { go s.run() }

// run is the writer: it gathers whatever is queued into one transaction.
func (s *Store) run() {
	defer close(s.done)
	prune := time.NewTicker(6 * time.Hour)
	defer prune.Stop()
	for {
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
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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

type topicKey struct{ platform, topic string }
type topicCount struct{ shown, helpful, notHelpful int64 }

func (s *Store) write(batch []item) {
	topics := map[topicKey]*topicCount{}
	questions := map[string]int64{}
	var events int
	for _, it := range batch {
		if it.flushed != nil {
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
	if events > 0 {
		if err := s.writeCounts(topics, questions); err != nil {
			s.failed.Add(uint64(events))
			s.warn("could not write feedback counts; they are lost", err)
		}
	}
	for _, it := range batch {
		if it.flushed != nil {
			close(it.flushed)
		}
	}
}

func (s *Store) writeCounts(topics map[topicKey]*topicCount, questions map[string]int64) error {
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

// warn logs a write failure at most once a minute; the error comes from the
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
