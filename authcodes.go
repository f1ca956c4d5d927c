package ihoprauth

import (
	"context"
	"errors"
)

// newAuthCode stores a one-time auth code for the user, bound to the
// project and the PKCE challenge, and returns it (RFC 6749 §4.1.2: short
// lived, single use). aal is how the login was authenticated; the tokens
// of the code inherit it. provider is the Provider that signed the user in
// ("" for a password or a mailed code); the token answer shows it.
func (a *Auth) newAuthCode(ctx context.Context, st Store, projectID, userID int64, pk pkce, aal AssuranceLevel, provider string) (string, error) {
	code := newOpaque(authCodeBytes)
	c := AuthCode{
		Hash: sha256Hex(code), ProjectID: projectID, UserID: userID, AAL: aal,
		CodeChallenge: pk.challenge, CodeChallengeMethod: pk.method, ExpiresAt: a.now().Add(a.cfg.AuthCodeTTL), CreatedAt: a.now(),
		Provider: provider,
	}
	if err := st.CreateAuthCode(ctx, &c); err != nil {
		return "", err
	}
	return code, nil
}

// errCodeTaken says a concurrent request consumed the auth code first.
var errCodeTaken = errors.New("ihoprauth: auth code already used")

// liveAuthCode returns the unused, unexpired auth code of project p, after
// checking its PKCE verifier. A used code revokes the tokens it produced,
// since someone else may hold them (RFC 6749 §4.1.2).
func (a *Auth) liveAuthCode(ctx context.Context, p Project, code, verifier string) (AuthCode, error) {
	ac, err := a.store.AuthCodeByHash(ctx, sha256Hex(code))
	switch {
	case errors.Is(err, ErrNotFound):
		return AuthCode{}, errBadCode
	case err != nil:
		return AuthCode{}, err
	case ac.ProjectID != p.ID:
		return AuthCode{}, errBadCode
	case ac.UsedAt != nil:
		return AuthCode{}, a.codeReused(ctx, ac)
	case !a.now().Before(ac.ExpiresAt):
		return AuthCode{}, errBadCode
	}
	switch {
	case ac.CodeChallenge == "" && verifier != "":
		return AuthCode{}, fieldError("code_verifier", "The code_verifier is not allowed: the code was issued without a code_challenge.")
	case ac.CodeChallenge != "" && verifier == "":
		return AuthCode{}, fieldError("code_verifier", "The code_verifier field is required: the code was issued with a code_challenge.")
	case ac.CodeChallenge != "" && !(pkce{ac.CodeChallenge, ac.CodeChallengeMethod}).verifies(verifier):
		return AuthCode{}, errBadCode
	}
	return ac, nil
}

// codeReused revokes what a reused auth code produced and returns the 401.
func (a *Auth) codeReused(ctx context.Context, ac AuthCode) error {
	if err := a.revokeNow(ctx, revocation{userID: ac.UserID, authCode: ac.ID}); err != nil {
		return err
	}
	a.event(ctx, EventReuseDetected, ac.ProjectID, a.publicID(ctx, ac.UserID), "auth code: its tokens revoked")
	return errBadCode
}
