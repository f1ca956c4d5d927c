package ihoprauth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// login signs up email in the none project and returns the token answer.
func (e *env) login(email string) resp {
	e.t.Helper()
	r := e.post("/api/v1/signup", signupBody(e.none, email))
	want(e.t, r, 200)
	return e.exchange(e.none, r.str("code"), "")
}

func (e *env) refresh(project map[string]any, token string) resp {
	return e.post("/api/v1/refresh-token", with(project, "refresh_token", token))
}

func TestRefreshRotates(t *testing.T) {
	e := newEnv(t)
	first := e.login("rot@example.com")
	e.clock.Advance(30 * time.Minute)
	second := e.refresh(e.none, first.str("refresh_token"))
	want(t, second, 200)
	checkTokenAnswerShape(t, second, "rot@example.com")
	if second.str("expires_at") != "2026-03-17 13:13:58" {
		t.Errorf("got expires_at %q, want an hour after the refresh", second.str("expires_at"))
	}
	if second.str("refresh_token") == first.str("refresh_token") || second.str("access_token") == first.str("access_token") {
		t.Errorf("got the same tokens again, want new ones")
	}
	want(t, e.do("GET", "/api/v1/user", second.str("access_token"), nil), 200)
	third := e.refresh(e.none, second.str("refresh_token"))
	want(t, third, 200)

	// Replaying a retired refresh token revokes the whole family.
	replay := e.refresh(e.none, first.str("refresh_token"))
	want(t, replay, 401)
	want(t, e.do("GET", "/api/v1/user", third.str("access_token"), nil), 401)
	want(t, e.refresh(e.none, third.str("refresh_token")), 401)
}

// checkTokenAnswerShape checks the fields of a token answer, not the times.
func checkTokenAnswerShape(t *testing.T, r resp, email string) {
	t.Helper()
	if !hex64.MatchString(r.str("access_token")) || !hex64.MatchString(r.str("refresh_token")) ||
		!plainTime.MatchString(r.str("expires_at")) || r.obj("user")["email"] != email || r.obj("user")["provider"] != "" {
		t.Errorf("got %s, want a token answer for %s", r, email)
	}
}

func TestRefreshIsBoundToProjectAndLifetime(t *testing.T) {
	e := newEnv(t)
	other := e.project(ihoprauth.TypeNone, "other", "other-secret-0123456789", false)
	tok := e.login("bound@example.com")
	want(t, e.refresh(other, tok.str("refresh_token")), 401)
	e.clock.Advance(30*24*time.Hour - time.Second)
	next := e.refresh(e.none, tok.str("refresh_token"))
	want(t, next, 200)
	e.clock.Advance(time.Second)
	want(t, e.refresh(e.none, next.str("refresh_token")), 401) // 30 days from login, not from the refresh
}

func TestRefreshRace(t *testing.T) {
	e := newEnv(t)
	tok := e.login("refresh-race@example.com")
	oks := race(t, 20, func() resp { return e.refresh(e.none, tok.str("refresh_token")) })
	if len(oks) > 1 {
		t.Fatalf("got %d successful refreshes of one token, want at most 1", len(oks))
	}
}

func TestRefreshGrace(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.RefreshGrace = 10 * time.Second })
	tok := e.login("tabs@example.com")
	a := e.refresh(e.none, tok.str("refresh_token"))
	want(t, a, 200)
	e.clock.Advance(5 * time.Second)
	b := e.refresh(e.none, tok.str("refresh_token"))
	want(t, b, 200)
	want(t, e.do("GET", "/api/v1/user", a.str("access_token"), nil), 200)
	want(t, e.refresh(e.none, tok.str("refresh_token")), 401) // one extra use only: a third is reuse
	want(t, e.do("GET", "/api/v1/user", a.str("access_token"), nil), 401)
	want(t, e.do("GET", "/api/v1/user", b.str("access_token"), nil), 401)
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	one := e.login("out@example.com")
	two := e.exchange(e.none, e.post("/api/v1/login", with(e.none, "email", "out@example.com", "password", goodPassword)).str("code"), "")
	three := e.exchange(e.none, e.post("/api/v1/login", with(e.none, "email", "out@example.com", "password", goodPassword)).str("code"), "")

	r := e.do("POST", "/api/v1/logout", one.str("access_token"), nil)
	want(t, r, 200)
	if r.raw != "{\"status\":\"success\"}\n" {
		t.Errorf("got %q, want {\"status\":\"success\"}", r.raw)
	}
	want(t, e.do("GET", "/api/v1/user", one.str("access_token"), nil), 401)
	want(t, e.refresh(e.none, one.str("refresh_token")), 401)
	want(t, e.do("GET", "/api/v1/user", two.str("access_token"), nil), 200)

	want(t, e.do("POST", "/api/v1/logout?all=true", two.str("access_token"), nil), 200)
	want(t, e.do("GET", "/api/v1/user", three.str("access_token"), nil), 401)
	want(t, e.refresh(e.none, three.str("refresh_token")), 401)

	four := e.exchange(e.none, e.post("/api/v1/login", with(e.none, "email", "out@example.com", "password", goodPassword)).str("code"), "")
	five := e.exchange(e.none, e.post("/api/v1/login", with(e.none, "email", "out@example.com", "password", goodPassword)).str("code"), "")
	want(t, e.do("POST", "/api/v1/logout", four.str("access_token"), map[string]any{"all": true}), 200)
	want(t, e.do("GET", "/api/v1/user", five.str("access_token"), nil), 401)
	want(t, e.do("POST", "/api/v1/logout", "", nil), 401)
}

// TestRefreshEndsReplacedAccessToken: a refresh ends the access token it
// replaces (docs/design.md, D31), at once without RefreshGrace, else when
// the new access token is first used or the grace has passed, on the
// instance's cache as in the database. The refresh token keeps its grace
// use.
func TestRefreshEndsReplacedAccessToken(t *testing.T) {
	const grace = 10 * time.Second
	tests := []struct {
		name  string
		grace time.Duration
		// after the refresh: old and next are the old and new access tokens
		then func(e *env, old, next resp)
	}{
		{"no grace: at once", 0, func(e *env, old, next resp) {
			want(e.t, e.do("GET", "/api/v1/user", old.str("access_token"), nil), 401)
			want(e.t, e.do("GET", "/api/v1/user", next.str("access_token"), nil), 200)
		}},
		{"grace: when the new token is used", grace, func(e *env, old, next resp) {
			want(e.t, e.do("GET", "/api/v1/user", old.str("access_token"), nil), 200)
			want(e.t, e.do("GET", "/api/v1/user", next.str("access_token"), nil), 200)
			want(e.t, e.do("GET", "/api/v1/user", old.str("access_token"), nil), 401)
			want(e.t, e.refresh(e.none, old.str("refresh_token")), 200) // the second tab's refresh
		}},
		{"grace: when it has passed", grace, func(e *env, old, next resp) {
			e.clock.Advance(grace - time.Second)
			want(e.t, e.do("GET", "/api/v1/user", old.str("access_token"), nil), 200)
			e.clock.Advance(time.Second)
			want(e.t, e.do("GET", "/api/v1/user", old.str("access_token"), nil), 401)
			want(e.t, e.do("GET", "/api/v1/user", next.str("access_token"), nil), 200)
		}},
	}
	for _, cache := range []time.Duration{0, time.Minute} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/cache %v", tt.name, cache), func(t *testing.T) {
				e := newEnv(t, func(c *ihoprauth.Config) { c.RefreshGrace, c.TokenCacheTTL = tt.grace, cache })
				old := e.login("replaced@example.com")
				want(t, e.do("GET", "/api/v1/user", old.str("access_token"), nil), 200) // cached, with the cache on
				next := e.refresh(e.none, old.str("refresh_token"))
				want(t, next, 200)
				tt.then(e, old, next)
			})
		}
	}
}
