package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
	"github.com/ihoprauth/ihoprauth/storetest"
)

// TestConformanceOnOtherPools runs the conformance suite on a *gorm.DB
// whose connection pool is not a bare *sql.DB: GORM's own prepared
// statement cache, which an app may have turned on, and a pool whose
// transactions cannot take a prepared statement, as a plugin's may. The
// Store's prepared reads must give the same answers on both, in and out of
// transactions.
func TestConformanceOnOtherPools(t *testing.T) {
	for _, tt := range []struct {
		name string
		pool func(db *gorm.DB) *gorm.DB
	}{
		{"PrepareStmt", func(db *gorm.DB) *gorm.DB { return db.Session(&gorm.Session{PrepareStmt: true}) }},
		{"no StmtContext in transactions", func(db *gorm.DB) *gorm.DB {
			sqlDB, err := db.DB()
			if err != nil {
				t.Fatalf("DB: %v", err)
			}
			db = db.Session(&gorm.Session{NewDB: true})
			db.Statement.ConnPool = plainPool{sqlDB}
			return db
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) ihoprauth.Store {
				return newStore(t, tt.pool(testdb.Open(t, testdb.SQLite)))
			})
		})
	}
}

// plainPool is a gorm.ConnPool whose transactions have no StmtContext.
type plainPool struct{ *sql.DB }

func (p plainPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &plainTx{tx}, nil
}

func (p plainPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// plainTx is an *sql.Tx without StmtContext.
type plainTx struct{ tx *sql.Tx }

func (t *plainTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, query)
}

func (t *plainTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *plainTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *plainTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t *plainTx) Commit() error   { return t.tx.Commit() }
func (t *plainTx) Rollback() error { return t.tx.Rollback() }

// TestClose checks that Close releases the Store's prepared statements and
// leaves the database open.
func TestClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db := testdb.Open(t, backend)
		s := newStore(t, db)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		_, err := s.ProjectByClientID(t.Context(), "web")
		if err == nil || errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("ProjectByClientID after Close: got error %v, want the statement closed", err)
		}
		s, err = store.New(t.Context(), db, store.Config{})
		if err != nil {
			t.Fatalf("New after Close: %v", err)
		}
		if _, err := s.ProjectByClientID(t.Context(), "web"); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("ProjectByClientID on a new Store: got error %v, want ErrNotFound", err)
		}
	})
}
