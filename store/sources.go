package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ihoprauth/ihoprauth"
)

// knownSourceRow is one source (a signed device id or an address, hashed by
// ihoprauth) that completed a login to an account, and when it last did.
// Its own id lets Purge delete exactly the rows it counted.
type knownSourceRow struct {
	ID      int64     `gorm:"primaryKey"`
	Account string    `gorm:"column:account_key;size:64;not null;uniqueIndex:ihoprauth_known_sources_pair,priority:1"`
	Source  string    `gorm:"column:source_key;size:64;not null;uniqueIndex:ihoprauth_known_sources_pair,priority:2"`
	LastAt  time.Time `gorm:"precision:6;not null;index:ihoprauth_known_sources_last_at"`
}

func (knownSourceRow) TableName() string { return "ihoprauth_known_sources" }

// RememberSource records that source completed a login to the account at
// at, in one upsert that never moves LastAt back.
func (s *Store) RememberSource(ctx context.Context, account, source string, at time.Time) error {
	at = utc(at)
	lastAt := clause.Column{Table: knownSourceRow{}.TableName(), Name: "last_at"}
	upsert := clause.OnConflict{
		Columns: []clause.Column{{Name: "account_key"}, {Name: "source_key"}},
		DoUpdates: clause.Set{{Column: clause.Column{Name: "last_at"},
			Value: gorm.Expr("CASE WHEN ? < ? THEN ? ELSE ? END", lastAt, at, at, lastAt)}},
	}
	row := knownSourceRow{Account: account, Source: source, LastAt: at}
	return s.wrap("remember source", s.retry(ctx, func() error { return s.db.WithContext(ctx).Clauses(upsert).Create(&row).Error }))
}

// SourceLastSeen returns when source last completed a login to the
// account, or ihoprauth.ErrNotFound.
func (s *Store) SourceLastSeen(ctx context.Context, account, source string) (time.Time, error) {
	var row knownSourceRow
	if err := s.take(ctx, &row, "account_key = ? AND source_key = ?", account, source); err != nil {
		return time.Time{}, s.wrap("source last seen", err)
	}
	return utc(row.LastAt), nil
}

var _ ihoprauth.SourceStore = (*Store)(nil)
