package ihoprauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// TestUnknownEmailCostsAHash: a login for an unknown email runs the same
// argon2id verification as a wrong password, so timing tells nothing.
func TestUnknownEmailCostsAHash(t *testing.T) {
	e := newEnv(t)
	e.signupNone("real@example.com")
	for _, c := range []struct{ name, email string }{
		{"wrong password", "real@example.com"},
		{"unknown email", "ghost@example.com"},
	} {
		before := ihoprauth.Verifications(e.auth)
		want(t, e.loginWith(e.none, c.email, "not the password"), 401)
		if got := ihoprauth.Verifications(e.auth) - before; got != 1 {
			t.Errorf("%s: got %d password verifications, want 1", c.name, got)
		}
	}
}

// TestRoleKeysCannotBeSmuggled: keys that differ only in case never bind to
// role, and a duplicate key is refused, so neither changes the role.
func TestRoleKeysCannotBeSmuggled(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("smuggle@example.com")
	cases := []struct {
		name, body string
		status     int
	}{
		{"upper case", `{"ROLE":"admin","first_name":"A"}`, 200},
		{"title case", `{"Role":"admin"}`, 200},
		{"duplicate", `{"role":"user","role":"admin"}`, 400},
		{"escaped key", `{"r\u006fle":"admin"}`, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.send("PUT", "/api/v1/user/update", tok, "application/json", strings.NewReader(c.body))
			want(t, r, c.status)
			if role := e.do("GET", "/api/v1/user", tok, nil).obj("user")["role"]; role != "user" {
				t.Errorf("got role %v, want user", role)
			}
		})
	}
}

// TestSixthGuessAndRightCodeAfterItFail: five wrong guesses kill a code;
// a sixth wrong one and then the right one both fail.
func TestSixthGuessAndRightCodeAfterItFail(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.AccountLockAfter = 100 })
	r := e.post("/api/v1/signup", signupBody(e.two, "sixth@example.com"))
	code := e.mailedCode("sixth@example.com")
	wrong := map[bool]string{true: "000001", false: "000000"}[code == "000000"]
	body := func(c string) map[string]any {
		return map[string]any{"two_step_auth_code": c, "two_step_auth_token": r.str("two_step_auth_token")}
	}
	for range 6 {
		want(t, e.post("/api/v1/two-step-auth-code", body(wrong)), 401)
	}
	want(t, e.post("/api/v1/two-step-auth-code", body(code)), 401)
}

// TestAuditHoldsNoSecrets walks every flow and then checks that no audit
// row carries a password, code or token that went over the wire.
func TestAuditHoldsNoSecrets(t *testing.T) {
	e := newEnv(t)
	var secrets []string
	keep := func(r resp, keys ...string) resp {
		for _, k := range keys {
			if v := r.str(k); v != "" {
				secrets = append(secrets, v)
			}
		}
		return r
	}
	secrets = append(secrets, goodPassword, "none-secret-0123456789", "two-secret-0123456789", "otp-secret-0123456789")
	tok := keep(e.login("audit-all@example.com"), "access_token", "refresh_token")
	keep(e.refresh(e.none, tok.str("refresh_token")), "access_token", "refresh_token")
	two := keep(e.post("/api/v1/signup", signupBody(e.two, "audit-two@example.com")), "two_step_auth_token")
	code := e.mailedCode("audit-two@example.com")
	secrets = append(secrets, code)
	v := keep(e.post("/api/v1/two-step-auth-code", map[string]any{"two_step_auth_code": code,
		"two_step_auth_token": two.str("two_step_auth_token")}), "code")
	keep(e.exchange(e.two, v.str("code"), ""), "access_token", "refresh_token")
	reset := keep(e.post("/api/v1/send-reset-password-code", with(e.two, "email", "audit-two@example.com")), "reset_password_token")
	code = e.mailedCode("audit-two@example.com")
	secrets = append(secrets, code, "Audit new passphrase 1")
	want(t, e.post("/api/v1/reset-password", map[string]any{"reset_password_code": code,
		"reset_password_token": reset.str("reset_password_token"), "password": "Audit new passphrase 1"}), 200)
	want(t, e.loginWith(e.none, "audit-all@example.com", "wrong password"), 401)

	events, err := e.auth.Events(context.Background(), time.Time{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 10 {
		t.Fatalf("got %d events, want one per event of the walk (at least 10)", len(events))
	}
	for _, ev := range events {
		row := strings.Join([]string{ev.Kind, ev.UserID, ev.IP, ev.UserAgent, ev.Result}, "|")
		for _, s := range secrets {
			if strings.Contains(row, s) {
				t.Errorf("event %q holds a secret", row)
			}
		}
	}
}
