package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
)

// wrap names the operation that failed and classifies err for ihoprauth:
// an error that means the database could not answer now (unreachable, out
// of connections or descriptors, busy, timed out) wraps
// ihoprauth.ErrUnavailable, which the API answers with 503 and Retry-After;
// ErrNotFound and ErrDuplicate pass through; a conflict with a concurrent
// transaction is unavailable too outside a transaction (inside one, the
// transaction's retries see it first); anything else is a fault (500).
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if !errors.Is(err, ihoprauth.ErrUnavailable) && (unavailable(s.db.Dialector, err) || (!s.inTx && isConflict(err))) {
		return fmt.Errorf("store: %s: %w: %w", op, ihoprauth.ErrUnavailable, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// unavailable reports whether err, returned through dialector, means that
// the database could not answer now rather than that the request is wrong:
//
//   - a deadline, or a broken, refused or reset connection, as database/sql
//     and the network report them, or an error that says it is safe to
//     retry because it happened before the connection was used (pgx's
//     SafeToRetry, as for a connection the server closed);
//   - too many open files;
//   - what the dialector's error translation marks ErrUnavailable (package
//     sqlite and puresqlite do so for SQLITE_BUSY and SQLITE_LOCKED);
//   - a PostgreSQL SQLSTATE of class 08 (connection exception) or 53
//     (insufficient resources: too many connections), or 57P03 (cannot
//     connect now);
//   - a MySQL or MariaDB error 1040 (too many connections), 1203 (user has
//     too many connections), 1205 (lock wait timeout), 2002/2003/2006/2013
//     (connection lost or refused), 1053 (server shutting down), 1927
//     (connection killed) or 1047, which a Galera node answers while it is
//     not part of the primary component or has not finished joining
//     ("WSREP has not yet prepared node for application use").
func unavailable(dialector gorm.Dialector, err error) bool {
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, mysql.ErrInvalidConn) || errors.As(err, &netErr) {
		return true
	}
	if t, ok := dialector.(gorm.ErrorTranslator); ok && errors.Is(t.Translate(err), ihoprauth.ErrUnavailable) {
		return true
	}
	var retry interface{ SafeToRetry() bool }
	if errors.As(err, &retry) && retry.SafeToRetry() {
		return true
	}
	var stateErr interface{ SQLState() string }
	if errors.As(err, &stateErr) {
		state := stateErr.SQLState()
		return strings.HasPrefix(state, "08") || strings.HasPrefix(state, "53") || state == "57P03"
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		switch myErr.Number {
		case 1040, 1203, 1205, 2002, 2003, 2006, 2013, 1047, 1053, 1927:
			return true
		}
	}
	return false
}

// isConflict reports whether err means the database refused a transaction
// for a conflict with a concurrent one, which a new try may not meet:
// SQLSTATE 40001 (serialization failure, also Galera's certification
// failure) or 40P01 (deadlock), or MySQL and MariaDB's error 1213
// (deadlock, which Galera also reports).
func isConflict(err error) bool {
	var stateErr interface{ SQLState() string }
	if errors.As(err, &stateErr) {
		if state := stateErr.SQLState(); state == "40001" || state == "40P01" {
			return true
		}
	}
	var myErr *mysql.MySQLError
	return errors.As(err, &myErr) && (myErr.Number == 1213 || string(myErr.SQLState[:]) == "40001")
}

// isDuplicate reports whether err, returned by a write through dialector,
// means that a unique index refused the row. It recognises
// gorm.ErrDuplicatedKey, which GORM returns when the *gorm.DB was opened
// with gorm.Config.TranslateError; whatever the dialector translates to it
// (every official GORM driver maps its own unique-violation code, and so
// does package sqlite); and any error with a SQLState method returning
// "23505", the SQL standard unique_violation, as pgx and lib/pq errors have.
func isDuplicate(dialector gorm.Dialector, err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	if t, ok := dialector.(gorm.ErrorTranslator); ok && errors.Is(t.Translate(err), gorm.ErrDuplicatedKey) {
		return true
	}
	var stateErr interface{ SQLState() string }
	return errors.As(err, &stateErr) && stateErr.SQLState() == "23505"
}
