package ihoprauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenCache keeps recently validated access tokens in memory so that a
// bearer check can skip the database (Config.TokenCacheTTL). An entry lives
// at most the TTL and never past its token's expiry. Whatever this instance
// revokes or changes is dropped at once; a revocation made by another
// instance is seen here within the TTL (docs/design.md, D7).
type tokenCache struct {
	ttl time.Duration
	max int
	mu  sync.RWMutex
	m   map[[sha256.Size]byte]cachedLogin
}

type cachedLogin struct {
	user  User
	token Token
	until time.Time
}

// tokenCacheMax bounds the entries; past it an arbitrary one makes room.
const tokenCacheMax = 100_000

func newTokenCache(ttl time.Duration) *tokenCache {
	if ttl <= 0 {
		return nil
	}
	return &tokenCache{ttl: ttl, max: tokenCacheMax, m: map[[sha256.Size]byte]cachedLogin{}}
}

// get returns the login cached under key if it is still fresh at now.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) (User, Token, bool) {
	if c == nil {
		return User{}, Token{}, false
	}
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return User{}, Token{}, false
	}
	return e.user, e.token, true
}

func (c *tokenCache) put(key [sha256.Size]byte, u User, t Token, now time.Time) {
	if c == nil {
		return
	}
	until := now.Add(c.ttl)
	if t.ExpiresAt.Before(until) {
		until = t.ExpiresAt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = cachedLogin{user: u, token: t, until: until}
}

// forgetUser drops every login of the user: after a revocation, a password
// or role change, the next check goes to the database.
func (c *tokenCache) forgetUser(userID int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.user.ID == userID {
			delete(c.m, k)
		}
	}
}
