package ihoprauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
)

// Factor secrets (TOTP seeds) must be readable by the server, so they
// cannot be hashed: they are sealed with AES-256-GCM under a key derived by
// HKDF-SHA256 (RFC 5869) from the library's key (Config.Secret, or the
// generated key of docs/design.md, D8), with a label of its own so that no
// other use of the key yields it. The additional data binds each sealed
// secret to its user and kind: a row copied onto another user does not
// open. Only a Config.Secret kept outside the database keeps a copy of the
// database from opening them (docs/design.md, D35).

// sealerInfo labels the derived key; a new label is a new key.
const sealerInfo = "ihoprauth factor secrets v1"

// newSealer returns the AEAD that seals factor secrets under key.
func newSealer(key []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, key, nil, sealerInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// factorAD is the additional data of a factor's sealed secret.
func factorAD(userID int64, kind FactorKind) []byte {
	return []byte("factor:" + strconv.FormatInt(userID, 10) + ":" + string(kind))
}

// seal returns secret sealed for the user's factor of kind.
func (a *Auth) seal(userID int64, kind FactorKind, secret []byte) []byte {
	return a.sealWith(secret, factorAD(userID, kind))
}

// sealWith returns plain sealed under the current key with the associated
// data ad: a random nonce followed by the ciphertext and its tag.
func (a *Auth) sealWith(plain, ad []byte) []byte {
	nonce := randomBytes(a.sealer.NonceSize())
	return a.sealer.Seal(nonce, nonce, plain, ad)
}

// openWith returns the plain text of what sealWith sealed with ad, under
// the current key or, after a rotation, under one of
// Config.PreviousSecrets or NextSecrets.
func (a *Auth) openWith(sealed, ad []byte) ([]byte, bool) {
	for _, sealer := range append([]cipher.AEAD{a.sealer}, a.otherSealers...) {
		n := sealer.NonceSize()
		if len(sealed) < n {
			return nil, false
		}
		if plain, err := sealer.Open(nil, sealed[:n], sealed[n:], ad); err == nil {
			return plain, true
		}
	}
	return nil, false
}

// sealString is sealWith in base64url, for a cookie or a JSON answer.
func (a *Auth) sealString(plain, ad []byte) string {
	return base64.RawURLEncoding.EncodeToString(a.sealWith(plain, ad))
}

// openString opens what sealString sealed with ad.
func (a *Auth) openString(value string, ad []byte) ([]byte, bool) {
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, false
	}
	return a.openWith(sealed, ad)
}

// errSealed is the error of a sealed secret that does not open: the key
// changed, or the row was altered or moved.
var errSealed = errors.New("ihoprauth: a factor secret does not open under the current key")

// open returns the plain secret of f, sealed under the key or, after a
// rotation, under one of Config.PreviousSecrets or NextSecrets.
func (a *Auth) open(f Factor) ([]byte, error) {
	if secret, ok := a.openWith(f.Secret, factorAD(f.UserID, f.Kind)); ok {
		return secret, nil
	}
	return nil, errSealed
}
