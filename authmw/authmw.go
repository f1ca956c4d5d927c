// Package authmw protects an app's own routes with the bearer tokens an
// ihoprauth.Auth issues, or with its session cookie when the Auth has
// Config.Sessions:
//
//	mux.Handle("GET /hello", authmw.RequireUser(auth)(http.HandlerFunc(
//		func(w http.ResponseWriter, r *http.Request) {
//			u, _ := authmw.UserFrom(r.Context())
//			fmt.Fprintf(w, "hello, %s\n", u.FirstName)
//		})))
//	mux.Handle("GET /admin", authmw.RequireRole(auth, "admin")(adminPage))
//	mux.Handle("POST /transfer", authmw.RequireFactor(auth)(transfer)) // a second factor at login
//
// Refusals are JSON in the API's error shape: 401 with WWW-Authenticate:
// Bearer when the token is missing, unknown, expired or revoked, 403 when
// the user lacks the role, the login lacks a second factor (RequireFactor)
// or a state-changing request uses the session cookie cross-site, and 503 with Retry-After when the database does not
// answer within the Auth's Config.RequestTimeout (a token in the token
// cache needs no database).
package authmw

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ihoprauth/ihoprauth"
)

// Authenticator finds the user a request is made by. *ihoprauth.Auth is one.
// Its errors should be *ihoprauth.Error; any other error answers 500.
type Authenticator interface {
	Authenticate(r *http.Request) (ihoprauth.User, error)
}

// LevelAuthenticator is an Authenticator that also tells how the login
// behind a request was authenticated. *ihoprauth.Auth is one.
type LevelAuthenticator interface {
	Authenticator
	AuthenticateLevel(r *http.Request) (ihoprauth.User, ihoprauth.AssuranceLevel, error)
}

type userKey struct{}

// UserFrom returns the user that RequireUser or RequireRole put in ctx, and
// whether there is one.
func UserFrom(ctx context.Context) (ihoprauth.User, bool) {
	u, ok := ctx.Value(userKey{}).(*ihoprauth.User)
	if !ok {
		return ihoprauth.User{}, false
	}
	return *u, true
}

// AssuranceFrom returns how the login of the user that RequireUser,
// RequireRole or RequireFactor put in ctx was authenticated: AAL2 when it
// passed a second factor, AAL1 when not. ok is false when ctx has no user,
// or when the Authenticator is not a LevelAuthenticator and cannot tell.
func AssuranceFrom(ctx context.Context) (level ihoprauth.AssuranceLevel, ok bool) {
	level, _ = ctx.Value(levelKey{}).(ihoprauth.AssuranceLevel)
	return level, level != 0
}

type levelKey struct{}

// userContext is a request's context with its user and the assurance level
// of its login. It takes one allocation per request where
// context.WithValue takes two for each (the context and the boxed value),
// on the path every protected request runs.
type userContext struct {
	context.Context
	user  ihoprauth.User
	level ihoprauth.AssuranceLevel
}

// Value returns the user for userKey, the level for levelKey and asks the
// parent for any other key.
func (c *userContext) Value(key any) any {
	switch key {
	case userKey{}:
		return &c.user
	case levelKey{}:
		return c.level
	}
	return c.Context.Value(key)
}

// RequireUser lets a request through only with a valid bearer token, or
// with the Auth's session cookie when it has Config.Sessions, and puts its
// user in the request context (see UserFrom).
func RequireUser(a Authenticator) func(http.Handler) http.Handler {
	return RequireRole(a)
}

// RequireRole is RequireUser that also asks the user to have one of roles,
// compared case-insensitively; with no roles any user passes. A user
// without one of them gets 403.
func RequireRole(a Authenticator, roles ...string) func(http.Handler) http.Handler {
	return require(a, 0, roles)
}

// RequireFactor is RequireUser that also asks the login to have passed a
// second factor (ihoprauth.AAL2: a TOTP code, a recovery code or a
// passkey, or a passkey alone with user verification), for routes
// where a stolen password must not be enough. A login without one, and any
// login when a is not a LevelAuthenticator (which cannot tell), gets 403
// with a message a client can act on: log in again with the second factor,
// after setting one up.
func RequireFactor(a Authenticator) func(http.Handler) http.Handler {
	return require(a, ihoprauth.AAL2, nil)
}

// require lets a request through with a valid token whose login is at
// least at level and whose user has one of roles (any, when none).
func require(a Authenticator, level ihoprauth.AssuranceLevel, roles []string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, got, err := authenticate(a, r)
			if err != nil {
				refuse(w, r, err)
				return
			}
			if len(roles) > 0 && !hasRole(u, roles) {
				forbidden.ServeHTTP(w, r)
				return
			}
			if got < level {
				needsFactor.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r.WithContext(&userContext{Context: r.Context(), user: u, level: got}))
		})
	}
}

// authenticate returns the user of r and, when a can tell, the assurance
// level of its login (0 when it cannot).
func authenticate(a Authenticator, r *http.Request) (ihoprauth.User, ihoprauth.AssuranceLevel, error) {
	if la, ok := a.(LevelAuthenticator); ok {
		return la.AuthenticateLevel(r)
	}
	u, err := a.Authenticate(r)
	return u, 0, err
}

var (
	forbidden   = &ihoprauth.Error{Status: http.StatusForbidden, Message: "You do not have the role this needs."}
	needsFactor = &ihoprauth.Error{Status: http.StatusForbidden,
		Message: "This needs a login with a second factor: set up an authenticator app or a passkey, then log in again with it."}
	serverError = &ihoprauth.Error{Status: http.StatusInternalServerError, Message: "Server error."}
)

func refuse(w http.ResponseWriter, r *http.Request, err error) {
	var e *ihoprauth.Error
	if errors.As(err, &e) {
		e.ServeHTTP(w, r)
		return
	}
	serverError.ServeHTTP(w, r)
}

func hasRole(u ihoprauth.User, roles []string) bool {
	for _, role := range roles {
		if strings.EqualFold(u.Role, role) {
			return true
		}
	}
	return false
}
