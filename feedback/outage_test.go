package feedback

import (
	"context"
	"database/sql"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/botstest"
)

// waitFor polls cond: the machine running the tests may be busy.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startT starts a store the way serve does: it never fails for an outage.
func startT(t *testing.T, spec string, o Options) *Store {
	t.Helper()
	if o.Key == nil {
		o.Key = testKey
	}
	if o.RetryMin == 0 {
		o.RetryMin, o.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	}
	begin := time.Now()
	s, err := Start(context.Background(), spec, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Start waited %v on the database", d)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close of a store that is down took too long: %v", err)
		}
	})
	return s
}

// answersWithout checks what a reply needs from a store that is down: a
// region choice holds (in memory), look-ups and events do not wait.
func answersWithout(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	begin := time.Now()
	if err := s.SetChatRegion(ctx, "telegram:42", "UK"); err != nil {
		t.Errorf("SetChatRegion on a store that is down: %v", err)
	}
	got, ok, err := s.ChatRegion(ctx, "telegram:42")
	if got != "UK" || !ok || err != nil {
		t.Errorf("a chat's region did not survive the outage: %q %v %v", got, ok, err)
	}
	if _, ok, err := s.ChatRegion(ctx, "telegram:7"); ok || err != nil {
		t.Errorf("an unknown chat on a store that is down: ok=%v err=%v (want the default, quietly)", ok, err)
	}
	for range 10 {
		s.Record(ctx, shown("telegram", "sleep"))
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("a reply's store calls took %v on a store that is down", d)
	}
}

func TestStoreReadOnlySQLiteAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s0 := openT(t, "sqlite:"+path, Options{})
	s0.Close(context.Background())
	logs := &botstest.Log{}
	// root ignores file modes, so read-only is asked of SQLite itself
	s := startT(t, "sqlite:file:"+path+"?mode=ro", Options{Log: slog.New(slog.NewTextHandler(logs, nil))})
	waitFor(t, "the store to be marked unavailable", func() bool { return s.State() == StateUnavailable })
	answersWithout(t, s)
	waitFor(t, "a warning", func() bool { return strings.Contains(logs.String(), "feedback store unavailable") })
	if strings.Count(logs.String(), "feedback store unavailable") > 1 {
		t.Errorf("retries should not repeat the warning:\n%s", logs.String())
	}
}

func TestStoreComesBackInTheBackground(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet")
	logs := &botstest.Log{}
	s := startT(t, "sqlite:"+filepath.Join(dir, "f.db"), Options{Log: slog.New(slog.NewTextHandler(logs, nil))})
	waitFor(t, "the store to be marked unavailable", func() bool { return s.State() == StateUnavailable })
	answersWithout(t, s)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the store to come back", func() bool { return s.State() == StateUp })
	flush(t, s)
	if r := report(t, s); len(r.Topics) != 1 || r.Topics[0].Shown != 10 {
		t.Errorf("events queued during the outage: %v, want sleep shown 10 times", r.Topics)
	}
	// the region chosen during the outage reached the database too
	s2 := openT(t, "sqlite:"+filepath.Join(dir, "f.db"), Options{})
	if got, ok, _ := s2.ChatRegion(context.Background(), "telegram:42"); got != "UK" || !ok {
		t.Errorf("the region chosen during the outage was not saved: %q", got)
	}
}

func TestStoreLockedMidRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s := startT(t, "sqlite:"+path, Options{Timeout: 200 * time.Millisecond})
	waitFor(t, "the store to come up", func() bool { return s.State() == StateUp })
	ctx := context.Background()
	if err := s.SetChatRegion(ctx, "telegram:42", "UK"); err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	// another process holds the write lock (a long report, a backup)
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	s.Record(ctx, shown("telegram", "sleep"))
	waitFor(t, "the store to be marked unavailable", func() bool { return s.State() == StateUnavailable })
	answersWithout(t, s)
	conn.ExecContext(ctx, "ROLLBACK")
	conn.Close()
	waitFor(t, "the store to come back", func() bool { return s.State() == StateUp })
}

// A PostgreSQL that refuses connections (nothing listens) or is
// partitioned (a listener that accepts and never answers).
func TestStorePostgresDown(t *testing.T) {
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close()

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		silent.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})

	for name, addr := range map[string]string{"refused": refusedAddr, "partitioned": silent.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			logs := &botstest.Log{}
			s := startT(t, "postgres://bot:hunter2-secret@"+addr+"/kb?sslmode=disable&connect_timeout=1", Options{Log: slog.New(slog.NewTextHandler(logs, nil))})
			answersWithout(t, s)
			if s.State() == StateUp {
				t.Error("a store that cannot be reached says it is up")
			}
			waitFor(t, "a warning", func() bool { return strings.Contains(logs.String(), "feedback store unavailable") })
			if strings.Contains(logs.String(), "hunter2-secret") {
				t.Errorf("the log shows the password:\n%s", logs.String())
			}
		})
	}
}
