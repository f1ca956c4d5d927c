package store

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// sqliteParams are mattn/go-sqlite3 DSN parameters. Being in the DSN, they
// apply to every connection of the pool, which a PRAGMA run with Exec would
// not:
//
//   - WAL lets readers work while one connection writes;
//   - the busy timeout makes a writer wait up to 10s for the lock instead
//     of failing with "database is locked";
//   - IMMEDIATE transactions take the write lock at BEGIN, because a
//     deferred transaction that reads and then writes can fail with
//     SQLITE_BUSY whatever the busy timeout;
//   - foreign keys are enforced; synchronous=NORMAL is safe with WAL.
var sqliteParams = url.Values{
	"_journal_mode": {"WAL"},
	"_busy_timeout": {"10000"},
	"_txlock":       {"immediate"},
	"_foreign_keys": {"1"},
	"_synchronous":  {"NORMAL"},
}

// OpenSQLite opens, creating it if needed, the SQLite database file at path,
// set up for concurrent requests: WAL journal, a 10 second busy timeout,
// IMMEDIATE transactions, foreign keys on and synchronous=NORMAL. Its
// logger never prints the values bound to a statement. Pass the result to
// New. path is a file name, not a DSN, and cannot contain '?'.
//
// A new file is created readable by its owner only (0600), and SQLite gives
// its -wal and -shm files the same mode: the database holds password
// hashes and, unless Config.Secret is set, the key of the code hashes.
func OpenSQLite(path string) (*gorm.DB, error) {
	if path == "" || strings.Contains(path, "?") {
		return nil, errors.New("store: OpenSQLite: path must be a non-empty file name without '?'")
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	f.Close()
	dialector := sqlite.Open(path + "?" + sqliteParams.Encode())
	db, err := gorm.Open(dialector, &gorm.Config{Logger: newQuietLogger(dialector)})
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	return db, nil
}
