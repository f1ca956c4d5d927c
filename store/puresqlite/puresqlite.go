// Package puresqlite opens the SQLite database that package store keeps
// ihoprauth's data in through a SQLite written in Go, for builds without
// cgo (CGO_ENABLED=0: a static binary, a cross-compile without a C
// toolchain):
//
//	db, err := puresqlite.Open("auth.db")
//	if err != nil {
//		log.Fatal(err)
//	}
//	st, err := store.New(ctx, db, store.Config{})
//
// It is package sqlite (store/sqlite) on another driver: the same file
// format, settings, pool and error classes, so either opens the other's
// database file. Package sqlite stays the default, on mattn/go-sqlite3 (the
// SQLite C library through cgo); this one uses github.com/glebarez/sqlite,
// GORM's dialector over modernc.org/sqlite (the same C library translated
// to Go), which registers the database/sql driver name "sqlite" and so can
// live in one binary with mattn's "sqlite3". An app that imports only this
// package links no cgo.
package puresqlite

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"syscall"

	gosqlite "github.com/glebarez/go-sqlite"
	glebarez "github.com/glebarez/sqlite"
	"gorm.io/gorm"
	lib "modernc.org/sqlite/lib"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/sqlitefile"
)

// params are glebarez/go-sqlite DSN parameters, the settings of package
// sqlite. Being in the DSN, they apply to every connection of the pool,
// which a PRAGMA run with Exec would not:
//
//   - WAL lets readers work while one connection writes;
//   - the busy timeout makes a writer wait up to 10s for the lock instead
//     of failing with "database is locked";
//   - IMMEDIATE transactions take the write lock at BEGIN, because a
//     deferred transaction that reads and then writes can fail with
//     SQLITE_BUSY whatever the busy timeout;
//   - foreign keys are enforced; synchronous=NORMAL is safe with WAL;
//   - the file's first GiB is read through a memory map
//     (sqlitefile.MmapSize), so a lookup in a large database makes no
//     system call per page.
//
// The driver writes times as mattn/go-sqlite3 does
// ("2006-01-02 15:04:05.999999999-07:00") without being told: its
// _time_format parameter must stay out, since the driver ignores
// _txlock when it is given.
var params = url.Values{
	"_pragma": {"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)", "mmap_size(" + strconv.Itoa(sqlitefile.MmapSize) + ")"},
	"_txlock": {"immediate"},
}

// Open opens, creating it if needed, the SQLite database file at path, set
// up for concurrent requests: WAL journal, a 10 second busy timeout,
// IMMEDIATE transactions, foreign keys on, synchronous=NORMAL, reads of
// the file's first GiB through a memory map (mmap_size), and a
// connection pool of PoolSize. GORM's logger is silenced (package store
// logs through its own). Pass the result to store.New. path is a file
// name, not a DSN, and cannot contain '?'.
//
// A new file is created readable by its owner only (0600), and SQLite gives
// its -wal and -shm files the same mode: the database holds password
// hashes and, unless Config.Secret is set, the key of the code hashes.
//
// Errors that mean the database is busy or out of resources (SQLITE_BUSY,
// SQLITE_LOCKED, too many open files) reach ihoprauth wrapping
// ihoprauth.ErrUnavailable, so requests get 503 with Retry-After, not 500.
func Open(path string) (*gorm.DB, error) {
	return sqlitefile.Open("puresqlite", path, func(dsn string) gorm.Dialector { return dialector{glebarez.Open(dsn).(*glebarez.Dialector)} }, params)
}

// PoolSize is how many connections Open keeps at most: twice the CPUs, at
// least 4, as in package sqlite. SQLite runs one write at a time whatever
// the pool, so a bigger pool only adds connections that wait for the write
// lock (each holding three open files); requests beyond the pool wait in
// database/sql for a free connection, bounded by their context
// (ihoprauth.Config.RequestTimeout, then 503). Change it with db.DB() and
// SetMaxOpenConns.
func PoolSize() int { return sqlitefile.PoolSize() }

// dialector is glebarez's SQLite dialector with an error translation that
// also tells ihoprauth when the database is busy rather than broken.
type dialector struct {
	*glebarez.Dialector
}

// Translate maps a unique-constraint error to gorm.ErrDuplicatedKey and a
// busy, locked or out-of-descriptors error to one that wraps
// ihoprauth.ErrUnavailable; any other error goes to glebarez's
// translation. The driver turns SQLite's extended result codes on, so an
// error's Code is an extended code (SQLITE_BUSY_SNAPSHOT, 517, say) whose
// low byte is the primary one (SQLITE_BUSY, 5).
func (d dialector) Translate(err error) error {
	var e *gosqlite.Error
	if errors.As(err, &e) {
		switch code := e.Code(); {
		case code == lib.SQLITE_CONSTRAINT_UNIQUE || code == lib.SQLITE_CONSTRAINT_PRIMARYKEY:
			return gorm.ErrDuplicatedKey
		case code&0xff == lib.SQLITE_BUSY || code&0xff == lib.SQLITE_LOCKED || code&0xff == lib.SQLITE_CANTOPEN:
			return fmt.Errorf("%w: %w", ihoprauth.ErrUnavailable, err)
		}
	}
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return fmt.Errorf("%w: %w", ihoprauth.ErrUnavailable, err)
	}
	return d.Dialector.Translate(err)
}
