package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// slowThreshold is how long a statement may take before it is logged.
const slowThreshold = time.Second

// quietLogger is the GORM logger of every Store. It writes to the Store's
// slog.Logger, at level Warn unless LogMode changes it: failed and slow
// statements, shown with their placeholders but never with the values bound
// to them, which are token hashes, emails and password hashes. Errors that
// are answers rather than faults (no row, a refused duplicate, a cancelled
// request) are left to the caller; MySQL also repeats a refused value in
// its message.
type quietLogger struct {
	level     logger.LogLevel
	dialector gorm.Dialector
	log       *slog.Logger
}

// newQuietLogger returns a quietLogger at level Warn for statements run
// through dialector.
func newQuietLogger(dialector gorm.Dialector, log *slog.Logger) quietLogger {
	return quietLogger{level: logger.Warn, dialector: dialector, log: log}
}

// LogMode returns a copy at level; db.Debug() uses it, and values stay
// hidden there too.
func (l quietLogger) LogMode(level logger.LogLevel) logger.Interface {
	l.level = level
	return l
}

// Info logs a message from GORM itself at level Info.
func (l quietLogger) Info(_ context.Context, msg string, args ...any) {
	l.printf(logger.Info, msg, args...)
}

// Warn logs a message from GORM itself at level Warn.
func (l quietLogger) Warn(_ context.Context, msg string, args ...any) {
	l.printf(logger.Warn, msg, args...)
}

// Error logs a message from GORM itself at level Error.
func (l quietLogger) Error(_ context.Context, msg string, args ...any) {
	l.printf(logger.Error, msg, args...)
}

// ParamsFilter drops every bound value, so that the SQL that Trace gets
// keeps its placeholders.
func (quietLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// Trace logs one statement: failed ones from level Error, slow ones from
// Warn, all from Info.
func (l quietLogger) Trace(_ context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin).Round(time.Microsecond)
	switch {
	case err != nil && l.level >= logger.Error && !l.expected(err):
		sql, _ := fc()
		l.printf(logger.Error, "%v [%s] %s", err, elapsed, sql)
	case elapsed > slowThreshold && l.level >= logger.Warn:
		sql, _ := fc()
		l.printf(logger.Warn, "slow statement [%s] %s", elapsed, sql)
	case l.level >= logger.Info:
		sql, rows := fc()
		l.printf(logger.Info, "[%s] [rows:%d] %s", elapsed, rows, sql)
	}
}

// expected reports whether err is an answer the caller handles rather than
// a fault of the database: a conflict with a concurrent transaction is
// retried (see Store.retry), and reported with the request's 503 only when
// the tries run out; on a Galera cluster conflicts are routine.
func (l quietLogger) expected(err error) bool {
	return errors.Is(err, gorm.ErrRecordNotFound) ||
		errors.Is(err, context.Canceled) ||
		isDuplicate(l.dialector, err) ||
		isConflict(err)
}

func (l quietLogger) printf(level logger.LogLevel, format string, args ...any) {
	if l.level < level {
		return
	}
	lvl := slog.LevelInfo
	switch level {
	case logger.Error:
		lvl = slog.LevelError
	case logger.Warn:
		lvl = slog.LevelWarn
	}
	l.log.Log(context.Background(), lvl, "ihoprauth/store: "+fmt.Sprintf(format, args...))
}
