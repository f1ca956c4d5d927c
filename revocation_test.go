package ihoprauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// TestNoRevokedTokenOutlivesItsRevocation runs every way a token ends with
// the token cache on (a two-hour TTL, so only the revocation can end it)
// and checks that the token is refused at once on this instance, while the
// logins that should survive do.
func TestNoRevokedTokenOutlivesItsRevocation(t *testing.T) {
	const password = "A brand new passphrase"
	tests := []struct {
		name string
		// revoke ends victim's login somehow; keep is a token that must
		// still work afterwards ("" for none).
		revoke func(e *env, victim, other resp) (keep string)
	}{
		{"logout", func(e *env, victim, other resp) string {
			want(e.t, e.do("POST", "/api/v1/logout", victim.str("access_token"), nil), 200)
			return other.str("access_token")
		}},
		{"logout of every login", func(e *env, victim, other resp) string {
			want(e.t, e.do("POST", "/api/v1/logout?all=true", other.str("access_token"), nil), 200)
			return ""
		}},
		{"password reset", func(e *env, victim, other resp) string {
			r := e.post("/api/v1/send-reset-password-code", with(e.none, "email", "rev@example.com"))
			want(e.t, r, 200)
			want(e.t, e.post("/api/v1/reset-password", with(e.none, "reset_password_token", r.str("reset_password_token"),
				"reset_password_code", e.mailedCode("rev@example.com"), "password", password)), 200)
			return ""
		}},
		{"password change", func(e *env, victim, other resp) string {
			want(e.t, e.do("PUT", "/api/v1/user/update", other.str("access_token"),
				map[string]any{"password": password, "current_password": goodPassword}), 200)
			return other.str("access_token")
		}},
		{"refresh", func(e *env, victim, other resp) string {
			next := e.refresh(e.none, victim.str("refresh_token"))
			want(e.t, next, 200)
			return next.str("access_token")
		}},
		{"refresh token reused", func(e *env, victim, other resp) string {
			next := e.refresh(e.none, victim.str("refresh_token"))
			want(e.t, next, 200)
			want(e.t, e.do("GET", "/api/v1/user", next.str("access_token"), nil), 200) // cached too
			want(e.t, e.refresh(e.none, victim.str("refresh_token")), 401)
			want(e.t, e.do("GET", "/api/v1/user", next.str("access_token"), nil), 401)
			return other.str("access_token")
		}},
		{"auth code reused", func(e *env, victim, other resp) string {
			want(e.t, e.post("/api/v1/api-tauth-token", with(e.none, "code", victim.str("code"))), 401)
			return other.str("access_token")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *ihoprauth.Config) { c.TokenCacheTTL = 2 * time.Hour })
			want(t, e.post("/api/v1/signup", signupBody(e.none, "rev@example.com")), 200)
			e.clock.Advance(time.Second)
			victim, other := e.loginTokens("rev@example.com"), e.loginTokens("rev@example.com")
			for _, tok := range []string{victim.str("access_token"), other.str("access_token")} {
				want(t, e.do("GET", "/api/v1/user", tok, nil), 200) // both cached now
			}
			keep := tt.revoke(e, victim, other)
			if r := e.do("GET", "/api/v1/user", victim.str("access_token"), nil); r.status != 401 {
				t.Errorf("the revoked token: got %s, want 401", r)
			}
			if keep != "" {
				want(t, e.do("GET", "/api/v1/user", keep, nil), 200)
			}
		})
	}
}

// TestRoleChangeIsSeenThroughTheCache: a cached login never serves a role
// the user no longer has, whether the API or the app changed it.
func TestRoleChangeIsSeenThroughTheCache(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.TokenCacheTTL = 2 * time.Hour })
	tok := e.signupNone("roles@example.com")
	u, err := e.auth.UserByEmail(context.Background(), "web-none", "roles@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want(t, e.do("GET", "/admin", tok, nil), 403) // cached as user
	if _, err := e.auth.SetRole(context.Background(), u.UserID, "admin"); err != nil {
		t.Fatal(err)
	}
	want(t, e.do("GET", "/admin", tok, nil), 200) // cached as admin
	want(t, e.do("PUT", "/api/v1/user/update/role", tok, map[string]any{"role": "user"}), 200)
	want(t, e.do("GET", "/admin", tok, nil), 403)
}

// loginTokens logs email in (none project) and returns the token answer
// with the code it was exchanged for under "code".
func (e *env) loginTokens(email string) resp {
	e.t.Helper()
	login := e.loginWith(e.none, email, goodPassword)
	want(e.t, login, 200)
	r := e.exchange(e.none, login.str("code"), "")
	r.body["code"] = login.str("code")
	return r
}
