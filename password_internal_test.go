package ihoprauth

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"
)

// TestStoredHashesNeedATagAndASalt: a stored argon2id hash verifies only
// with a tag of 4 bytes or more and a salt of 8 or more (RFC 9106 §3.1),
// so that an imported hash with a 1-byte tag cannot take one password in
// 256.
func TestStoredHashesNeedATagAndASalt(t *testing.T) {
	h := newHasher(Argon2Params{Memory: 64, Time: 1, Threads: 1}, 1, Argon2Kept, 0)
	for _, c := range []struct {
		name      string
		tag, salt int
		ok        bool
	}{
		{"usual", 32, 16, true},
		{"the shortest tag and salt", 4, 8, true},
		{"a 1-byte tag", 1, 16, false},
		{"a 3-byte tag", 3, 16, false},
		{"a 4-byte salt", 32, 4, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			salt := bytes.Repeat([]byte{7}, c.salt)
			key := argon2.IDKey([]byte("the password"), salt, 1, 64, 1, uint32(c.tag))
			encoded := fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s",
				base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
			if ok, _ := h.verifyArgon2(encoded, "the password"); ok != c.ok {
				t.Errorf("the right password against a %d-byte tag and a %d-byte salt: got %v, want %v", c.tag, c.salt, ok, c.ok)
			}
		})
	}
}
