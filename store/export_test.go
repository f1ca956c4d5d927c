package store

// TokenUserSQL is the statement that s prepared for TokenUser, for the
// benchmark that runs it bare.
func TokenUserSQL(s *Store) string { return s.reads.tokenUser.sql }

// ConflictTries is how many times a transaction is run while it conflicts.
const ConflictTries = conflictTries
