//go:build cgo

package store

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// isSQLiteDuplicate reports whether err is a mattn/go-sqlite3 error with a
// UNIQUE or PRIMARY KEY constraint code.
func isSQLiteDuplicate(err error) bool {
	var sqliteErr sqlite3.Error
	return errors.As(err, &sqliteErr) && (sqliteErr.ExtendedCode == sqlite3.ErrConstraintUnique ||
		sqliteErr.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}
