package authmw_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
)

// fakeAuth answers Authenticate with a fixed user or error.
type fakeAuth struct {
	user ihoprauth.User
	err  error
}

func (f fakeAuth) Authenticate(*http.Request) (ihoprauth.User, error) { return f.user, f.err }

func TestRequireRole(t *testing.T) {
	unauth := &ihoprauth.Error{Status: 401, Message: "Unauthenticated.", Bearer: true}
	cases := []struct {
		name   string
		auth   fakeAuth
		roles  []string
		status int
		body   string
	}{
		{"any user", fakeAuth{user: ihoprauth.User{Email: "a@b.c", Role: "user"}}, nil, 200, "a@b.c"},
		{"role matches case-insensitively", fakeAuth{user: ihoprauth.User{Email: "a@b.c", Role: "Admin"}}, []string{"admin"}, 200, "a@b.c"},
		{"role missing", fakeAuth{user: ihoprauth.User{Role: "user"}}, []string{"admin", "dev"}, 403, `"status":"error"`},
		{"no token", fakeAuth{err: unauth}, nil, 401, `"message":"Unauthenticated."`},
		{"database down", fakeAuth{err: errors.New("db: connection refused")}, nil, 500, `"message":"Server error."`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				u, ok := authmw.UserFrom(r.Context())
				if !ok {
					t.Error("got no user in the context, want one")
				}
				w.Write([]byte(u.Email))
			})
			rec := httptest.NewRecorder()
			authmw.RequireRole(c.auth, c.roles...)(next).ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.body) {
				t.Errorf("got %d %s, want %d containing %s", rec.Code, rec.Body, c.status, c.body)
			}
			if c.status == 401 && rec.Header().Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("got WWW-Authenticate %q, want Bearer", rec.Header().Get("WWW-Authenticate"))
			}
			if strings.Contains(rec.Body.String(), "connection refused") {
				t.Errorf("got %s, want no internals in the answer", rec.Body)
			}
		})
	}
}

func TestUserFromEmptyContext(t *testing.T) {
	if _, ok := authmw.UserFrom(httptest.NewRequest("GET", "/", nil).Context()); ok {
		t.Error("got a user from a bare context, want none")
	}
}

func TestUserContextKeepsParentValues(t *testing.T) {
	type key struct{}
	var got any
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Context().Value(key{}) })
	req := httptest.NewRequest("GET", "/x", nil)
	req = req.WithContext(context.WithValue(req.Context(), key{}, "parent"))
	authmw.RequireUser(fakeAuth{user: ihoprauth.User{Email: "a@b.c"}})(next).ServeHTTP(httptest.NewRecorder(), req)
	if got != "parent" {
		t.Errorf("got %v for a value of the parent context, want parent", got)
	}
}
