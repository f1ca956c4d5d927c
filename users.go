package ihoprauth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Time formats of the iHopr API: Laravel's default serialization for
// created_at, and a plain UTC date-time for the rest.
const (
	createdFormat = "2006-01-02T15:04:05.000000Z"
	plainFormat   = "2006-01-02 15:04:05"
)

// CanonicalEmail returns the form by which accounts are found and kept
// unique: trimmed, with ASCII letters lowercased and nothing else changed
// (no Unicode case folding; DECISIONS 16).
func CanonicalEmail(email string) string {
	b := []byte(strings.TrimSpace(email))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// readEmail reads and checks an email field, returning it trimmed.
func readEmail(in *input, name string) string {
	raw, ok := in.value(name, false)
	if hasControl(raw) {
		in.fail(name, "The "+name+" must not contain control characters.")
		return ""
	}
	e := in.check(name, strings.TrimSpace(raw), ok, true, maxEmail)
	if e == "" {
		return ""
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || addr.Name != "" {
		in.fail(name, "The "+name+" must be a valid email address.")
		return ""
	}
	return e
}

// LookupUser returns the user with that email in the project with that
// client_id, or an error wrapping ErrNotFound.
func (a *Auth) LookupUser(ctx context.Context, clientID, email string) (User, error) {
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
	for try := 1; ; try++ {
		u, err := a.store.UserByUserID(ctx, userID)
		if err != nil || u.Role == role {
			return u, err
		}
		u.Role, u.UpdatedAt = role, a.now()
		err = a.store.UpdateUser(ctx, &u)
		if errors.Is(err, ErrConflict) && try < 5 {
			continue
		}
		if err != nil {
			return User{}, err
		}
		a.cache.forgetUser(u.ID)
		a.event(ctx, EventRoleChanged, u.ProjectID, u.UserID, "ok")
		return u, nil
	}
}

// userJSON is a user as the API shows it.
type userJSON struct {
	ID           int64   `json:"id"`
	UserID       string  `json:"user_id"`
	FirstName    string  `json:"first_name"`
	LastName     string  `json:"last_name"`
	Email        string  `json:"email"`
	MobileNumber string  `json:"mobile_number"`
	Meta         *string `json:"meta"`
	Role         string  `json:"role"`
	Provider     *string `json:"provider,omitempty"`
	CreatedAt    string  `json:"created_at"`
}

// view shows u; the token response alone also shows provider.
func view(u User, withProvider bool) userJSON {
	v := userJSON{
		ID: u.ID, UserID: u.UserID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		MobileNumber: u.MobileNumber, Meta: u.Meta, Role: u.Role, CreatedAt: u.CreatedAt.UTC().Format(createdFormat),
	}
	if withProvider {
		v.Provider = &u.Provider
	}
	return v
}

func (a *Auth) now() time.Time { return a.cfg.Now().UTC() }
