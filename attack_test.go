package ihoprauth_test

import (
	"testing"
)

// Attacks on the provider sign-in and on passkeys, each the repro of a
// finding of the review of the two features.

// A provider that does not assert the email verified (a plain OAuth2
// provider without EmailVerifiedField, or an OpenID Provider where the
// attacker typed the victim's address) makes an account of the victim's
// email for the attacker. When the victim then proves the email with a
// mailed code (here a password reset) and takes the account over, the
// attacker's identity must not stay linked: it would sign the attacker in
// to the victim's account (pre-account takeover).
func TestAttackUnverifiedIdentityOutlivesEmailProof(t *testing.T) {
	e := newOAuthEnv(t)
	verifier, challenge := pkcePair("pre-takeover")
	got := e.signIn(mockUser("sub-attacker", "victim@example.com", false), "local", e.none, challenge)
	if got.Get("code") == "" {
		t.Fatalf("attacker's first sign-in: got %v, want a code", got)
	}
	e.exchange(e.none, got.Get("code"), verifier)

	// The victim finds an account of their email and resets its password.
	r := e.post("/api/v1/send-reset-password-code", with(e.none, "email", "victim@example.com"))
	want(t, r, 200)
	want(t, e.post("/api/v1/reset-password", with(e.none, "reset_password_token", r.str("reset_password_token"),
		"reset_password_code", e.mailedCode("victim@example.com"), "password", "a victim's own passphrase")), 200)

	again := e.signIn(mockUser("sub-attacker", "victim@example.com", false), "local", e.none, challenge)
	if again.Get("code") != "" || again.Get("mfa_token") != "" {
		t.Fatalf("the attacker's identity still signs in to the victim's account after the victim proved the email: got %v", again)
	}
}
