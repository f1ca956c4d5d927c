package ihoprauth

import (
	"crypto/sha256"
	"testing"
	"time"
)

// TestCachePutAfterForgetIsDropped: a login read before a revocation
// committed (so before the forget that follows it) is not cached after it.
func TestCachePutAfterForgetIsDropped(t *testing.T) {
	now := time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)
	u, tok := User{ID: 7}, Token{ExpiresAt: now.Add(time.Hour)}
	tests := []struct {
		name         string
		forgetBefore bool // a forget happens between the read and the put
		wantCached   bool
	}{
		{"no revocation in between", false, true},
		{"a revocation in between", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTokenCache(time.Minute, 1<<20)
			key := sha256.Sum256([]byte(tt.name))
			gen := c.generation() // the read starts
			if tt.forgetBefore {
				c.forgetUser(u.ID)
			}
			c.put(key, u, tok, now, gen)
			if _, _, got := c.get(key, now); got != tt.wantCached {
				t.Errorf("cached: got %v, want %v", got, tt.wantCached)
			}
		})
	}
}
