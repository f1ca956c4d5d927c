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
// For a build without cgo, package puresqlite (store/puresqlite) opens the
// same database through a SQLite written in Go.
package sqlite

import (
	"errors"
	"net/url"

	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth/internal/sqlitefile"
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
//
// mmap_size, which the DSN cannot carry, is set by the driver's connect
// hook (driverName).
var params = url.Values{
	"_journal_mode": {"WAL"},
	"_busy_timeout": {"10000"},
	"_txlock":       {"immediate"},
	"_foreign_keys": {"1"},
	"_synchronous":  {"NORMAL"},
}

// Open opens, creating it if needed, the SQLite database file at path, set
// up for concurrent requests: WAL journal, a 10 second busy timeout,
// IMMEDIATE transactions, foreign keys on, synchronous=NORMAL, reads of
// the file's first GiB through a memory map (mmap_size, so that a lookup
// in a large database makes no system call per page), and a
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
//
// In a binary built without cgo (CGO_ENABLED=0), where mattn/go-sqlite3
// cannot work, Open returns ErrNoCgo: open the file with package
// puresqlite instead.
func Open(path string) (*gorm.DB, error) {
	if !cgo {
		return nil, ErrNoCgo
	}
	return sqlitefile.Open("sqlite", path, func(dsn string) gorm.Dialector {
		return dialector{gormsqlite.New(gormsqlite.Config{DriverName: driverName, DSN: dsn}).(*gormsqlite.Dialector)}
	}, params)
}

// ErrNoCgo is what Open returns in a binary built without cgo.
var ErrNoCgo = errors.New("sqlite: this binary was built with CGO_ENABLED=0 and mattn/go-sqlite3 needs cgo: open the database with package puresqlite (store/puresqlite)")

// PoolSize is how many connections Open keeps at most: twice the CPUs, at
// least 4. SQLite runs one write at a time whatever the pool, so a bigger
// pool only adds connections that wait for the write lock (each holding
// three open files); requests beyond the pool wait in database/sql for a
// free connection, bounded by their context (ihoprauth.Config.
// RequestTimeout, then 503). Change it with db.DB() and SetMaxOpenConns.
func PoolSize() int { return sqlitefile.PoolSize() }
