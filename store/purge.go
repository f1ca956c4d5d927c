package store

import (
	"context"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"gorm.io/gorm"
)

// purgeChunk is how many keys one DELETE names at most, well under the
// bound-parameter limits of every database (SQLite's is 32766).
const purgeChunk = 500

// purgeTarget is one table that Purge cleans: its key column and the
// condition, with its arguments, that marks a row it deletes.
type purgeTarget struct {
	model any
	key   string
	where string
	args  []any
}

// Purge deletes at most limit rows that can no longer be used as of
// before: challenges and auth codes that expired before it, tokens whose
// refresh token expired before it or that were revoked before it, throttle
// counters last hit before it, known sources last seen more than
// ihoprauth.KnownSourceTTL before it, changes of the feed appended before
// it, and, unless eventsBefore is zero, audit
// events older than eventsBefore. It returns how many rows it deleted;
// calling it until it returns less than limit deletes them all. A limit
// that is not positive deletes nothing.
//
// Each table is cleaned in short statements: Purge reads the keys of at
// most the rows still allowed, then deletes those rows by key, checking
// the condition again so that a row that came back to use in between (a
// counter hit again) stays. No statement locks more than the rows it
// deletes, and each commits on its own unless the Store is bound to a
// transaction by InTx.
func (s *Store) Purge(ctx context.Context, before, eventsBefore time.Time, limit int) (int, error) {
	deleted := 0
	for _, target := range purgeTargets(utc(before), eventsBefore) {
		if deleted >= limit {
			break
		}
		n, err := s.purge(ctx, target, limit-deleted)
		deleted += n
		if err != nil {
			return deleted, s.wrap("purge", err)
		}
	}
	return deleted, nil
}

// purgeTargets lists the tables Purge cleans, in the order it cleans them.
func purgeTargets(before, eventsBefore time.Time) []purgeTarget {
	targets := []purgeTarget{
		{&challengeRow{}, "id", "expires_at < ?", []any{before}},
		{&authCodeRow{}, "id", "expires_at < ?", []any{before}},
		{&tokenRow{}, "id", "(refresh_expires_at < ? OR revoked_at < ?)", []any{before, before}},
		{&counterRow{}, "counter_key", "last_at < ?", []any{before}},
		{&sessionRow{}, "token", "expiry < ?", []any{before}},
		{&knownSourceRow{}, "id", "last_at < ?", []any{before.Add(-ihoprauth.KnownSourceTTL)}},
		{&changeRow{}, "id", "at < ?", []any{before}},
	}
	if !eventsBefore.IsZero() {
		targets = append(targets, purgeTarget{&eventRow{}, "id", "at < ?", []any{utc(eventsBefore)}})
	}
	return targets
}

// purge deletes at most limit rows of one target and returns how many it
// deleted. Two instances that purge at once may read the same keys; each
// row is counted only by the DELETE that removed it.
func (s *Store) purge(ctx context.Context, target purgeTarget, limit int) (int, error) {
	if target.key == "id" {
		return purgeByKey[int64](s.db.WithContext(ctx), target, limit)
	}
	return purgeByKey[string](s.db.WithContext(ctx), target, limit)
}

// purgeByKey is purge for a table whose key column holds values of type K.
func purgeByKey[K int64 | string](db *gorm.DB, target purgeTarget, limit int) (int, error) {
	var keys []K
	err := db.Model(target.model).Where(target.where, target.args...).
		Limit(limit).Pluck(target.key, &keys).Error
	if err != nil {
		return 0, err
	}
	deleted := 0
	for start := 0; start < len(keys); start += purgeChunk {
		chunk := keys[start:min(start+purgeChunk, len(keys))]
		res := db.Where(target.key+" IN ?", chunk).Where(target.where, target.args...).Delete(target.model)
		deleted += int(res.RowsAffected)
		if res.Error != nil {
			return deleted, res.Error
		}
	}
	return deleted, nil
}
