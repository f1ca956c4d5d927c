package store

// TokenUserSQL is the statement that s prepared for TokenUser's read by a
// token's key, for the benchmark that runs it bare.
func TokenUserSQL(s *Store) string { return s.reads.tokenUserByID.sql }

// ConflictTries is how many times a transaction is run while it conflicts.
const ConflictTries = conflictTries

// TokenID is the primary key that CreateToken gives a token whose access
// hash is hash, for the fixtures that insert tokens without it.
func TokenID(hash string) int64 { return tokenID(hash) }
