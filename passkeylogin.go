package ihoprauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Logins with a passkey (docs/design.md, D40 and D41). As the second factor:
// POST mfa-passkey takes the mfa_token and answers the options for
// navigator.credentials.get, whose challenge is bound to the token; the
// assertion goes to mfa-code as webauthn_assertion. As the only factor:
// POST passkey-login (the client's credentials and PKCE challenge, as at
// login) answers a passkey_token and the options of a usernameless login
// that requires user verification; POST passkey-code takes the token and
// the assertion and answers the login's code, at AAL2.

// passkeyLoginsPerHour bounds the usernameless passkey logins that one
// source (an address, IPv6 per /64) may start in an hour, over all
// projects: each stores a ceremony until Cleanup purges it.
const passkeyLoginsPerHour = 100

// passkeyOptions answers the start of a passkey ceremony.
type passkeyOptions struct {
	Status           string `json:"status"`
	Message          string `json:"message,omitempty"`
	PasskeyToken     string `json:"passkey_token,omitempty"`
	PasskeyExpiresAt string `json:"passkey_expires_at,omitempty"`
	Options          any    `json:"options"`
}

func (a *Auth) handleMFAPasskey(r *http.Request, in *input) (any, error) {
	token := in.str("mfa_token", true, maxOpaque)
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.mfaPasskeyOptions(r.Context(), token)
}

// mfaPasskeyOptions answers the assertion options for the live mfa_token
// token: the user's passkeys, and a challenge derived from the token, so
// that the token's row is the ceremony's state. It takes no attempt: it
// checks nothing.
func (a *Auth) mfaPasskeyOptions(ctx context.Context, token string) (passkeyOptions, error) {
	c, err := a.store.ChallengeByToken(ctx, PurposeMFA, sha256Hex(token))
	switch {
	case errors.Is(err, ErrNotFound):
		return passkeyOptions{}, errBadCode
	case err != nil:
		return passkeyOptions{}, err
	case c.UsedAt != nil || !a.now().Before(c.ExpiresAt) || c.Attempts >= a.cfg.MaxCodeAttempts:
		return passkeyOptions{}, errBadCode
	}
	u, err := a.store.UserByID(ctx, c.UserID)
	if err != nil {
		return passkeyOptions{}, err
	}
	if err := a.passCap(ctx, accountKey(u.ProjectID, u.EmailKey)); err != nil {
		return passkeyOptions{}, err
	}
	keys, err := a.store.Passkeys(ctx, u.ID)
	if err != nil {
		return passkeyOptions{}, err
	}
	if len(keys) == 0 {
		return passkeyOptions{}, errNoPasskey
	}
	rp, err := a.relyingParty(ctx, c.ProjectID)
	if err != nil {
		return passkeyOptions{}, err
	}
	opts, _, err := rp.BeginLogin(passkeyUser{u, keys}, webauthn.WithChallenge(a.ceremonyChallenge(c.TokenHash)),
		webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return passkeyOptions{}, err
	}
	return passkeyOptions{Status: "success", Options: opts}, nil
}

// checkPasskeyProof reports whether pr's assertion, for the mfa_token's
// ceremony, is one of u's passkeys, and returns how to spend it. A second
// factor needs no user verification: the password was the first.
func (a *Auth) checkPasskeyProof(ctx context.Context, u User, pr proof) (spend, bool, error) {
	if pr.assertion == nil || pr.ceremony == "" {
		return nil, false, nil
	}
	rp, err := a.relyingParty(ctx, u.ProjectID)
	if errors.Is(err, errNoPasskeys) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	ac, ok, err := a.verifyAssertion(ctx, rp, u, pr.ceremony, pr.assertion, protocol.VerificationPreferred)
	if err != nil || !ok {
		return nil, false, err
	}
	return ac.spend(a), true, nil
}

func (a *Auth) handlePasskeyLogin(r *http.Request, in *input) (any, error) {
	client, pk := readClient(in), a.readPKCE(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.startPasskeyLogin(r.Context(), client, pk)
}

// startPasskeyLogin stores the ceremony of a usernameless login for the
// client's project and answers its token and options. No user is known
// yet: the passkey will tell.
func (a *Auth) startPasskeyLogin(ctx context.Context, client clientCreds, pk pkce) (passkeyOptions, error) {
	p, err := a.loginClient(ctx, client, pk)
	if err != nil {
		return passkeyOptions{}, err
	}
	rp, err := a.relyingParty(ctx, p.ID)
	if err != nil {
		return passkeyOptions{}, err
	}
	// Each start stores a ceremony, with no credential: a source may store
	// so many an hour, as with the states of oauth/{provider}/start.
	if err := a.spendSourceBudget(ctx, p.ID, "passkey-login", passkeyLoginsPerHour,
		"passkey logins from one address", "Too many passkey logins from your address."); err != nil {
		return passkeyOptions{}, err
	}
	token := newOpaque(tokenBytes)
	c := Challenge{Purpose: PurposePasskeyLogin, ProjectID: p.ID, TokenHash: sha256Hex(token), CodeHash: newOpaque(tokenBytes),
		CodeChallenge: pk.challenge, CodeChallengeMethod: pk.method, ExpiresAt: a.now().Add(a.cfg.PasskeyTimeout)}
	opts, _, err := rp.BeginDiscoverableLogin(webauthn.WithChallenge(a.ceremonyChallenge(c.TokenHash)),
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return passkeyOptions{}, err
	}
	if err := a.store.CreateChallenge(ctx, &c); err != nil {
		return passkeyOptions{}, err
	}
	return passkeyOptions{Status: "success", Message: "Sign in with your passkey.", PasskeyToken: token,
		PasskeyExpiresAt: c.ExpiresAt.Format(plainFormat), Options: opts}, nil
}

func (a *Auth) handlePasskeyCode(r *http.Request, in *input) (any, error) {
	token := in.str("passkey_token", true, maxOpaque)
	assertion := readAssertion(in, "passkey_assertion")
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.finishPasskeyLogin(r.Context(), token, assertion)
}

// finishPasskeyLogin turns a passkey_token and an assertion with user
// verification into the login's code. The ceremony is spent before the
// assertion is checked, so that each works once whatever the outcome; an
// unknown passkey counts against the source's cap, a wrong assertion also
// against the account's pair lock (D24), like a wrong code.
func (a *Auth) finishPasskeyLogin(ctx context.Context, token string, parsed *protocol.ParsedCredentialAssertionData) (codeAnswer, error) {
	c, err := a.store.ChallengeByToken(ctx, PurposePasskeyLogin, sha256Hex(token))
	switch {
	case errors.Is(err, ErrNotFound):
		return codeAnswer{}, errBadPasskey
	case err != nil:
		return codeAnswer{}, err
	case c.UsedAt != nil || !a.now().Before(c.ExpiresAt):
		return codeAnswer{}, errBadPasskey
	}
	u, err := a.passkeyOwner(ctx, c.ProjectID, parsed)
	if err != nil {
		return codeAnswer{}, err
	}
	account := accountKey(u.ProjectID, u.EmailKey)
	if _, err := a.allowAttempt(ctx, u.ProjectID, account, false); err != nil {
		return codeAnswer{}, err
	}
	if err := a.consumeChallenge(ctx, a.store, c); err != nil {
		return codeAnswer{}, cmpErr(ignoreBadCode(err), errBadPasskey)
	}
	rp, err := a.relyingParty(ctx, c.ProjectID)
	if err != nil {
		return codeAnswer{}, err
	}
	ac, ok, err := a.verifyAssertion(ctx, rp, u, c.TokenHash, parsed, protocol.VerificationRequired)
	if err != nil {
		return codeAnswer{}, err
	}
	// go-webauthn refuses a missing UV flag already, as the session
	// requires it; the login's AAL2 rests on it, so it is checked here too.
	if !ok || !ac.verified {
		return codeAnswer{}, a.passkeyFailed(ctx, u, account)
	}
	var code string
	err = a.store.InTx(ctx, func(tx Store) error {
		won, err := ac.spend(a)(ctx, tx)
		if err != nil || !won {
			return cmpErr(err, errProofSpent)
		}
		code, err = a.newAuthCode(ctx, tx, c.ProjectID, u.ID, pkce{c.CodeChallenge, c.CodeChallengeMethod}, AAL2, "")
		return err
	})
	if errors.Is(err, errProofSpent) {
		return codeAnswer{}, a.passkeyFailed(ctx, u, account)
	}
	if err != nil {
		return codeAnswer{}, err
	}
	return codeAnswer{Status: "success", Code: code}, a.mfaPassed(ctx, u, account, proof{method: MethodWebAuthn})
}

// ignoreBadCode is err unless it is errBadCode, which a passkey login
// answers as errBadPasskey.
func ignoreBadCode(err error) error {
	if errors.Is(err, errBadCode) {
		return nil
	}
	return err
}

// passkeyOwner returns the enabled user of the project whose passkey made
// parsed, checking the user handle the authenticator returned; a passkey
// that is unknown, another project's or a disabled user's gets the 401 of
// a wrong one.
func (a *Auth) passkeyOwner(ctx context.Context, projectID int64, parsed *protocol.ParsedCredentialAssertionData) (User, error) {
	k, err := a.store.PasskeyByCredentialID(ctx, parsed.RawID)
	if errors.Is(err, ErrNotFound) {
		return User{}, errBadPasskey
	}
	if err != nil {
		return User{}, err
	}
	u, err := a.store.UserByID(ctx, k.UserID)
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, errBadPasskey
	case err != nil:
		return User{}, err
	case u.Disabled() || u.ProjectID != projectID || string(parsed.Response.UserHandle) != u.UserID:
		return User{}, errBadPasskey
	}
	return u, nil
}

// passkeyFailed counts a wrong or replayed assertion like a wrong code.
func (a *Auth) passkeyFailed(ctx context.Context, u User, account string) error {
	return a.proofFailed(ctx, u, account, proof{method: MethodWebAuthn}, errBadPasskey)
}
