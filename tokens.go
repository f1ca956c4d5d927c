package ihoprauth

import (
	"context"
	"errors"
	"net/http"
	"time"
)

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
	req := tokenRequest{client: readClient(in), code: in.str("code", true, maxOpaque), verifier: readVerifier(in)}
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.exchangeCode(r.Context(), req)
}

// tokenRequest is an auth code to exchange, with its client and PKCE
// verifier.
type tokenRequest struct {
	client         clientCreds
	code, verifier string
}

// exchangeCode spends a live auth code of the client's project and issues
// a new login's tokens (RFC 6749 §4.1.3). A code used twice revokes what
// it issued.
func (a *Auth) exchangeCode(ctx context.Context, req tokenRequest) (tokenAnswer, error) {
	if pastCap(ctx) {
		ac, err := a.store.AuthCodeByHash(ctx, sha256Hex(req.code))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return tokenAnswer{}, err
		}
		if err := a.passCapOf(ctx, ac.UserID); err != nil {
			return tokenAnswer{}, err
		}
	}
	p, err := a.authClient(ctx, req.client)
	if err != nil {
		return tokenAnswer{}, err
	}
	ac, err := a.liveAuthCode(ctx, p, req.code, req.verifier)
	if err != nil {
		if err == errBadCode {
			a.event(ctx, EventTokenRefused, p.ID, a.publicID(ctx, ac.UserID), "bad code")
		}
		return tokenAnswer{}, err
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
		answer, err = a.issueTokens(ctx, tx, ac.UserID, ac.ID, newOpaque(16), a.now().Add(a.cfg.RefreshTokenTTL), loginAuth{ac.AAL, ac.CreatedAt})
		return err
	})
	if errors.Is(err, errCodeTaken) {
		err = a.codeReused(ctx, ac)
	}
	if err == errDisabled {
		err = errBadCode
	}
	if err != nil {
		return tokenAnswer{}, err
	}
	if ac.Provider != "" {
		answer.User.Provider = &ac.Provider // the provider of this login (docs/design.md, D42)
	}
	a.event(ctx, EventTokenIssued, p.ID, answer.User.UserID, "ok")
	return answer, nil
}

// errDisabled is what issueTokens returns for a disabled user, whose
// login (a code, a refresh) raced DisableUser; callers answer it like a
// dead code or refresh token.
var errDisabled = errors.New("ihoprauth: user disabled")

// loginAuth is how and when the login of a token family was
// authenticated; every token of the family carries it.
type loginAuth struct {
	aal AssuranceLevel
	at  time.Time
}

// issueTokens stores a new access and refresh token for the user in the
// family, whose refresh tokens end at refreshEnd and whose login was
// authenticated as auth says, and answers them.
func (a *Auth) issueTokens(ctx context.Context, tx Store, userID, authCodeID int64, family string, refreshEnd time.Time, auth loginAuth) (tokenAnswer, error) {
	u, err := tx.UserByID(ctx, userID)
	if err != nil {
		return tokenAnswer{}, err
	}
	if u.Disabled() {
		return tokenAnswer{}, errDisabled
	}
	access, refresh := newOpaque(tokenBytes), newOpaque(tokenBytes)
	t := Token{
		AccessHash: sha256Hex(access), RefreshHash: sha256Hex(refresh), FamilyID: family,
		ProjectID: u.ProjectID, UserID: u.ID, AuthCodeID: authCodeID,
		ExpiresAt: a.now().Add(a.cfg.AccessTokenTTL), RefreshExpiresAt: refreshEnd, CreatedAt: a.now(),
		AAL: auth.aal, AuthAt: auth.at,
	}
	if err := tx.CreateToken(ctx, &t); err != nil {
		return tokenAnswer{}, err
	}
	return tokenAnswer{
		Status: "success", AccessToken: access, RefreshToken: refresh,
		ExpiresAt: t.ExpiresAt.Format(plainFormat), User: view(u, true),
	}, nil
}
