package feedback

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oldSchema is the store as kratombot made it before migrations were
// tracked (schema 1, a salt beside the hashes).
var oldSchema = []string{
	`CREATE TABLE kratombot_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE kratombot_topics (
		day TEXT NOT NULL, platform TEXT NOT NULL, topic TEXT NOT NULL,
		shown BIGINT NOT NULL DEFAULT 0, helpful BIGINT NOT NULL DEFAULT 0, not_helpful BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (day, platform, topic))`,
	`CREATE TABLE kratombot_unanswered (
		day TEXT NOT NULL, question TEXT NOT NULL, asked BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (day, question))`,
	`CREATE TABLE kratombot_regions (chat TEXT PRIMARY KEY, region TEXT NOT NULL, updated TEXT NOT NULL)`,
	`INSERT INTO kratombot_meta (name, value) VALUES ('salt', '00112233445566778899aabbccddeeff'), ('schema', '1')`,
	`INSERT INTO kratombot_topics VALUES ('2099-01-01', 'telegram', 'sleep', 7, 2, 1)`,
	`INSERT INTO kratombot_unanswered VALUES ('2099-01-01', 'is kratom legal', 3)`,
	`INSERT INTO kratombot_regions VALUES ('9f86d081884c7d659a2feaa0c55ad015', 'UK', '2099-01-01')`,
}

func TestMigrateFromOldSchemaSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	testMigrateFromOldSchema(t, "sqlite:"+path, db)
}

func TestMigrateFromOldSchemaPostgres(t *testing.T) {
	spec := postgresSpec(t)
	db, err := sql.Open("pgx", spec)
	if err != nil {
		t.Fatal(err)
	}
	testMigrateFromOldSchema(t, spec, db)
}

func testMigrateFromOldSchema(t *testing.T, spec string, db *sql.DB) {
	defer db.Close()
	ctx := context.Background()
	for _, q := range oldSchema {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("making the old schema: %v", err)
		}
	}
	s := openT(t, spec, Options{})
	r, err := s.Report(ctx, mustDay(t, "2099-01-01"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Topics) != 1 || r.Topics[0].Shown != 7 || r.Topics[0].Helpful != 2 || len(r.Unanswered) != 1 {
		t.Errorf("the counts did not survive the migration: %+v", r)
	}
	var n int
	db.QueryRowContext(ctx, `SELECT COUNT(*) FROM kratombot_meta WHERE name = 'salt'`).Scan(&n)
	if n != 0 {
		t.Error("the salt beside the hashes is still there")
	}
	db.QueryRowContext(ctx, `SELECT COUNT(*) FROM kratombot_regions`).Scan(&n)
	if n != 0 {
		t.Error("regions hashed under the old salt are still there")
	}
	var version string
	db.QueryRowContext(ctx, `SELECT value FROM kratombot_meta WHERE name = 'schema'`).Scan(&version)
	if version != schemaVersion {
		t.Errorf("schema = %q, want %q (a kratombot from before migrations must refuse it)", version, schemaVersion)
	}
	s.Close(ctx)

	// a second start changes nothing
	s = openT(t, spec, Options{})
	s.Close(ctx)

	// a store made by a newer kratombot is refused
	if _, err := db.ExecContext(ctx, `INSERT INTO `+migrationTable+` (version_id, is_applied) VALUES (99, true)`); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, spec, Options{Key: testKey})
	if err == nil || !strings.Contains(err.Error(), "newer kratombot") {
		t.Errorf("a newer store should be refused, got %v", err)
	}
}

func TestKeyRotationForgetsRegions(t *testing.T) {
	spec := "sqlite:" + filepath.Join(t.TempDir(), "f.db")
	ctx := context.Background()
	s := openT(t, spec, Options{})
	s.SetChatRegion(ctx, "telegram:42", "UK")
	flush(t, s)
	s.Close(ctx)
	s = openT(t, spec, Options{Key: []byte("another key, at least 16 bytes long")})
	if _, ok, _ := s.ChatRegion(ctx, "telegram:42"); ok {
		t.Error("a region saved under the old key is still found")
	}
	var n int
	s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM kratombot_regions`).Scan(&n)
	if n != 0 {
		t.Errorf("%d regions under the old key are kept", n)
	}
}

func mustDay(t *testing.T, day string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
