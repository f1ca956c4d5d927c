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
//
// Refusals are JSON in the API's error shape: 401 with WWW-Authenticate:
// Bearer when the token is missing, unknown, expired or revoked, 403 when
// the user lacks the role or a state-changing request uses the session
// cookie cross-site, and 503 with Retry-After when the database does not
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

// userContext is a request's context with its user. It takes one
// allocation per request where context.WithValue takes two (the context and
// the boxed User), on the path every protected request runs.
type userContext struct {
	context.Context
	user ihoprauth.User
}

// Value returns the user for userKey and asks the parent for any other key.
func (c *userContext) Value(key any) any {
	if key == (userKey{}) {
		return &c.user
	}
	return c.Context.Value(key)
}

// RequireUser lets a request through only with a valid bearer token, and
// puts its user in the request context (see UserFrom).
func RequireUser(a Authenticator) func(http.Handler) http.Handler {
	return RequireRole(a)
}

// RequireRole is RequireUser that also asks the user to have one of roles,
// compared case-insensitively; with no roles any user passes. A user
// without one of them gets 403.
func RequireRole(a Authenticator, roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, err := a.Authenticate(r)
			if err != nil {
				refuse(w, r, err)
				return
			}
			if len(roles) > 0 && !hasRole(u, roles) {
				forbidden.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r.WithContext(&userContext{Context: r.Context(), user: u}))
		})
	}
}

var (
	forbidden   = &ihoprauth.Error{Status: http.StatusForbidden, Message: "You do not have the role this needs."}
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
