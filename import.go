package ihoprauth

import (
	"cmp"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// ImportedUser is an account brought over from another system, such as an
// iHopr or Laravel database, with its existing password hash.
type ImportedUser struct {
	Email        string  // the address as the user gave it
	FirstName    string  // first name
	LastName     string  // last name
	MobileNumber string  // mobile number, as text
	Meta         *string // free text, nil when unset
	// Role defaults to Config.DefaultRole.
	Role string
	// PasswordHash is a bcrypt hash ($2a$, $2b$ or $2y$, as Laravel writes
	// them) or an argon2id PHC string; empty for an account without a
	// password. bcrypt hashes are replaced by argon2id at the first login.
	PasswordHash string
	// UserID keeps the account's public user_id; empty: a new one.
	UserID string
	// CreatedAt keeps the account's creation time; zero: now.
	CreatedAt time.Time
}

// ImportUser adds an account with its existing password hash to the project
// with that client_id, so that the user logs in unchanged. It returns an
// error wrapping ErrDuplicate when the project already has the email.
func (a *Auth) ImportUser(ctx context.Context, clientID string, in ImportedUser) (User, error) {
	p, err := a.store.ProjectByClientID(ctx, clientID)
	if err != nil {
		return User{}, fmt.Errorf("ihoprauth: project %q: %w", clientID, err)
	}
	if err := checkImport(in); err != nil {
		return User{}, err
	}
	now := a.now()
	u := User{
		UserID: cmp.Or(in.UserID, newOpaque(userIDBytes)), ProjectID: p.ID, Email: strings.TrimSpace(in.Email),
		EmailKey: CanonicalEmail(in.Email), FirstName: in.FirstName, LastName: in.LastName,
		MobileNumber: in.MobileNumber, Meta: in.Meta, Role: cmp.Or(in.Role, a.cfg.DefaultRole),
		PasswordHash: in.PasswordHash, CreatedAt: cmp.Or(in.CreatedAt, now).UTC(), UpdatedAt: now,
	}
	if cost, err := bcrypt.Cost([]byte(u.PasswordHash)); err == nil && p.BcryptCosts&(1<<cost) == 0 {
		// Before the user exists, so that no login ever finds a bcrypt
		// user in a project that does not yet pay for its cost everywhere.
		p.BcryptCosts |= 1 << cost
		if err := a.saveProject(ctx, &p); err != nil {
			return User{}, fmt.Errorf("ihoprauth: importing %q: %w", u.UserID, err)
		}
	}
	if err := a.store.CreateUser(ctx, &u); err != nil {
		return User{}, fmt.Errorf("ihoprauth: importing %q: %w", u.UserID, err)
	}
	return u, nil
}

// checkImport refuses what the API would refuse: a bad email, control
// characters, a hash that no login could ever verify.
func checkImport(in ImportedUser) error {
	email := strings.TrimSpace(in.Email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > maxEmail {
		return fmt.Errorf("ihoprauth: import: %q is not a valid email address", email)
	}
	for _, v := range []string{in.FirstName, in.LastName, in.MobileNumber, in.Role} {
		if hasControl(v) || utf8.RuneCountInString(v) > maxName {
			return fmt.Errorf("ihoprauth: import of %s: a field holds control characters or is too long", email)
		}
	}
	if h := in.PasswordHash; h != "" && !isBcrypt(h) && !strings.HasPrefix(h, "$argon2id$") {
		return fmt.Errorf("ihoprauth: import of %s: the password hash must be bcrypt ($2a$, $2b$, $2y$) or argon2id", email)
	}
	if in.UserID != "" && (len(in.UserID) != 2*userIDBytes || strings.Trim(in.UserID, "0123456789abcdef") != "") {
		return fmt.Errorf("ihoprauth: import of %s: a user_id must be %d lowercase hex digits", email, 2*userIDBytes)
	}
	if in.Meta != nil && strings.ContainsRune(*in.Meta, 0) {
		return fmt.Errorf("ihoprauth: import of %s: meta must not contain NUL", email)
	}
	return nil
}
