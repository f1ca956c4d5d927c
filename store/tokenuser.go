package store

import (
	"context"
	"database/sql"

	"github.com/ihoprauth/ihoprauth"
)

// TokenUser returns the token whose AccessHash equals hash, revoked or not,
// with its user, in one indexed read (a join on the user's primary key)
// through a prepared statement. It reads what a bearer check needs and
// nothing else: the token's RefreshHash and the user's PasswordHash are
// left empty (AccessHash is hash). It returns ihoprauth.ErrNotFound when
// there is no such token or user.
func (s *Store) TokenUser(ctx context.Context, hash string) (ihoprauth.Token, ihoprauth.User, error) {
	var x tokenUserScan
	user := func() ihoprauth.Change { return ihoprauth.Change{UserID: x.t.UserID} }
	if err := s.readRow(ctx, s.reads.tokenUser, user, x.dest(), hash); err != nil {
		return ihoprauth.Token{}, ihoprauth.User{}, err
	}
	t, u := x.login()
	t.AccessHash = hash
	return t, u, nil
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

// tokenUser is the SQL of TokenUser. The hash is compared with COALESCE of
// the parameter and the empty string rather than with the bare parameter:
// SQLite (3.54) marks a join that compares a column with a bare parameter
// to be prepared again whenever a value is bound, which costs more than the
// rest of the read, while an expression around the parameter keeps the
// prepared statement and its plan (the index on access_hash, then the
// user's primary key; likewise on PostgreSQL and MariaDB). The hash is
// never NULL, so the answer is the same.
func (q *queryBuilder) tokenUser() string {
	tokens, users := tokenRow{}.TableName(), userRow{}.TableName()
	return "SELECT " + q.columns(tokens, "t", tokenUserTokenFields...) + ", " + q.columns(users, "u", tokenUserUserFields...) +
		" FROM " + tokens + " t JOIN " + users + " u ON " + q.columns(users, "u", "ID") + " = " + q.columns(tokens, "t", "UserID") +
		" WHERE " + q.columns(tokens, "t", "AccessHash") + " = COALESCE(?, '')"
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
// select list.
func (x *tokenUserScan) dest() []any {
	t, u := &x.t, &x.u
	x.targets = [...]any{&t.ID, &t.FamilyID, &t.ProjectID, &t.UserID, &t.AuthCodeID,
		&t.ExpiresAt, &t.RefreshExpiresAt, &x.refreshedAt, &x.revokedAt, &t.CreatedAt, &t.AAL, &x.authAt,
		&u.UserID, &u.ProjectID, &u.Email, &u.EmailKey, &u.FirstName, &u.LastName,
		&u.MobileNumber, &x.meta, &u.Role, &u.Provider, &u.CreatedAt, &u.UpdatedAt, &u.Version, &x.disabledAt}
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
