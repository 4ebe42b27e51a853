package feedback

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations are the schema's changes, applied in order by goose. A new one
// is a new numbered file; a shipped one is never edited.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationTable is where goose notes which migrations ran.
const migrationTable = "kratombot_migrations"

// migrate brings the schema up to date. On PostgreSQL a session advisory
// lock makes replicas that start together take turns.
func migrate(ctx context.Context, db *sql.DB, backend string) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("reading the store's migrations: %w", err)
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithTableName(migrationTable), goose.WithDisableGlobalRegistry(true)}
	if backend == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(7253941))
		if err != nil {
			return fmt.Errorf("preparing the postgres feedback store: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("preparing the feedback store's migrations: %w", err)
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("cannot reach the %s feedback store: %w", backend, err)
	}
	if current > target {
		return fmt.Errorf("the feedback store was made by a newer kratombot (schema %d, this one knows %d); upgrade the bot or use a new store", current, target)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("updating the feedback store's tables: %w", err)
	}
	return nil
}
