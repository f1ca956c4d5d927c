package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"gorm.io/gorm"
)

// ErrSchemaBehind is wrapped by New's error when Config.NoMigrate is set
// and the database lacks steps that this version of the package needs.
var ErrSchemaBehind = errors.New("store: the schema is behind this version")

// checkSchema fails, wrapping ErrSchemaBehind, when db lacks a step.
func checkSchema(db *gorm.DB) error {
	pending, err := pendingMigrations(db)
	if err != nil {
		return fmt.Errorf("store: reading the schema's version: %w", err)
	}
	if len(pending) == 0 {
		return nil
	}
	steps := make([]string, len(pending))
	for i, m := range pending {
		steps[i] = fmt.Sprintf("%d (%s)", m.version, m.name)
	}
	return fmt.Errorf("%w: missing step %s; run store.Migrate, or the statements of store.MigrationSQL, before starting with NoMigrate",
		ErrSchemaBehind, strings.Join(steps, ", "))
}

// MigrationSQL returns the statements that Migrate would run on db now,
// without running them: for each step db has not applied, in order, the
// statements that change its tables, then the INSERT that records the
// step. It is for teams whose DBA reviews schema changes before they run:
// apply the statements with a privileged user (on MySQL and MariaDB each
// statement commits by itself; on PostgreSQL and SQLite run them in one
// transaction), then start the app with Config.NoMigrate. With no step
// pending it returns none.
//
// The steps decide what to do by reading db (does this table or column
// exist yet?), and those reads do run; nothing is written. A step that
// would change rows found by such a read lists the changes for the rows
// there are now (step 5 marks the projects that hold imported bcrypt
// hashes).
func MigrationSQL(ctx context.Context, db *gorm.DB) ([]string, error) {
	db = session(db.WithContext(ctx), slog.Default())
	pending, err := pendingMigrations(db)
	if err != nil {
		return nil, fmt.Errorf("store: migration SQL: %w", err)
	}
	if len(pending) == 0 {
		return nil, nil
	}
	rec := &recorder{pool: db.Statement.ConnPool, db: db, created: map[string]bool{}}
	dry := db.Session(&gorm.Session{})
	dry.Statement.ConnPool = rec
	if !db.Migrator().HasTable(&schemaMigrationRow{}) {
		if err := tableOptions(dry).Migrator().CreateTable(&schemaMigrationRow{}); err != nil {
			return nil, fmt.Errorf("store: migration SQL: %w", err)
		}
	}
	for _, m := range pending {
		if err := m.up(dry); err != nil {
			return nil, fmt.Errorf("store: migration SQL: step %d (%s): %w", m.version, m.name, err)
		}
		now := "CURRENT_TIMESTAMP"
		if db.Dialector.Name() == "mysql" {
			now = "UTC_TIMESTAMP(6)"
		}
		rec.stmts = append(rec.stmts, fmt.Sprintf("INSERT INTO %s (version, applied_at) VALUES (%d, %s)",
			schemaMigrationRow{}.TableName(), m.version, now))
	}
	return rec.stmts, nil
}

// recorder is a connection pool that runs reads and records every other
// statement instead of running it. A column added to a table that an
// earlier recorded statement creates is left out: the table is created
// with every column of this version.
type recorder struct {
	pool    gorm.ConnPool
	db      *gorm.DB
	stmts   []string
	created map[string]bool
}

var (
	createTable = regexp.MustCompile("(?i)^CREATE TABLE (?:IF NOT EXISTS )?[`\"]?(\\w+)")
	alterAdd    = regexp.MustCompile("(?i)^ALTER TABLE [`\"]?(\\w+)[`\"]? ADD ")
)

func (r *recorder) record(query string, args []any) {
	stmt := strings.TrimSpace(r.db.Dialector.Explain(query, args...))
	if m := createTable.FindStringSubmatch(stmt); m != nil {
		r.created[m[1]] = true
	}
	if m := alterAdd.FindStringSubmatch(stmt); m != nil && r.created[m[1]] {
		return
	}
	r.stmts = append(r.stmts, stmt)
}

// isRead reports whether query only reads.
func isRead(query string) bool {
	q := strings.ToUpper(strings.TrimSpace(query))
	for _, p := range []string{"SELECT", "SHOW", "PRAGMA", "WITH", "DESCRIBE", "EXPLAIN"} {
		if strings.HasPrefix(q, p) {
			return true
		}
	}
	return false
}

func (r *recorder) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if !isRead(query) {
		return nil, fmt.Errorf("store: migration SQL: cannot prepare %q without running it", query)
	}
	return r.pool.PrepareContext(ctx, query)
}

func (r *recorder) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if isRead(query) {
		return r.pool.ExecContext(ctx, query, args...)
	}
	r.record(query, args)
	return driverResult{}, nil
}

func (r *recorder) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if !isRead(query) {
		return nil, fmt.Errorf("store: migration SQL: a step reads the answer of %q, which would change the database", query)
	}
	return r.pool.QueryContext(ctx, query, args...)
}

func (r *recorder) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.pool.QueryRowContext(ctx, query, args...)
}

// driverResult is the result of a statement that was recorded, not run.
type driverResult struct{}

func (driverResult) LastInsertId() (int64, error) { return 0, nil }
func (driverResult) RowsAffected() (int64, error) { return 0, nil }
