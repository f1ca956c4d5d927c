package ihoprauth_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/store"
)

// The linking rules of docs/design.md, D43, each against the real provider
// of oauth_test.go.

// signUpTwoStep signs email up with a password in the two-step project
// (whose Config.OAuthProjects entry allows AutoLink) without entering the
// mailed code, so the account never proves its email, and returns the
// user.
func (e *oauthEnv) signUpTwoStep(email string) ihoprauth.User {
	e.t.Helper()
	want(e.t, e.post("/api/v1/signup", signupBody(e.two, email)), 200)
	e.awaitMail(email)
	return mustUserIn(e.t, e.env, "web-two", email)
}

func mustUserIn(t *testing.T, e *env, clientID, email string) ihoprauth.User {
	t.Helper()
	u, err := e.auth.UserByEmail(context.Background(), clientID, email)
	if err != nil {
		t.Fatalf("UserByEmail(%s): %v", email, err)
	}
	return u
}

func TestOAuthAutoLink(t *testing.T) {
	e := newOAuthEnv(t)
	verifier, challenge := pkcePair("autolink")

	t.Run("unproved account loses its password and earlier links", func(t *testing.T) {
		squat := e.signUpTwoStep("victim@example.com")
		// A provider account of the squatter's own, linked to the
		// squatted account (as a session of it could in a none project).
		st, err := store.New(context.Background(), e.db, store.Config{})
		if err != nil {
			t.Fatal(err)
		}
		err = st.CreateIdentity(context.Background(), &ihoprauth.Identity{ProjectID: squat.ProjectID,
			UserID: squat.ID, Provider: "plain", Subject: "squatter", CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		// And a passkey of the squatter's, which could log in alone.
		err = st.SavePasskey(context.Background(), &ihoprauth.Passkey{UserID: squat.ID, CredentialID: []byte("squatter-key"),
			PublicKey: []byte{1}, AAGUID: make([]byte, 16), Name: "squatter", CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		got := e.signIn(mockUser("sub-victim", "victim@example.com", true), "local", e.two, challenge)
		tok := e.exchange(e.two, got.Get("code"), verifier)
		if tok.obj("user")["user_id"] != squat.UserID {
			t.Fatalf("got user %v, want the account of the email, %s", tok.obj("user")["user_id"], squat.UserID)
		}
		r := e.post("/api/v1/login", with(e.two, "email", "victim@example.com", "password", goodPassword))
		want(t, r, 401)
		ids, err := e.auth.Identities(context.Background(), squat.UserID)
		if err != nil || len(ids) != 1 || ids[0].Subject != "sub-victim" {
			t.Errorf("identities after the link: got %+v and error %v, want sub-victim's alone", ids, err)
		}
		if keys, err := st.Passkeys(context.Background(), squat.ID); err != nil || len(keys) != 0 {
			t.Errorf("passkeys after the link: got %d and error %v, want none", len(keys), err)
		}
		events, _ := e.auth.UserEvents(context.Background(), squat.UserID, time.Time{}, 50)
		if !hasEvent(events, ihoprauth.EventPasswordRemoved) || !hasEvent(events, ihoprauth.EventIdentityLinked) {
			t.Errorf("events: got %v, want password removed and identity linked", kinds(events))
		}
	})
	t.Run("proved account keeps its password", func(t *testing.T) {
		r := e.post("/api/v1/signup", signupBody(e.two, "owner@example.com"))
		want(t, r, 200)
		code := e.mailedCode("owner@example.com")
		want(t, e.post("/api/v1/two-step-auth-code", map[string]any{"two_step_auth_code": code, "two_step_auth_token": r.str("two_step_auth_token")}), 200)
		e.signIn(mockUser("sub-owner", "owner@example.com", true), "local", e.two, challenge)
		e.clock.Advance(2 * time.Minute) // past the mail interval
		want(t, e.post("/api/v1/login", with(e.two, "email", "owner@example.com", "password", goodPassword)), 200)
	})
	t.Run("unverified email", func(t *testing.T) {
		e.signUpTwoStep("unverified@example.com")
		got := e.signIn(mockUser("sub-unverified", "unverified@example.com", false), "local", e.two, challenge)
		if got.Get("error") != "account_exists" || got.Get("code") != "" {
			t.Errorf("got %v, want error=account_exists", got)
		}
	})
	t.Run("project without AutoLink", func(t *testing.T) {
		e.signupNone("nolink@example.com")
		got := e.signIn(mockUser("sub-nolink", "nolink@example.com", true), "local", e.none, challenge)
		if got.Get("error") != "account_exists" {
			t.Errorf("got %v, want error=account_exists", got)
		}
	})
	t.Run("disabled account", func(t *testing.T) {
		u := e.signUpTwoStep("disabled@example.com")
		if _, err := e.auth.DisableUser(context.Background(), u.UserID); err != nil {
			t.Fatal(err)
		}
		got := e.signIn(mockUser("sub-disabled", "disabled@example.com", true), "local", e.two, challenge)
		if got.Get("error") != "access_denied" || got.Get("code") != "" {
			t.Errorf("got %v, want error=access_denied", got)
		}
	})
}

func hasEvent(events []ihoprauth.Event, kind string) bool {
	for _, ev := range events {
		if ev.Kind == kind {
			return true
		}
	}
	return false
}

func kinds(events []ihoprauth.Event) []string {
	var out []string
	for _, ev := range events {
		out = append(out, ev.Kind)
	}
	return out
}

func TestOAuthSecondFactor(t *testing.T) {
	e := newOAuthEnv(t)
	verifier, challenge := pkcePair("mfa")
	first := e.signIn(mockUser("sub-mfa", "mfa@example.com", true), "local", e.none, challenge)
	tok := e.exchange(e.none, first.Get("code"), verifier).str("access_token")
	secret, _ := e.enrolTOTP(tok)
	e.clock.Advance(step)
	got := e.signIn(mockUser("sub-mfa", "mfa@example.com", true), "local", e.none, challenge)
	if got.Get("code") != "" || got.Get("mfa_token") == "" || got.Get("methods") != "totp recovery_code" {
		t.Fatalf("got %v, want an mfa_token, its methods and no code", got)
	}
	r := e.mfaCode(got.Get("mfa_token"), "totp_code", e.totp(secret))
	want(t, r, 200)
	answer := e.exchange(e.none, r.str("code"), verifier)
	if answer.obj("user")["provider"] != "local" {
		t.Errorf("token answer after mfa-code: got provider %v, want local", answer.obj("user")["provider"])
	}
}

func TestOAuthLinkFromSession(t *testing.T) {
	e := newOAuthEnv(t)
	verifier, challenge := pkcePair("link")
	tok := e.signupNone("linker@example.com")

	r := e.do("POST", "/api/v1/user/identities/link", tok, map[string]any{"provider": "local"})
	want(t, r, 200)
	got := e.signIn(mockUser("sub-linked", "someone.else@example.com", true), "local", e.none, challenge, "link_token", r.str("link_token"))
	if got.Get("link_code") == "" || got.Get("code") != "" || got.Get("state") != "client-state-42" {
		t.Fatalf("got %v, want a link_code and the client's state", got)
	}
	confirm := func(tok, code, v string) resp {
		return e.do("POST", "/api/v1/user/identities/link/confirm", tok, map[string]any{"link_code": code, "code_verifier": v})
	}
	stranger := e.signupNone("stranger@example.com")
	want(t, confirm(stranger, got.Get("link_code"), verifier), 422) // another user's
	want(t, confirm(tok, got.Get("link_code"), verifier+"x"), 422)  // the wrong verifier
	want(t, confirm(tok, got.Get("link_code")+"x", verifier), 422)  // not a link_code
	if c := confirm(tok, got.Get("link_code"), verifier); c.status != 200 || c.str("provider") != "local" {
		t.Fatalf("confirmation: got %s, want 200 and provider local", c)
	}
	want(t, confirm(tok, got.Get("link_code"), verifier), 422) // once
	// The linked identity now signs in to the account, whatever its email.
	in := e.signIn(mockUser("sub-linked", "someone.else@example.com", true), "local", e.none, challenge)
	if e.exchange(e.none, in.Get("code"), verifier).obj("user")["email"] != "linker@example.com" {
		t.Errorf("sign-in with the linked identity did not reach the linking account")
	}

	t.Run("link_token works once", func(t *testing.T) {
		// Refused at the start: the provider is never asked.
		res, body := e.browser().visit(e.startURL("local", "web-none", challenge, "link_token", r.str("link_token")))
		if got := landing(t, res, body); got.Get("error") != "invalid_request" {
			t.Errorf("got %v, want error=invalid_request", got)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		other := e.signupNone("other.linker@example.com")
		r := e.do("POST", "/api/v1/user/identities/link", other, map[string]any{"provider": "local"})
		want(t, r, 200)
		got := e.signIn(mockUser("sub-linked", "x@example.com", true), "local", e.none, challenge, "link_token", r.str("link_token"))
		want(t, confirm(other, got.Get("link_code"), verifier), 409)
	})
	t.Run("nothing is linked before the confirmation", func(t *testing.T) {
		r := e.do("POST", "/api/v1/user/identities/link", tok, map[string]any{"provider": "local"})
		want(t, r, 200)
		got := e.signIn(mockUser("sub-pending", "pending@example.com", true), "local", e.none, challenge, "link_token", r.str("link_token"))
		in := e.signIn(mockUser("sub-pending", "pending@example.com", true), "local", e.none, challenge)
		if e.exchange(e.none, in.Get("code"), verifier).obj("user")["email"] != "pending@example.com" {
			t.Errorf("the identity reached the linking account before the confirmation")
		}
		want(t, confirm(tok, got.Get("link_code"), verifier), 409) // it is an account of its own now
	})
	t.Run("no recent login", func(t *testing.T) {
		e.clock.Advance(11 * time.Minute)
		tok := e.exchange(e.none, e.signIn(mockUser("sub-linked", "x@example.com", true), "local", e.none, challenge).Get("code"), verifier).str("access_token")
		e.clock.Advance(11 * time.Minute)
		want(t, e.do("POST", "/api/v1/user/identities/link", tok, map[string]any{"provider": "local"}), 403)
	})
	t.Run("provider the project does not offer", func(t *testing.T) {
		want(t, e.do("POST", "/api/v1/user/identities/link", tok, map[string]any{"provider": "nope"}), 404)
	})
}

func TestOAuthUnlink(t *testing.T) {
	e := newOAuthEnv(t)
	verifier, challenge := pkcePair("unlink")
	got := e.signIn(mockUser("sub-only", "only@example.com", true), "local", e.none, challenge)
	tok := e.exchange(e.none, got.Get("code"), verifier)
	access, userID := tok.str("access_token"), tok.obj("user")["user_id"].(string)
	ids, err := e.auth.Identities(context.Background(), userID)
	if err != nil || len(ids) != 1 {
		t.Fatalf("Identities: got %v, %v", ids, err)
	}
	id := strconv.FormatInt(ids[0].ID, 10)

	r := e.do("POST", "/api/v1/user/identities/remove", access, map[string]any{"id": ids[0].ID})
	want(t, r, 409)
	if err := e.auth.UnlinkIdentity(context.Background(), userID, ids[0].ID); !errors.Is(err, ihoprauth.ErrLastWayIn) {
		t.Errorf("UnlinkIdentity of the last way in: got %v, want ErrLastWayIn", err)
	}
	want(t, e.do("POST", "/api/v1/user/identities/remove", access, map[string]any{"id": ids[0].ID + 100}), 404)

	// With a second identity, the first may go.
	link := e.do("POST", "/api/v1/user/identities/link", access, map[string]any{"provider": "plain"})
	want(t, link, 200)
	linked := e.signIn(mockUser("plain-7", "only@example.com", true), "plain", e.none, challenge, "link_token", link.str("link_token"))
	want(t, e.do("POST", "/api/v1/user/identities/link/confirm", access,
		map[string]any{"link_code": linked.Get("link_code"), "code_verifier": verifier}), 200)
	want(t, e.send("POST", "/api/v1/user/identities/remove", access, "application/x-www-form-urlencoded", strings.NewReader("id="+id)), 200)
	list := e.do("GET", "/api/v1/user/identities", access, nil)
	if l, _ := list.body["identities"].([]any); len(l) != 1 || l[0].(map[string]any)["provider"] != "plain" {
		t.Errorf("identities after removal: got %s, want plain's alone", list.raw)
	}
	events, _ := e.auth.UserEvents(context.Background(), userID, time.Time{}, 50)
	if !hasEvent(events, ihoprauth.EventIdentityUnlinked) || !hasEvent(events, ihoprauth.EventProviderLogin) {
		t.Errorf("events: got %v, want identity unlinked and provider login", kinds(events))
	}
}

// TestOAuthUnlinkWithPasskey: where the project has passkeys, a passkey is
// a way in of its own, so the last identity may go; where it has none, a
// stored passkey does not count.
func TestOAuthUnlinkWithPasskey(t *testing.T) {
	for _, passkeysOn := range []bool{true, false} {
		t.Run(map[bool]string{true: "passkeys on", false: "passkeys off"}[passkeysOn], func(t *testing.T) {
			e := newOAuthEnv(t, func(c *ihoprauth.Config) {
				if passkeysOn {
					c.Passkeys = ihoprauth.PasskeyRP{ID: testRPID, Name: "Example", Origins: []string{testOrigin}}
				}
			})
			verifier, challenge := pkcePair("unlink-passkey")
			got := e.signIn(mockUser("sub-pk", "pk@example.com", true), "local", e.none, challenge)
			userID := e.exchange(e.none, got.Get("code"), verifier).obj("user")["user_id"].(string)
			st, err := store.New(context.Background(), e.db, store.Config{})
			if err != nil {
				t.Fatal(err)
			}
			u := mustUserIn(t, e.env, "web-none", "pk@example.com")
			err = st.SavePasskey(context.Background(), &ihoprauth.Passkey{UserID: u.ID, CredentialID: []byte("pk-key"),
				PublicKey: []byte{1}, AAGUID: make([]byte, 16), Name: "laptop", CreatedAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			ids, err := e.auth.Identities(context.Background(), userID)
			if err != nil || len(ids) != 1 {
				t.Fatalf("Identities: got %v, %v", ids, err)
			}
			err = e.auth.UnlinkIdentity(context.Background(), userID, ids[0].ID)
			if passkeysOn && err != nil {
				t.Errorf("unlink beside a usable passkey: got %v, want nil", err)
			}
			if !passkeysOn && !errors.Is(err, ihoprauth.ErrLastWayIn) {
				t.Errorf("unlink with passkeys off: got %v, want ErrLastWayIn", err)
			}
		})
	}
}
