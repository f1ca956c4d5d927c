package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
)

// CreateChallenge inserts c and sets c.ID and c.CreatedAt. It returns
// ihoprauth.ErrDuplicate when a challenge of the same purpose has the same
// TokenHash.
func (s *Store) CreateChallenge(ctx context.Context, c *ihoprauth.Challenge) error {
	row := newChallengeRow(c)
	if err := s.create(ctx, &row); err != nil {
		return s.wrap("create challenge", err)
	}
	c.ID, c.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// ChallengeByToken returns the challenge of that purpose whose TokenHash
// equals tokenHash, or ihoprauth.ErrNotFound.
func (s *Store) ChallengeByToken(ctx context.Context, purpose ihoprauth.Purpose, tokenHash string) (ihoprauth.Challenge, error) {
	var row challengeRow
	if err := s.take(ctx, &row, "purpose = ? AND token_hash = ?", string(purpose), tokenHash); err != nil {
		return ihoprauth.Challenge{}, s.wrap("challenge by token", err)
	}
	return row.challenge(), nil
}

// TakeChallengeAttempt adds one to the challenge's Attempts if it is unused
// and has fewer than maxAttempts, and reports whether it did. The check and
// the write are one conditional UPDATE, so of concurrent calls at most
// maxAttempts-Attempts get true: a code is compared only after its attempt
// is taken, and concurrency cannot buy extra guesses. An unknown id gives
// false.
func (s *Store) TakeChallengeAttempt(ctx context.Context, id int64, maxAttempts int) (bool, error) {
	n, err := s.set(ctx, &challengeRow{}, "attempts", gorm.Expr("attempts + 1"),
		"id = ? AND used_at IS NULL AND attempts < ?", id, maxAttempts)
	if err != nil {
		return false, s.wrap("take challenge attempt", err)
	}
	return n == 1, nil
}

// ConsumeChallenge marks the challenge used at now if it is unused, and
// reports whether this call did so. The check and the write are one
// conditional UPDATE, so of concurrent calls exactly one gets true. An
// unknown id gives false.
func (s *Store) ConsumeChallenge(ctx context.Context, id int64, now time.Time) (bool, error) {
	n, err := s.set(ctx, &challengeRow{}, "used_at", utc(now), "id = ? AND used_at IS NULL", id)
	if err != nil {
		return false, s.wrap("consume challenge", err)
	}
	return n == 1, nil
}

// CreateAuthCode inserts c and sets c.ID and c.CreatedAt. It returns
// ihoprauth.ErrDuplicate when another code has the same Hash.
func (s *Store) CreateAuthCode(ctx context.Context, c *ihoprauth.AuthCode) error {
	row := newAuthCodeRow(c)
	if err := s.create(ctx, &row); err != nil {
		return s.wrap("create auth code", err)
	}
	c.ID, c.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// AuthCodeByHash returns the auth code whose Hash equals hash, or
// ihoprauth.ErrNotFound.
func (s *Store) AuthCodeByHash(ctx context.Context, hash string) (ihoprauth.AuthCode, error) {
	var row authCodeRow
	if err := s.take(ctx, &row, "hash = ?", hash); err != nil {
		return ihoprauth.AuthCode{}, s.wrap("auth code by hash", err)
	}
	return row.authCode(), nil
}

// ConsumeAuthCode marks the auth code used at now if it is unused, and
// reports whether this call did so; of concurrent calls exactly one gets
// true. An unknown id gives false.
func (s *Store) ConsumeAuthCode(ctx context.Context, id int64, now time.Time) (bool, error) {
	n, err := s.set(ctx, &authCodeRow{}, "used_at", utc(now), "id = ? AND used_at IS NULL", id)
	if err != nil {
		return false, s.wrap("consume auth code", err)
	}
	return n == 1, nil
}

// RevokeUserCodes marks used, at now, every unused auth code and challenge
// of the user.
func (s *Store) RevokeUserCodes(ctx context.Context, userID int64, now time.Time) error {
	return s.transaction(ctx, func(tx *Store) error {
		if _, err := tx.set(ctx, &authCodeRow{}, "used_at", utc(now), "user_id = ? AND used_at IS NULL", userID); err != nil {
			return s.wrap("revoke auth codes", err)
		}
		if _, err := tx.set(ctx, &challengeRow{}, "used_at", utc(now), "user_id = ? AND used_at IS NULL", userID); err != nil {
			return s.wrap("revoke challenges", err)
		}
		return nil
	})
}

func newChallengeRow(c *ihoprauth.Challenge) challengeRow {
	return challengeRow{
		Purpose:             string(c.Purpose),
		ProjectID:           c.ProjectID,
		UserID:              c.UserID,
		TokenHash:           c.TokenHash,
		AccountKey:          c.AccountKey,
		CodeHash:            c.CodeHash,
		CodeChallenge:       c.CodeChallenge,
		CodeChallengeMethod: c.CodeChallengeMethod,
		Attempts:            c.Attempts,
		ExpiresAt:           utc(c.ExpiresAt),
		UsedAt:              utcPtr(c.UsedAt),
		CreatedAt:           stamp(c.CreatedAt),
		Provider:            c.Provider,
	}
}

func (r challengeRow) challenge() ihoprauth.Challenge {
	return ihoprauth.Challenge{
		ID:                  r.ID,
		Purpose:             ihoprauth.Purpose(r.Purpose),
		ProjectID:           r.ProjectID,
		UserID:              r.UserID,
		TokenHash:           r.TokenHash,
		AccountKey:          r.AccountKey,
		CodeHash:            r.CodeHash,
		CodeChallenge:       r.CodeChallenge,
		CodeChallengeMethod: r.CodeChallengeMethod,
		Attempts:            r.Attempts,
		ExpiresAt:           utc(r.ExpiresAt),
		UsedAt:              utcPtr(r.UsedAt),
		CreatedAt:           utc(r.CreatedAt),
		Provider:            r.Provider,
	}
}

func newAuthCodeRow(c *ihoprauth.AuthCode) authCodeRow {
	return authCodeRow{
		Hash:                c.Hash,
		ProjectID:           c.ProjectID,
		UserID:              c.UserID,
		CodeChallenge:       c.CodeChallenge,
		CodeChallengeMethod: c.CodeChallengeMethod,
		ExpiresAt:           utc(c.ExpiresAt),
		UsedAt:              utcPtr(c.UsedAt),
		CreatedAt:           stamp(c.CreatedAt),
		AAL:                 aal(c.AAL),
		Provider:            c.Provider,
	}
}

// aal is the stored form of l: AAL1 for 0.
func aal(l ihoprauth.AssuranceLevel) int {
	return max(int(l), int(ihoprauth.AAL1))
}

func (r authCodeRow) authCode() ihoprauth.AuthCode {
	return ihoprauth.AuthCode{
		ID:                  r.ID,
		Hash:                r.Hash,
		ProjectID:           r.ProjectID,
		UserID:              r.UserID,
		CodeChallenge:       r.CodeChallenge,
		CodeChallengeMethod: r.CodeChallengeMethod,
		ExpiresAt:           utc(r.ExpiresAt),
		UsedAt:              utcPtr(r.UsedAt),
		CreatedAt:           utc(r.CreatedAt),
		AAL:                 ihoprauth.AssuranceLevel(r.AAL),
		Provider:            r.Provider,
	}
}
