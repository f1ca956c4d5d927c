// Package sqlitefile is what store/sqlite and store/puresqlite do alike
// to open a database file, whatever the driver:
//
//	db, err := sqlitefile.Open("sqlite", "auth.db", func(dsn string) gorm.Dialector { return gormsqlite.Open(dsn) }, params)
package sqlitefile

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"runtime"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Open creates the file at path if it is missing, readable by its owner
// only (0600: it holds password hashes, and SQLite gives its -wal and -shm
// files the same mode), opens it through the dialector that dialect makes
// of the DSN path?params, with GORM's logger silenced, and bounds the pool
// to PoolSize connections. pkg names the calling package in errors.
func Open(pkg, path string, dialect func(dsn string) gorm.Dialector, params url.Values) (*gorm.DB, error) {
	if path == "" || strings.Contains(path, "?") {
		return nil, errors.New(pkg + ": Open: path must be a non-empty file name without '?'")
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", pkg, err)
	}
	f.Close()
	db, err := gorm.Open(dialect(path+"?"+params.Encode()), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", pkg, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", pkg, err)
	}
	n := PoolSize()
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	return db, nil
}

// MmapSize is the mmap_size of every connection, in bytes: SQLite reads
// the first GiB of the file through a memory map, so a lookup in a large
// database costs no system call and no copy per page it reads: the token
// check at a million users costs about 1.5 times its cost at a thousand,
// against 2 times without (BENCHMARKS.md, "A million users, again"). The
// mapped pages are the kernel's page cache, which pread would fill as
// well, but a tool that reports a process's RSS counts those the process
// has touched. An app that wants another size opens the file with GORM
// itself and passes that to store.New: through mattn/go-sqlite3, with a
// driver registered with a ConnectHook that runs the pragma (as
// store/sqlite does); through modernc, with a _pragma in the DSN. Each
// connection maps the file on its own, so where addresses are 32 bits the
// map is 256 MiB.
const MmapSize = min(1<<30, math.MaxInt>>3+1)

// PoolSize is how many connections Open keeps at most: twice the CPUs, at
// least 4.
func PoolSize() int { return max(4, 2*runtime.NumCPU()) }
