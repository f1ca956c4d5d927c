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

// Authenticate returns the user whose access token r carries in its
// Authorization header (RFC 6750 §2.1; never from the query or the body),
// or, when Config.Sessions is set and r has no Authorization header, the
// user of r's session cookie. The user's PasswordHash is always empty: the
// app gets nothing secret to log or show by mistake.
//
// A token found in the token cache is answered from memory. Whatever reads
// the database (a token not cached, a session) is bounded by
// Config.RequestTimeout, whatever deadline r's context has or lacks.
//
// Its error is always an *Error: a 401 with WWW-Authenticate: Bearer, a
// 403 for a cross-site use of the cookie, or, when the database failed
// (reported to Config.OnError first), a 503 with Retry-After when it did
// not answer in time or was unavailable, and a 500 otherwise.
func (a *Auth) Authenticate(r *http.Request) (User, error) {
	u, _, err := a.credentials(r)
	if err != nil {
		return User{}, a.internal(r.Context(), err)
	}
	u.PasswordHash = ""
	return u, nil
}

// AuthenticateLevel is Authenticate that also tells how the login behind r
// was authenticated: AAL2 when it passed a second factor (a TOTP or a
// recovery code), AAL1 otherwise. Refreshes and the cookie session keep
// the level of the login they came from. authmw.RequireFactor uses it.
func (a *Auth) AuthenticateLevel(r *http.Request) (User, AssuranceLevel, error) {
	u, t, err := a.credentials(r)
	if err != nil {
		return User{}, 0, a.internal(r.Context(), err)
	}
	u.PasswordHash = ""
	return u, max(t.AAL, AAL1), nil
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
// A disabled user has none. A cache hit reads nothing and starts no timer; a miss reads the database
// within Config.RequestTimeout, so that a slow database answers 503 here as
// it does in the API, and keeps the login in the cache unless a refresh has
// replaced it (that token works at most RefreshGrace longer: caching it
// would outlive the end that the first use of its successor sets). No
// entry holds a disabled user: DisableUser revokes the user's tokens and
// drops their entries here and, through the change feed, everywhere, and
// the cache's generation keeps a read from before it out.
func (a *Auth) loginByHash(ctx context.Context, key [sha256.Size]byte) (User, Token, error) {
	now := a.now()
	fresh := a.cache != nil && a.feedFresh(now)
	if fresh {
		u, t, ok := a.cache.get(key, now)
		a.tel.cacheLookup(ctx, ok)
		if ok {
			return u, t, nil
		}
	}
	ctx, cancel := a.bounded(ctx)
	defer cancel()
	gen := a.cache.generation()
	t, u, err := a.store.TokenUser(ctx, hex.EncodeToString(key[:]))
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, Token{}, errBadToken
	case err != nil:
		return User{}, Token{}, err
	case t.RevokedAt != nil || !now.Before(t.ExpiresAt) || u.Disabled():
		return User{}, Token{}, errBadToken
	case t.RefreshedAt != nil:
		return u, t, nil
	}
	a.endReplaced(ctx, t, now)
	if fresh {
		a.cache.put(key, u, t, now, gen)
	}
	return u, t, nil
}

// endReplaced ends the access token that a refresh replaced once the token
// that refresh issued is used (docs/design.md, D31): the client has shown
// that it holds the new one, so the old one need not live out its grace.
// Only a token younger than RefreshGrace can have a replaced predecessor
// still working, so every other check pays one comparison, and a cache
// hit (which never gets here) nothing; within the grace, each check that
// misses the cache writes one conditional UPDATE. A failed write is
// reported and the request goes on: the grace ends the old token anyway.
func (a *Auth) endReplaced(ctx context.Context, t Token, now time.Time) {
	if !now.Before(t.CreatedAt.Add(a.cfg.RefreshGrace)) {
		return
	}
	// Through revoke but not revokeInTx: a replaced token is never cached,
	// and the login just checked should stay so.
	if err := a.revoke(ctx, a.store, revocation{userID: t.UserID, family: t.FamilyID, replacedUntil: now}); err != nil {
		a.cfg.OnError(ctx, err)
	}
}
