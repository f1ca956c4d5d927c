package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm/clause"

	"github.com/ihoprauth/ihoprauth"
)

// CreateToken inserts t and sets t.ID and t.CreatedAt. It returns
// ihoprauth.ErrDuplicate when another token has the same AccessHash or
// RefreshHash.
//
// The ID is derived from the AccessHash (tokenID, docs/design.md D48), so
// that TokenUser finds the token by its primary key. When another row
// already has that ID, or the hash gives none, the database chooses the ID
// as it does for every other table, and TokenUser finds the token by the
// hash's index instead. On PostgreSQL, where a failed INSERT aborts the
// transaction around it, and on SQLite, the insert with the derived ID
// gives way to a row with that ID (ON CONFLICT (id) DO NOTHING), so a
// duplicate that it still reports is one of the hashes. MySQL's ON
// DUPLICATE KEY UPDATE would give way to a duplicate hash too, and with
// MariaDB's RETURNING reports the row it kept as inserted; there a
// duplicate fails the statement and not the transaction, so any duplicate
// is tried once more with the database's ID, which a duplicate hash fails
// again.
func (s *Store) CreateToken(ctx context.Context, t *ihoprauth.Token) error {
	row := newTokenRow(t)
	if row.ID = tokenID(t.AccessHash); row.ID != 0 {
		mysql := isMySQL(s.db)
		var giveWay []clause.Expression
		if !mysql {
			giveWay = append(giveWay, clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoNothing: true})
		}
		n, err := s.insert(ctx, &row, giveWay...)
		switch {
		case err == nil && n == 0, mysql && errors.Is(err, ihoprauth.ErrDuplicate):
			row.ID = 0
		case err != nil:
			return s.wrap("create token", err)
		}
	}
	if row.ID == 0 {
		if err := s.create(ctx, &row); err != nil {
			return s.wrap("create token", err)
		}
	}
	t.ID, t.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// TokenByRefreshHash returns the token whose RefreshHash equals hash,
// revoked or not, or ihoprauth.ErrNotFound.
func (s *Store) TokenByRefreshHash(ctx context.Context, hash string) (ihoprauth.Token, error) {
	return s.token(ctx, "token by refresh hash", "refresh_hash = ?", hash)
}

// MarkTokenRefreshed sets RefreshedAt to now if the token is neither
// refreshed nor revoked, and reports whether this call did so. The check
// and the write are one conditional UPDATE, so of concurrent calls exactly
// one gets true. An unknown id gives false.
func (s *Store) MarkTokenRefreshed(ctx context.Context, id int64, now time.Time) (bool, error) {
	n, err := s.set(ctx, &tokenRow{}, "refreshed_at", utc(now),
		"id = ? AND refreshed_at IS NULL AND revoked_at IS NULL", id)
	if err != nil {
		return false, s.wrap("mark token refreshed", err)
	}
	return n == 1, nil
}

// ExpireReplacedAccess sets ExpiresAt to at on the tokens of the family
// that were refreshed and would otherwise work past at, in one UPDATE.
func (s *Store) ExpireReplacedAccess(ctx context.Context, familyID string, at time.Time) error {
	at = utc(at)
	_, err := s.set(ctx, &tokenRow{}, "expires_at", at,
		"family_id = ? AND refreshed_at IS NOT NULL AND expires_at > ?", familyID, at)
	if err != nil {
		return s.wrap("expire replaced access", err)
	}
	return nil
}

// RevokeToken sets RevokedAt to now on the token with that ID unless it is
// already revoked. An unknown id is not an error.
func (s *Store) RevokeToken(ctx context.Context, id int64, now time.Time) error {
	return s.revoke(ctx, now, "id = ?", id)
}

// RevokeFamily revokes every unrevoked token of that family.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, now time.Time) error {
	return s.revoke(ctx, now, "family_id = ?", familyID)
}

// RevokeAuthCodeTokens revokes every unrevoked token issued for the auth
// code with that ID.
func (s *Store) RevokeAuthCodeTokens(ctx context.Context, authCodeID int64, now time.Time) error {
	return s.revoke(ctx, now, "auth_code_id = ?", authCodeID)
}

// RevokeUserTokens revokes every unrevoked token of the user except those of
// the family keepFamily; an empty keepFamily keeps none.
func (s *Store) RevokeUserTokens(ctx context.Context, userID int64, keepFamily string, now time.Time) error {
	if keepFamily == "" {
		return s.revoke(ctx, now, "user_id = ?", userID)
	}
	return s.revoke(ctx, now, "user_id = ? AND family_id <> ?", userID, keepFamily)
}

// revoke sets revoked_at to now on the unrevoked tokens matching query,
// leaving the time of an earlier revocation alone.
func (s *Store) revoke(ctx context.Context, now time.Time, query string, args ...any) error {
	query += " AND revoked_at IS NULL"
	if _, err := s.set(ctx, &tokenRow{}, "revoked_at", utc(now), query, args...); err != nil {
		return s.wrap("revoke tokens", err)
	}
	return nil
}

// token returns the token matching query; op names the lookup in errors.
func (s *Store) token(ctx context.Context, op, query string, args ...any) (ihoprauth.Token, error) {
	var row tokenRow
	if err := s.take(ctx, &row, query, args...); err != nil {
		return ihoprauth.Token{}, s.wrap(op, err)
	}
	return row.token(), nil
}

func newTokenRow(t *ihoprauth.Token) tokenRow {
	return tokenRow{
		AccessHash:       t.AccessHash,
		RefreshHash:      t.RefreshHash,
		FamilyID:         t.FamilyID,
		ProjectID:        t.ProjectID,
		UserID:           t.UserID,
		AuthCodeID:       t.AuthCodeID,
		ExpiresAt:        utc(t.ExpiresAt),
		RefreshExpiresAt: utc(t.RefreshExpiresAt),
		RefreshedAt:      utcPtr(t.RefreshedAt),
		RevokedAt:        utcPtr(t.RevokedAt),
		CreatedAt:        stamp(t.CreatedAt),
		AAL:              aal(t.AAL),
		AuthAt:           utcPtr(nonZero(t.AuthAt)),
	}
}

func (r tokenRow) token() ihoprauth.Token {
	return ihoprauth.Token{
		ID:               r.ID,
		AccessHash:       r.AccessHash,
		RefreshHash:      r.RefreshHash,
		FamilyID:         r.FamilyID,
		ProjectID:        r.ProjectID,
		UserID:           r.UserID,
		AuthCodeID:       r.AuthCodeID,
		ExpiresAt:        utc(r.ExpiresAt),
		RefreshExpiresAt: utc(r.RefreshExpiresAt),
		RefreshedAt:      utcPtr(r.RefreshedAt),
		RevokedAt:        utcPtr(r.RevokedAt),
		CreatedAt:        utc(r.CreatedAt),
		AAL:              ihoprauth.AssuranceLevel(r.AAL),
		AuthAt:           zeroIfNil(r.AuthAt),
	}
}

// nonZero is &t, or nil for the zero time.
func nonZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// zeroIfNil is *t in UTC, or the zero time for nil.
func zeroIfNil(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return utc(*t)
}
