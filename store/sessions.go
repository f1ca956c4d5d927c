package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// sessionRow is one scs session: its token, encoded data and expiry.
type sessionRow struct {
	Token  string    `gorm:"primaryKey;size:64"`
	Data   []byte    `gorm:"not null"`
	Expiry time.Time `gorm:"precision:6;not null;index:ihoprauth_sessions_expiry"`
}

func (sessionRow) TableName() string { return "ihoprauth_sessions" }

// SessionStore keeps the cookie sessions of github.com/alexedwards/scs/v2
// in the same database as everything else, so an app has one database to
// run and every instance sees every session. Session tokens are stored as
// their SHA-256 only, so a copy of the table yields no usable cookie. It implements scs.Store and
// scs.CtxStore; pass it to ihoprauth.NewSessionManager. Expired sessions
// are never returned, and Purge (Auth.Cleanup) deletes them.
type SessionStore struct{ s *Store }

// SessionStore returns the scs store of the sessions table.
func (s *Store) SessionStore() *SessionStore { return &SessionStore{s: s} }

// FindCtx returns the data of the unexpired session with that token, and
// whether there is one.
func (ss *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row sessionRow
	err := ss.s.db.WithContext(ctx).Where("token = ? AND expiry > ?", tokenHash(token), utc(time.Now())).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, ss.s.wrap("find session", err)
	}
	return row.Data, true, nil
}

// CommitCtx stores the session's data and expiry, replacing any earlier.
func (ss *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := sessionRow{Token: tokenHash(token), Data: b, Expiry: utc(expiry)}
	upsert := clause.OnConflict{Columns: []clause.Column{{Name: "token"}}, DoUpdates: clause.AssignmentColumns([]string{"data", "expiry"})}
	if err := ss.s.db.WithContext(ctx).Clauses(upsert).Create(&row).Error; err != nil {
		return ss.s.wrap("commit session", err)
	}
	return nil
}

// DeleteCtx deletes the session with that token; an unknown one is fine.
func (ss *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	if err := ss.s.db.WithContext(ctx).Where("token = ?", tokenHash(token)).Delete(&sessionRow{}).Error; err != nil {
		return ss.s.wrap("delete session", err)
	}
	return nil
}

// Find is FindCtx without a context, for scs.Store.
func (ss *SessionStore) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context, for scs.Store.
func (ss *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context, for scs.Store.
func (ss *SessionStore) Delete(token string) error {
	return ss.DeleteCtx(context.Background(), token)
}

// tokenHash is how a session token is stored.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// createSessions is migration step 4: the table of cookie sessions.
func createSessions(db *gorm.DB) error {
	return tableOptions(db).AutoMigrate(&sessionRow{})
}
