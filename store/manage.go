package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/ihoprauth/ihoprauth"
)

// ListUsers returns the users that q selects, by ascending ID, at most
// q.Limit of them. The email prefix is compared with = to as many leading
// characters of EmailKey, not with LIKE, which SQLite folds to lower
// case: so it compares bytes on every database (MySQL and MariaDB through
// the binary collation of the tables).
func (s *Store) ListUsers(ctx context.Context, q ihoprauth.UserQuery) ([]ihoprauth.User, error) {
	if q.Limit <= 0 {
		return []ihoprauth.User{}, nil
	}
	db := s.db.WithContext(ctx).Where("project_id = ? AND id > ?", q.ProjectID, q.AfterID)
	if q.EmailPrefix != "" {
		db = db.Where("SUBSTR(email_key, 1, ?) = ?", utf8.RuneCountInString(q.EmailPrefix), q.EmailPrefix)
	}
	if q.Role != "" {
		db = db.Where("role = ?", q.Role)
	}
	if !q.CreatedFrom.IsZero() {
		db = db.Where("created_at >= ?", utc(q.CreatedFrom))
	}
	if !q.CreatedBefore.IsZero() {
		db = db.Where("created_at < ?", utc(q.CreatedBefore))
	}
	var rows []userRow
	if err := db.Order("id").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, s.wrap("list users", err)
	}
	users := make([]ihoprauth.User, len(rows))
	for i, r := range rows {
		users[i] = r.user()
	}
	return users, nil
}

// DeleteUser erases the user with internal ID id in one transaction: the
// cookie sessions that hold one of the user's tokens (found by the access
// hash in their data, which every codec keeps as its text), the tokens, auth
// codes and challenges of the user, the challenges and known sources of
// account, the user's factors and recovery codes, and the user's row; the
// user's audit events, and those of the changes the user made to others as
// an admin, keep pseudonym in place of the user_id (the actor) and lose
// their address and user agent. It returns ihoprauth.ErrNotFound when
// there is no such user.
func (s *Store) DeleteUser(ctx context.Context, id int64, account, pseudonym string) error {
	return s.transaction(ctx, func(tx *Store) error {
		var row userRow
		if err := tx.take(ctx, &row, "id = ?", id); err != nil {
			return s.wrap("delete user", err)
		}
		steps := []struct {
			op    string
			query string
			args  []any
		}{
			{"delete sessions", "DELETE FROM ihoprauth_sessions WHERE EXISTS (SELECT 1 FROM ihoprauth_tokens t WHERE t.user_id = ? AND " +
				tx.containsHash("ihoprauth_sessions.data", "t.access_hash") + ")", []any{id}},
			{"delete tokens", "DELETE FROM ihoprauth_tokens WHERE user_id = ?", []any{id}},
			{"delete auth codes", "DELETE FROM ihoprauth_auth_codes WHERE user_id = ?", []any{id}},
			{"delete challenges", "DELETE FROM ihoprauth_challenges WHERE user_id = ? OR account_key = ?", []any{id, account}},
			{"delete known sources", "DELETE FROM ihoprauth_known_sources WHERE account_key = ?", []any{account}},
			{"delete factors", "DELETE FROM ihoprauth_factors WHERE user_id = ?", []any{id}},
			{"delete recovery codes", "DELETE FROM ihoprauth_recovery_codes WHERE user_id = ?", []any{id}},
			{"delete passkeys", "DELETE FROM ihoprauth_passkeys WHERE user_id = ?", []any{id}},
			{"delete identities", "DELETE FROM ihoprauth_identities WHERE user_id = ?", []any{id}},
			{"pseudonymise events", "UPDATE ihoprauth_events SET user_id = ?, ip = '', user_agent = '' WHERE user_id = ?",
				[]any{pseudonym, row.UserID}},
			{"pseudonymise the events of an admin", "UPDATE ihoprauth_events SET actor = ?, ip = '', user_agent = '' WHERE actor = ?",
				[]any{pseudonym, row.UserID}},
			{"delete user", "DELETE FROM ihoprauth_users WHERE id = ?", []any{id}},
		}
		for _, st := range steps {
			if err := tx.db.WithContext(ctx).Exec(st.query, st.args...).Error; err != nil {
				return s.wrap(st.op, err)
			}
		}
		return nil
	})
}

// containsHash is the SQL condition that the binary column blob holds the
// text of the hex column hash.
func (s *Store) containsHash(blob, hash string) string {
	switch s.db.Dialector.Name() {
	case "postgres":
		return "position(convert_to(" + hash + ", 'UTF8') in " + blob + ") > 0"
	case "mysql":
		return "LOCATE(CAST(" + hash + " AS BINARY), " + blob + ") > 0"
	}
	return "instr(" + blob + ", CAST(" + hash + " AS BLOB)) > 0"
}

// DeleteProject deletes the project with that ID and every user,
// challenge, auth code, token and identity of it, and its users' factors,
// recovery codes and passkeys, in one transaction, or returns ihoprauth.ErrNotFound.
func (s *Store) DeleteProject(ctx context.Context, id int64) error {
	return s.transaction(ctx, func(tx *Store) error {
		res := tx.db.WithContext(ctx).Where("id = ?", id).Delete(&projectRow{})
		if res.Error != nil {
			return s.wrap("delete project", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: delete project %d: %w", id, ihoprauth.ErrNotFound)
		}
		for _, model := range []any{&factorRow{}, &recoveryCodeRow{}, &passkeyRow{}} {
			err := tx.db.WithContext(ctx).Where("user_id IN (SELECT id FROM ihoprauth_users WHERE project_id = ?)", id).Delete(model).Error
			if err != nil {
				return s.wrap("delete project factors", err)
			}
		}
		for _, model := range []any{&tokenRow{}, &authCodeRow{}, &challengeRow{}, &identityRow{}, &userRow{}} {
			if err := tx.db.WithContext(ctx).Where("project_id = ?", id).Delete(model).Error; err != nil {
				return s.wrap("delete project rows", err)
			}
		}
		return nil
	})
}

// UserEvents returns the audit events of the user with that public
// user_id at or after since, newest first, at most limit of them, through
// the index by user and time.
func (s *Store) UserEvents(ctx context.Context, userID string, since time.Time, limit int) ([]ihoprauth.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	var rows []eventRow
	err := s.db.WithContext(ctx).Where("user_id = ? AND at >= ?", userID, utc(since)).
		Order("at DESC").Order("id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, s.wrap("user events", err)
	}
	events := make([]ihoprauth.Event, len(rows))
	for i, r := range rows {
		events[i] = r.event()
	}
	return events, nil
}
