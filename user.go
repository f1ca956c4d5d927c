package ihoprauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// userAnswer is the answer of GET /user and, with Updated, of the updates.
type userAnswer struct {
	Status  string       `json:"status"`
	User    userJSON     `json:"user"`
	Updated *updatedJSON `json:"updated,omitempty"`
}

// updatedJSON lists the fields an update really changed, in the document's
// order, plus updated_at. A password change shows in no field.
type updatedJSON struct {
	FirstName    *string  `json:"first_name,omitempty"`
	LastName     *string  `json:"last_name,omitempty"`
	MobileNumber *string  `json:"mobile_number,omitempty"`
	Meta         **string `json:"meta,omitempty"`
	Role         *string  `json:"role,omitempty"`
	UpdatedAt    string   `json:"updated_at"`
}

func (a *Auth) handleGetUser(r *http.Request, _ *input) (any, error) {
	u, _, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	return userAnswer{Status: "success", User: view(u, false)}, nil
}

// update is a validated PUT /user/update: the new values of the sent
// fields, nil for those not sent.
type update struct {
	firstName, lastName, mobile, role *string
	meta                              **string
	password, current                 string
	proof                             *proof // a second factor for step-up; nil: none sent
}

func readUpdate(in *input) update {
	var up update
	opt := func(name string, max int) *string {
		if !in.has(name) {
			return nil
		}
		s := in.str(name, true, max)
		return &s
	}
	up.firstName, up.lastName, up.role = opt("first_name", maxName), opt("last_name", maxName), opt("role", maxRole)
	if in.has("mobile_number") {
		m := in.mobile("mobile_number", true)
		up.mobile = &m
	}
	if meta, set := in.meta("meta"); set {
		up.meta = &meta
	}
	up.password = in.secret("password", false)
	up.current = in.secret("current_password", false)
	up.proof = readOptionalProof(in)
	return up
}

func (a *Auth) handleUpdateUser(r *http.Request, in *input) (any, error) {
	return a.handleUpdate(r, in, readUpdate(in))
}

func (a *Auth) handleUpdateRole(r *http.Request, in *input) (any, error) {
	role := in.str("role", true, maxRole)
	return a.handleUpdate(r, in, update{role: &role, proof: readOptionalProof(in)})
}

// handleUpdate applies up, read from in, to the bearer's user: a missing or
// bad token answers 401 before any field is judged.
func (a *Auth) handleUpdate(r *http.Request, in *input, up update) (any, error) {
	u, login, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	// The bearer check's user has no PasswordHash (Store.TokenUser), which
	// an update checks and writes back: it starts from the stored row.
	switch u, err = a.store.UserByID(r.Context(), u.ID); {
	case errors.Is(err, ErrNotFound):
		return nil, errBadToken
	case err != nil:
		return nil, err
	}
	return a.updateUser(r.Context(), u, login, up)
}

// updateUser applies up to u, logged in with login. Every check runs
// before any write: a refused role change (403), a refused step-up (403)
// or a bad field (422) changes nothing. A password change ends every other
// login of the user and keeps this one.
func (a *Auth) updateUser(ctx context.Context, u User, login Token, up update) (userAnswer, error) {
	var err error
	next, changed := u, &updatedJSON{}
	setField(&next.FirstName, up.firstName, &changed.FirstName)
	setField(&next.LastName, up.lastName, &changed.LastName)
	setField(&next.MobileNumber, up.mobile, &changed.MobileNumber)
	if up.meta != nil && !sameMeta(u.Meta, *up.meta) {
		next.Meta, changed.Meta = *up.meta, up.meta
	}
	if up.role != nil && !strings.EqualFold(*up.role, u.Role) {
		if !a.cfg.RolePolicy(ctx, u, *up.role) {
			a.event(ctx, EventRoleRefused, u.ProjectID, u.UserID, "forbidden")
			return userAnswer{}, errRoleForbidden
		}
		next.Role, changed.Role = *up.role, up.role
	}
	if up.password != "" {
		if err := a.checkPasswordChange(ctx, u, up); err != nil {
			return userAnswer{}, err
		}
	}
	if up.password != "" || next.Role != u.Role {
		if err := a.withStepUp(ctx, u, login, up.proof, false, nil); err != nil {
			return userAnswer{}, err
		}
	}
	if up.password != "" {
		if next.PasswordHash, err = a.hasher.hash(ctx, up.password, accountKey(u.ProjectID, u.EmailKey)); err != nil { // a logged-in user
			return userAnswer{}, err
		}
	}
	if next != u {
		next.UpdatedAt = a.now()
		if err := a.saveUpdate(ctx, next, up.password != "", login.FamilyID); err != nil {
			return userAnswer{}, err
		}
	}
	changed.UpdatedAt = next.UpdatedAt.Format(plainFormat)
	return userAnswer{Status: "success", User: view(next, false), Updated: changed}, nil
}

// setField sets *dst to *val when val is sent and differs, and records it.
func setField(dst *string, val *string, changed **string) {
	if val != nil && *val != *dst {
		*dst, *changed = *val, val
	}
}

func sameMeta(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// checkPasswordChange applies the password rules and, once the user has a
// password, asks for it (ASVS 6.2.3) unless Config.SkipCurrentPassword.
func (a *Auth) checkPasswordChange(ctx context.Context, u User, up update) error {
	if why := passwordProblem(up.password, u.Email, a.cfg.MinPasswordLength); why != "" {
		return fieldError("password", why)
	}
	if u.PasswordHash == "" || a.cfg.SkipCurrentPassword {
		return nil
	}
	if up.current == "" {
		return fieldError("current_password", "The current_password field is required to change the password.")
	}
	// A wrong current password is a failed password like one at login: it
	// counts against the source's lock on the account and its cap, so a
	// stolen token cannot be used to guess it.
	account := accountKey(u.ProjectID, u.EmailKey)
	if err := a.checkSourceCap(ctx); err != nil {
		return err
	}
	at, err := a.allowAttempt(ctx, u.ProjectID, account, false)
	if err != nil {
		return err
	}
	project, err := a.store.ProjectByID(ctx, u.ProjectID)
	if err != nil {
		return err
	}
	gate := func() error { return a.recheck(ctx, at) }
	done := func(ok bool) error {
		if ok {
			return nil
		}
		return errors.Join(a.attemptFailed(ctx, account), a.sourceFailed(ctx))
	}
	ok, _, err := a.hasher.verify(ctx, u.PasswordHash, up.current, project.BcryptCosts, account, gate, done)
	if err != nil {
		return err
	}
	if !ok {
		a.event(ctx, EventPasswordRefused, u.ProjectID, u.UserID, "wrong current password")
		return fieldError("current_password", "The current_password is incorrect.")
	}
	return a.attemptSucceeded(ctx, account)
}

// saveUpdate writes u, and on a password change ends the user's other
// logins in the same transaction.
func (a *Auth) saveUpdate(ctx context.Context, u User, notifyPasswordChanged bool, keepFamily string) error {
	err := a.revokeInTx(ctx, u.ID, func(tx Store) error {
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		if notifyPasswordChanged {
			return a.revoke(ctx, tx, revocation{userID: u.ID, allTokens: true, keepFamily: keepFamily, codes: true})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if notifyPasswordChanged {
		a.notifyPasswordChanged(ctx, u)
		a.event(ctx, EventPasswordChanged, u.ProjectID, u.UserID, "ok")
	}
	return nil
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

// Time formats of the iHopr API: Laravel's default serialization for
// created_at, and a plain UTC date-time for the rest.
const (
	createdFormat = "2006-01-02T15:04:05.000000Z"
	plainFormat   = "2006-01-02 15:04:05"
)
