package ihoprauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// Linking rules (docs/design.md, D43). A provider identity (provider and
// subject) signs in as the user it is linked to. One that the project has
// not seen yet becomes a new account, unless the project has an account of
// the same email: then it links itself to that account only when the
// provider asserts the email verified and the project allows AutoLink;
// otherwise it is refused (account_exists), and the owner links it from a
// logged-in session with a recent login (user/identities/link). A verified
// identity that lands on an account whose email was never proved removes
// what a squatter could have set up there: the password, the second
// factors, the identities linked before and every login. An account's last way in cannot be unlinked.

// providerUser returns the user that cl signs in as in proj, making or
// linking one as the rules say.
func (a *Auth) providerUser(ctx context.Context, proj Project, p *provider, cl claims) (User, error) {
	id, err := a.store.IdentityBySubject(ctx, proj.ID, p.Name, cl.Subject)
	if err == nil {
		return a.store.UserByID(ctx, id.UserID)
	}
	if !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	if cl.Email = providerEmail(cl.Email); cl.Email == "" {
		return User{}, errNoEmail
	}
	u, err := a.store.UserByEmail(ctx, proj.ID, CanonicalEmail(cl.Email))
	switch {
	case errors.Is(err, ErrNotFound):
		return a.createProviderUser(ctx, proj, p, cl)
	case err != nil:
		return User{}, err
	case u.Disabled():
		return User{}, errRefused
	case !cl.EmailVerified || !a.cfg.OAuthProjects[proj.ClientID].AutoLink:
		return User{}, errAccountExists
	}
	return u, a.autoLink(ctx, u, p, cl)
}

// createProviderUser makes the account of a new provider identity, with
// no password, and links the identity to it, in one transaction.
func (a *Auth) createProviderUser(ctx context.Context, proj Project, p *provider, cl claims) (User, error) {
	now := a.now()
	u := User{UserID: newOpaque(userIDBytes), ProjectID: proj.ID, Email: cl.Email, EmailKey: CanonicalEmail(cl.Email),
		FirstName: providerName255(cl.GivenName), LastName: providerName255(cl.FamilyName),
		Role: a.cfg.DefaultRole, Provider: p.Name, CreatedAt: now, UpdatedAt: now}
	if a.cfg.NewUserRole != nil {
		u.Role = a.cfg.NewUserRole(ctx, proj, u.EmailKey)
	}
	err := a.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := a.link(ctx, tx, u, p, cl); err != nil {
			return err
		}
		if cl.EmailVerified {
			return tx.MarkEmailVerified(ctx, u.ID, now)
		}
		return nil
	})
	if errors.Is(err, ErrDuplicate) {
		// A concurrent first sign-in of the same identity or email won.
		return User{}, &oauthError{"temporarily_unavailable", "The account was being created by another request. Try again."}
	}
	if err != nil {
		return User{}, err
	}
	a.event(ctx, EventSignup, proj.ID, u.UserID, "provider "+p.Name)
	a.event(ctx, EventIdentityLinked, proj.ID, u.UserID, p.Name)
	return u, nil
}

// providerEmail returns the email a provider gave when it is one that
// signup would take, and "" otherwise.
func providerEmail(s string) string {
	return readEmail(&input{form: map[string]string{"email": s}}, "email")
}

// providerName255 keeps a name from a provider when it fits a name field.
func providerName255(s string) string {
	if hasControl(s) || utf8.RuneCountInString(s) > 255 {
		return ""
	}
	return s
}

// link stores the identity cl of p for u in st.
func (a *Auth) link(ctx context.Context, st Store, u User, p *provider, cl claims) error {
	return st.CreateIdentity(ctx, &Identity{ProjectID: u.ProjectID, UserID: u.ID, Provider: p.Name,
		Subject: cl.Subject, Email: cl.Email, CreatedAt: a.now()})
}

// autoLink links a verified identity to the account of its email. When
// that account never proved its email, whoever made it may not own the
// address: its password, second factors, codes and logins are removed in
// the same transaction (as supabase/auth and PocketBase remove the
// password), so a squatter keeps no way in.
func (a *Auth) autoLink(ctx context.Context, u User, p *provider, cl claims) error {
	squatted := u.EmailVerifiedAt == nil
	err := a.revokeInTx(ctx, u.ID, func(tx Store) error {
		if squatted {
			if err := a.removeWaysIn(ctx, tx, u); err != nil {
				return err
			}
		}
		if err := a.link(ctx, tx, u, p, cl); err != nil {
			return err
		}
		return tx.MarkEmailVerified(ctx, u.ID, a.now())
	})
	if errors.Is(err, ErrDuplicate) {
		return errIdentityTaken
	}
	if err != nil {
		return err
	}
	a.event(ctx, EventIdentityLinked, u.ProjectID, u.UserID, p.Name+" (automatic)")
	if squatted {
		a.event(ctx, EventPasswordRemoved, u.ProjectID, u.UserID, "email never proved; "+p.Name+" proved it")
	}
	return nil
}

// removeWaysIn removes, in tx, the password, second factors, passkeys and
// linked identities of u and ends every login and unused code of theirs.
func (a *Auth) removeWaysIn(ctx context.Context, tx Store, u User) error {
	u.PasswordHash, u.UpdatedAt = "", a.now()
	if err := tx.UpdateUser(ctx, &u); err != nil {
		return err
	}
	if err := tx.DeleteFactors(ctx, u.ID); err != nil {
		return err
	}
	keys, err := tx.Passkeys(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.DeletePasskey(ctx, u.ID, k.ID); err != nil {
			return err
		}
	}
	ids, err := tx.Identities(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := tx.DeleteIdentity(ctx, u.ID, id.ID); err != nil {
			return err
		}
	}
	return a.revoke(ctx, tx, revocation{userID: u.ID, allTokens: true, codes: true})
}

// linkFromSession links the identity cl to the user who asked for it with
// a link_token. The identity's email need not be the account's; a
// verified one that is proves the account's email.
func (a *Auth) linkFromSession(ctx context.Context, proj Project, userID int64, p *provider, cl claims) error {
	u, err := a.store.UserByID(ctx, userID)
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && (u.Disabled() || u.ProjectID != proj.ID)):
		return errRefused
	case err != nil:
		return err
	}
	if id, err := a.store.IdentityBySubject(ctx, proj.ID, p.Name, cl.Subject); err == nil {
		if id.UserID == u.ID {
			return nil // linked already
		}
		return errIdentityTaken
	}
	cl.Email = providerEmail(cl.Email)
	err = a.store.InTx(ctx, func(tx Store) error {
		if err := a.link(ctx, tx, u, p, cl); err != nil {
			return err
		}
		if cl.EmailVerified && cl.Email != "" && CanonicalEmail(cl.Email) == u.EmailKey {
			return tx.MarkEmailVerified(ctx, u.ID, a.now())
		}
		return nil
	})
	if errors.Is(err, ErrDuplicate) {
		return errIdentityTaken
	}
	if err != nil {
		return err
	}
	a.event(ctx, EventIdentityLinked, u.ProjectID, u.UserID, p.Name)
	return nil
}

// linkTokenTTL is how long a link_token works.
const linkTokenTTL = 5 * time.Minute

// errNotRecent refuses a link without a recent login.
var errNotRecent = &Error{Status: http.StatusForbidden,
	Message: "Linking a provider needs a recent login: log in again, then link within a few minutes."}

// linkAnswer is the answer of user/identities/link.
type linkAnswer struct {
	Status        string `json:"status"`
	LinkToken     string `json:"link_token"`
	LinkExpiresAt string `json:"link_expires_at"`
}

// handleLink gives a logged-in user with a recent login (D38's
// StepUpWindow) a link_token for oauth/{provider}/start.
func (a *Auth) handleLink(r *http.Request, in *input) (any, error) {
	name := in.str("provider", true, 32)
	if err := in.err(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	u, login, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	proj, err := a.store.ProjectByID(ctx, u.ProjectID)
	if err != nil {
		return nil, err
	}
	p := a.providers.byName[name]
	if p == nil {
		return nil, errNoProvider
	}
	if _, _, err := a.oauthProject(ctx, proj.ClientID, p); err != nil {
		return nil, err
	}
	if a.cfg.StepUpWindow >= 0 && !a.recentLogin(login) {
		a.event(ctx, EventStepUpRefused, u.ProjectID, u.UserID, "link "+name+": no recent login")
		return nil, errNotRecent
	}
	token := newOpaque(tokenBytes)
	c := Challenge{Purpose: PurposeLink, ProjectID: proj.ID, UserID: u.ID, TokenHash: sha256Hex(token),
		ExpiresAt: a.now().Add(linkTokenTTL), CreatedAt: a.now(), Provider: p.Name}
	if err := a.store.CreateChallenge(ctx, &c); err != nil {
		return nil, err
	}
	return linkAnswer{Status: "success", LinkToken: token, LinkExpiresAt: c.ExpiresAt.Format(plainFormat)}, nil
}

// takeLinkToken spends a link_token of proj for p and returns its user's
// internal ID.
func (a *Auth) takeLinkToken(ctx context.Context, proj Project, p *provider, token string) (int64, error) {
	c, err := a.store.ChallengeByToken(ctx, PurposeLink, sha256Hex(token))
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, errBadLinkToken
	case err != nil:
		return 0, err
	case c.UsedAt != nil || !a.now().Before(c.ExpiresAt) || c.ProjectID != proj.ID || c.Provider != p.Name:
		return 0, errBadLinkToken
	}
	won, err := a.store.ConsumeChallenge(ctx, c.ID, a.now())
	if err != nil || !won {
		return 0, cmpErr(err, errBadLinkToken)
	}
	return c.UserID, nil
}

// identityJSON is one identity as user/identities shows it.
type identityJSON struct {
	ID        int64  `json:"id"`
	Provider  string `json:"provider"`
	Email     string `json:"email"`
	CreatedAt string `json:"created_at"`
}

// identitiesAnswer is the answer of user/identities.
type identitiesAnswer struct {
	Status     string         `json:"status"`
	Identities []identityJSON `json:"identities"`
}

func (a *Auth) handleIdentities(r *http.Request, _ *input) (any, error) {
	u, _, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	ids, err := a.store.Identities(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	out := identitiesAnswer{Status: "success", Identities: make([]identityJSON, len(ids))}
	for i, id := range ids {
		out.Identities[i] = identityJSON{ID: id.ID, Provider: id.Provider, Email: id.Email,
			CreatedAt: id.CreatedAt.Format(createdFormat)}
	}
	return out, nil
}

// ErrLastWayIn is returned by Auth.UnlinkIdentity, and answered with 409,
// when the identity is the account's last way in: it has no password, its
// project is not an otp project, no other identity is linked, and it has
// no passkey in a project that has passkeys.
var ErrLastWayIn = errors.New("ihoprauth: the last way to sign in to the account")

var errLastWayIn = &Error{Status: http.StatusConflict,
	Message: "This is the last way to sign in to the account: set a password or link another provider first."}

// handleUnlink removes one of the caller's identities, with the step-up
// of D38 for users with a second factor.
func (a *Auth) handleUnlink(r *http.Request, in *input) (any, error) {
	raw, _ := in.value("id", true)
	id, perr := strconv.ParseInt(raw, 10, 64)
	if perr != nil || id <= 0 {
		in.fail("id", "The id must be the id of one of your identities.")
	}
	pr := readOptionalProof(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	u, login, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	var provider string
	err = a.withStepUp(r.Context(), u, login, pr, false, func(tx Store) (err error) {
		provider, err = a.unlink(r.Context(), tx, u.ID, id)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, errNotFound
	case errors.Is(err, ErrLastWayIn):
		return nil, errLastWayIn
	case err != nil:
		return nil, err
	}
	a.event(r.Context(), EventIdentityUnlinked, u.ProjectID, u.UserID, provider)
	return ok, nil
}

// unlink deletes the user's identity id in st unless it is their last
// way in, and returns its provider.
func (a *Auth) unlink(ctx context.Context, st Store, userID, id int64) (string, error) {
	u, err := st.UserByID(ctx, userID)
	if err != nil {
		return "", err
	}
	ids, err := st.Identities(ctx, userID)
	if err != nil {
		return "", err
	}
	var gone *Identity
	for i := range ids {
		if ids[i].ID == id {
			gone = &ids[i]
		}
	}
	if gone == nil {
		return "", ErrNotFound
	}
	proj, err := st.ProjectByID(ctx, u.ProjectID)
	if err != nil {
		return "", err
	}
	if len(ids) == 1 && u.PasswordHash == "" && proj.Type != TypeOTP {
		// A passkey is a way in of its own where the project has passkeys.
		keys, err := st.Passkeys(ctx, userID)
		if err != nil {
			return "", err
		}
		if _, err := a.relyingParty(ctx, u.ProjectID); len(keys) == 0 || err != nil {
			return "", ErrLastWayIn
		}
	}
	return gone.Provider, st.DeleteIdentity(ctx, userID, id)
}

// Identities returns the identities at other providers of the user with
// that public user_id, oldest first (docs/design.md, D43). It returns
// ErrNotFound when there is no such user.
func (a *Auth) Identities(ctx context.Context, userID string) ([]Identity, error) {
	ctx, cancel := a.bounded(ctx)
	defer cancel()
	u, err := a.store.UserByUserID(ctx, userID)
	if err != nil {
		return nil, err
	}
	return a.store.Identities(ctx, u.ID)
}

// UnlinkIdentity removes the identity with that ID from the user with
// that public user_id. It returns ErrNotFound when the user has no such
// identity and ErrLastWayIn when the identity is the account's last way
// in (no password, not an otp project, no other identity, no passkey).
func (a *Auth) UnlinkIdentity(ctx context.Context, userID string, id int64) error {
	ctx, cancel := a.bounded(ctx)
	defer cancel()
	u, err := a.store.UserByUserID(ctx, userID)
	if err != nil {
		return err
	}
	var provider string
	err = a.store.InTx(ctx, func(tx Store) (err error) {
		provider, err = a.unlink(ctx, tx, u.ID, id)
		return err
	})
	if err != nil {
		return err
	}
	a.event(ctx, EventIdentityUnlinked, u.ProjectID, u.UserID, provider)
	return nil
}

// pendingLink keeps the identity cl that the link flow c brought back, for
// c's user to confirm, and returns the link_code that names it: the
// identity sealed with the library's key beside a one-time token whose
// row binds it to the user, the project, the provider and the start's
// PKCE challenge. Linking at the callback itself would let anyone who
// makes a victim's browser open a start URL with their own link_token
// link the victim's provider account to theirs (link CSRF).
func (a *Auth) pendingLink(ctx context.Context, c Challenge, p *provider, cl claims) (string, error) {
	token := newOpaque(tokenBytes)
	row := Challenge{Purpose: PurposeLinkConfirm, ProjectID: c.ProjectID, UserID: c.UserID, TokenHash: sha256Hex(token),
		CodeChallenge: c.CodeChallenge, CodeChallengeMethod: c.CodeChallengeMethod,
		ExpiresAt: a.now().Add(linkTokenTTL), CreatedAt: a.now(), Provider: p.Name}
	if err := a.store.CreateChallenge(ctx, &row); err != nil {
		return "", err
	}
	plain, err := json.Marshal(pendingLinkJSON{Token: token, Provider: p.Name, Claims: cl})
	if err != nil {
		return "", err
	}
	return a.sealString(plain, linkCodeAD), nil
}

// pendingLinkJSON is what a link_code seals.
type pendingLinkJSON struct {
	Token    string
	Provider string
	Claims   claims
}

// linkCodeAD is the additional data of a sealed link_code.
var linkCodeAD = []byte("oauth-link-code")

// openLinkCode opens a link_code sealed under the current key or one of
// the others (Config.PreviousSecrets, NextSecrets).
func (a *Auth) openLinkCode(code string) (pendingLinkJSON, bool) {
	plain, ok := a.openString(code, linkCodeAD)
	var pl pendingLinkJSON
	return pl, ok && json.Unmarshal(plain, &pl) == nil && pl.Token != ""
}

// errBadLinkCode answers a link_code that is not one, is used or expired,
// is another user's, or comes with the wrong code_verifier.
var errBadLinkCode = fieldError("link_code", "The link_code is invalid, used, expired or not for this user and code_verifier.")

// linkedAnswer is the answer of user/identities/link/confirm.
type linkedAnswer struct {
	Status   string `json:"status"`
	Provider string `json:"provider"`
}

// handleLinkConfirm links the identity of a link_code to the caller, who
// must be the user who asked for the link_token and hold the verifier of
// the start's PKCE challenge (D43).
func (a *Auth) handleLinkConfirm(r *http.Request, in *input) (any, error) {
	code := in.str("link_code", true, 4096)
	verifier := in.str("code_verifier", true, 128)
	if err := in.err(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	u, _, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	pl, ok := a.openLinkCode(code)
	if !ok {
		return nil, errBadLinkCode
	}
	c, err := a.store.ChallengeByToken(ctx, PurposeLinkConfirm, sha256Hex(pl.Token))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, errBadLinkCode
	case err != nil:
		return nil, err
	case c.UsedAt != nil || !a.now().Before(c.ExpiresAt) || c.UserID != u.ID || c.Provider != pl.Provider ||
		!(pkce{c.CodeChallenge, c.CodeChallengeMethod}).verifies(verifier):
		return nil, errBadLinkCode
	}
	p := a.providers.byName[pl.Provider]
	if p == nil {
		return nil, errBadLinkCode
	}
	won, err := a.store.ConsumeChallenge(ctx, c.ID, a.now())
	if err != nil || !won {
		return nil, cmpErr(err, errBadLinkCode)
	}
	proj, err := a.store.ProjectByID(ctx, u.ProjectID)
	if err != nil {
		return nil, err
	}
	switch err := a.linkFromSession(ctx, proj, u.ID, p, pl.Claims); {
	case errors.Is(err, errIdentityTaken):
		return nil, errIdentityTakenJSON
	case errors.Is(err, errRefused):
		return nil, errLinkRefused
	case err != nil:
		return nil, err
	}
	return linkedAnswer{Status: "success", Provider: p.Name}, nil
}

// errLinkRefused answers a confirmation for a disabled account.
var errLinkRefused = &Error{Status: http.StatusForbidden, Message: "The account cannot link a provider."}

// errIdentityTakenJSON is errIdentityTaken as a JSON answer.
var errIdentityTakenJSON = &Error{Status: http.StatusConflict, Message: "This provider account is linked to another account."}
