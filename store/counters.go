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
// from the stored one, so that no hit is lost however many race; it is
// read back in the same transaction, while the upsert's row lock keeps
// every other hit on that key out, so each caller gets the counter its own
// hit left.
func (s *Store) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (ihoprauth.Counter, error) {
	now = utc(now)
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
