package feedback

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots"
)

// The same suite runs against SQLite always and against PostgreSQL when
// KRATOMBOT_TEST_POSTGRES_DSN is set (.ci/postgres.sh sets it). When it is
// set, a database that cannot be reached fails the test: it never skips.

func TestSQLite(t *testing.T) {
	spec := "sqlite:" + filepath.Join(t.TempDir(), "feedback.db")
	storeSuite(t, spec)
}

func TestPostgres(t *testing.T) {
	storeSuite(t, postgresSpec(t))
}

// postgresSpec makes a fresh schema in the test database, dropped after
// the test, so that runs never see each other's counts.
func postgresSpec(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("KRATOMBOT_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("KRATOMBOT_TEST_POSTGRES_DSN is not set; `source .ci/postgres.sh` starts a throwaway PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("KRATOMBOT_TEST_POSTGRES_DSN is set but unusable: %v", err)
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Fatalf("KRATOMBOT_TEST_POSTGRES_DSN is set but PostgreSQL does not answer: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "kratombot_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("creating a test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping the test schema: %v", err)
		}
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

func storeSuite(t *testing.T, spec string) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, spec) })
	t.Run("RegionsSurviveRestart", func(t *testing.T) { testRegions(t, spec) })
	t.Run("NothingPersonalStored", func(t *testing.T) { testNothingPersonal(t, spec) })
	t.Run("ConcurrentRecord", func(t *testing.T) { testConcurrent(t, spec) })
	t.Run("CloseWritesQueue", func(t *testing.T) { testCloseWritesQueue(t, spec) })
	t.Run("ReplicasStartTogether", func(t *testing.T) { testReplicas(t, spec) })
}

// testKey is the store key the tests share, as replicas and restarts do.
var testKey = []byte("0123456789abcdef0123456789abcdef")

func openT(t *testing.T, spec string, o Options) *Store {
	t.Helper()
	if o.Key == nil {
		o.Key = testKey
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, spec, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func flush(t *testing.T, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func report(t *testing.T, s *Store) Report {
	t.Helper()
	r, err := s.Report(context.Background(), time.Now().AddDate(0, 0, -30), 10)
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	return r
}

// wipe empties the count tables so the subtests of one store start clean.
func wipe(t *testing.T, s *Store) {
	t.Helper()
	for _, tbl := range []string{"kratombot_topics", "kratombot_unanswered", "kratombot_regions"} {
		if _, err := s.db.Exec("DELETE FROM " + tbl); err != nil {
			t.Fatalf("wiping %s: %v", tbl, err)
		}
	}
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func shown(platform, topic string) bots.Event {
	return bots.Event{Platform: platform, Kind: bots.KindAnswer, Intent: bots.IntentTopic, Topic: topic}
}

func unanswered(q string) bots.Event {
	return bots.Event{Platform: "telegram", Kind: bots.KindFallback, Intent: bots.IntentFallback, Question: q}
}

func testRoundTrip(t *testing.T, spec string) {
	s := openT(t, spec, Options{})
	wipe(t, s)
	ctx := context.Background()
	for _, ev := range []bots.Event{
		shown("telegram", "sleep"), shown("discord", "sleep"), shown("telegram", "sleep"),
		shown("telegram", "restless-legs"),
		{Platform: "telegram", Topic: "sleep", Helpful: yes()},
		{Platform: "discord", Topic: "sleep", Helpful: no()},
		{Platform: "telegram", Topic: "restless-legs", Helpful: no()},
		{Platform: "telegram", Topic: "restless-legs", Helpful: no()},
		{Platform: "telegram", Topic: "", Helpful: yes()}, // no topic: nothing to count
		unanswered("Does kratom show up on a drug test?"),
		unanswered("does kratom   show up on a DRUG test?"),
		unanswered("is it legal in ohio"),
		unanswered("555-0100 @bob"), // nothing left after scrubbing
		{Platform: "telegram", Kind: bots.KindCrisis, Intent: bots.IntentCrisis},
		{Platform: "telegram", Kind: bots.KindAnswer, Intent: bots.IntentDosing, Question: "kept only for fallbacks"},
	} {
		s.Record(ctx, ev)
	}
	flush(t, s)
	r := report(t, s)

	wantQ := []Asked{{"does kratom show up on a drug test?", 2}, {"is it legal in [?]", 1}}
	if fmt.Sprint(r.Unanswered) != fmt.Sprint(wantQ) {
		t.Errorf("unanswered = %v, want %v", r.Unanswered, wantQ)
	}
	wantT := []TopicStats{{"restless-legs", 1, 0, 2}, {"sleep", 3, 1, 1}}
	if fmt.Sprint(r.Topics) != fmt.Sprint(wantT) {
		t.Errorf("topics = %v, want %v", r.Topics, wantT)
	}
	least := r.LeastHelpful(5)
	if len(least) != 2 || least[0].Topic != "restless-legs" {
		t.Errorf("least helpful = %v, want restless-legs first", least)
	}
	if s.Dropped() != 0 || s.Failed() != 0 {
		t.Errorf("dropped %d, failed %d; want none", s.Dropped(), s.Failed())
	}
}

func testRegions(t *testing.T, spec string) {
	ctx := context.Background()
	s := openT(t, spec, Options{})
	wipe(t, s)
	if _, ok, err := s.ChatRegion(ctx, "telegram:42"); ok || err != nil {
		t.Fatalf("unknown chat: ok=%v err=%v", ok, err)
	}
	for chat, region := range map[string]string{"telegram:42": "UK", "discord:42": "AU", "telegram:-100123": "US"} {
		if err := s.SetChatRegion(ctx, chat, region); err != nil {
			t.Fatalf("SetChatRegion: %v", err)
		}
	}
	if err := s.SetChatRegion(ctx, "telegram:42", "CA"); err != nil {
		t.Fatalf("changing a region: %v", err)
	}
	flush(t, s)
	s.Close(ctx)

	// a restart: a new Store over the same database sees the same choices
	s2 := openT(t, spec, Options{})
	for chat, want := range map[string]string{"telegram:42": "CA", "discord:42": "AU", "telegram:-100123": "US"} {
		got, ok, err := s2.ChatRegion(ctx, chat)
		if err != nil || !ok || got != want {
			t.Errorf("after restart ChatRegion(%s) = %q, %v, %v; want %q", chat, got, ok, err, want)
		}
	}
	if err := s2.SetChatRegion(ctx, "discord:42", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s2.ChatRegion(ctx, "discord:42"); ok {
		t.Error("an empty region should forget the choice")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s2.ChatRegion(cancelled, "telegram:42"); err == nil {
		t.Error("ChatRegion should honour a cancelled context")
	}
}

// testNothingPersonal reads every stored cell and looks for what must never
// be kept.
func testNothingPersonal(t *testing.T, spec string) {
	ctx := context.Background()
	s := openT(t, spec, Options{})
	wipe(t, s)
	if err := s.SetChatRegion(ctx, "telegram:987654321", "UK"); err != nil {
		t.Fatal(err)
	}
	s.Record(ctx, unanswered("im jane.doe@example.com, @janedoe on insta, call 07700 900123, see janedoe.com"))
	s.Record(ctx, unanswered("my son Tobias lives on Birchwood Lane in Kalamazoo and has schizophrenia"))
	s.Record(ctx, unanswered("Mein Bruder Jürgen nimmt Kratom"))
	s.Record(ctx, shown("telegram", "sleep"))
	flush(t, s)

	var cells []string
	for _, tbl := range []string{"kratombot_topics", "kratombot_unanswered", "kratombot_regions", "kratombot_meta"} {
		rows, err := s.db.Query("SELECT * FROM " + tbl)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				cells = append(cells, fmt.Sprint(v))
			}
		}
		rows.Close()
	}
	all := strings.Join(cells, "|")
	for _, bad := range []string{"987654321", "jane", "example", "07700", "900123", "@",
		"tobias", "birchwood", "kalamazoo", "jürgen", "bruder"} {
		if strings.Contains(all, bad) {
			t.Errorf("the store keeps %q: %s", bad, all)
		}
	}
	if !strings.Contains(all, "im [email], [handle] on [?], call #, see [link]") ||
		!strings.Contains(all, "my son [?] lives on [?] in [?] and has schizophrenia") {
		t.Errorf("the scrubbed question is missing: %s", all)
	}
}

func testConcurrent(t *testing.T, spec string) {
	ctx := context.Background()
	s := openT(t, spec, Options{Queue: 10000})
	wipe(t, s)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				s.Record(ctx, shown("telegram", "sleep"))
				if i%25 == 0 {
					if err := s.SetChatRegion(ctx, fmt.Sprintf("telegram:%d", g), "UK"); err != nil {
						t.Error(err)
					}
					if _, _, err := s.ChatRegion(ctx, fmt.Sprintf("telegram:%d", g)); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	flush(t, s)
	r := report(t, s)
	if len(r.Topics) != 1 || r.Topics[0].Shown+int64(s.Dropped()) != 800 {
		t.Errorf("topics = %v with %d dropped; want 800 shown in all", r.Topics, s.Dropped())
	}
}

func testCloseWritesQueue(t *testing.T, spec string) {
	ctx := context.Background()
	s := openT(t, spec, Options{})
	wipe(t, s)
	for range 50 {
		s.Record(ctx, shown("discord", "see-a-professional"))
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s.Record(ctx, shown("discord", "see-a-professional")) // after Close: dropped, no panic
	if s.Dropped() != 1 {
		t.Errorf("dropped = %d after recording on a closed store, want 1", s.Dropped())
	}
	r := report(t, openT(t, spec, Options{}))
	if len(r.Topics) != 1 || r.Topics[0].Shown != 50 {
		t.Errorf("after Close the queue should be written: %v", r.Topics)
	}
}

func testReplicas(t *testing.T, spec string) {
	var wg sync.WaitGroup
	stores := make([]*Store, 3)
	errs := make([]error, 3)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			stores[i], errs[i] = Open(ctx, spec, Options{Key: testKey})
		}()
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		defer s.Close(context.Background())
	}
	ctx := context.Background()
	if err := stores[0].SetChatRegion(ctx, "telegram:7", "AU"); err != nil {
		t.Fatal(err)
	}
	flush(t, stores[0])
	for i, s := range stores {
		if got, ok, err := s.ChatRegion(ctx, "telegram:7"); got != "AU" || !ok || err != nil {
			t.Errorf("replica %d sees %q %v %v; all replicas must share the key", i, got, ok, err)
		}
	}
}

func TestDropsWhenQueueFull(t *testing.T) {
	// a store whose writer is not running: the queue fills and stays full
	s, err := open1(t, Options{Queue: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		s.Record(context.Background(), shown("telegram", "sleep"))
	}
	if s.Dropped() != 3 {
		t.Errorf("dropped = %d, want 3", s.Dropped())
	}
}

func open1(t *testing.T, o Options) (*Store, error) {
	s, err := open(context.Background(), SQLite, filepath.Join(t.TempDir(), "f.db"), o)
	if err == nil {
		t.Cleanup(func() { s.db.Close() })
	}
	return s, err
}

func TestOldQuestionsAreForgotten(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "f.db")
	ctx := context.Background()
	then := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := openT(t, spec, Options{Now: func() time.Time { return then }})
	s.Record(ctx, unanswered("is kratom an opioid"))
	s.Record(ctx, shown("telegram", "sleep"))
	s.Close(ctx)

	later := then.AddDate(0, 4, 0)
	s2 := openT(t, spec, Options{Now: func() time.Time { return later }, KeepQuestions: 90 * 24 * time.Hour})
	r, err := s2.Report(ctx, then.AddDate(0, -1, 0), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unanswered) != 0 {
		t.Errorf("questions older than 90 days are still kept: %v", r.Unanswered)
	}
	if len(r.Topics) != 1 {
		t.Errorf("topic counts should be kept: %v", r.Topics)
	}
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		spec, backend, dsn string
		wantErr            bool
	}{
		{"/var/lib/kratombot/feedback.db", SQLite, "/var/lib/kratombot/feedback.db", false},
		{"sqlite:/data/f.db", SQLite, "/data/f.db", false},
		{"sqlite:///data/f.db", SQLite, "/data/f.db", false},
		{"sqlite::memory:", SQLite, ":memory:", false},
		{"feedback.db", SQLite, "feedback.db", false},
		{"postgres://u:p@db:5432/kb?sslmode=require", Postgres, "postgres://u:p@db:5432/kb?sslmode=require", false},
		{"postgresql://db/kb", Postgres, "postgresql://db/kb", false},
		{"host=db user=kb password=x dbname=kb", Postgres, "host=db user=kb password=x dbname=kb", false},
		{"", "", "", true},
		{"sqlite:", "", "", true},
		{"mysql://db/kb", "", "", true},
	}
	for _, tt := range tests {
		b, d, err := ParseSpec(tt.spec)
		if (err != nil) != tt.wantErr || b != tt.backend || d != tt.dsn {
			t.Errorf("ParseSpec(%q) = %q, %q, %v; want %q, %q, error %v", tt.spec, b, d, err, tt.backend, tt.dsn, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "db/kb") {
			t.Errorf("the error repeats the address: %v", err)
		}
	}
}

func TestSecrets(t *testing.T) {
	tests := []struct {
		spec string
		want string
	}{
		{"postgres://bot:s3cr3t-pw@db/kb", "s3cr3t-pw"},
		{"postgres://bot:p%40ss%2Fword@db/kb", "p@ss/word"},
		{"postgres://db/kb?password=querypass", "querypass"},
		{"host=db password='quoted pw' dbname=kb", "quoted pw"},
		{"host=db password=plainpw dbname=kb", "plainpw"},
	}
	for _, tt := range tests {
		got := Secrets(tt.spec)
		found := false
		for _, s := range got {
			found = found || s == tt.want
		}
		if !found {
			t.Errorf("Secrets(%q) = %q, want it to include %q", tt.spec, got, tt.want)
		}
	}
	if got := Secrets("/var/lib/kratombot/f.db"); len(got) != 0 {
		t.Errorf("a file path has no secrets, got %q", got)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Open(ctx, filepath.Join(t.TempDir(), "missing", "f.db"), Options{})
	if err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("a missing folder should say so: %v", err)
	}
	// a server that is not there: fails quickly, without the password
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = Open(cctx, "postgres://bot:hunter2-secret@127.0.0.1:1/kb?connect_timeout=2", Options{})
	if err == nil {
		t.Fatal("Open on a closed port should fail")
	}
	if strings.Contains(err.Error(), "hunter2-secret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// Forged button data must not reach the store: only the knowledge's topic
// ids are counted.
func TestUnknownTopicsAreRefused(t *testing.T) {
	known := map[string]bool{"sleep": true}
	s := openT(t, "sqlite:"+filepath.Join(t.TempDir(), "f.db"), Options{KnownTopic: func(id string) bool { return known[id] }})
	ctx := context.Background()
	s.Record(ctx, shown("telegram", "sleep"))
	s.Record(ctx, bots.Event{Platform: "telegram", Topic: "John Smith has HIV \x1b[31m", Helpful: yes()})
	s.Record(ctx, shown("discord", "not-a-topic"))
	flush(t, s)
	r := report(t, s)
	if len(r.Topics) != 1 || r.Topics[0].Topic != "sleep" {
		t.Errorf("stored topics %v, want only sleep", r.Topics)
	}
}
