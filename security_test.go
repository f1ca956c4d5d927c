package ihoprauth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func TestEveryCodeIsSingleUse(t *testing.T) {
	e := newEnv(t)
	t.Run("auth code", func(t *testing.T) {
		r := e.post("/api/v1/signup", signupBody(e.none, "once@example.com"))
		e.exchange(e.none, r.str("code"), "")
		want(t, e.post("/api/v1/api-tauth-token", with(e.none, "code", r.str("code"))), 401)
	})
	t.Run("otp code", func(t *testing.T) {
		r := e.post("/api/v1/signup", signupBody(e.otp, "once-otp@example.com"))
		body := map[string]any{"otp_code": e.mailedCode("once-otp@example.com"), "otp_token": r.str("otp_token")}
		want(t, e.post("/api/v1/otp-code", body), 200)
		want(t, e.post("/api/v1/otp-code", body), 401)
	})
	t.Run("two-step code", func(t *testing.T) {
		r := e.post("/api/v1/signup", signupBody(e.two, "once-two@example.com"))
		body := map[string]any{"two_step_auth_code": e.mailedCode("once-two@example.com"), "two_step_auth_token": r.str("two_step_auth_token")}
		want(t, e.post("/api/v1/two-step-auth-code", body), 200)
		want(t, e.post("/api/v1/two-step-auth-code", body), 401)
	})
	t.Run("reset code", func(t *testing.T) {
		e.signupNone("once-reset@example.com")
		r := e.post("/api/v1/send-reset-password-code", with(e.none, "email", "once-reset@example.com"))
		body := map[string]any{"reset_password_code": e.mailedCode("once-reset@example.com"),
			"reset_password_token": r.str("reset_password_token"), "password": "A brand new passphrase"}
		want(t, e.post("/api/v1/reset-password", body), 200)
		body["password"] = "Another new passphrase"
		want(t, e.post("/api/v1/reset-password", body), 401)
	})
}

func TestAuthCodeReuseRevokesItsTokens(t *testing.T) {
	e := newEnv(t)
	r := e.post("/api/v1/signup", signupBody(e.none, "reuse@example.com"))
	tok := e.exchange(e.none, r.str("code"), "").str("access_token")
	want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
	want(t, e.post("/api/v1/api-tauth-token", with(e.none, "code", r.str("code"))), 401)
	want(t, e.do("GET", "/api/v1/user", tok, nil), 401)
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	t.Run("emailed code after 10 minutes", func(t *testing.T) {
		r := e.post("/api/v1/signup", signupBody(e.otp, "late@example.com"))
		code := e.mailedCode("late@example.com")
		e.clock.Advance(10 * time.Minute)
		want(t, e.post("/api/v1/otp-code", map[string]any{"otp_code": code, "otp_token": r.str("otp_token")}), 401)
	})
	t.Run("emailed code just before 10 minutes", func(t *testing.T) {
		r := e.post("/api/v1/signup", signupBody(e.otp, "intime@example.com"))
		code := e.mailedCode("intime@example.com")
		e.clock.Advance(10*time.Minute - time.Second)
		want(t, e.post("/api/v1/otp-code", map[string]any{"otp_code": code, "otp_token": r.str("otp_token")}), 200)
	})
	t.Run("auth code after 5 minutes", func(t *testing.T) {
		r := e.post("/api/v1/signup", signupBody(e.none, "slow@example.com"))
		e.clock.Advance(5 * time.Minute)
		want(t, e.post("/api/v1/api-tauth-token", with(e.none, "code", r.str("code"))), 401)
	})
	t.Run("access token after 1 hour", func(t *testing.T) {
		tok := e.signupNone("hour@example.com")
		e.clock.Advance(time.Hour - time.Second)
		want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
		e.clock.Advance(time.Second)
		want(t, e.do("GET", "/api/v1/user", tok, nil), 401)
	})
}

func TestCodeDiesAfterFiveWrongGuesses(t *testing.T) {
	e := newEnv(t)
	r := e.post("/api/v1/signup", signupBody(e.otp, "guess@example.com"))
	code := e.mailedCode("guess@example.com")
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	for range 5 {
		want(t, e.post("/api/v1/otp-code", map[string]any{"otp_code": wrong, "otp_token": r.str("otp_token")}), 401)
	}
	want(t, e.post("/api/v1/otp-code", map[string]any{"otp_code": code, "otp_token": r.str("otp_token")}), 401)
}

func TestPKCE(t *testing.T) {
	e := newEnv(t)
	e.signupNone("pkce@example.com")
	verifier, challenge := pkcePair("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	login := func(kv ...any) resp {
		return e.post("/api/v1/login", with(with(e.none, "email", "pkce@example.com", "password", goodPassword), kv...))
	}
	t.Run("RFC 7636 appendix B", func(t *testing.T) {
		r := login("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method", "S256")
		e.exchange(e.none, r.str("code"), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	})
	t.Run("no method means S256", func(t *testing.T) {
		r := login("code_challenge", challenge)
		e.exchange(e.none, r.str("code"), verifier)
	})
	t.Run("wrong verifier", func(t *testing.T) {
		r := login("code_challenge", challenge)
		other, _ := pkcePair("another-verifier-value")
		want(t, e.post("/api/v1/api-tauth-token", with(e.none, "code", r.str("code"), "code_verifier", other)), 401)
		e.exchange(e.none, r.str("code"), verifier) // a wrong verifier does not burn the code
	})
	t.Run("missing verifier", func(t *testing.T) {
		r := login("code_challenge", challenge)
		want(t, e.post("/api/v1/api-tauth-token", with(e.none, "code", r.str("code"))), 422)
	})
	t.Run("verifier without challenge", func(t *testing.T) {
		r := login()
		want(t, e.post("/api/v1/api-tauth-token", with(e.none, "code", r.str("code"), "code_verifier", verifier)), 422)
	})
	t.Run("plain refused", func(t *testing.T) {
		r := login("code_challenge", verifier, "code_challenge_method", "plain")
		want(t, r, 422)
		if _, ok := r.obj("errors")["code_challenge_method"]; !ok {
			t.Errorf("got %s, want errors.code_challenge_method", r)
		}
	})
	t.Run("other method refused", func(t *testing.T) {
		want(t, login("code_challenge", challenge, "code_challenge_method", "S512"), 422)
	})
	t.Run("challenge carried through two-step", func(t *testing.T) {
		r := e.post("/api/v1/signup", signupBody(e.two, "pkce2@example.com", "code_challenge", challenge))
		v := e.post("/api/v1/two-step-auth-code", map[string]any{"two_step_auth_code": e.mailedCode("pkce2@example.com"),
			"two_step_auth_token": r.str("two_step_auth_token")})
		want(t, e.post("/api/v1/api-tauth-token", with(e.two, "code", v.str("code"))), 422)
		e.exchange(e.two, v.str("code"), verifier)
	})
}

func TestPlainPKCEWhenAllowed(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.AllowPlainPKCE = true })
	e.signupNone("plain@example.com")
	verifier, _ := pkcePair("plain-verifier")
	r := e.post("/api/v1/login", with(e.none, "email", "plain@example.com", "password", goodPassword,
		"code_challenge", verifier, "code_challenge_method", "plain"))
	want(t, r, 200)
	e.exchange(e.none, r.str("code"), verifier)
}

func TestPublicClientNeedsPKCE(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkcePair("public-client-verifier")
	body := signupBody(e.public, "spa@example.com")
	want(t, e.post("/api/v1/signup", body), 422)
	r := e.post("/api/v1/signup", with(body, "code_challenge", challenge))
	want(t, r, 200)
	e.exchange(e.public, r.str("code"), verifier)
}

func TestProjectsAreIsolated(t *testing.T) {
	e := newEnv(t)
	other := e.project(ihoprauth.TypeNone, "other-none", "other-secret-0123456789", false)
	e.signupNone("same@example.com")
	r := e.post("/api/v1/signup", signupBody(other, "same@example.com", "first_name", "Other"))
	want(t, r, 200)
	want(t, e.post("/api/v1/api-tauth-token", with(e.none, "code", r.str("code"))), 401)
	tok := e.exchange(other, r.str("code"), "")
	if tok.obj("user")["first_name"] != "Other" {
		t.Errorf("got %s, want the other project's account", tok)
	}
	login := e.post("/api/v1/login", with(other, "email", "nobody-here@example.com", "password", goodPassword))
	want(t, login, 401)
}

func TestConcurrentUseOfOneCode(t *testing.T) {
	e := newEnv(t)
	r := e.post("/api/v1/signup", signupBody(e.otp, "race@example.com"))
	otpBody := map[string]any{"otp_code": e.mailedCode("race@example.com"), "otp_token": r.str("otp_token")}
	codes := race(t, 20, func() resp { return e.post("/api/v1/otp-code", otpBody) })
	if len(codes) != 1 {
		t.Fatalf("otp-code: got %d successes of 20, want 1", len(codes))
	}
	tokens := race(t, 20, func() resp { return e.post("/api/v1/api-tauth-token", with(e.otp, "code", codes[0].str("code"))) })
	if len(tokens) != 1 {
		t.Fatalf("api-tauth-token: got %d successes of 20, want 1", len(tokens))
	}
}

// race runs f n times at once and returns the 200 answers; any other answer
// must be a 401, or a 429 for attempts beyond what the account lock lets
// through at once.
func race(t *testing.T, n int, f func() resp) []resp {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		oks  []resp
		bad  []resp
		gate = make(chan struct{})
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			r := f()
			mu.Lock()
			defer mu.Unlock()
			switch r.status {
			case 200:
				oks = append(oks, r)
			case 401, 429:
			default:
				bad = append(bad, r)
			}
		}()
	}
	close(gate)
	wg.Wait()
	for _, r := range bad {
		t.Errorf("got %s, want 200, 401 or 429", r)
	}
	return oks
}

func TestRolePolicy(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("role@example.com")
	raise := e.do("PUT", "/api/v1/user/update", tok, map[string]any{"first_name": "Changed", "role": "admin"})
	want(t, raise, 403)
	if u := e.do("GET", "/api/v1/user", tok, nil); u.obj("user")["first_name"] != "Ada" || u.obj("user")["role"] != "user" {
		t.Errorf("got %s, want nothing written by a refused update", u)
	}
	same := e.do("PUT", "/api/v1/user/update/role", tok, map[string]any{"role": "USER"})
	want(t, same, 200)
	if _, listed := same.obj("updated")["role"]; listed {
		t.Errorf("got %s, want a no-op role not listed in updated", same)
	}
	want(t, e.do("GET", "/admin", tok, nil), 403)

	u, err := e.auth.UserByEmail(context.Background(), "web-none", "ROLE@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.SetRole(context.Background(), u.UserID, "admin"); err != nil {
		t.Fatal(err)
	}
	want(t, e.do("GET", "/admin", tok, nil), 200)
	dev := e.do("PUT", "/api/v1/user/update/role", tok, map[string]any{"role": "Dev"})
	want(t, dev, 200)
	if dev.obj("updated")["role"] != "Dev" || dev.obj("user")["role"] != "Dev" {
		t.Errorf("got %s, want role Dev stored as given and listed", dev)
	}
	want(t, e.do("PUT", "/api/v1/user/update/role", tok, map[string]any{"role": "admin"}), 403)
}

func TestUnknownEmailsGetNoMail(t *testing.T) {
	e := newEnv(t)
	otp := e.post("/api/v1/login", with(e.otp, "email", "ghost@example.com"))
	want(t, otp, 200)
	if !hex64.MatchString(otp.str("otp_token")) || otp.str("message") != "OTP code sent successfully." {
		t.Errorf("got %s, want the answer of a known email", otp)
	}
	reset := e.post("/api/v1/send-reset-password-code", with(e.none, "email", "ghost@example.com"))
	want(t, reset, 200)
	for _, code := range []string{"000000", "123456", "999999"} {
		want(t, e.post("/api/v1/otp-code", map[string]any{"otp_code": code, "otp_token": otp.str("otp_token")}), 401)
	}
	if n := e.mailsTo("ghost@example.com"); n != 0 {
		t.Errorf("got %d mails to an unknown email, want 0", n)
	}
}

func TestSignupOfTakenEmailMailsANotice(t *testing.T) {
	e := newEnv(t)
	first := e.post("/api/v1/signup", signupBody(e.otp, "Taken@example.com"))
	want(t, first, 200)
	e.mailedCode("Taken@example.com")
	e.clock.Advance(time.Minute) // the code-mail limit counts the notice too
	again := e.post("/api/v1/signup", signupBody(e.otp, "taken@EXAMPLE.com", "first_name", "Mallory"))
	want(t, again, 200)
	if again.str("message") != first.str("message") || !hex64.MatchString(again.str("otp_token")) {
		t.Errorf("got %s, want the answer of a new signup", again)
	}
	notice := e.awaitMail("Taken@example.com")
	if notice.Kind != ihoprauth.MailAccountExists || sixDigits.MatchString(notice.Text) {
		t.Errorf("got a %s mail %q, want a notice without a code, to the stored address", notice.Kind, notice.Text)
	}
	if n := e.mailsTo("taken@EXAMPLE.com"); n != 0 {
		t.Errorf("got %d mails to the address as typed, want 0", n)
	}
}

func TestResetEndsTokensAndChangesPassword(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("rp@example.com")
	r := e.post("/api/v1/send-reset-password-code", with(e.none, "email", "rp@example.com"))
	if r.str("message") != "Reset Password code sent successfully." {
		t.Errorf("got %s, want the documented message", r)
	}
	code := e.mailedCode("rp@example.com")
	weak := e.post("/api/v1/reset-password", map[string]any{"reset_password_code": code, "reset_password_token": r.str("reset_password_token"), "password": "rp@example.com"})
	want(t, weak, 422)
	done := e.post("/api/v1/reset-password", map[string]any{"reset_password_code": code, "reset_password_token": r.str("reset_password_token"), "password": "A brand new passphrase"})
	want(t, done, 200)
	if done.raw != "{\"status\":\"success\"}\n" {
		t.Errorf("got %q, want exactly {\"status\":\"success\"}", done.raw)
	}
	want(t, e.do("GET", "/api/v1/user", tok, nil), 401)
	want(t, e.post("/api/v1/login", with(e.none, "email", "rp@example.com", "password", goodPassword)), 401)
	want(t, e.post("/api/v1/login", with(e.none, "email", "rp@example.com", "password", "A brand new passphrase")), 200)
	if notice := e.awaitMail("rp@example.com"); notice.Kind != ihoprauth.MailPasswordChanged {
		t.Errorf("got a %s mail, want the password-changed notice", notice.Kind)
	}
}

func TestPasswordChange(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("pw@example.com")
	other := e.exchange(e.none, e.post("/api/v1/login", with(e.none, "email", "pw@example.com", "password", goodPassword)).str("code"), "").str("access_token")
	want(t, e.do("PUT", "/api/v1/user/update", tok, map[string]any{"password": "A brand new passphrase"}), 422)
	want(t, e.do("PUT", "/api/v1/user/update", tok, map[string]any{"password": "A brand new passphrase", "current_password": "nope nope"}), 422)
	r := e.do("PUT", "/api/v1/user/update", tok, map[string]any{"password": "A brand new passphrase", "current_password": goodPassword})
	want(t, r, 200)
	if _, listed := r.obj("updated")["password"]; listed || strings.Contains(r.raw, "passphrase") {
		t.Errorf("got %s, want no password in the answer", r)
	}
	want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
	want(t, e.do("GET", "/api/v1/user", other, nil), 401)
}

func TestOTPUserSetsFirstPasswordWithoutCurrent(t *testing.T) {
	e := newEnv(t)
	r := e.post("/api/v1/signup", with(e.otp, "email", "nopw@example.com", "first_name", "N", "last_name", "P", "mobile_number", 1))
	v := e.post("/api/v1/otp-code", map[string]any{"otp_code": e.mailedCode("nopw@example.com"), "otp_token": r.str("otp_token")})
	tok := e.exchange(e.otp, v.str("code"), "").str("access_token")
	want(t, e.do("PUT", "/api/v1/user/update", tok, map[string]any{"password": "A first passphrase"}), 200)
	want(t, e.do("PUT", "/api/v1/user/update", tok, map[string]any{"password": "A second passphrase"}), 422)
}

func TestFailedMailIsReported(t *testing.T) {
	e := newEnv(t)
	e.mail.SetFail(errors.New("smtp: 554 rejected"))
	want(t, e.post("/api/v1/signup", signupBody(e.otp, "lost@example.com")), 200)
	e.auth.Close(context.Background())
	errs := e.errs.all()
	if len(errs) != 1 || !errors.Is(errs[0], ihoprauth.ErrMailNotSent) {
		t.Fatalf("got %v, want one ErrMailNotSent reported", errs)
	}
	if strings.Contains(errs[0].Error(), "lost@example.com") {
		t.Errorf("got %q, want no address or code in the report", errs[0])
	}
}

// TestArgon2EnginesShareHashes: a password hashed by either argon2id
// engine verifies with the other, so an app can switch at any time; and a
// wrong password fails with both.
func TestArgon2EnginesShareHashes(t *testing.T) {
	st := newStoreForTest(t)
	xcrypto := buildEnv(t, st, nil, func(c *ihoprauth.Config) { c.Argon2Engine = ihoprauth.Argon2XCrypto })
	kept := buildEnv(t, st, nil)
	xcrypto.signupNone("made-by-xcrypto@example.com")
	kept.signupNone("made-by-kept@example.com")
	for _, e := range []*env{xcrypto, kept} {
		for _, email := range []string{"made-by-xcrypto@example.com", "made-by-kept@example.com"} {
			want(t, e.loginWith(e.none, email, goodPassword), 200)
			want(t, e.loginWith(e.none, email, "not the password"), 401)
		}
	}
}
