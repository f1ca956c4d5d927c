package ihoprauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
)

// newAuthCode stores a one-time auth code for the user, bound to the
// project and the PKCE challenge, and returns it (RFC 6749 §4.1.2: short
// lived, single use).
func (a *Auth) newAuthCode(ctx context.Context, st Store, projectID, userID int64, pk pkce) (string, error) {
	code := newOpaque(authCodeBytes)
	c := AuthCode{
		Hash: sha256Hex(code), ProjectID: projectID, UserID: userID,
		CodeChallenge: pk.challenge, CodeChallengeMethod: pk.method, ExpiresAt: a.now().Add(a.cfg.AuthCodeTTL),
	}
	if err := st.CreateAuthCode(ctx, &c); err != nil {
		return "", err
	}
	return code, nil
}

// errCodeTaken says a concurrent request consumed the auth code first.
var errCodeTaken = errors.New("ihoprauth: auth code already used")

// tokenAnswer is the answer of api-tauth-token.
type tokenAnswer struct {
	Status       string   `json:"status"`
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	ExpiresAt    string   `json:"expires_at"`
	User         userJSON `json:"user"`
}

// handleToken exchanges an auth code for an access and a refresh token.
func (a *Auth) handleToken(r *http.Request, in *input) (any, error) {
	ctx := r.Context()
	client := readClient(in)
	code := in.str("code", true, maxOpaque)
	verifier := readVerifier(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := a.authClient(ctx, client)
	if err != nil {
		return nil, err
	}
	ac, err := a.liveAuthCode(ctx, p, code, verifier)
	if err != nil {
		if err == errBadCode {
			a.event(ctx, EventTokenRefused, p.ID, a.publicID(ctx, ac.UserID), "bad code")
		}
		return nil, err
	}
	var answer tokenAnswer
	err = a.store.InTx(ctx, func(tx Store) error {
		won, err := tx.ConsumeAuthCode(ctx, ac.ID, a.now())
		if err != nil {
			return err
		}
		if !won {
			return errCodeTaken
		}
		answer, err = a.issueTokens(ctx, tx, ac.UserID, ac.ID, newOpaque(16), a.now().Add(a.cfg.RefreshTokenTTL))
		return err
	})
	if errors.Is(err, errCodeTaken) {
		err = a.codeReused(ctx, ac)
	}
	if err != nil {
		return nil, err
	}
	a.event(ctx, EventTokenIssued, p.ID, answer.User.UserID, "ok")
	return answer, nil
}

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
	if err := a.store.RevokeAuthCodeTokens(ctx, ac.ID, a.now()); err != nil {
		return err
	}
	a.cache.forgetUser(ac.UserID)
	a.event(ctx, EventReuseDetected, ac.ProjectID, a.publicID(ctx, ac.UserID), "auth code: its tokens revoked")
	return errBadCode
}

// issueTokens stores a new access and refresh token for the user in the
// family, whose refresh tokens end at refreshEnd, and answers them.
func (a *Auth) issueTokens(ctx context.Context, tx Store, userID, authCodeID int64, family string, refreshEnd time.Time) (tokenAnswer, error) {
	u, err := tx.UserByID(ctx, userID)
	if err != nil {
		return tokenAnswer{}, err
	}
	access, refresh := newOpaque(tokenBytes), newOpaque(tokenBytes)
	t := Token{
		AccessHash: sha256Hex(access), RefreshHash: sha256Hex(refresh), FamilyID: family,
		ProjectID: u.ProjectID, UserID: u.ID, AuthCodeID: authCodeID,
		ExpiresAt: a.now().Add(a.cfg.AccessTokenTTL), RefreshExpiresAt: refreshEnd,
	}
	if err := tx.CreateToken(ctx, &t); err != nil {
		return tokenAnswer{}, err
	}
	return tokenAnswer{
		Status: "success", AccessToken: access, RefreshToken: refresh,
		ExpiresAt: t.ExpiresAt.Format(plainFormat), User: view(u, true),
	}, nil
}

// Authenticate returns the user whose access token r carries in its
// Authorization header (RFC 6750 §2.1; never from the query or the body),
// or, when Config.Sessions is set and r has no Authorization header, the
// user of r's session cookie. Its error is always an *Error: a 401 with
// WWW-Authenticate: Bearer, a 403 for a cross-site use of the cookie, or a
// 503 or 500 when the database failed (reported to Config.OnError first).
func (a *Auth) Authenticate(r *http.Request) (User, error) {
	u, _, err := a.credentials(r)
	if err != nil {
		return User{}, a.internal(r.Context(), err)
	}
	return u, nil
}

// credentials returns the user and login of r's bearer token, or of its
// session cookie when sessions are on and r sends no Authorization header.
func (a *Auth) credentials(r *http.Request) (User, Token, error) {
	if a.cfg.Sessions == nil || r.Header.Get("Authorization") != "" {
		return a.bearer(r)
	}
	return a.sessionLogin(r)
}

// bearer returns the user and the login of r's access token.
func (a *Auth) bearer(r *http.Request) (User, Token, error) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return User{}, Token{}, errNoToken
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxOpaque {
		return User{}, Token{}, errBadToken
	}
	return a.login(r.Context(), token)
}

// login returns the user and the live login whose access secret is token.
func (a *Auth) login(ctx context.Context, token string) (User, Token, error) {
	var buf [maxOpaque]byte // bearer tokens are at most maxOpaque bytes: no allocation
	return a.loginByHash(ctx, sha256.Sum256(append(buf[:0], token...)))
}

// loginByHash returns the user and the live login whose access hash is key.
func (a *Auth) loginByHash(ctx context.Context, key [sha256.Size]byte) (User, Token, error) {
	now := a.now()
	if u, t, ok := a.cache.get(key, now); ok {
		return u, t, nil
	}
	t, u, err := a.store.TokenUser(ctx, hex.EncodeToString(key[:]))
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, Token{}, errBadToken
	case err != nil:
		return User{}, Token{}, err
	case t.RevokedAt != nil || !now.Before(t.ExpiresAt):
		return User{}, Token{}, errBadToken
	}
	a.cache.put(key, u, t, now)
	return u, t, nil
}
