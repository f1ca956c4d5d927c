package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ihoprauth/ihoprauth"
)

// CreateUser inserts u and sets u.ID, u.CreatedAt and u.UpdatedAt. It
// returns ihoprauth.ErrDuplicate when the project already has a user with
// the same EmailKey, or any user has the same UserID.
func (s *Store) CreateUser(ctx context.Context, u *ihoprauth.User) error {
	row := newUserRow(u)
	if err := s.create(ctx, &row); err != nil {
		return s.wrap("create user", err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt = row.ID, row.CreatedAt, row.UpdatedAt
	return nil
}

// UserByEmail returns the project's user whose EmailKey equals emailKey byte
// for byte, or ihoprauth.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, projectID int64, emailKey string) (ihoprauth.User, error) {
	return s.user(ctx, "user by email", "project_id = ? AND email_key = ?", projectID, emailKey)
}

// UserByID returns the user with that internal ID, or ihoprauth.ErrNotFound.
// It reads through a prepared statement: every token issued reads it.
func (s *Store) UserByID(ctx context.Context, id int64) (ihoprauth.User, error) {
	var x userScan
	if err := s.row(ctx, s.reads.userByID, x.dest(), id); err != nil {
		return ihoprauth.User{}, err
	}
	return x.user(), nil
}

// UserByUserID returns the user with that public user_id, or
// ihoprauth.ErrNotFound.
func (s *Store) UserByUserID(ctx context.Context, userID string) (ihoprauth.User, error) {
	return s.user(ctx, "user by user_id", "user_id = ?", userID)
}

// UpdateUser writes u's names, mobile number, meta, role, provider,
// password hash, DisabledAt and UpdatedAt to the row with u.ID, and nothing else, if
// its version is still u.Version; the version then grows by one, so MySQL
// too counts the row as changed. It returns ihoprauth.ErrConflict when the
// version moved on and ihoprauth.ErrNotFound when there is no such row.
func (s *Store) UpdateUser(ctx context.Context, u *ihoprauth.User) error {
	changes := map[string]any{
		"version":       u.Version + 1,
		"first_name":    u.FirstName,
		"last_name":     u.LastName,
		"mobile_number": u.MobileNumber,
		"meta":          u.Meta,
		"role":          u.Role,
		"provider":      u.Provider,
		"password_hash": u.PasswordHash,
		"disabled_at":   utcPtr(u.DisabledAt),
		"updated_at":    stamp(u.UpdatedAt),
	}
	res := s.db.WithContext(ctx).Model(&userRow{}).Where("id = ? AND version = ?", u.ID, u.Version).Updates(changes)
	if res.Error != nil {
		return s.wrap("update user", res.Error)
	}
	if res.RowsAffected > 0 {
		u.Version++
		return nil
	}
	if _, err := s.UserByID(ctx, u.ID); err != nil {
		return err
	}
	return fmt.Errorf("store: update user %d: %w", u.ID, ihoprauth.ErrConflict)
}

// user returns the user matching query; op names the lookup in errors.
func (s *Store) user(ctx context.Context, op, query string, args ...any) (ihoprauth.User, error) {
	var row userRow
	if err := s.take(ctx, &row, query, args...); err != nil {
		return ihoprauth.User{}, s.wrap(op, err)
	}
	return row.user(), nil
}

// userFields are the columns of UserByID, in the order of userScan.dest.
var userFields = []string{"ID", "UserID", "ProjectID", "Email", "EmailKey", "FirstName", "LastName",
	"MobileNumber", "Meta", "Role", "Provider", "PasswordHash", "CreatedAt", "UpdatedAt", "Version", "DisabledAt", "EmailVerifiedAt"}

// userByID is the SQL of UserByID.
func (q *queryBuilder) userByID() string {
	users := userRow{}.TableName()
	return "SELECT " + q.columns(users, "", userFields...) + " FROM " + users + " WHERE " + q.column(users, "ID") + " = ?"
}

// userScan receives the row of UserByID.
type userScan struct {
	u          userRow
	meta       sql.NullString
	disabledAt sql.NullTime
	verifiedAt sql.NullTime
	targets    [17]any
}

// dest returns where each column of UserByID goes.
func (x *userScan) dest() []any {
	u := &x.u
	x.targets = [...]any{&u.ID, &u.UserID, &u.ProjectID, &u.Email, &u.EmailKey, &u.FirstName, &u.LastName,
		&u.MobileNumber, &x.meta, &u.Role, &u.Provider, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt, &u.Version, &x.disabledAt, &x.verifiedAt}
	return x.targets[:]
}

// user returns the user that x received, as the GORM row gives it.
func (x *userScan) user() ihoprauth.User {
	x.u.Meta = nullString(x.meta)
	u := x.u.user()
	u.DisabledAt = utcNull(x.disabledAt)
	u.EmailVerifiedAt = utcNull(x.verifiedAt)
	return u
}

func newUserRow(u *ihoprauth.User) userRow {
	return userRow{
		UserID:       u.UserID,
		ProjectID:    u.ProjectID,
		Email:        u.Email,
		EmailKey:     u.EmailKey,
		FirstName:    u.FirstName,
		LastName:     u.LastName,
		MobileNumber: u.MobileNumber,
		Meta:         u.Meta,
		Role:         u.Role,
		Provider:     u.Provider,
		PasswordHash: u.PasswordHash,
		CreatedAt:    stamp(u.CreatedAt),
		UpdatedAt:    stamp(u.UpdatedAt),
		Version:      u.Version,
		DisabledAt:   utcPtr(u.DisabledAt),

		EmailVerifiedAt: utcPtr(u.EmailVerifiedAt),
	}
}

func (r userRow) user() ihoprauth.User {
	return ihoprauth.User{
		ID:           r.ID,
		UserID:       r.UserID,
		ProjectID:    r.ProjectID,
		Email:        r.Email,
		EmailKey:     r.EmailKey,
		FirstName:    r.FirstName,
		LastName:     r.LastName,
		MobileNumber: r.MobileNumber,
		Meta:         r.Meta,
		Role:         r.Role,
		Provider:     r.Provider,
		PasswordHash: r.PasswordHash,
		CreatedAt:    utc(r.CreatedAt),
		UpdatedAt:    utc(r.UpdatedAt),
		Version:      r.Version,
		DisabledAt:   utcPtr(r.DisabledAt),

		EmailVerifiedAt: utcPtr(r.EmailVerifiedAt),
	}
}
