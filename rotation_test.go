package ihoprauth_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/mailer"
)

// TestKeyRotation moves a database from key A to key B: with B and
// PreviousSecrets [A], what A made still works (client secrets, codes in
// flight, API keys, device cookies), and client secrets and API keys are
// hashed again under B on use, so they then work with B alone.
func TestKeyRotation(t *testing.T) {
	keyA, keyB := bytes.Repeat([]byte("a"), 32), bytes.Repeat([]byte("b"), 32)
	_, st := openStore(t)
	rec := &mailer.Recorder{}
	a := buildEnv(t, st, rec, func(c *ihoprauth.Config) { c.Secret = keyA })
	rot := a.project(ihoprauth.TypeNone, "rotating", "rotating-secret-0123456789", false)
	codes := a.project(ihoprauth.TypeOTP, "rotating-otp", "rotating-secret-0123456789", false)
	ctx := context.Background()
	apiKey, _, err := a.auth.CreateAPIKey(ctx, "back office", []string{"rotating"})
	if err != nil {
		t.Fatal(err)
	}
	want(t, a.post("/api/v1/signup", signupBody(rot, "owner@example.com")), 200)
	login := a.loginWith(rot, "owner@example.com", goodPassword)
	want(t, login, 200)
	var device *http.Cookie
	for _, c := range (&http.Response{Header: login.header}).Cookies() {
		if c.Name == "ihoprauth_device" {
			device = c
		}
	}
	if device == nil {
		t.Fatal("the login set no device cookie")
	}
	withDevice := func() *http.Request {
		r, _ := http.NewRequest("GET", "/", nil)
		r.AddCookie(device)
		return r
	}
	r1 := a.post("/api/v1/signup", signupBody(codes, "code-1@example.com"))
	r2 := a.post("/api/v1/signup", signupBody(codes, "code-2@example.com"))
	code1, code2 := a.mailedCode("code-1@example.com"), a.mailedCode("code-2@example.com")

	rotated := buildEnv(t, st, rec, func(c *ihoprauth.Config) { c.Secret, c.PreviousSecrets = keyB, [][]byte{keyA} })
	onlyB := buildEnv(t, st, rec, func(c *ihoprauth.Config) { c.Secret = keyB })

	// Without A, nothing A made verifies.
	want(t, onlyB.loginWith(rot, "owner@example.com", goodPassword), 401)
	want(t, onlyB.post("/api/v1/otp-code", map[string]any{"otp_code": code1, "otp_token": r1.str("otp_token")}), 401)
	want(t, onlyB.do("GET", "/api/v1/admin/users?client_id=rotating", apiKey, nil), 401)
	if id := ihoprauth.DeviceOf(onlyB.auth, withDevice()); id != "" {
		t.Errorf("B alone accepts a device cookie signed with A")
	}

	// With A as a previous key, all of it does.
	want(t, rotated.loginWith(rot, "owner@example.com", goodPassword), 200)
	want(t, rotated.post("/api/v1/otp-code", map[string]any{"otp_code": code2, "otp_token": r2.str("otp_token")}), 200)
	want(t, rotated.do("GET", "/api/v1/admin/users?client_id=rotating", apiKey, nil), 200)
	if id := ihoprauth.DeviceOf(rotated.auth, withDevice()); id == "" {
		t.Errorf("B with A as a previous key refuses a device cookie signed with A")
	}

	// The client secret and the API key were hashed again under B.
	onlyB.poll()
	want(t, onlyB.loginWith(rot, "owner@example.com", goodPassword), 200)
	want(t, onlyB.do("GET", "/api/v1/admin/users?client_id=rotating", apiKey, nil), 200)
}

func TestPreviousSecretsAreChecked(t *testing.T) {
	_, st := openStore(t)
	for _, cfg := range []ihoprauth.Config{
		{PreviousSecrets: [][]byte{bytes.Repeat([]byte("a"), 32)}},                          // no Secret
		{Secret: bytes.Repeat([]byte("b"), 32), PreviousSecrets: [][]byte{[]byte("short")}}, // too short
	} {
		if _, err := ihoprauth.New(context.Background(), st, &mailer.Recorder{}, cfg); !errors.Is(err, ihoprauth.ErrInvalidConfig) {
			t.Errorf("New(%d previous secrets, Secret %d bytes): got %v, want ErrInvalidConfig", len(cfg.PreviousSecrets), len(cfg.Secret), err)
		}
	}
}

// TestRotationRollout plays the README's steps with instances of both
// rollouts at once: the first (Secret A, NextSecrets [B]) accepts what the
// second (Secret B, PreviousSecrets [A]) hashes again, and does not hash it
// back, so once every instance is on B alone nothing used in between is
// lost.
func TestRotationRollout(t *testing.T) {
	keyA, keyB := bytes.Repeat([]byte("a"), 32), bytes.Repeat([]byte("b"), 32)
	_, st := openStore(t)
	rec := &mailer.Recorder{}
	first := buildEnv(t, st, rec, func(c *ihoprauth.Config) { c.Secret, c.NextSecrets = keyA, [][]byte{keyB} })
	rot := first.project(ihoprauth.TypeNone, "rolling", "rolling-secret-0123456789", false)
	want(t, first.post("/api/v1/signup", signupBody(rot, "roll@example.com")), 200)
	second := buildEnv(t, st, rec, func(c *ihoprauth.Config) { c.Secret, c.PreviousSecrets = keyB, [][]byte{keyA} })
	for range 2 {
		want(t, second.loginWith(rot, "roll@example.com", goodPassword), 200) // hashes it again under B
		first.poll()
		want(t, first.loginWith(rot, "roll@example.com", goodPassword), 200) // accepts B, keeps it
	}
	last := buildEnv(t, st, rec, func(c *ihoprauth.Config) { c.Secret = keyB })
	want(t, last.loginWith(rot, "roll@example.com", goodPassword), 200)
}

// TestRotationKeepsSecondFactors: a TOTP secret sealed and recovery codes
// hashed under key A still work with key B once A is a previous key.
func TestRotationKeepsSecondFactors(t *testing.T) {
	keyA, keyB := bytes.Repeat([]byte("a"), 32), bytes.Repeat([]byte("b"), 32)
	_, st := openStore(t)
	rec := &mailer.Recorder{}
	a := buildEnv(t, st, rec, func(c *ihoprauth.Config) { c.Secret = keyA })
	secret, recovery := a.enrolTOTP(a.signupNone("factor@example.com"))
	onlyB := buildEnv(t, st, rec, func(c *ihoprauth.Config) { c.Secret = keyB })
	rotated := buildEnv(t, st, rec, func(c *ihoprauth.Config) { c.Secret, c.PreviousSecrets = keyB, [][]byte{keyA} })
	for _, e := range []*env{onlyB, rotated} {
		e.clock.Advance(step)
	}
	// Without A the secret does not open (a 500: the server's key is
	// wrong, not the code) and the recovery code does not match.
	if r := onlyB.mfaCode(onlyB.loginMFA("factor@example.com"), "totp_code", onlyB.totp(secret)); r.status == 200 {
		t.Fatalf("B alone accepted a TOTP code of a secret sealed under A: %s", r)
	}
	want(t, onlyB.mfaCode(onlyB.loginMFA("factor@example.com"), "recovery_code", recovery[0]), 401)
	want(t, rotated.mfaCode(rotated.loginMFA("factor@example.com"), "totp_code", rotated.totp(secret)), 200)
	want(t, rotated.mfaCode(rotated.loginMFA("factor@example.com"), "recovery_code", recovery[0]), 200)
}
