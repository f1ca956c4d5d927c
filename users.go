package ihoprauth

import (
	"context"
	"errors"
	"fmt"
)

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
		err = a.revokeInTx(ctx, u.ID, func(tx Store) error { return tx.UpdateUser(ctx, &u) })
		if errors.Is(err, ErrConflict) && try < 5 {
			continue
		}
		if err != nil {
			return User{}, err
		}
		a.event(ctx, EventRoleChanged, u.ProjectID, u.UserID, "ok")
		return u, nil
	}
}
