package ihoprauth_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/store"
)

// The tests of this file call the domain rules behind the endpoints
// directly (see export_test.go), with no HTTP: a real SQLite store, a
// recording mailer and an injected clock.

// domain is an Auth with a project of each type and nothing served.
type domain struct {
	auth  *ihoprauth.Auth
	mail  *mailer.Recorder
	clock *clock
}

func newDomain(t *testing.T, tweak ...func(*ihoprauth.Config)) *domain {
	t.Helper()
	st, err := store.New(t.Context(), testdb.Open(t, testdb.SQLite), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	d := &domain{mail: &mailer.Recorder{}, clock: &clock{now: time.Date(2026, 3, 17, 11, 43, 58, 0, time.UTC)}}
	cfg := ihoprauth.Config{Argon2: ihoprauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}, Now: d.clock.Now,
		Logger: (&env{}).quietLogger(), MailAttempts: 1}
	for _, f := range tweak {
		f(&cfg)
	}
	if d.auth, err = ihoprauth.New(t.Context(), st, d.mail, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.auth.Close(context.Background()) })
	for _, typ := range []ihoprauth.ProjectType{ihoprauth.TypeNone, ihoprauth.TypeTwoStep, ihoprauth.TypeOTP} {
		spec := ihoprauth.ProjectSpec{ClientID: string(typ), ClientSecret: string(typ) + "-secret", Type: typ}
		if _, err := d.auth.SaveProject(t.Context(), spec); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// status is the HTTP status err answers with: 200 for nil, 500 for an
// error that is not an *ihoprauth.Error.
func status(err error) int {
	var e *ihoprauth.Error
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &e):
		return e.Status
	}
	return http.StatusInternalServerError
}

// TestLogInRules steps through the password rules of one account from two
// sources.
func TestLogInRules(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	if _, err := ihoprauth.SignUp(ctx, d.auth, "192.0.2.1", "none", "none-secret", "ann@example.com", goodPassword); err != nil {
		t.Fatal(err)
	}
	const home, other = "192.0.2.1", "198.51.100.9"
	steps := []struct {
		name             string
		ip, secret       string
		email, password  string
		advance          time.Duration
		wantStatus       int
		wantCode         bool
		wantRetryAfterOK bool
	}{
		{"right password", home, "none-secret", "ann@example.com", goodPassword, 0, 200, true, false},
		{"email in another case", home, "none-secret", "ANN@example.com", goodPassword, 0, 200, true, false},
		{"wrong client secret", home, "wrong", "ann@example.com", goodPassword, 0, 401, false, false},
		{"unknown email", other, "none-secret", "bob@example.com", goodPassword, 0, 401, false, false},
		{"wrong 1", other, "none-secret", "ann@example.com", "wrong", 0, 401, false, false},
		{"wrong 2", other, "none-secret", "ann@example.com", "wrong", 0, 401, false, false},
		{"wrong 3", other, "none-secret", "ann@example.com", "wrong", 0, 401, false, false},
		{"wrong 4", other, "none-secret", "ann@example.com", "wrong", 0, 401, false, false},
		{"wrong 5 locks this source", other, "none-secret", "ann@example.com", "wrong", 0, 401, false, false},
		{"right password, locked source", other, "none-secret", "ann@example.com", goodPassword, 0, 429, false, true},
		{"right password, other source", home, "none-secret", "ann@example.com", goodPassword, 0, 200, true, false},
		{"after the lock", other, "none-secret", "ann@example.com", goodPassword, 31 * time.Second, 200, true, false},
	}
	for _, s := range steps {
		d.clock.Advance(s.advance)
		code, err := ihoprauth.LogIn(ctx, d.auth, s.ip, "none", s.secret, s.email, s.password)
		if got := status(err); got != s.wantStatus || (code != "") != s.wantCode {
			t.Fatalf("%s: got status %d, code %q (%v), want %d with a code: %v", s.name, got, code, err, s.wantStatus, s.wantCode)
		}
		var e *ihoprauth.Error
		if s.wantRetryAfterOK && (!errors.As(err, &e) || e.RetryAfter <= 0) {
			t.Errorf("%s: got %v, want a Retry-After", s.name, err)
		}
	}
}

// TestRedeemCodeRules steps through a two-step login's code.
func TestRedeemCodeRules(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	token, err := ihoprauth.SignUp(ctx, d.auth, "192.0.2.1", "two-step", "two-step-secret", "cy@example.com", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	code := sixDigits.FindString(d.awaitMail(t, "cy@example.com").Text)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	steps := []struct {
		name       string
		token      string
		code       string
		wantStatus int
	}{
		{"unknown token", "no such token", code, 401},
		{"wrong code", token, wrong, 401},
		{"right code", token, code, 200},
		{"right code again", token, code, 401},
	}
	for _, s := range steps {
		got, err := ihoprauth.RedeemCode(ctx, d.auth, "192.0.2.1", ihoprauth.PurposeTwoStep, s.token, s.code)
		if status(err) != s.wantStatus || (got != "") != (s.wantStatus == 200) {
			t.Errorf("%s: got %q, %v; want status %d", s.name, got, err, s.wantStatus)
		}
	}

	// A code dies when it expires.
	d.clock.Advance(2 * time.Minute)
	token, err = ihoprauth.LogIn(ctx, d.auth, "192.0.2.1", "two-step", "two-step-secret", "cy@example.com", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	code = sixDigits.FindString(d.awaitMail(t, "cy@example.com").Text)
	d.clock.Advance(11 * time.Minute)
	if _, err := ihoprauth.RedeemCode(ctx, d.auth, "192.0.2.1", ihoprauth.PurposeTwoStep, token, code); status(err) != 401 {
		t.Errorf("an expired code: got %v, want 401", err)
	}
}

// TestSignUpRules: a taken email in a none project, and the per-source
// budget that is spent before any password is hashed.
func TestSignUpRules(t *testing.T) {
	d := newDomain(t, func(c *ihoprauth.Config) { c.SignupsPerSourcePerHour = 2 })
	ctx := t.Context()
	tests := []struct {
		name, ip, project, email string
		wantStatus               int
	}{
		{"new", "192.0.2.1", "none", "dee@example.com", 200},
		{"taken, none project", "192.0.2.1", "none", "dee@example.com", 422},
		{"over the source's budget", "192.0.2.1", "none", "eve@example.com", 429},
		{"another source", "192.0.2.2", "otp", "eve@example.com", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hashes := ihoprauth.Hashes(d.auth)
			_, err := ihoprauth.SignUp(ctx, d.auth, tt.ip, tt.project, tt.project+"-secret", tt.email, goodPassword)
			if got := status(err); got != tt.wantStatus {
				t.Fatalf("got %d (%v), want %d", got, err, tt.wantStatus)
			}
			if tt.wantStatus == 429 && ihoprauth.Hashes(d.auth) != hashes {
				t.Errorf("a refused signup hashed a password")
			}
		})
	}
}

// TestUpdateRules: what an update lists, and a refused role change that
// writes nothing.
func TestUpdateRules(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	if _, err := ihoprauth.SignUp(ctx, d.auth, "192.0.2.1", "none", "none-secret", "fay@example.com", goodPassword); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, firstName, role string
		wantStatus            int
		wantFields            []string
		wantStored            string
	}{
		{"a new first name", "Fay", "", 200, []string{"first_name", "updated_at"}, "Fay"},
		{"the same first name", "Fay", "", 200, []string{"updated_at"}, "Fay"},
		{"the role the user has", "Fay", "USER", 200, []string{"updated_at"}, "Fay"},
		{"a role change, not admin", "Refused", "admin", 403, nil, "Fay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, err := ihoprauth.UpdateNames(ctx, d.auth, "none", "fay@example.com", tt.firstName, tt.role)
			if got := status(err); got != tt.wantStatus || !slices.Equal(fields, tt.wantFields) {
				t.Errorf("got %d %v (%v), want %d %v", got, fields, err, tt.wantStatus, tt.wantFields)
			}
			u, err := d.auth.UserByEmail(ctx, "none", "fay@example.com")
			if err != nil || u.FirstName != tt.wantStored || !strings.EqualFold(u.Role, "user") {
				t.Errorf("stored: got %q, role %q (%v), want %q, role user", u.FirstName, u.Role, err, tt.wantStored)
			}
		})
	}
}

// awaitMail waits for the next mail to to.
func (d *domain) awaitMail(t *testing.T, to string) ihoprauth.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	msg, err := d.mail.Await(ctx, to)
	if err != nil {
		t.Fatalf("no mail to %s: %v", to, err)
	}
	return msg
}
