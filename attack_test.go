package ihoprauth_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ihoprauth/ihoprauth"
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

// An account without a password keeps its last way in (D43): the unlink of
// its last identity is refused while it has no passkey, and so the removal
// of its last passkey must be refused once it has no identity, or the two
// removals, one after the other, leave it none.
func TestAttackLastPasskeyRemovedAfterUnlink(t *testing.T) {
	e := newOAuthEnv(t, withPasskeys)
	verifier, challenge := pkcePair("last-way")
	got := e.signIn(mockUser("sub-pk", "pk.only@example.com", true), "local", e.none, challenge)
	tok := e.exchange(e.none, got.Get("code"), verifier)
	access := tok.str("access_token")
	k := newSoftKey(t)
	want(t, e.registerPasskey(access, k), 200)
	ids, err := e.auth.Identities(context.Background(), tok.obj("user")["user_id"].(string))
	if err != nil || len(ids) != 1 {
		t.Fatalf("Identities: %v %v", ids, err)
	}
	want(t, e.do("POST", "/api/v1/user/identities/remove", access, map[string]any{"id": ids[0].ID}), 200)
	keys := e.do("GET", "/api/v1/user/mfa/passkeys", access, nil)
	want(t, keys, 200)
	id := keys.body["passkeys"].([]any)[0].(map[string]any)["id"]
	want(t, e.do("POST", "/api/v1/user/mfa/passkey/remove", access, map[string]any{"passkey_id": id}), 409)
}

// Link CSRF (RFC 9700 §4.7 applied to linking): a link_token is a bearer
// credential in a URL, bound to no browser. An attacker mints one for their
// own account and makes the victim's browser open the start URL with it;
// the victim's provider session signs in silently. Had the callback linked
// there, the victim's "Sign in with the provider" would land in the
// attacker's account from then on. So the callback links nothing: it hands
// the redirect_uri (the victim's browser, here) a link_code that only the
// user of the link_token, with the start's code_verifier, can confirm (D43).
func TestAttackLinkCSRF(t *testing.T) {
	e := newOAuthEnv(t)
	verifier, challenge := pkcePair("link-csrf")
	attacker := e.signupNone("attacker@example.com")
	r := e.do("POST", "/api/v1/user/identities/link", attacker, map[string]any{"provider": "local"})
	want(t, r, 200)
	// The victim's browser follows the attacker's link.
	got := e.signIn(mockUser("sub-victim", "victim@example.com", true), "local", e.none, challenge, "link_token", r.str("link_token"))
	if got.Get("link_code") == "" || got.Get("linked") != "" || got.Get("code") != "" {
		t.Fatalf("callback of the attacker's link: got %v, want a link_code alone", got)
	}
	// The victim's page, signed in as the victim, cannot confirm it either.
	victim := e.signupNone("victim.owner@example.com")
	want(t, e.do("POST", "/api/v1/user/identities/link/confirm", victim,
		map[string]any{"link_code": got.Get("link_code"), "code_verifier": verifier}), 422)
	in := e.signIn(mockUser("sub-victim", "victim@example.com", true), "local", e.none, challenge)
	if email := e.exchange(e.none, in.Get("code"), verifier).obj("user")["email"]; email != "victim@example.com" {
		t.Fatalf("the victim's provider identity signs in to %v, want an account of its own", email)
	}
}

// passkey-login stores a ceremony for anyone who asks, with no credential:
// like oauth/{provider}/start, whose states have a budget for that reason,
// one source may store only so many an hour, or it fills the challenges
// table faster than Cleanup empties it.
func TestAttackPasskeyLoginsPerSource(t *testing.T) {
	e := newEnv(t, withPasskeys)
	for i := range 100 {
		if r := e.post("/api/v1/passkey-login", e.none); r.status != 200 {
			t.Fatalf("passkey-login %d: got %s, want 200", i+1, r)
		}
	}
	r := e.post("/api/v1/passkey-login", e.none)
	want(t, r, 429)
	if r.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
}

// A provider's subject longer than the identities table's 255 characters
// (OpenID Connect Core §2 allows no more) is refused as a failed sign-in:
// stored, it is an error of MariaDB or PostgreSQL (a 500), or, where the
// database cuts it, two accounts at the provider that share a prefix become
// one identity.
func TestAttackLongSubject(t *testing.T) {
	e := newOAuthEnv(t)
	_, challenge := pkcePair("long-sub")
	got := e.signIn(mockUser(strings.Repeat("s", 256), "long.sub@example.com", true), "local", e.none, challenge)
	if got.Get("error") != "access_denied" || got.Get("code") != "" {
		t.Errorf("got %v, want error=access_denied", got)
	}
	nul := e.signIn(mockUser("sub\x00nul", "nul.sub@example.com", true), "local", e.none, challenge)
	if nul.Get("error") != "access_denied" {
		t.Errorf("a subject with a NUL: got %v, want error=access_denied", nul)
	}
	ok := e.signIn(mockUser(strings.Repeat("s", 255), "sub255@example.com", true), "local", e.none, challenge)
	if ok.Get("code") == "" {
		t.Errorf("a subject of 255 characters: got %v, want a code", ok)
	}
}

// The transports of a registration are the authenticator's (the browser's)
// word, stored as a comma-separated column: one with a comma would come
// back as two, and one with a NUL is an error of PostgreSQL (a 500).
func TestAttackPasskeyTransports(t *testing.T) {
	e := newEnv(t, withPasskeys)
	tok := e.signupNone("transports@example.com")
	k := newSoftKey(t)
	r := e.do("POST", "/api/v1/user/mfa/passkey", tok, nil)
	want(t, r, 200)
	cred := k.create(r.obj("options"))
	cred["response"].(map[string]any)["transports"] = []string{"usb", "a,b", "nul\x00", "internal"}
	c := e.do("POST", "/api/v1/user/mfa/passkey/confirm", tok, map[string]any{"passkey_token": r.str("passkey_token"), "passkey_credential": cred})
	want(t, c, 200)
	got := c.obj("passkey")["transports"].([]any)
	if len(got) != 2 || got[0] != "usb" || got[1] != "internal" {
		t.Errorf("transports: got %v, want usb and internal", got)
	}
}

// The error a provider sends back is the browser's query, which the
// holder of a sign-in writes at will: what the audit event keeps of it must
// be valid UTF-8 without control characters, or PostgreSQL refuses the
// event (a NUL, invalid UTF-8) and the failure goes unrecorded.
func TestAttackProviderErrorInAudit(t *testing.T) {
	e := newOAuthEnv(t)
	_, challenge := pkcePair("audit")
	callback, b := e.journeyToCallback(mockUser("sub-audit", "audit@example.com", true), challenge)
	u := mustURL(t, callback)
	q := u.Query()
	q.Del("code")
	q.Set("error", "x\x00\xff\nINFO forged é"+strings.Repeat("é", 40))
	u.RawQuery = q.Encode()
	res, body := b.visit(u.String())
	if got := landing(t, res, body); got.Get("error") != "access_denied" {
		t.Fatalf("got %v, want error=access_denied", got)
	}
	events, err := e.auth.Events(context.Background(), time.Time{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Kind == ihoprauth.EventProviderLoginFailed {
			if !utf8.ValidString(ev.Result) || strings.ContainsAny(ev.Result, "\x00\n") {
				t.Errorf("audit result %q: want valid UTF-8 without control characters", ev.Result)
			}
			return
		}
	}
	t.Errorf("no %q event", ihoprauth.EventProviderLoginFailed)
}
