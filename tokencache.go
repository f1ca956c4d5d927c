package ihoprauth

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// tokenCache keeps recently validated access tokens in memory so that a
// bearer check can skip the database (Config.TokenCacheTTL). An entry lives
// at most the TTL and never past its token's expiry. Whatever this instance
// revokes or changes is dropped at once; a revocation made by another
// instance is seen here within the TTL (docs/design.md, D7).
//
// The cache is bounded in bytes (Config.TokenCacheBytes; docs/design.md,
// D31), not in entries: an entry counts its user's strings, meta and
// password hash included, so that users with large meta cannot make a few
// thousand entries cost hundreds of megabytes. When a new entry does not fit, random
// entries make room (a map's iteration order is random); an entry bigger
// than the whole budget is not kept. The lookup itself takes only the read
// lock and allocates nothing.
type tokenCache struct {
	ttl      time.Duration
	maxBytes int64
	mu       sync.RWMutex
	bytes    int64 // the sum of the sizes of the entries in m
	m        map[[sha256.Size]byte]cachedLogin
	// gen counts the forgets, so that a login read from the database
	// before a revocation committed is not cached after it (see put).
	gen atomic.Uint64
}

type cachedLogin struct {
	user  User
	token Token
	until time.Time
	size  int64
}

// entryOverhead is what an entry costs besides its strings: the key, the
// entry itself and a map slot's share of bookkeeping (an estimate: Go does
// not say how big a map slot is).
const entryOverhead = sha256.Size + int64(unsafe.Sizeof(cachedLogin{})) + 48

func newTokenCache(ttl time.Duration, maxBytes int64) *tokenCache {
	if ttl <= 0 {
		return nil
	}
	return &tokenCache{ttl: ttl, maxBytes: maxBytes, m: map[[sha256.Size]byte]cachedLogin{}}
}

// entrySize is what keeping u and t costs, in bytes.
func entrySize(u User, t Token) int64 {
	n := entryOverhead + int64(len(u.UserID)+len(u.Email)+len(u.EmailKey)+len(u.FirstName)+
		len(u.LastName)+len(u.MobileNumber)+len(u.Role)+len(u.Provider)+len(u.PasswordHash)+
		len(t.AccessHash)+len(t.RefreshHash)+len(t.FamilyID))
	if u.Meta != nil {
		n += int64(unsafe.Sizeof(*u.Meta)) + int64(len(*u.Meta))
	}
	for _, p := range []*time.Time{t.RefreshedAt, t.RevokedAt} {
		if p != nil {
			n += int64(unsafe.Sizeof(*p))
		}
	}
	return n
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

// generation is the count of forgets so far; read it before reading a
// login from the database, and pass it to put.
func (c *tokenCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// put keeps the login u, t under key, making room for it if needed, unless
// a forget happened since gen was read: the login may then have been read
// before a revocation committed, and caching it would let it outlive that.
func (c *tokenCache) put(key [sha256.Size]byte, u User, t Token, now time.Time, gen uint64) {
	if c == nil {
		return
	}
	size := entrySize(u, t)
	if size > c.maxBytes {
		return
	}
	until := now.Add(c.ttl)
	if t.ExpiresAt.Before(until) {
		until = t.ExpiresAt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	c.remove(key)
	for k := range c.m {
		if c.bytes+size <= c.maxBytes {
			break
		}
		c.remove(k)
	}
	c.m[key] = cachedLogin{user: u, token: t, until: until, size: size}
	c.bytes += size
}

// remove drops the entry under key, if any. The caller holds c.mu.
func (c *tokenCache) remove(key [sha256.Size]byte) {
	if e, ok := c.m[key]; ok {
		c.bytes -= e.size
		delete(c.m, key)
	}
}

// forgetUser drops every login of the user: after a revocation, a password
// or role change, the next check goes to the database.
func (c *tokenCache) forgetUser(userID int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for k, e := range c.m {
		if e.user.ID == userID {
			c.remove(k)
		}
	}
}

// size returns the bytes the entries take, by the count of entrySize.
func (c *tokenCache) size() int64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes
}
