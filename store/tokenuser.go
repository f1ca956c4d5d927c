package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/ihoprauth/ihoprauth"
)

// TokenUser returns the token whose AccessHash equals hash, revoked or not,
// with its user, in an indexed read (a join on the user's primary key)
// through a prepared statement, or two when the first finds nothing. It
// reads what a bearer check needs and nothing else: the token's
// RefreshHash and the user's PasswordHash are left empty (AccessHash is
// hash). It returns ihoprauth.ErrNotFound when there is no such token or
// user.
//
// The read goes first by the primary key that CreateToken derives from
// the hash (tokenID, docs/design.md D48), and only when that finds nothing
// by the hash's own index: a token stored before its ID was derived, or
// whose derived ID another row had taken, or none at all. A replica's
// miss of the first is final (statement.replicaMissIsFinal): the second
// asks the primary on a miss, so an unknown token costs the primary one
// read, as before. On SQLite the primary key is the table's own B-tree, so
// the first read descends one tree where the index would descend two: at
// a million tokens, six pages instead of ten (BENCHMARKS.md, "A token's
// primary key from its hash").
func (s *Store) TokenUser(ctx context.Context, hash string) (ihoprauth.Token, ihoprauth.User, error) {
	var x tokenUserScan
	err := ihoprauth.ErrNotFound
	if id := tokenID(hash); id != 0 {
		err = s.readTokenUser(ctx, &x, hash, id)
	}
	if errors.Is(err, ihoprauth.ErrNotFound) {
		err = s.readTokenUser(ctx, &x, hash, 0)
	}
	if err != nil {
		return ihoprauth.Token{}, ihoprauth.User{}, err
	}
	t, u := x.login()
	t.AccessHash = hash
	return t, u, nil
}

// readTokenUser is one read of TokenUser into x: by the key id and hash,
// or by hash alone when id is 0.
func (s *Store) readTokenUser(ctx context.Context, x *tokenUserScan, hash string, id int64) error {
	user := func() ihoprauth.Change { return ihoprauth.Change{UserID: x.t.UserID} }
	if id == 0 {
		return s.readRow(ctx, s.reads.tokenUser, user, x.dest(true), hash)
	}
	x.t.ID = id
	return s.readRow(ctx, s.reads.tokenUserByID, user, x.dest(false), id, hash)
}

// tokenID is the primary key that CreateToken gives the token whose access
// hash is hash (docs/design.md, D48): 2^41 plus the hash's first 41 bits,
// or 0 (none) when hash does not begin with 16 hex digits. Keys between
// 2^41 and 2^42 are far from PostgreSQL's sequences, which count from 1.
// SQLite and MySQL choose the largest key plus one, inside or just above
// the range once a derived key exists: such a key may take a later token's
// key and send that token to the read by hash, nothing more. The keys are
// within a JSON number's exact integers, and short: SQLite stores one in 6
// bytes where 62 bits took 9, in the table's interior pages and in every
// index of the table, and a million tokens fit in three levels where
// 62-bit keys needed four. The hashes are SHA-256 of 256-bit random
// tokens, so a new token's key is taken by one of n live tokens about n
// times in 2^41; CreateToken then lets the database choose.
func tokenID(hash string) int64 {
	var b [8]byte
	if len(hash) < 2*len(b) {
		return 0
	}
	if _, err := hex.Decode(b[:], []byte(hash[:2*len(b)])); err != nil {
		return 0
	}
	return 1<<41 | int64(binary.BigEndian.Uint64(b[:])>>(64-41))
}

// tokenUserTokenFields and tokenUserUserFields are the columns that
// TokenUser reads, in the order of tokenUserScan.dest: all but the access
// hash (the caller's own), the user's ID (the token's UserID) and the two
// secrets, the hashes of the refresh token and of the password, which no
// bearer check uses and the token cache should not hold. Every column
// read costs: a text or time column is two allocations in database/sql
// and the driver, and 26 columns instead of 30 keep a bearer check under
// 60 allocations.
var (
	tokenUserTokenFields = []string{"ID", "FamilyID", "ProjectID", "UserID", "AuthCodeID",
		"ExpiresAt", "RefreshExpiresAt", "RefreshedAt", "RevokedAt", "CreatedAt", "AAL", "AuthAt"}
	tokenUserUserFields = []string{"UserID", "ProjectID", "Email", "EmailKey", "FirstName", "LastName",
		"MobileNumber", "Meta", "Role", "Provider", "CreatedAt", "UpdatedAt", "Version", "DisabledAt"}
)

// tokenUser is the SQL of TokenUser by the hash alone. The hash is compared
// with COALESCE of the parameter and the empty string rather than with the
// bare parameter: SQLite (3.54) marks a join that compares a column with a
// bare parameter to be prepared again whenever a value is bound, which
// costs more than the rest of the read, while an expression around the
// parameter keeps the prepared statement and its plan (the index on
// access_hash, then the user's primary key; likewise on PostgreSQL and
// MariaDB). The hash is never NULL, so the answer is the same.
func (q *queryBuilder) tokenUser() string {
	return q.tokenUserFrom(tokenUserTokenFields) + " WHERE " + q.columns(tokenRow{}.TableName(), "t", "AccessHash") + " = COALESCE(?, '')"
}

// tokenUserByID is the SQL of TokenUser by the primary key that the hash
// gives (tokenID) and the hash: the token's ID is the caller's, so it is
// not read. The key is wrapped as the hash is (see tokenUser), in a cast
// to a 64-bit integer where the database has one by that name: PostgreSQL
// would take COALESCE($1, 0) for a 32-bit integer.
func (q *queryBuilder) tokenUserByID() string {
	tokens := tokenRow{}.TableName()
	key := "COALESCE(?, 0)"
	if q.db.Dialector.Name() == "postgres" {
		key = "CAST(? AS BIGINT)"
	}
	return q.tokenUserFrom(tokenUserTokenFields[1:]) + " WHERE " + q.columns(tokens, "t", "ID") + " = " + key +
		" AND " + q.columns(tokens, "t", "AccessHash") + " = COALESCE(?, '')"
}

// tokenUserFrom is the SELECT and FROM of TokenUser's reads: tokenFields of
// the token, tokenUserUserFields of its user.
func (q *queryBuilder) tokenUserFrom(tokenFields []string) string {
	tokens, users := tokenRow{}.TableName(), userRow{}.TableName()
	return "SELECT " + q.columns(tokens, "t", tokenFields...) + ", " + q.columns(users, "u", tokenUserUserFields...) +
		" FROM " + tokens + " t JOIN " + users + " u ON " + q.columns(users, "u", "ID") + " = " + q.columns(tokens, "t", "UserID")
}

// tokenUserScan receives the row of TokenUser.
type tokenUserScan struct {
	t                      tokenRow
	u                      userRow
	refreshedAt, revokedAt sql.NullTime
	meta                   sql.NullString
	disabledAt             sql.NullTime
	authAt                 sql.NullTime
	targets                [26]any
}

// dest returns where each column of TokenUser goes, in the order of the
// select list: that of tokenUser, or without the token's ID (the first
// column) that of tokenUserByID.
func (x *tokenUserScan) dest(withID bool) []any {
	t, u := &x.t, &x.u
	x.targets = [...]any{&t.ID, &t.FamilyID, &t.ProjectID, &t.UserID, &t.AuthCodeID,
		&t.ExpiresAt, &t.RefreshExpiresAt, &x.refreshedAt, &x.revokedAt, &t.CreatedAt, &t.AAL, &x.authAt,
		&u.UserID, &u.ProjectID, &u.Email, &u.EmailKey, &u.FirstName, &u.LastName,
		&u.MobileNumber, &x.meta, &u.Role, &u.Provider, &u.CreatedAt, &u.UpdatedAt, &u.Version, &x.disabledAt}
	if !withID {
		return x.targets[1:]
	}
	return x.targets[:]
}

// login returns the token and user that x received, as the GORM rows give
// them.
func (x *tokenUserScan) login() (ihoprauth.Token, ihoprauth.User) {
	t := x.t.token()
	t.RefreshedAt, t.RevokedAt = utcNull(x.refreshedAt), utcNull(x.revokedAt)
	t.AuthAt = zeroIfNil(utcNull(x.authAt))
	x.u.ID, x.u.Meta = x.t.UserID, nullString(x.meta)
	u := x.u.user()
	u.DisabledAt = utcNull(x.disabledAt)
	return t, u
}
