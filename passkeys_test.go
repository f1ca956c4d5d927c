package ihoprauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/store"
	"gorm.io/gorm"
)

func newStoreOn(t *testing.T, db *gorm.DB) *store.Store {
	t.Helper()
	st, err := store.New(context.Background(), db, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func withPasskeys(c *ihoprauth.Config) {
	c.Passkeys = ihoprauth.PasskeyRP{ID: testRPID, Name: "Example", Origins: []string{testOrigin}}
}

// registerPasskey registers k for the user of tok and returns the answer
// of the confirmation.
func (e *env) registerPasskey(tok string, k *softKey) resp {
	e.t.Helper()
	r := e.do("POST", "/api/v1/user/mfa/passkey", tok, nil)
	want(e.t, r, 200)
	return e.do("POST", "/api/v1/user/mfa/passkey/confirm", tok,
		map[string]any{"passkey_token": r.str("passkey_token"), "passkey_credential": k.create(r.obj("options")), "name": "Laptop"})
}

// startPasskeyLogin starts a usernameless login in project and returns its
// passkey_token and options.
func (e *env) startPasskeyLogin(project map[string]any, kv ...any) (string, map[string]any) {
	e.t.Helper()
	r := e.post("/api/v1/passkey-login", with(project, kv...))
	want(e.t, r, 200)
	return r.str("passkey_token"), r.obj("options")
}

func (e *env) passkeyCode(token string, assertion map[string]any) resp {
	e.t.Helper()
	return e.post("/api/v1/passkey-code", map[string]any{"passkey_token": token, "passkey_assertion": assertion})
}

func TestPasskeysOffByDefault(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("off@example.com")
	want(t, e.do("POST", "/api/v1/user/mfa/passkey", tok, nil), 409)
	want(t, e.post("/api/v1/passkey-login", e.none), 409)
	e.clock.Advance(11 * time.Minute) // not a 403 for an old login: there is nothing to step up to
	want(t, e.do("POST", "/api/v1/user/mfa/passkey", tok, nil), 409)
}

func TestPasskeyConfigRefusesAnIP(t *testing.T) {
	for _, id := range []string{"127.0.0.1", "::1", "[::1]"} {
		_, err := ihoprauth.New(context.Background(), newStoreForTest(t), &mailer.Recorder{},
			ihoprauth.Config{Passkeys: ihoprauth.PasskeyRP{ID: id}})
		if !errors.Is(err, ihoprauth.ErrInvalidConfig) {
			t.Errorf("Passkeys.ID %q: got %v, want ErrInvalidConfig", id, err)
		}
	}
}

func TestPasskeyRegistration(t *testing.T) {
	e := newEnv(t, withPasskeys)
	tok := e.signupNone("keys@example.com")
	want(t, e.do("POST", "/api/v1/user/mfa/passkey", "", nil), 401)

	r := e.do("POST", "/api/v1/user/mfa/passkey", tok, nil)
	want(t, r, 200)
	pk := r.obj("options")["publicKey"].(map[string]any)
	if rp := pk["rp"].(map[string]any); rp["id"] != testRPID || rp["name"] != "Example" {
		t.Errorf("got rp %v, want id %s, name Example", rp, testRPID)
	}
	if sel := pk["authenticatorSelection"].(map[string]any); sel["residentKey"] != "required" || sel["userVerification"] != "required" {
		t.Errorf("got authenticatorSelection %v, want a discoverable credential with user verification", sel)
	}
	k := newSoftKey(t)
	body := map[string]any{"passkey_token": r.str("passkey_token"), "passkey_credential": k.create(r.obj("options"))}
	t.Run("another user cannot confirm it", func(t *testing.T) {
		want(t, e.do("POST", "/api/v1/user/mfa/passkey/confirm", e.signupNone("other@example.com"), body), 409)
	})
	r = e.do("POST", "/api/v1/user/mfa/passkey/confirm", tok, body)
	want(t, r, 200)
	if p := r.obj("passkey"); p["name"] != "Passkey" || p["backup_eligible"] != true || p["backup_state"] != true || p["last_used_at"] != nil {
		t.Errorf("got %s, want the passkey, named Passkey, synced, never used", r)
	}
	t.Run("a ceremony works once", func(t *testing.T) {
		want(t, e.do("POST", "/api/v1/user/mfa/passkey/confirm", tok, body), 409)
	})
	t.Run("an answer to another challenge is refused", func(t *testing.T) {
		r := e.do("POST", "/api/v1/user/mfa/passkey", tok, nil)
		want(t, r, 200)
		stale := map[string]any{"passkey_token": r.str("passkey_token"), "passkey_credential": body["passkey_credential"]}
		r = e.do("POST", "/api/v1/user/mfa/passkey/confirm", tok, stale)
		want(t, r, 422)
		if r.obj("errors")["passkey_credential"] == nil {
			t.Errorf("got %s, want errors.passkey_credential", r)
		}
	})
	t.Run("an expired ceremony is refused", func(t *testing.T) {
		r := e.do("POST", "/api/v1/user/mfa/passkey", tok, nil)
		want(t, r, 200)
		e.clock.Advance(5*time.Minute + time.Second)
		defer e.clock.Advance(-5*time.Minute - time.Second)
		late := newSoftKey(t)
		want(t, e.do("POST", "/api/v1/user/mfa/passkey/confirm", tok,
			map[string]any{"passkey_token": r.str("passkey_token"), "passkey_credential": late.create(r.obj("options"))}), 409)
	})
	t.Run("one credential registers once", func(t *testing.T) {
		want(t, e.registerPasskey(tok, k), 409)
	})
	r = e.do("GET", "/api/v1/user/mfa/passkeys", tok, nil)
	want(t, r, 200)
	if list := r.body["passkeys"].([]any); len(list) != 1 {
		t.Errorf("got %s, want one passkey", r)
	}
	t.Run("a passkey makes login ask for a second factor", func(t *testing.T) {
		r := e.post("/api/v1/login", with(e.none, "email", "keys@example.com", "password", goodPassword))
		want(t, r, 200)
		if !slices.Equal(methods(r), []string{"webauthn"}) || r.body["code"] != nil {
			t.Errorf("got %s, want an mfa_token with methods [webauthn]", r)
		}
	})
	t.Run("an old login must step up", func(t *testing.T) {
		e.clock.Advance(11 * time.Minute)
		r := e.do("POST", "/api/v1/user/mfa/passkey", tok, nil)
		want(t, r, 403)
	})
}

func methods(r resp) []string {
	var list []string
	for _, m := range r.body["methods"].([]any) {
		list = append(list, m.(string))
	}
	return list
}

func TestPasskeyFirstFactor(t *testing.T) {
	e := newEnv(t, withPasskeys)
	const email = "first@example.com"
	k := newSoftKey(t)
	want(t, e.registerPasskey(e.signupNone(email), k), 200)

	verifier, challenge := pkcePair("first")
	token, options := e.startPasskeyLogin(e.none, "code_challenge", challenge)
	pk := options["publicKey"].(map[string]any)
	if pk["rpId"] != testRPID || pk["userVerification"] != "required" || pk["allowCredentials"] != nil {
		t.Errorf("got options %v, want a usernameless login with user verification", pk)
	}
	assertion := k.get(options)
	r := e.passkeyCode(token, assertion)
	want(t, r, 200)
	tokens := e.exchange(e.none, r.str("code"), verifier)
	req, _ := http.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+tokens.str("access_token"))
	if u, level, err := e.auth.AuthenticateLevel(req); err != nil || u.Email != email || level != ihoprauth.AAL2 {
		t.Errorf("got %v %v %v, want %s at aal2", u.Email, level, err, email)
	}

	t.Run("a replayed ceremony is refused", func(t *testing.T) {
		want(t, e.passkeyCode(token, assertion), 401)
	})
	t.Run("an assertion for another ceremony is refused", func(t *testing.T) {
		other, _ := e.startPasskeyLogin(e.none)
		want(t, e.passkeyCode(other, assertion), 401)
	})
	t.Run("without user verification it is refused", func(t *testing.T) {
		k.uv = false
		defer func() { k.uv = true }()
		token, options := e.startPasskeyLogin(e.none)
		want(t, e.passkeyCode(token, k.get(options)), 401)
	})
	t.Run("an unknown passkey is refused", func(t *testing.T) {
		token, options := e.startPasskeyLogin(e.none)
		stranger := newSoftKey(t)
		stranger.userHandle = k.userHandle
		want(t, e.passkeyCode(token, stranger.get(options)), 401)
	})
	t.Run("another project's login is refused", func(t *testing.T) {
		token, options := e.startPasskeyLogin(e.two)
		want(t, e.passkeyCode(token, k.get(options)), 401)
	})
	t.Run("a public client needs PKCE", func(t *testing.T) {
		want(t, e.post("/api/v1/passkey-login", e.public), 422)
	})
	t.Run("a malformed assertion is a 422", func(t *testing.T) {
		token, _ := e.startPasskeyLogin(e.none)
		r := e.post("/api/v1/passkey-code", map[string]any{"passkey_token": token, "passkey_assertion": map[string]any{"id": "x"}})
		want(t, r, 422)
	})
	t.Run("a later login works", func(t *testing.T) {
		token, options := e.startPasskeyLogin(e.none)
		want(t, e.passkeyCode(token, k.get(options)), 200)
	})
}

func TestPasskeyCounterRegression(t *testing.T) {
	e := newEnv(t, withPasskeys)
	k := newSoftKey(t)
	want(t, e.registerPasskey(e.signupNone("clone@example.com"), k), 200)
	for range 3 {
		token, options := e.startPasskeyLogin(e.none)
		want(t, e.passkeyCode(token, k.get(options)), 200)
	}
	for _, c := range []struct {
		name  string
		count uint32
	}{{"the same count", 3}, {"a lower count", 1}, {"zero after counting", 0}} {
		t.Run(c.name, func(t *testing.T) {
			clone := *k
			clone.count, clone.counting = c.count, false
			token, options := e.startPasskeyLogin(e.none)
			want(t, e.passkeyCode(token, clone.get(options)), 401)
		})
	}
	if n := countEvents(t, e, ihoprauth.EventPasskeyCounter); n != 3 {
		t.Errorf("got %d %q events, want 3", n, ihoprauth.EventPasskeyCounter)
	}
	t.Run("an authenticator without a counter is fine", func(t *testing.T) {
		z := newSoftKey(t)
		z.counting = false
		want(t, e.registerPasskey(e.signupNone("zero@example.com"), z), 200)
		for range 2 {
			token, options := e.startPasskeyLogin(e.none)
			want(t, e.passkeyCode(token, z.get(options)), 200)
		}
	})
}

func TestPasskeySecondFactor(t *testing.T) {
	e := newEnv(t, withPasskeys)
	const email = "second@example.com"
	tok := e.signupNone(email)
	k := newSoftKey(t)
	want(t, e.registerPasskey(tok, k), 200)
	e.enrolTOTP(tok)

	mfa := e.loginMFA(email)
	r := e.post("/api/v1/mfa-passkey", map[string]any{"mfa_token": mfa})
	want(t, r, 200)
	options := r.obj("options")
	if allow := options["publicKey"].(map[string]any)["allowCredentials"].([]any); len(allow) != 1 {
		t.Errorf("got allowCredentials %v, want the user's one passkey", allow)
	}
	want(t, e.mfaCode(mfa, "webauthn_assertion", k.get(options), "totp_code", "123456"), 422)
	k.uv = false // a second factor needs no user verification
	assertion := k.get(options)
	r = e.mfaCode(mfa, "webauthn_assertion", assertion)
	want(t, r, 200)
	tokens := e.exchange(e.none, r.str("code"), "")
	req, _ := http.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+tokens.str("access_token"))
	if _, level, err := e.auth.AuthenticateLevel(req); err != nil || level != ihoprauth.AAL2 {
		t.Errorf("a password and a passkey: got %v, %v, want aal2", level, err)
	}
	t.Run("replayed, refused", func(t *testing.T) {
		want(t, e.mfaCode(mfa, "webauthn_assertion", assertion), 401)
		want(t, e.mfaCode(e.loginMFA(email), "webauthn_assertion", assertion), 401)
	})
	t.Run("wrong signatures count like wrong codes", func(t *testing.T) {
		wrongKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		mfa := e.loginMFA(email)
		r := e.post("/api/v1/mfa-passkey", map[string]any{"mfa_token": mfa})
		for range 4 {
			want(t, e.mfaCode(mfa, "webauthn_assertion", k.sign(r.obj("options"), wrongKey)), 401)
		}
		// With the replay above, five failures: the pair is locked, and
		// the right passkey waits too.
		if n := countEvents(t, e, ihoprauth.EventFactorFailed); n != 5 {
			t.Errorf("got %d %q events, want 5", n, ihoprauth.EventFactorFailed)
		}
		want(t, e.mfaCode(mfa, "webauthn_assertion", k.get(r.obj("options"))), 429)
	})
}

func TestPasskeyRemoval(t *testing.T) {
	e := newEnv(t, withPasskeys)
	tok := e.signupNone("remove@example.com")
	k := newSoftKey(t)
	r := e.registerPasskey(tok, k)
	want(t, r, 200)
	id := r.obj("passkey")["id"]
	other := e.signupNone("not-mine@example.com")
	want(t, e.do("POST", "/api/v1/user/mfa/passkey/remove", other, map[string]any{"passkey_id": id}), 409)
	want(t, e.do("POST", "/api/v1/user/mfa/passkey/remove", tok, map[string]any{"passkey_id": "x"}), 422)
	want(t, e.do("POST", "/api/v1/user/mfa/passkey/remove", tok, map[string]any{"passkey_id": 99999}), 404)

	e.clock.Advance(11 * time.Minute)
	r = e.do("POST", "/api/v1/user/mfa/passkey/remove", tok, map[string]any{"passkey_id": id})
	want(t, r, 403)
	token, options := e.startPasskeyLogin(e.none)
	r = e.passkeyCode(token, k.get(options))
	want(t, r, 200)
	fresh := e.exchange(e.none, r.str("code"), "").str("access_token")
	want(t, e.do("POST", "/api/v1/user/mfa/passkey/remove", fresh, map[string]any{"passkey_id": id}), 200)
	r = e.do("GET", "/api/v1/user/mfa/passkeys", fresh, nil)
	if list := r.body["passkeys"].([]any); len(list) != 0 {
		t.Errorf("got %s, want no passkeys", r)
	}
	token, options = e.startPasskeyLogin(e.none)
	want(t, e.passkeyCode(token, k.get(options)), 401)
	r = e.post("/api/v1/login", with(e.none, "email", "remove@example.com", "password", goodPassword))
	if r.status != 200 || r.str("code") == "" {
		t.Errorf("got %s, want a code at once: no factor is left", r)
	}
}

func TestPasskeyWrongAssertionsThrottle(t *testing.T) {
	e := newEnv(t, withPasskeys)
	k := newSoftKey(t)
	want(t, e.registerPasskey(e.signupNone("throttle@example.com"), k), 200)
	wrongKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for range 5 {
		token, options := e.startPasskeyLogin(e.none)
		want(t, e.passkeyCode(token, k.sign(options, wrongKey)), 401)
	}
	token, options := e.startPasskeyLogin(e.none)
	want(t, e.passkeyCode(token, k.get(options)), 429)
	e.clock.Advance(31 * time.Second)
	token, options = e.startPasskeyLogin(e.none)
	want(t, e.passkeyCode(token, k.get(options)), 200)
}

// TestTwoInstancesAgreeOnPasskeys runs two Auths on one database: a
// ceremony begun on one finishes on the other, once, and of concurrent
// logins with one assertion exactly one wins.
func TestTwoInstancesAgreeOnPasskeys(t *testing.T) {
	for _, backend := range testdb.All() {
		t.Run(backend, func(t *testing.T) {
			db := testdb.Open(t, backend)
			a := buildEnv(t, newStoreOn(t, db), nil, withPasskeys)
			b := buildEnv(t, newStoreOn(t, testdb.Reopen(t, db)), a.mail, withPasskeys)
			a.db, b.db = db, db
			k := newSoftKey(t)
			want(t, a.registerPasskey(a.signupNone("both@example.com"), k), 200)

			token, options := a.startPasskeyLogin(a.none)
			assertion := k.get(options)
			want(t, b.passkeyCode(token, assertion), 200)
			want(t, a.passkeyCode(token, assertion), 401)

			token, options = b.startPasskeyLogin(b.none)
			assertion = k.get(options)
			oks := race(t, 8, func() resp { return a.passkeyCode(token, assertion) })
			if len(oks) != 1 {
				t.Errorf("got %d successes of 8 concurrent uses of one assertion, want 1", len(oks))
			}
		})
	}
}

func TestProjectPasskeysOverride(t *testing.T) {
	e := newEnv(t, withPasskeys, func(c *ihoprauth.Config) {
		c.ProjectPasskeys = map[string]ihoprauth.PasskeyRP{"web-two": {ID: "two.example.com"}}
	})
	for _, c := range []struct {
		project map[string]any
		rpID    string
	}{{e.none, testRPID}, {e.two, "two.example.com"}} {
		_, options := e.startPasskeyLogin(c.project)
		if got := options["publicKey"].(map[string]any)["rpId"]; got != c.rpID {
			t.Errorf("%v: got rpId %v, want %s", c.project["client_id"], got, c.rpID)
		}
	}
}
