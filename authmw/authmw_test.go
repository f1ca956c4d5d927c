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

// levelAuth answers AuthenticateLevel with a fixed user and level.
type levelAuth struct {
	fakeAuth
	level ihoprauth.AssuranceLevel
}

func (l levelAuth) AuthenticateLevel(*http.Request) (ihoprauth.User, ihoprauth.AssuranceLevel, error) {
	return l.user, l.level, l.err
}

func TestRequireFactor(t *testing.T) {
	user := ihoprauth.User{Email: "a@b.c"}
	cases := []struct {
		name   string
		auth   authmw.Authenticator
		status int
		level  string // what AssuranceFrom tells the handler of RequireUser
	}{
		{"second factor", levelAuth{fakeAuth{user: user}, ihoprauth.AAL2}, 200, "aal2 true"},
		{"password only", levelAuth{fakeAuth{user: user}, ihoprauth.AAL1}, 403, "aal1 true"},
		{"an Authenticator that cannot tell", fakeAuth{user: user}, 403, "aal0 false"},
		{"no token", levelAuth{fakeAuth{err: &ihoprauth.Error{Status: 401, Message: "Unauthenticated.", Bearer: true}}, ihoprauth.AAL2}, 401, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				level, ok := authmw.AssuranceFrom(r.Context())
				w.Write([]byte(level.String() + " " + map[bool]string{true: "true", false: "false"}[ok]))
			})
			rec := httptest.NewRecorder()
			authmw.RequireFactor(c.auth)(next).ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
			if rec.Code != c.status {
				t.Errorf("RequireFactor: got %d %s, want %d", rec.Code, rec.Body, c.status)
			}
			if c.status == 403 && !strings.Contains(rec.Body.String(), "second factor") {
				t.Errorf("got %s, want a message that names the second factor", rec.Body)
			}
			rec = httptest.NewRecorder()
			authmw.RequireUser(c.auth)(next).ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
			if c.level != "" && rec.Body.String() != c.level {
				t.Errorf("AssuranceFrom behind RequireUser: got %q, want %q", rec.Body, c.level)
			}
		})
	}
	if level, ok := authmw.AssuranceFrom(context.Background()); ok || level != 0 {
		t.Errorf("AssuranceFrom without a user: got %v, %v, want 0, false", level, ok)
	}
}
