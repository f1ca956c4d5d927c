package ihoprauth_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func (e *env) loginWith(project map[string]any, email, password string) resp {
	return e.post("/api/v1/login", with(project, "email", email, "password", password))
}

func wantRetryAfter(t *testing.T, r resp, seconds string) {
	t.Helper()
	if r.status != 429 || r.header.Get("Retry-After") != seconds {
		t.Fatalf("got %s with Retry-After %q, want 429 with Retry-After %s", r, r.header.Get("Retry-After"), seconds)
	}
	checkErrorShape(t, r)
}

func TestAccountLockAfterFiveFailures(t *testing.T) {
	for _, known := range []bool{true, false} {
		name := map[bool]string{true: "known account", false: "unknown email"}[known]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			if known {
				e.signupNone("lock@example.com")
			}
			for i := range 5 {
				if r := e.loginWith(e.none, "lock@example.com", "wrong password "+string(rune('a'+i))); r.status != 401 {
					t.Fatalf("failure %d: got %s, want 401", i+1, r)
				}
			}
			wantRetryAfter(t, e.loginWith(e.none, "LOCK@example.com", goodPassword), "30")
			e.clock.Advance(29 * time.Second)
			wantRetryAfter(t, e.loginWith(e.none, "lock@example.com", goodPassword), "1")
			e.clock.Advance(time.Second)
			want(t, e.loginWith(e.none, "lock@example.com", "still wrong"), 401)
			wantRetryAfter(t, e.loginWith(e.none, "lock@example.com", goodPassword), "60") // doubled
			e.clock.Advance(time.Minute)
			if known {
				want(t, e.loginWith(e.none, "lock@example.com", goodPassword), 200)
				want(t, e.loginWith(e.none, "lock@example.com", "wrong again"), 401) // the success reset the count
				want(t, e.loginWith(e.none, "lock@example.com", goodPassword), 200)
			}
		})
	}
}

func TestAccountLockIsCapped(t *testing.T) {
	e := newEnv(t)
	e.signupNone("cap@example.com")
	for range 20 {
		e.loginWith(e.none, "cap@example.com", "wrong password")
		e.clock.Advance(time.Hour)
	}
	e.loginWith(e.none, "cap@example.com", "wrong password")
	wantRetryAfter(t, e.loginWith(e.none, "cap@example.com", goodPassword), "3600")
}

func TestWrongOTPCodesLockTheAccount(t *testing.T) {
	e := newEnv(t)
	r := e.post("/api/v1/signup", signupBody(e.otp, "otplock@example.com"))
	code := e.mailedCode("otplock@example.com")
	wrong := map[bool]string{true: "111111", false: "222222"}[code == "222222"]
	for range 5 {
		want(t, e.post("/api/v1/otp-code", map[string]any{"otp_code": wrong, "otp_token": r.str("otp_token")}), 401)
	}
	e.clock.Advance(2 * time.Second)
	locked := e.post("/api/v1/login", with(e.otp, "email", "otplock@example.com"))
	wantRetryAfter(t, locked, "28")
	if !strings.Contains(locked.str("message"), "Too many failed attempts") {
		t.Errorf("got %s, want the account-lock message", locked)
	}
}

func TestResetIsNeverLockedAndClearsTheLock(t *testing.T) {
	e := newEnv(t)
	e.signupNone("resetlock@example.com")
	for range 5 {
		want(t, e.loginWith(e.none, "resetlock@example.com", "wrong password"), 401)
	}
	want(t, e.loginWith(e.none, "resetlock@example.com", goodPassword), 429)
	reset := e.post("/api/v1/send-reset-password-code", with(e.none, "email", "resetlock@example.com"))
	want(t, reset, 200)
	want(t, e.post("/api/v1/reset-password", map[string]any{"reset_password_code": e.mailedCode("resetlock@example.com"),
		"reset_password_token": reset.str("reset_password_token"), "password": "A brand new passphrase"}), 200)
	want(t, e.loginWith(e.none, "resetlock@example.com", "A brand new passphrase"), 200)
}

func TestPerAddressFailureCap(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) {
		c.IPFailureLimit = 3
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	tok := e.signupNone("ip@example.com")
	e.header = http.Header{"X-Forwarded-For": {"203.0.113.7"}}
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		want(t, e.loginWith(e.none, email, "wrong password"), 401)
	}
	r := e.loginWith(e.none, "ip@example.com", goodPassword)
	wantRetryAfter(t, r, "600")
	want(t, e.post("/api/v1/otp-code", map[string]any{"otp_code": "123456", "otp_token": "x"}), 429)
	want(t, e.do("GET", "/api/v1/user", tok, nil), 200) // bearer endpoints are not capped

	e.header = http.Header{"X-Forwarded-For": {"203.0.113.7, 198.51.100.2"}} // another client behind the proxy
	want(t, e.loginWith(e.none, "ip@example.com", goodPassword), 200)
	e.header = http.Header{"X-Forwarded-For": {"203.0.113.7"}}
	e.clock.Advance(10 * time.Minute)
	want(t, e.loginWith(e.none, "ip@example.com", goodPassword), 200)
}

func TestForwardedForIgnoredWithoutTrustedProxies(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.IPFailureLimit = 2 })
	for i, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		e.header = http.Header{"X-Forwarded-For": {ip}, "X-Real-Ip": {ip}}
		want(t, e.loginWith(e.none, "spray"+string(rune('a'+i))+"@example.com", "wrong password"), 401)
	}
	e.header = http.Header{"X-Forwarded-For": {"203.0.113.3"}}
	want(t, e.loginWith(e.none, "other@example.com", "wrong password"), 429)
}

func TestCodeMailLimits(t *testing.T) {
	e := newEnv(t)
	otpLogin := func(email string) resp { return e.post("/api/v1/login", with(e.otp, "email", email)) }
	for _, email := range []string{"mail@example.com", "nobody@example.com"} {
		t.Run(email, func(t *testing.T) {
			if email == "mail@example.com" {
				want(t, e.post("/api/v1/signup", signupBody(e.otp, email)), 200)
			} else {
				want(t, otpLogin(email), 200)
			}
			e.clock.Advance(20 * time.Second)
			r := otpLogin(email)
			wantRetryAfter(t, r, "40")
			if !strings.Contains(r.str("message"), "code was sent recently") {
				t.Errorf("got %s, want a message that a code was sent recently", r)
			}
			e.clock.Advance(40 * time.Second)
			want(t, otpLogin(email), 200)
		})
	}
	e.auth.Close(context.Background())
	if n := len(e.mail.Messages()); n != 2 {
		t.Errorf("got %d mails, want 2 (the refused request mails nothing)", n)
	}
}

func TestUsedCodeAllowsTheNextMailAtOnceButTheHourlyCapHolds(t *testing.T) {
	e := newEnv(t)
	r := e.post("/api/v1/signup", signupBody(e.otp, "hour@example.com"))
	for i := 0; ; i++ {
		v := e.post("/api/v1/otp-code", map[string]any{"otp_code": e.mailedCode("hour@example.com"), "otp_token": r.str("otp_token")})
		want(t, v, 200)
		r = e.post("/api/v1/login", with(e.otp, "email", "hour@example.com"))
		if i < 3 {
			want(t, r, 200)
			continue
		}
		want(t, r, 200) // the fifth mail of the hour
		v = e.post("/api/v1/otp-code", map[string]any{"otp_code": e.mailedCode("hour@example.com"), "otp_token": r.str("otp_token")})
		want(t, v, 200)
		wantRetryAfter(t, e.post("/api/v1/login", with(e.otp, "email", "hour@example.com")), "3600")
		return
	}
}

func TestAuditTrail(t *testing.T) {
	var hooked []ihoprauth.Event
	e := newEnv(t, func(c *ihoprauth.Config) {
		c.OnEvent = func(_ context.Context, ev ihoprauth.Event) { hooked = append(hooked, ev) }
	})
	e.header = http.Header{"User-Agent": {"audit-test/1.0"}}
	tok := e.signupNone("audit@example.com")
	want(t, e.loginWith(e.none, "audit@example.com", "wrong password"), 401)
	want(t, e.do("POST", "/api/v1/logout", tok, nil), 200)
	events, err := e.auth.Events(context.Background(), time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range events {
		kinds = append([]string{ev.Kind}, kinds...)
		if ev.IP != "127.0.0.1" || ev.UserAgent != "audit-test/1.0" || !ev.At.Equal(e.clock.Now()) || ev.ProjectID == 0 {
			t.Errorf("got event %+v, want IP 127.0.0.1, the user agent, the clock's time and a project", ev)
		}
		if strings.Contains(ev.Result, "password") && strings.Contains(ev.Result, goodPassword) {
			t.Errorf("got a secret in event %+v", ev)
		}
	}
	wantKinds := []string{ihoprauth.EventSignup, ihoprauth.EventTokenIssued, ihoprauth.EventLoginFailed, ihoprauth.EventTokenRevoked}
	if strings.Join(kinds, ",") != strings.Join(wantKinds, ",") {
		t.Errorf("got events %v, want %v", kinds, wantKinds)
	}
	if len(hooked) != len(events) {
		t.Errorf("got %d events through OnEvent, want %d", len(hooked), len(events))
	}
}

// TestConcurrentGuessesCannotSlipPastTheLock sends 40 password guesses at
// one account at once from one source: no more than the lock allows, plus
// those already holding a hash slot when it engaged, may be checked.
func TestConcurrentGuessesCannotSlipPastTheLock(t *testing.T) {
	const hashSlots = 2
	e := newEnv(t, func(c *ihoprauth.Config) { c.MaxConcurrentHashes = hashSlots })
	e.signupNone("burst@example.com")
	checked := 0
	var mu sync.Mutex
	race(t, 40, func() resp {
		r := e.loginWith(e.none, "burst@example.com", "wrong password")
		mu.Lock()
		defer mu.Unlock()
		if r.status != 429 {
			checked++
		}
		return resp{status: 401}
	})
	if checked > 5+hashSlots {
		t.Errorf("got %d guesses checked, want at most 5+%d (the rest 429)", checked, hashSlots)
	}
}

// TestCurrentPasswordGuessesAreThrottled: a stolen token cannot be used to
// guess the current password through PUT /user/update.
func TestCurrentPasswordGuessesAreThrottled(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("guess-current@example.com")
	for range 5 {
		want(t, e.do("PUT", "/api/v1/user/update", tok, map[string]any{"password": "A brand new passphrase", "current_password": "wrong guess"}), 422)
	}
	wantRetryAfter(t, e.do("PUT", "/api/v1/user/update", tok, map[string]any{"password": "A brand new passphrase", "current_password": goodPassword}), "30")
}

// TestIPv6ClientsAreCappedByTheirSlash64: rotating addresses inside one
// /64 does not escape the per-address cap.
func TestIPv6ClientsAreCappedByTheirSlash64(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) {
		c.IPFailureLimit = 3
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	for i, ip := range []string{"2001:db8::1", "2001:db8::2", "2001:db8::ffff:1"} {
		e.header = http.Header{"X-Forwarded-For": {ip}}
		want(t, e.loginWith(e.none, "v6-"+string(rune('a'+i))+"@example.com", "wrong password"), 401)
	}
	e.header = http.Header{"X-Forwarded-For": {"2001:db8::abcd:ef01"}}
	want(t, e.loginWith(e.none, "v6-d@example.com", "wrong password"), 429)
	e.header = http.Header{"X-Forwarded-For": {"2001:db8:0:1::1"}} // the next /64
	want(t, e.loginWith(e.none, "v6-e@example.com", "wrong password"), 401)
}

// TestCodeMailsPerAddress: one address cannot make the server mail code
// after code to one account after another.
func TestCodeMailsPerAddress(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.CodeMailsPerIPPerHour = 3 })
	for i := range 3 {
		want(t, e.post("/api/v1/login", with(e.otp, "email", "spray"+strings.Repeat("x", i)+"@example.com")), 200)
	}
	r := e.post("/api/v1/login", with(e.otp, "email", "spray-more@example.com"))
	wantRetryAfter(t, r, "3600")
	if !strings.Contains(r.str("message"), "from your address") {
		t.Errorf("got %s, want the per-address message", r)
	}
}

// TestSecondSignupTellsNothing: two signups of one email a few seconds
// apart answer alike whether the email had an account or the first signup
// made it, in otp and two-step projects: the second is refused, with the
// same wait, in both cases (the first of a new email spends its code mail).
func TestSecondSignupTellsNothing(t *testing.T) {
	e := newEnv(t)
	for _, p := range []struct {
		name    string
		project map[string]any
	}{{"otp", e.otp}, {"two-step", e.two}} {
		t.Run(p.name, func(t *testing.T) {
			registered := p.name + "-registered@example.com"
			want(t, e.post("/api/v1/signup", signupBody(p.project, registered)), 200)
			e.clock.Advance(2 * time.Hour)
			for _, email := range []string{registered, p.name + "-new@example.com"} {
				want(t, e.post("/api/v1/signup", signupBody(p.project, email)), 200)
				e.clock.Advance(5 * time.Second)
				r := e.post("/api/v1/signup", signupBody(p.project, email))
				wantRetryAfter(t, r, "55")
				if !strings.Contains(r.str("message"), "code was sent recently") {
					t.Errorf("%s: got %s, want a message that a code was sent recently", email, r)
				}
			}
		})
	}
}
