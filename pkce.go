package ihoprauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// pkce is the code_challenge of a login (RFC 7636), carried from login to
// the auth code it yields.
type pkce struct{ challenge, method string }

// readPKCE reads code_challenge and code_challenge_method. A challenge
// without a method is S256 (docs/design.md, D1: iHopr clients send no method,
// and S256 is the secure reading, unlike RFC 7636 §4.3's plain); plain is
// refused unless Config.AllowPlainPKCE.
func (a *Auth) readPKCE(in *input) pkce {
	p := pkce{
		challenge: in.str("code_challenge", false, 128),
		method:    in.str("code_challenge_method", false, 16),
	}
	if p.challenge == "" {
		if p.method != "" {
			in.fail("code_challenge", "The code_challenge field is required with code_challenge_method.")
		}
		return pkce{}
	}
	switch p.method {
	case "", "S256":
		p.method = "S256"
		if len(p.challenge) != 43 || !isUnreserved(p.challenge) {
			in.fail("code_challenge", "The code_challenge must be the 43-character base64url SHA-256 of the code_verifier (S256).")
		}
	case "plain":
		if !a.cfg.AllowPlainPKCE {
			in.fail("code_challenge_method", "The code_challenge_method plain is not allowed; use S256.")
		} else if len(p.challenge) < 43 || !isUnreserved(p.challenge) {
			in.fail("code_challenge", "The code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~.")
		}
	default:
		in.fail("code_challenge_method", "The code_challenge_method must be S256.")
	}
	return p
}

// verifies reports whether verifier answers the challenge.
func (p pkce) verifies(verifier string) bool {
	want := verifier
	if p.method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(p.challenge)) == 1
}

// readVerifier reads code_verifier: 43 to 128 unreserved characters
// (RFC 7636 §4.1).
func readVerifier(in *input) string {
	v := in.str("code_verifier", false, 128)
	if v != "" && (len(v) < 43 || !isUnreserved(v)) {
		in.fail("code_verifier", "The code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~.")
	}
	return v
}

func isUnreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}
