//go:build cgo

package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"syscall"

	"github.com/mattn/go-sqlite3"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/sqlitefile"
)

// driverName is mattn/go-sqlite3 registered with a hook that sets, on
// every new connection, the pragma that its DSN has no parameter for:
// mmap_size (sqlitefile.MmapSize).
const driverName = "ihoprauth-sqlite3"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA mmap_size = "+strconv.Itoa(sqlitefile.MmapSize), nil)
		return err
	}})
}

// cgo reports whether the build has cgo, which mattn/go-sqlite3 needs.
const cgo = true

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
