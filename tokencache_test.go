package ihoprauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
)

func withTokenCache(c *ihoprauth.Config) { c.TokenCacheTTL = 30 * time.Second }

// TestTokenCacheRevocationBounds: with the cache on, what this instance
// revokes ends at once, and what another instance revokes ends here within
// the TTL.
func TestTokenCacheRevocationBounds(t *testing.T) {
	db := testdb.Open(t, testdb.Backend())
	stA, err := store.New(context.Background(), db, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	stB, err := store.New(context.Background(), testdb.Reopen(t, db), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := buildEnv(t, stA, nil, withTokenCache)
	b := buildEnv(t, stB, a.mail, withTokenCache)
	b.clock = a.clock

	tok := a.signupNone("cached@example.com")
	want(t, a.do("GET", "/api/v1/user", tok, nil), 200) // now cached on A
	want(t, b.do("POST", "/api/v1/logout", tok, nil), 200)
	want(t, b.do("GET", "/api/v1/user", tok, nil), 401) // the revoking instance: at once
	a.clock.Advance(29 * time.Second)
	want(t, a.do("GET", "/api/v1/user", tok, nil), 200) // the other: within the TTL
	a.clock.Advance(time.Second)
	want(t, a.do("GET", "/api/v1/user", tok, nil), 401)

	tok = a.exchange(a.none, a.loginWith(a.none, "cached@example.com", goodPassword).str("code"), "").str("access_token")
	want(t, a.do("GET", "/api/v1/user", tok, nil), 200)
	want(t, a.do("POST", "/api/v1/logout", tok, nil), 200)
	want(t, a.do("GET", "/api/v1/user", tok, nil), 401) // this instance: at once
}

func TestTokenCacheSeesRoleChangesAndExpiry(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.TokenCacheTTL = 2 * time.Hour })
	tok := e.signupNone("cached-role@example.com")
	want(t, e.do("GET", "/admin", tok, nil), 403)
	u, err := e.auth.LookupUser(context.Background(), "web-none", "cached-role@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.SetRole(context.Background(), u.UserID, "admin"); err != nil {
		t.Fatal(err)
	}
	want(t, e.do("GET", "/admin", tok, nil), 200)
	e.clock.Advance(time.Hour) // the token's own expiry beats the cache's two hours
	want(t, e.do("GET", "/api/v1/user", tok, nil), 401)
}
