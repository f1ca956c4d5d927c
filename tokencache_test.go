package ihoprauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
	"gorm.io/gorm"
)

func withTokenCache(c *ihoprauth.Config) { c.TokenCacheTTL = 30 * time.Second }

// TestFeedEndsRevocationsOnEveryInstance: with the cache on, what one
// instance revokes ends there at once and on another at its next read of
// the change feed; an instance whose feed has not been read for 750 ms
// does not trust its cache. It runs on every backend, the two instances on
// two nodes of a Galera cluster (testdb.Reopen).
func TestFeedEndsRevocationsOnEveryInstance(t *testing.T) {
	for _, backend := range testdb.All() {
		t.Run(backend, func(t *testing.T) { testFeedEndsRevocations(t, testdb.Open(t, backend)) })
	}
}

func testFeedEndsRevocations(t *testing.T, db *gorm.DB) {
	stA, err := store.New(context.Background(), db, store.Config{Replicas: testdb.Replicas(t, db)})
	if err != nil {
		t.Fatal(err)
	}
	dbB := testdb.Reopen(t, db)
	stB, err := store.New(context.Background(), dbB, store.Config{Replicas: testdb.Replicas(t, dbB)})
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
	want(t, a.do("GET", "/api/v1/user", tok, nil), 200) // the other: until its next read
	a.poll()
	want(t, a.do("GET", "/api/v1/user", tok, nil), 401)

	// A feed not read for 750 ms: the cache is not trusted.
	tok = a.exchange(a.none, a.loginWith(a.none, "cached@example.com", goodPassword).str("code"), "").str("access_token")
	a.poll()
	want(t, a.do("GET", "/api/v1/user", tok, nil), 200) // cached on A
	want(t, b.do("POST", "/api/v1/logout", tok, nil), 200)
	// Only A's clock moves: its Store, which reads a replica (pgreplica)
	// by the real time of its last read of the feed, could still read one
	// that has not replayed the logout yet.
	testdb.AwaitReplay(t, db)
	a.clock.Advance(749 * time.Millisecond)
	want(t, a.do("GET", "/api/v1/user", tok, nil), 200) // still trusted
	a.clock.Advance(time.Millisecond)
	want(t, a.do("GET", "/api/v1/user", tok, nil), 401) // stale: read from the database

	// A stale feed that is read again is trusted again.
	tok = a.exchange(a.none, a.loginWith(a.none, "cached@example.com", goodPassword).str("code"), "").str("access_token")
	a.poll()
	want(t, a.do("GET", "/api/v1/user", tok, nil), 200)
	if ihoprauth.TokenCacheSize(a.auth) == 0 {
		t.Errorf("after a fresh read of the feed: got nothing cached, want the login")
	}
}

// TestFeedReadsLateCommits: a change stamped before the last read but
// committed after it (a slow transaction) is still seen by the next read,
// whose window overlaps the last.
func TestFeedReadsLateCommits(t *testing.T) {
	e := newEnv(t, withTokenCache)
	tok := e.signupNone("late@example.com")
	u, err := e.auth.UserByEmail(context.Background(), "web-none", "late@example.com")
	if err != nil {
		t.Fatal(err)
	}
	e.poll()
	want(t, e.do("GET", "/api/v1/user", tok, nil), 200) // cached
	if ihoprauth.TokenCacheSize(e.auth) == 0 {
		t.Fatal("got nothing cached, want the login")
	}
	// A transaction stamps its change, the feed is read while it is still
	// open (so the read cannot see it), then it commits.
	if err := ihoprauth.AppendChangeLate(context.Background(), e.auth, u.ID, e.poll); err != nil {
		t.Fatal(err)
	}
	if ihoprauth.TokenCacheSize(e.auth) == 0 {
		t.Fatal("the read during the transaction dropped the login; want it to see nothing yet")
	}
	e.poll()
	if got := ihoprauth.TokenCacheSize(e.auth); got != 0 {
		t.Errorf("after reading a late change of the user: got %d bytes cached, want the login dropped", got)
	}
}

func TestTokenCacheSeesRoleChangesAndExpiry(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.TokenCacheTTL = 2 * time.Hour })
	tok := e.signupNone("cached-role@example.com")
	want(t, e.do("GET", "/admin", tok, nil), 403)
	u, err := e.auth.UserByEmail(context.Background(), "web-none", "cached-role@example.com")
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

// bigMeta is meta of the largest size the API takes, as in the attack that
// grew a cache by 16 KB a token.
var bigMeta = strings.Repeat("m", 16<<10)

// TestTokenCacheBoundedInBytes: the cache counts an entry's meta and keeps
// its total under TokenCacheBytes, however many logins are live; a login
// evicted, or too big to keep, is read from the database again.
func TestTokenCacheBoundedInBytes(t *testing.T) {
	tests := []struct {
		name   string
		budget int64
		// most is the most entries that may fit in budget
		most int64
	}{
		{"a few entries fit", 64 << 10, 3},
		{"no entry fits", 8 << 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *ihoprauth.Config) { c.TokenCacheTTL, c.TokenCacheBytes = time.Hour, tt.budget })
			want(t, e.post("/api/v1/signup", signupBody(e.none, "big@example.com", "meta", bigMeta)), 200)
			var tokens []string
			for range 12 {
				code := e.loginWith(e.none, "big@example.com", goodPassword).str("code")
				tokens = append(tokens, e.exchange(e.none, code, "").str("access_token"))
				want(t, e.do("GET", "/api/v1/user", tokens[len(tokens)-1], nil), 200)
				if got := ihoprauth.TokenCacheSize(e.auth); got > tt.budget || got > tt.most*(16<<10+1024) {
					t.Fatalf("after %d logins: got %d bytes cached, want at most %d and room for %d entries", len(tokens), got, tt.budget, tt.most)
				}
			}
			if got := ihoprauth.TokenCacheSize(e.auth); tt.most > 0 && got < 16<<10 {
				t.Errorf("got %d bytes cached, want an entry to count its 16 KiB meta", got)
			}
			for _, tok := range tokens {
				want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
			}
		})
	}
}

// TestTokenCacheBoundedUnderRefreshes replays issue 10's attack at a small
// scale: one account with 16 KiB of meta refreshes many times and uses each
// new access token. Each refresh ends the token it replaces and drops it
// from the cache, so the cache holds one entry whatever the count, and
// every earlier access token is refused.
func TestTokenCacheBoundedUnderRefreshes(t *testing.T) {
	e := newEnv(t, withTokenCache)
	r := e.post("/api/v1/signup", signupBody(e.none, "loop@example.com", "meta", bigMeta))
	want(t, r, 200)
	tok := e.exchange(e.none, r.str("code"), "")
	want(t, e.do("GET", "/api/v1/user", tok.str("access_token"), nil), 200)
	one := ihoprauth.TokenCacheSize(e.auth)
	if one < 16<<10 {
		t.Fatalf("got %d bytes for one cached login, want at least its 16 KiB meta", one)
	}
	var replaced []string
	for i := range 200 {
		replaced = append(replaced, tok.str("access_token"))
		tok = e.refresh(e.none, tok.str("refresh_token"))
		want(t, tok, 200)
		want(t, e.do("GET", "/api/v1/user", tok.str("access_token"), nil), 200)
		if got := ihoprauth.TokenCacheSize(e.auth); got != one {
			t.Fatalf("after %d refreshes: got %d bytes cached, want %d (one login)", i+1, got, one)
		}
	}
	for i, old := range replaced {
		if r := e.do("GET", "/api/v1/user", old, nil); r.status != 401 {
			t.Fatalf("access token replaced by refresh %d: got %s, want 401", i+1, r)
		}
	}
}
