// Package sqlite opens the SQLite database that package store keeps
// ihoprauth's data in by default:
//
//	db, err := sqlite.Open("auth.db")
//	if err != nil {
//		log.Fatal(err)
//	}
//	st, err := store.New(ctx, db, store.Config{})
//
// It lives apart from package store so that an app on PostgreSQL or
// MariaDB links neither mattn/go-sqlite3 (cgo) nor gorm.io/driver/sqlite.
package sqlite

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"syscall"

	"github.com/mattn/go-sqlite3"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ihoprauth/ihoprauth"
)

// params are mattn/go-sqlite3 DSN parameters. Being in the DSN, they apply
// to every connection of the pool, which a PRAGMA run with Exec would not:
//
//   - WAL lets readers work while one connection writes;
//   - the busy timeout makes a writer wait up to 10s for the lock instead
//     of failing with "database is locked";
//   - IMMEDIATE transactions take the write lock at BEGIN, because a
//     deferred transaction that reads and then writes can fail with
//     SQLITE_BUSY whatever the busy timeout;
//   - foreign keys are enforced; synchronous=NORMAL is safe with WAL.
var params = url.Values{
	"_journal_mode": {"WAL"},
	"_busy_timeout": {"10000"},
	"_txlock":       {"immediate"},
	"_foreign_keys": {"1"},
	"_synchronous":  {"NORMAL"},
}

// Open opens, creating it if needed, the SQLite database file at path, set
// up for concurrent requests: WAL journal, a 10 second busy timeout,
// IMMEDIATE transactions, foreign keys on and synchronous=NORMAL, and a
// connection pool of PoolSize. GORM's
// logger is silenced (package store logs through its own). Pass the result
// to store.New. path is a file name, not a DSN, and cannot contain '?'.
//
// A new file is created readable by its owner only (0600), and SQLite gives
// its -wal and -shm files the same mode: the database holds password
// hashes and, unless Config.Secret is set, the key of the code hashes.
//
// Errors that mean the database is busy or out of resources (SQLITE_BUSY,
// SQLITE_LOCKED, too many open files) reach ihoprauth wrapping
// ihoprauth.ErrUnavailable, so requests get 503 with Retry-After, not 500.
func Open(path string) (*gorm.DB, error) {
	if path == "" || strings.Contains(path, "?") {
		return nil, errors.New("sqlite: Open: path must be a non-empty file name without '?'")
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	f.Close()
	d := dialector{gormsqlite.Open(path + "?" + params.Encode()).(*gormsqlite.Dialector)}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := PoolSize()
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	return db, nil
}

// PoolSize is how many connections Open keeps at most: twice the CPUs, at
// least 4. SQLite runs one write at a time whatever the pool, so a bigger
// pool only adds connections that wait for the write lock (each holding
// three open files); requests beyond the pool wait in database/sql for a
// free connection, bounded by their context (ihoprauth.Config.
// RequestTimeout, then 503). Change it with db.DB() and SetMaxOpenConns.
func PoolSize() int { return max(4, 2*runtime.NumCPU()) }

// dialector is gorm's SQLite dialector with an error translation that
// also tells ihoprauth when the database is busy rather than broken.
type dialector struct {
	*gormsqlite.Dialector
}

// Translate maps a unique-constraint error to gorm.ErrDuplicatedKey and a
// busy, locked or out-of-descriptors error to one that wraps
// ihoprauth.ErrUnavailable; any other error is returned as it is.
func (d dialector) Translate(err error) error {
	var e sqlite3.Error
	if errors.As(err, &e) {
		switch {
		case e.ExtendedCode == sqlite3.ErrConstraintUnique || e.ExtendedCode == sqlite3.ErrConstraintPrimaryKey:
			return gorm.ErrDuplicatedKey
		case e.Code == sqlite3.ErrBusy || e.Code == sqlite3.ErrLocked || e.Code == sqlite3.ErrCantOpen:
			return fmt.Errorf("%w: %w", ihoprauth.ErrUnavailable, err)
		}
	}
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return fmt.Errorf("%w: %w", ihoprauth.ErrUnavailable, err)
	}
	return d.Dialector.Translate(err)
}
