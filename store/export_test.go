package store

import (
	"context"

	"github.com/ihoprauth/ihoprauth"
)

// TokenUserSQL is the statement that s prepared for TokenUser's read by a
// token's key, for the benchmark that runs it bare.
func TokenUserSQL(s *Store) string { return s.reads.tokenUserByID.sql }

// ConflictTries is how many times a transaction is run while it conflicts.
const ConflictTries = conflictTries

// TokenID is the primary key that CreateToken gives a token whose access
// hash is hash, for the fixtures that insert tokens without it.
func TokenID(hash string) int64 { return tokenID(hash) }

// TokenUserByKey is TokenUser's first read alone: by the key that hash
// gives, and hash. A hash that gives no key finds nothing, as TokenUser
// then skips that read.
func TokenUserByKey(ctx context.Context, s *Store, hash string) (int64, error) {
	id := tokenID(hash)
	if id == 0 {
		return 0, ihoprauth.ErrNotFound
	}
	var x tokenUserScan
	err := s.readTokenUser(ctx, &x, hash, id)
	return x.t.UserID, err
}
