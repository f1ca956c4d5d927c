package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ihoprauth/ihoprauth"
)

// Hit counts one event under key in a fixed window and returns the counter
// after it. When the counter's window began at or before now-window, or
// there is no counter, the count restarts at 1 and the window begins at
// now; otherwise the count grows by one. LastAt becomes now either way.
//
// Throttles count guesses with it, so a lost hit is a free guess. The
// decision and the write are one upsert (INSERT … ON CONFLICT DO UPDATE,
// ON DUPLICATE KEY UPDATE on MySQL and MariaDB) that computes the new row
// from the stored one, so that no hit is lost however many race, and each
// caller gets the count its own hit left: read back in the same
// transaction, while the upsert's row lock keeps every other hit on that
// key out, or on MySQL and MariaDB returned by the upsert itself (see
// hitMySQLSQL).
func (s *Store) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (ihoprauth.Counter, error) {
	now = utc(now)
	if isMySQL(s.db) {
		return s.hitMySQL(ctx, key, now, utc(now.Add(-window)))
	}
	row := counterRow{Key: key, Count: 1, WindowStart: now, LastAt: now}
	upsert := hitUpsert(utc(now.Add(-window)), now)
	var stored counterRow
	err := s.transaction(ctx, func(tx *Store) error {
		if err := tx.db.WithContext(ctx).Clauses(upsert).Create(&row).Error; err != nil {
			return err
		}
		return tx.take(ctx, &stored, "counter_key = ?", key)
	})
	if err != nil {
		return ihoprauth.Counter{}, s.wrap("hit", err)
	}
	return stored.counter(), nil
}

// hitMySQLSQL is Hit's upsert on MySQL and MariaDB. The count it leaves
// comes back as the statement's last insert id (LAST_INSERT_ID(expr)),
// so no read follows the write in its transaction: on a Galera cluster a
// transaction that upserts the counter and then reads it back lost its
// write now and then although it committed (about 1 hit of 40 in one run
// of TestConcurrentHitsOnTwoInstances in four; none in 30 runs without
// the read), the lost update of MDEV-29044 and codership/galera#618.
// MySQL assigns left to right, so count, which depends on the old
// window_start, comes first.
const hitMySQLSQL = "INSERT INTO ihoprauth_counters (counter_key, `count`, window_start, last_at) VALUES (?, 1, ?, ?) " +
	"ON DUPLICATE KEY UPDATE `count` = LAST_INSERT_ID(CASE WHEN window_start <= ? THEN 1 ELSE `count` + 1 END), " +
	"window_start = CASE WHEN window_start <= ? THEN ? ELSE window_start END, last_at = ?"

// hitMySQL is Hit on MySQL and MariaDB: one statement, retried on a
// conflict, and then a read of the window's start, which is now when the
// count restarted and otherwise the stored one, which no hit changes while
// the window lasts; when the counter was deleted in between (a success
// resets it), the window start is now.
func (s *Store) hitMySQL(ctx context.Context, key string, now, cutoff time.Time) (ihoprauth.Counter, error) {
	c := ihoprauth.Counter{Key: key, Count: 1, WindowStart: now, LastAt: now}
	err := s.retry(ctx, func() error {
		res, err := s.db.WithContext(ctx).Statement.ConnPool.ExecContext(ctx, hitMySQLSQL, key, now, now, cutoff, cutoff, now, now)
		if err != nil {
			return err
		}
		// 1: a new row, counted 1; 2 (or 0, unchanged): the row was
		// updated, and the count it left is the last insert id.
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		id, err := res.LastInsertId()
		c.Count = int(id)
		return err
	})
	if err != nil {
		return ihoprauth.Counter{}, s.wrap("hit", err)
	}
	// Read whatever the count, so that the statements of a request do not
	// depend on a counter's state (docs/design.md, D29).
	var row counterRow
	switch err := s.take(ctx, &row, "counter_key = ?", key); {
	case errors.Is(err, ihoprauth.ErrNotFound):
		// Reset (ResetCounter, Purge) since the hit: the window that the
		// count belongs to is over, and a new one would begin now.
	case err != nil:
		return ihoprauth.Counter{}, s.wrap("hit", err)
	case c.Count > 1:
		c.WindowStart = utc(row.WindowStart)
	}
	return c, nil
}

// hitUpsert is the conflict clause of Hit: the stored counter restarts when
// its window began at or before cutoff and grows otherwise. MySQL assigns
// left to right and lets later assignments see earlier ones, so the count,
// which depends on the old window_start, is assigned before window_start;
// the other databases see only old values in every assignment.
func hitUpsert(cutoff, now time.Time) clause.OnConflict {
	table := counterRow{}.TableName()
	count := clause.Column{Table: table, Name: "count"}
	windowStart := clause.Column{Table: table, Name: "window_start"}
	return clause.OnConflict{
		Columns: []clause.Column{{Name: "counter_key"}},
		DoUpdates: clause.Set{
			{Column: clause.Column{Name: "count"},
				Value: gorm.Expr("CASE WHEN ? <= ? THEN 1 ELSE ? + 1 END", windowStart, cutoff, count)},
			{Column: clause.Column{Name: "window_start"},
				Value: gorm.Expr("CASE WHEN ? <= ? THEN ? ELSE ? END", windowStart, cutoff, now, windowStart)},
			{Column: clause.Column{Name: "last_at"}, Value: now},
		},
	}
}

// Counter returns the counter under key, or an ihoprauth.Counter with
// Count 0 and that Key when there is none; it never returns
// ihoprauth.ErrNotFound.
func (s *Store) Counter(ctx context.Context, key string) (ihoprauth.Counter, error) {
	var row counterRow
	err := s.take(ctx, &row, "counter_key = ?", key)
	if errors.Is(err, ihoprauth.ErrNotFound) {
		return ihoprauth.Counter{Key: key}, nil
	}
	if err != nil {
		return ihoprauth.Counter{}, s.wrap("counter", err)
	}
	return row.counter(), nil
}

// ResetCounter deletes the counter under key; it is not an error when there
// is none.
func (s *Store) ResetCounter(ctx context.Context, key string) error {
	err := s.retry(ctx, func() error { return s.db.WithContext(ctx).Where("counter_key = ?", key).Delete(&counterRow{}).Error })
	if err != nil {
		return s.wrap("reset counter", err)
	}
	return nil
}

// Unhit takes back one hit under key in a single conditional UPDATE: the
// count goes down by one unless it is 0 or there is no counter.
func (s *Store) Unhit(ctx context.Context, key string) error {
	_, err := s.set(ctx, &counterRow{}, "count", gorm.Expr("count - 1"), "counter_key = ? AND count > 0", key)
	return s.wrap("unhit", err)
}

func (r counterRow) counter() ihoprauth.Counter {
	return ihoprauth.Counter{
		Key:         r.Key,
		Count:       r.Count,
		WindowStart: utc(r.WindowStart),
		LastAt:      utc(r.LastAt),
	}
}
