package ihoprauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Cookie sessions serve server-rendered apps: after a login through the API,
// POST /api/v1/session with the access token puts that login in an scs
// session cookie, and from then on authmw.RequireUser accepts the
// cookie as well as a bearer token. The session holds a login of its own in
// the same token family, so logout, a password reset or change, and every
// other revocation end the session too, on every instance at once.
//
// CSRF: a request authenticated by the cookie alone that changes state
// (anything but GET, HEAD and OPTIONS) is refused with 403 when the browser
// says it is cross-site (Sec-Fetch-Site) or its Origin is another host.
// Together with SameSite=Lax this needs no token in forms; clients that send
// neither header (not browsers) are not affected.

// sessionLoginKey is where a session keeps the access hash of its login:
// the hash, not a secret, so that session data read from the database is
// no bearer token.
const sessionLoginKey = "ihoprauth.login"

// NewSessionManager returns an scs session manager for Config.Sessions with
// secure defaults that differ from scs's: the cookie is named
// "__Host-ihoprauth" (so it is bound to this host and path "/") and is
// Secure, HttpOnly and SameSite=Lax; a session ends after 1 hour idle or
// 24 hours in all. Change any field of the result before use. st is where
// sessions live: store.(*Store).SessionStore() keeps them in the database.
func NewSessionManager(st scs.Store) *scs.SessionManager {
	sm := scs.New()
	sm.Store = st
	sm.IdleTimeout = time.Hour
	sm.Lifetime = 24 * time.Hour
	sm.Cookie.Name = "__Host-ihoprauth"
	sm.Cookie.Path = "/"
	sm.Cookie.Domain = ""
	sm.Cookie.Secure = true
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	return sm
}

var (
	errNoSessions = &Error{Status: http.StatusNotFound, Message: "Cookie sessions are not enabled."}
	errCrossSite  = &Error{Status: http.StatusForbidden, Message: "Cross-site requests may not use the session cookie."}
)

// handleStartSession puts the bearer's login in a new session cookie. The
// session token is renewed first, so a session fixed by an attacker before
// the login is never the one that carries it.
func (a *Auth) handleStartSession(r *http.Request, _ *input) (any, error) {
	ctx := r.Context()
	sm := a.cfg.Sessions
	if sm == nil {
		return nil, errNoSessions
	}
	u, t, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	// The session's login ends with the session or with the login it came
	// from, whichever is first: a short-lived access token cannot be turned
	// into a longer life than its refresh token has.
	now := a.now()
	end := now.Add(sm.Lifetime)
	if t.RefreshExpiresAt.Before(end) {
		end = t.RefreshExpiresAt
	}
	login := Token{
		AccessHash: sha256Hex(newOpaque(tokenBytes)), RefreshHash: sha256Hex(newOpaque(tokenBytes)), FamilyID: t.FamilyID,
		ProjectID: u.ProjectID, UserID: u.ID, AuthCodeID: t.AuthCodeID, ExpiresAt: end, RefreshExpiresAt: end,
		CreatedAt: now, AAL: t.AAL, AuthAt: t.AuthAt,
	}
	if err := a.store.CreateToken(ctx, &login); err != nil {
		return nil, err
	}
	if err := sm.RenewToken(ctx); err != nil {
		return nil, err
	}
	sm.Put(ctx, sessionLoginKey, login.AccessHash)
	a.event(ctx, EventSessionStarted, u.ProjectID, u.UserID, "ok")
	return ok, nil
}

// loadSession returns r's context with its cookie session loaded (a new,
// empty session when r has none). Unlike scs's LoadAndSave it leaves the
// SessionManager's ErrorFunc to the app: a failing session store answers in
// the API's error shape.
func (a *Auth) loadSession(r *http.Request) (context.Context, error) {
	sm := a.cfg.Sessions
	var token string
	if c, err := r.Cookie(sm.Cookie.Name); err == nil {
		token = c.Value
	}
	return sm.Load(r.Context(), token)
}

// saveSession commits the session in ctx if a handler changed it and sets or
// clears its cookie, before the answer is written. The answer's own
// Cache-Control: no-store then replaces the one scs adds with the cookie,
// so the answer carries one Cache-Control line.
func (a *Auth) saveSession(w http.ResponseWriter, ctx context.Context) error {
	sm := a.cfg.Sessions
	w.Header().Add("Vary", "Cookie")
	switch sm.Status(ctx) {
	case scs.Modified:
		token, expiry, err := sm.Commit(ctx)
		if err != nil {
			return err
		}
		sm.WriteSessionCookie(ctx, w, token, expiry)
	case scs.Destroyed:
		sm.WriteSessionCookie(ctx, w, "", time.Time{})
	}
	return nil
}

// sessionLogin returns the user and login of r's session cookie. It is
// errNoToken when there is no cookie or no login in the session.
func (a *Auth) sessionLogin(r *http.Request) (User, Token, error) {
	sm := a.cfg.Sessions
	cookie, err := r.Cookie(sm.Cookie.Name)
	if err != nil {
		return User{}, Token{}, errNoToken
	}
	if crossSite(r) {
		return User{}, Token{}, errCrossSite
	}
	bounded, cancel := a.bounded(r.Context())
	defer cancel()
	ctx, err := sm.Load(bounded, cookie.Value)
	if err != nil {
		return User{}, Token{}, err
	}
	var key [sha256.Size]byte
	if n, err := hex.Decode(key[:], []byte(sm.GetString(ctx, sessionLoginKey))); err != nil || n != len(key) {
		return User{}, Token{}, errNoToken
	}
	return a.loginByHash(bounded, key)
}

// endSession destroys the request's session, if it has one.
func (a *Auth) endSession(ctx context.Context) error {
	sm := a.cfg.Sessions
	if sm == nil || sm.GetString(ctx, sessionLoginKey) == "" {
		return nil
	}
	return sm.Destroy(ctx)
}

// crossSite reports whether a state-changing request comes from another
// site, as far as the browser says so.
func crossSite(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return crossOrigin(r)
}

// crossOrigin reports whether r, whatever its method, comes from a page of
// another site, as its browser says.
func crossOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return true
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		return err != nil || u.Host != r.Host
	}
	return false
}
