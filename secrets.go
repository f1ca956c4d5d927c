package ihoprauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"math/big"
	"slices"
)

// Lengths of the random values handed to clients, in bytes of entropy.
const (
	tokenBytes    = 32 // access, refresh and code tokens: 256 bits (ASVS 7.2)
	authCodeBytes = 16 // auth code: 128 bits (RFC 6749 §10.10)
	userIDBytes   = 16
)

// newOpaque returns n random bytes as lowercase hex.
func newOpaque(n int) string { return hex.EncodeToString(randomBytes(n)) }

// newCode returns a uniformly random 6-digit code, leading zeros kept.
func newCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	s := n.String()
	return "000000"[len(s):] + s
}

// sha256Hex is how tokens and auth codes are stored: a database leak does
// not yield usable tokens, and 256-bit random inputs need no salt or key.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// keyed returns the HMAC-SHA256 of value under the instance key, separated
// by purpose. Low-entropy secrets (6-digit codes, client secrets chosen by
// people) are stored this way. Only a Config.Secret kept outside the
// database stops someone holding a copy of the database from testing all a
// million codes offline; the default key lives in the database itself
// (docs/design.md, D8).
func (a *Auth) keyed(purpose, value string) string {
	return keyedWith(a.key, purpose, value)
}

// keyedWith is keyed under key.
func keyedWith(key []byte, purpose, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// matchKeyed reports whether hash is the keyed hash of value under the key,
// one of Config.PreviousSecrets or one of Config.NextSecrets, and whether
// it was a previous one, which the caller then replaces by a.keyed's when
// it can. Every key is tried, each compared in constant time, so the time
// says nothing of which matched.
func (a *Auth) matchKeyed(purpose, value, hash string) (ok, old bool) {
	ok = equalHex(a.keyed(purpose, value), hash)
	for _, k := range a.cfg.PreviousSecrets {
		if equalHex(keyedWith(k, purpose, value), hash) && !ok {
			ok, old = true, true
		}
	}
	for _, k := range a.cfg.NextSecrets {
		if equalHex(keyedWith(k, purpose, value), hash) {
			ok = true
		}
	}
	return ok, old && ok
}

// otherKeys are the keys besides the current one that verify.
func (a *Auth) otherKeys() [][]byte {
	return append(slices.Clip(a.cfg.PreviousSecrets), a.cfg.NextSecrets...)
}

// equalHex compares two hashes in constant time.
func equalHex(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
