package ihoprauth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The app manages its users through the methods below: they are for the
// app's own code (an admin page, a support tool, a job that honours
// erasure requests), never reachable by a request, and they consult no
// policy. Every change that must end logins or outdate cached copies of a
// user goes through revokeInTx, so it holds on every instance within the
// bound of the token cache (docs/design.md, D7).

// UserByEmail returns the user with that email in the project with that
// client_id, or an error wrapping ErrNotFound. The email is compared in
// its canonical form (CanonicalEmail).
func (a *Auth) UserByEmail(ctx context.Context, clientID, email string) (User, error) {
	p, err := a.store.ProjectByClientID(ctx, clientID)
	if err != nil {
		return User{}, fmt.Errorf("ihoprauth: project %q: %w", clientID, err)
	}
	return a.store.UserByEmail(ctx, p.ID, CanonicalEmail(email))
}

// UserByUserID returns the user with that public user_id, or an error
// wrapping ErrNotFound.
func (a *Auth) UserByUserID(ctx context.Context, userID string) (User, error) {
	return a.store.UserByUserID(ctx, userID)
}

// SetRole sets the role of the user with that public user_id, bypassing
// Config.RolePolicy: it is for the app's own code, never for a request. A
// concurrent change of the user is read again and kept.
func (a *Auth) SetRole(ctx context.Context, userID, role string) (User, error) {
	if role == "" || len(role) > maxRole || hasControl(role) {
		return User{}, fmt.Errorf("ihoprauth: role must be 1 to %d printable characters", maxRole)
	}
	u, changed, err := a.changeUser(ctx, userID, func(u *User) bool {
		if u.Role == role {
			return false
		}
		u.Role = role
		return true
	}, revocation{})
	if err == nil && changed {
		a.event(ctx, EventRoleChanged, u.ProjectID, u.UserID, "ok")
	}
	return u, err
}

// DisableUser disables the user with that public user_id and ends all of
// their logins at once: every token, session and unused code. Until
// EnableUser, the user cannot log in (a correct password is answered like
// a wrong one, and code and reset mails are not sent, so nothing tells a
// caller that the account exists: docs/design.md, D2 and D29) and no token
// of theirs works, whichever instance checks it. Unlike a ban in
// supabase/auth, tokens already issued do not live on until they expire.
// Disabling a disabled user changes nothing. It returns the user, or an
// error wrapping ErrNotFound.
func (a *Auth) DisableUser(ctx context.Context, userID string) (User, error) {
	now := a.now().UTC()
	u, changed, err := a.changeUser(ctx, userID, func(u *User) bool {
		if u.Disabled() {
			return false
		}
		u.DisabledAt = &now
		return true
	}, revocation{allTokens: true, codes: true})
	if err == nil && changed {
		a.event(ctx, EventUserDisabled, u.ProjectID, u.UserID, "ok")
	}
	return u, err
}

// EnableUser lets a user disabled by DisableUser log in again; the logins
// that DisableUser ended stay ended. Enabling an enabled user changes
// nothing. It returns the user, or an error wrapping ErrNotFound.
func (a *Auth) EnableUser(ctx context.Context, userID string) (User, error) {
	u, changed, err := a.changeUser(ctx, userID, func(u *User) bool {
		if !u.Disabled() {
			return false
		}
		u.DisabledAt = nil
		return true
	}, revocation{})
	if err == nil && changed {
		a.event(ctx, EventUserEnabled, u.ProjectID, u.UserID, "ok")
	}
	return u, err
}

// changeUser applies edit to the user with that public user_id and writes
// it, with r (for that user) in the same transaction, unless edit reports
// no change. A concurrent change of the user is read again, up to five
// times, so that neither overwrites the other.
func (a *Auth) changeUser(ctx context.Context, userID string, edit func(*User) bool, r revocation) (User, bool, error) {
	for try := 1; ; try++ {
		u, err := a.store.UserByUserID(ctx, userID)
		if err != nil || !edit(&u) {
			return u, false, err
		}
		u.UpdatedAt = a.now()
		r.userID = u.ID
		err = a.revokeInTx(ctx, u.ID, func(tx Store) error {
			if err := tx.UpdateUser(ctx, &u); err != nil {
				return err
			}
			return a.revoke(ctx, tx, r)
		})
		if errors.Is(err, ErrConflict) && try < 5 {
			continue
		}
		if err != nil {
			return User{}, false, err
		}
		return u, true, nil
	}
}

// EndLogins ends every login of the user with that public user_id, on
// every instance at once: all access and refresh tokens, the cookie
// sessions that hold them, and the codes not yet used (a two-step or
// otp code, an auth code, a reset code). The user can log in again. It
// returns an error wrapping ErrNotFound when there is no such user.
func (a *Auth) EndLogins(ctx context.Context, userID string) error {
	u, err := a.store.UserByUserID(ctx, userID)
	if err != nil {
		return err
	}
	if err := a.revokeNow(ctx, revocation{userID: u.ID, allTokens: true, codes: true}); err != nil {
		return err
	}
	a.event(ctx, EventLoginsEnded, u.ProjectID, u.UserID, "ok")
	return nil
}

// DeleteUser erases the user with that public user_id: it is the answer
// to an erasure request (GDPR Art. 17). In one transaction it deletes the
// account (email, names, mobile number, meta, password hash), every token,
// code and challenge of it, the cookie sessions that hold its tokens (with
// the store of package store), and the sources known to it; in the audit
// trail the user's events keep only a pseudonym, "deleted-" and 24 random
// hex digits, in place of the user_id, and lose the client's address and
// user agent. Nothing links the pseudonym to the person: it is random, and
// not stored anywhere else. Throttle counters, which are keyed by hashes,
// remain until they expire. Every login of the user ends at once on every
// instance. It returns an error wrapping ErrNotFound when there is no such
// user.
//
// The app erases what it keeps of the user itself (rows keyed by the
// user_id, logs, backups).
func (a *Auth) DeleteUser(ctx context.Context, userID string) error {
	u, err := a.store.UserByUserID(ctx, userID)
	if err != nil {
		return err
	}
	pseudonym, err := a.deleteUser(ctx, u)
	if err != nil {
		return err
	}
	a.event(ctx, EventUserDeleted, u.ProjectID, pseudonym, "ok")
	return nil
}

// deleteUser erases u and returns the pseudonym its events now carry.
func (a *Auth) deleteUser(ctx context.Context, u User) (string, error) {
	pseudonym := pseudonymPrefix + newOpaque(pseudonymBytes)
	err := a.revokeInTx(ctx, u.ID, func(tx Store) error {
		return tx.DeleteUser(ctx, u.ID, accountKey(u.ProjectID, u.EmailKey), pseudonym)
	})
	return pseudonym, err
}

// A deleted user's events carry pseudonymPrefix and pseudonymBytes random
// bytes in hex: as long as a user_id, and never mistaken for one.
const (
	pseudonymPrefix = "deleted-"
	pseudonymBytes  = 12
)

// UserFilter selects the users that ListUsers returns. Its zero value
// selects every user of the project, 100 at a time.
type UserFilter struct {
	// EmailPrefix keeps the users whose canonical email (CanonicalEmail)
	// starts with it; it is made canonical too. "" keeps all.
	EmailPrefix string
	// Role keeps the users whose role equals it exactly; "" keeps all.
	Role string
	// CreatedFrom keeps the users created at or after it; zero: no bound.
	CreatedFrom time.Time
	// CreatedBefore keeps the users created before it; zero: no bound.
	CreatedBefore time.Time
	// Cursor continues a listing: the Next of the page before. "" starts
	// at the first user.
	Cursor string
	// Limit is the most users on a page: default 100, at most 1000.
	Limit int
}

// UserPage is one page of ListUsers.
type UserPage struct {
	// Users are the users of the page, oldest account first, without
	// their password hashes.
	Users []User
	// Next is the Cursor of the next page; "" when this is the last.
	Next string
}

// ErrBadCursor is returned by ListUsers for a Cursor that no UserPage
// gave.
var ErrBadCursor = errors.New("ihoprauth: invalid cursor")

// ListUsers returns a page of the users of the project with that
// client_id that f selects, in the order they were created. Pages follow
// each other by their cursor: a user created meanwhile shows up on a later
// page, and none is listed twice. It returns an error wrapping ErrNotFound
// when there is no such project.
func (a *Auth) ListUsers(ctx context.Context, clientID string, f UserFilter) (UserPage, error) {
	p, err := a.store.ProjectByClientID(ctx, clientID)
	if err != nil {
		return UserPage{}, fmt.Errorf("ihoprauth: project %q: %w", clientID, err)
	}
	q := UserQuery{ProjectID: p.ID, EmailPrefix: CanonicalEmail(f.EmailPrefix), Role: f.Role,
		CreatedFrom: f.CreatedFrom, CreatedBefore: f.CreatedBefore, Limit: min(cmpOr(f.Limit, 100), 1000) + 1}
	if f.Cursor != "" {
		if q.AfterID, err = strconv.ParseInt(f.Cursor, 36, 64); err != nil || q.AfterID <= 0 {
			return UserPage{}, ErrBadCursor
		}
	}
	users, err := a.store.ListUsers(ctx, q)
	if err != nil {
		return UserPage{}, err
	}
	var page UserPage
	if len(users) == q.Limit {
		users = users[:q.Limit-1]
		page.Next = strconv.FormatInt(users[len(users)-1].ID, 36)
	}
	for i := range users {
		users[i].PasswordHash = ""
	}
	page.Users = users
	return page, nil
}

// cmpOr is cmp.Or for a limit: a value that is not positive is def.
func cmpOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// UserEvents returns the audit trail of the user with that public user_id:
// the events at or after since, newest first, at most limit of them. After
// DeleteUser the user's events are found only under their pseudonym, which
// the EventUserDeleted event carries.
func (a *Auth) UserEvents(ctx context.Context, userID string, since time.Time, limit int) ([]Event, error) {
	return a.store.UserEvents(ctx, userID, since, limit)
}
