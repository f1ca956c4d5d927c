package ihoprauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// The tests of this file send requests from many sources: the env trusts
// the loopback proxy, and each request names its client in
// X-Forwarded-For. Addresses are from the documentation ranges, which are
// public, so the address rule of known sources applies to them.

// fromProxy lets the env believe X-Forwarded-For from loopback.
func fromProxy(c *ihoprauth.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
}

// source is the header of a request from the client at ip, with cookies.
func source(ip string, cookies ...*http.Cookie) http.Header {
	h := http.Header{"X-Forwarded-For": {ip}}
	for _, c := range cookies {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	return h
}

// loginFrom logs in from the client hdr describes.
func (e *env) loginFrom(hdr http.Header, project map[string]any, email, password string) resp {
	e.t.Helper()
	return e.doWith(hdr, "POST", "/api/v1/login", "", with(project, "email", email, "password", password))
}

// burst runs f n times at once and returns every answer.
func burst(n int, f func(i int) resp) []resp {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		all   []resp
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			r := f(i)
			mu.Lock()
			defer mu.Unlock()
			all = append(all, r)
		})
	}
	close(start)
	wg.Wait()
	return all
}

// countStatus counts the answers with status.
func countStatus(rs []resp, status int) int {
	n := 0
	for _, r := range rs {
		if r.status == status {
			n++
		}
	}
	return n
}

// deviceCookie returns the device cookie r sets, or fails.
func deviceCookie(t *testing.T, r resp) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "ihoprauth_device" {
			if !c.HttpOnly || c.Path != "/api/v1" {
				t.Errorf("device cookie: got HttpOnly %v, Path %q; want HttpOnly, Path /api/v1", c.HttpOnly, c.Path)
			}
			return c
		}
	}
	t.Fatalf("got %s with cookies %q, want a device cookie", r, r.header.Values("Set-Cookie"))
	return nil
}

// TestOwnerIsNeverLockedOut: 100 concurrent wrong passwords from one
// source lock that source only; the owner's password from another, unknown
// source still gets 200, and so does the attacker's source once its lock
// has passed.
func TestOwnerIsNeverLockedOut(t *testing.T) {
	e := newEnv(t, fromProxy)
	e.signupNone("owner@example.com")
	attacker := source("203.0.113.66")
	rs := burst(100, func(int) resp { return e.loginFrom(attacker, e.none, "owner@example.com", "wrong password") })
	if n := countStatus(rs, 401) + countStatus(rs, 429); n != 100 {
		t.Fatalf("burst: got %d answers 401 or 429, want 100", n)
	}
	if r := e.loginFrom(attacker, e.none, "owner@example.com", goodPassword); r.status != 429 {
		t.Errorf("the attacker's source with the right password: got %s, want 429 (locked)", r)
	}
	want(t, e.loginFrom(source("198.51.100.7"), e.none, "owner@example.com", goodPassword), 200)
	e.clock.Advance(time.Hour + time.Second)
	want(t, e.loginFrom(attacker, e.none, "owner@example.com", goodPassword), 200)
}

// TestOwnerIsNeverLockedOutOfOTP: the same for wrong codes on one
// otp_token: a burst compares at most MaxCodeAttempts codes, and the owner
// logs in with a new code from another source.
func TestOwnerIsNeverLockedOutOfOTP(t *testing.T) {
	e := newEnv(t, fromProxy)
	owner := source("198.51.100.8")
	signup := e.doWith(owner, "POST", "/api/v1/signup", "", signupBody(e.otp, "otp-owner@example.com"))
	want(t, signup, 200)
	want(t, e.doWith(owner, "POST", "/api/v1/otp-code", "", with(e.otp, "otp_token", signup.str("otp_token"),
		"otp_code", e.mailedCode("otp-owner@example.com"))), 200)
	attacker := source("203.0.113.67")
	login := e.doWith(attacker, "POST", "/api/v1/login", "", with(e.otp, "email", "otp-owner@example.com"))
	want(t, login, 200)
	e.awaitMail("otp-owner@example.com") // the attacker's login's code, unknown to the attacker
	failedBefore := countEvents(t, e, ihoprauth.EventCodeFailed)
	rs := burst(100, func(i int) resp {
		return e.doWith(attacker, "POST", "/api/v1/otp-code", "",
			with(e.otp, "otp_token", login.str("otp_token"), "otp_code", fmt.Sprintf("%06d", 900000+i)))
	})
	if n := countStatus(rs, 200); n != 0 {
		t.Fatalf("burst of wrong codes: got %d answers 200, want 0", n)
	}
	if compared := countEvents(t, e, ihoprauth.EventCodeFailed) - failedBefore; compared > 100 {
		t.Errorf("got %d failed codes recorded, want at most 100", compared)
	}
	// The attacker's code is unused, so an unknown source would wait a
	// minute for the next; the owner's source is known and gets one now.
	r := e.doWith(owner, "POST", "/api/v1/login", "", with(e.otp, "email", "otp-owner@example.com"))
	want(t, r, 200)
	code := e.mailedCode("otp-owner@example.com")
	want(t, e.doWith(owner, "POST", "/api/v1/otp-code", "", with(e.otp, "otp_token", r.str("otp_token"), "otp_code", code)), 200)
}

// countEvents counts the audit events of kind.
func countEvents(t *testing.T, e *env, kind string) int {
	t.Helper()
	events, err := e.auth.Events(context.Background(), time.Time{}, 100000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range events {
		if ev.Kind == kind {
			n += ev.Count
		}
	}
	return n
}

// TestBurstOfCodesComparesAtMostMaxCodeAttempts: concurrency buys no extra
// guesses on one token, however many sources send them.
func TestBurstOfCodesComparesAtMostMaxCodeAttempts(t *testing.T) {
	e := newEnv(t, fromProxy)
	want(t, e.post("/api/v1/signup", signupBody(e.otp, "guessed@example.com")), 200)
	code := e.mailedCode("guessed@example.com")
	e.clock.Advance(2 * time.Minute)
	login := e.post("/api/v1/login", with(e.otp, "email", "guessed@example.com"))
	want(t, login, 200)
	code = e.mailedCode("guessed@example.com")
	rs := burst(60, func(i int) resp {
		guess := fmt.Sprintf("%06d", i)
		if guess == code {
			guess = "999999"
		}
		if i == 59 {
			guess = code // the right code, last in the burst: by then its attempts are spent
		}
		return e.doWith(source(fmt.Sprintf("203.0.113.%d", i+1)), "POST", "/api/v1/otp-code", "",
			with(e.otp, "otp_token", login.str("otp_token"), "otp_code", guess))
	})
	if n := countStatus(rs, 200); n > 1 {
		t.Errorf("got %d answers 200, want at most 1", n)
	}
	if n := countEvents(t, e, ihoprauth.EventCodeFailed); n > 5 {
		t.Errorf("got %d codes compared and failed, want at most MaxCodeAttempts (5)", n)
	}
}

// TestKnownSourcesPassAnAccountUnderAttack: once an account has 100 checked
// failures within an hour, an unknown clean source gets one attempt a
// minute, while a known address and a known device get through at once.
func TestKnownSourcesPassAnAccountUnderAttack(t *testing.T) {
	e := newEnv(t, fromProxy)
	e.signupNone("target@example.com")
	home := source("198.51.100.20")
	first := e.loginFrom(home, e.none, "target@example.com", goodPassword)
	want(t, first, 200)
	device := deviceCookie(t, first)

	// 25 sources with 4 wrong passwords each: no source is locked, but the
	// account reaches its ceiling of 100 checked failures.
	rs := burst(100, func(i int) resp {
		return e.loginFrom(source(fmt.Sprintf("203.0.113.%d", i/4+1)), e.none, "target@example.com", "wrong password")
	})
	if n := countStatus(rs, 401); n != 100 {
		t.Fatalf("distributed attack: got %d answers 401, want 100", n)
	}

	// An unknown source gets one attempt a minute (a right password would
	// make its address known, so it tries a wrong one first).
	stranger := source("192.0.2.44")
	want(t, e.loginFrom(stranger, e.none, "target@example.com", "wrong again"), 401)
	r := e.loginFrom(stranger, e.none, "target@example.com", goodPassword)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Errorf("a second attempt from an unknown source within a minute: got %s, want 429 with Retry-After", r)
	}
	for i := range 3 {
		if r := e.loginFrom(home, e.none, "target@example.com", goodPassword); r.status != 200 {
			t.Errorf("known address, attempt %d: got %s, want 200", i+1, r)
		}
		if r := e.loginFrom(source("192.0.2.99", device), e.none, "target@example.com", goodPassword); r.status != 200 {
			t.Errorf("known device from a new address, attempt %d: got %s, want 200", i+1, r)
		}
	}
	forged := &http.Cookie{Name: device.Name, Value: strings.Repeat("0", 32) + "." + strings.Repeat("0", 64)}
	want(t, e.loginFrom(source("192.0.2.100", forged), e.none, "target@example.com", "wrong again"), 401)
	if r := e.loginFrom(source("192.0.2.100", forged), e.none, "target@example.com", goodPassword); r.status != 429 {
		t.Errorf("a forged device cookie: got %s, want 429 like any unknown source", r)
	}
	e.clock.Advance(time.Minute)
	want(t, e.loginFrom(stranger, e.none, "target@example.com", goodPassword), 200)
}

// TestLoopbackIsNotAKnownAddress: without TrustedProxies, every client
// behind a local proxy shares its address, so a login from loopback makes
// no address known.
func TestLoopbackIsNotAKnownAddress(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.AccountFailureCeiling = 3 })
	e.signupNone("local@example.com")
	want(t, e.loginWith(e.none, "local@example.com", goodPassword), 200)
	for range 3 {
		want(t, e.loginWith(e.none, "local@example.com", "wrong password"), 401)
	}
	want(t, e.loginWith(e.none, "local@example.com", goodPassword), 200)
	if r := e.loginWith(e.none, "local@example.com", goodPassword); r.status != 429 {
		t.Errorf("loopback after its login, account over the ceiling: got %s, want 429 (not known)", r)
	}
}

// TestResetClearsEveryLock: a completed reset ends the locks of every
// source on the account.
func TestResetClearsEveryLock(t *testing.T) {
	e := newEnv(t, fromProxy)
	e.signupNone("reset-locks@example.com")
	attacker := source("203.0.113.70")
	for range 5 {
		want(t, e.loginFrom(attacker, e.none, "reset-locks@example.com", "wrong password"), 401)
	}
	want(t, e.loginFrom(attacker, e.none, "reset-locks@example.com", goodPassword), 429)
	r := e.post("/api/v1/send-reset-password-code", with(e.none, "email", "reset-locks@example.com"))
	want(t, r, 200)
	code := e.mailedCode("reset-locks@example.com")
	want(t, e.post("/api/v1/reset-password", with(e.none, "reset_password_token", r.str("reset_password_token"),
		"reset_password_code", code, "password", "A fresh passphrase 42")), 200)
	want(t, e.loginFrom(attacker, e.none, "reset-locks@example.com", "A fresh passphrase 42"), 200)
}

// TestConcurrentCorrectLoginsAllSucceed: a service account, two devices
// or a retrying client logging in at once is not an attack.
func TestConcurrentCorrectLoginsAllSucceed(t *testing.T) {
	e := newEnv(t)
	e.signupNone("service@example.com")
	rs := burst(32, func(int) resp { return e.loginWith(e.none, "service@example.com", goodPassword) })
	if n := countStatus(rs, 200); n != 32 {
		t.Errorf("32 concurrent correct logins: got %d answers 200, want 32", n)
	}
}

// TestSourceCapHoldsUnderConcurrency: 300 concurrent bad client secrets
// from one source get at most the cap (100) answers 401; the rest 429.
func TestSourceCapHoldsUnderConcurrency(t *testing.T) {
	const hashSlots = 2
	e := newEnv(t, func(c *ihoprauth.Config) { c.MaxConcurrentHashes = hashSlots })
	rs := burst(300, func(int) resp {
		return e.post("/api/v1/refresh-token", with(e.none, "client_secret", "not the secret", "refresh_token", "x"))
	})
	if n := countStatus(rs, 401); n > 100+hashSlots+2 {
		t.Errorf("got %d answers 401, want at most %d", n, 100+hashSlots+2)
	}
	if n := countStatus(rs, 401) + countStatus(rs, 429); n != 300 {
		t.Errorf("got %d answers 401 or 429, want 300", n)
	}
}

// TestSuccessesGiveTheirSlotBack: right answers do not fill the cap.
func TestSuccessesGiveTheirSlotBack(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.IPFailureLimit = 3 })
	e.signupNone("busy@example.com")
	for i := range 10 {
		if r := e.loginWith(e.none, "busy@example.com", goodPassword); r.status != 200 {
			t.Fatalf("login %d: got %s, want 200", i+1, r)
		}
	}
}

// TestRefusedOverTheCapTakeNoSlot: requests refused because their address
// is over its cap checked nothing and hold none of its slots afterwards,
// so bursts of correct logins past the cap do not pile up failures that
// would shut the address out of later logins.
func TestRefusedOverTheCapTakeNoSlot(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.IPFailureLimit = 3 })
	e.signupNone("burst@example.com")
	for range 3 {
		want(t, e.loginWith(e.none, "burst@example.com", "a wrong password"), 401)
	}
	for range 5 {
		want(t, e.loginWith(e.none, "burst@example.com", goodPassword), 429)
	}
	if got := ihoprauth.SourceSlots(e.auth, "127.0.0.1"); got != 3 {
		t.Errorf("the address holds %d slots after 3 failures and 5 refusals, want 3", got)
	}

	// More correct logins at once than the cap: those past it are refused,
	// and every slot comes back once they are all answered.
	e.clock.Advance(time.Hour)
	var wg sync.WaitGroup
	var refused atomic.Int32
	for range 12 {
		wg.Go(func() {
			if r := e.loginWith(e.none, "burst@example.com", goodPassword); r.status == 429 {
				refused.Add(1)
			} else if r.status != 200 {
				t.Errorf("a correct login in the burst: got %s", r)
			}
		})
	}
	wg.Wait()
	if got := ihoprauth.SourceSlots(e.auth, "127.0.0.1"); got != 0 {
		t.Errorf("the address holds %d slots after a burst of correct logins (%d refused), want 0", got, refused.Load())
	}
	want(t, e.loginWith(e.none, "burst@example.com", goodPassword), 200)
}

// TestSignupsPerSourceBeforeHashing: the 21st signup of an hour from one
// address gets 429 in every project type, without a password hash.
func TestSignupsPerSourceBeforeHashing(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.SignupsPerSourcePerHour = 0 }) // the default, 20
	projects := []map[string]any{e.none, e.two, e.otp}
	for i := range 20 {
		want(t, e.post("/api/v1/signup", signupBody(projects[i%3], fmt.Sprintf("s%d@example.com", i))), 200)
	}
	hashes := ihoprauth.Hashes(e.auth)
	for _, p := range projects {
		wantRetryAfter(t, e.post("/api/v1/signup", signupBody(p, "one-too-many@example.com")), "3600")
	}
	if got := ihoprauth.Hashes(e.auth); got != hashes {
		t.Errorf("refused signups hashed %d passwords, want 0", got-hashes)
	}
	e.clock.Advance(time.Hour)
	want(t, e.post("/api/v1/signup", signupBody(e.none, "next-hour@example.com")), 200)
}

// TestStrangersCannotSpendTheOwnersCodeMails: signups with the owner's
// email mail at most one notice a day and leave the owner's code mails
// alone; a known source gets a code mail beyond the account's limits.
func TestStrangersCannotSpendTheOwnersCodeMails(t *testing.T) {
	e := newEnv(t, fromProxy)
	home := source("198.51.100.30")
	signup := e.doWith(home, "POST", "/api/v1/signup", "", signupBody(e.two, "victim@example.com"))
	want(t, signup, 200)
	want(t, e.doWith(home, "POST", "/api/v1/two-step-auth-code", "", with(e.two, "two_step_auth_token",
		signup.str("two_step_auth_token"), "two_step_auth_code", e.mailedCode("victim@example.com"))), 200)

	stranger := source("203.0.113.80")
	for range 5 { // one a minute: a second signup of an email within the minute gets 429
		e.clock.Advance(time.Minute)
		want(t, e.doWith(stranger, "POST", "/api/v1/signup", "", signupBody(e.two, "victim@example.com")), 200)
	}
	if msg := e.awaitMail("victim@example.com"); msg.Kind != ihoprauth.MailAccountExists {
		t.Fatalf("got a %s mail, want the notice", msg.Kind)
	}
	want(t, e.loginFrom(home, e.two, "victim@example.com", goodPassword), 200)
	if msg := e.awaitMail("victim@example.com"); msg.Kind != ihoprauth.MailTwoStep {
		t.Errorf("after 5 signups by a stranger: got a %s mail, want the owner's code", msg.Kind)
	}

	// The stranger spends the account's code mails with logins it cannot
	// finish (it has no password, so it uses reset codes instead).
	for range 6 {
		e.doWith(stranger, "POST", "/api/v1/send-reset-password-code", "", with(e.two, "email", "victim@example.com"))
		e.clock.Advance(time.Minute)
	}
	r := e.post("/api/v1/send-reset-password-code", with(e.two, "email", "victim@example.com"))
	if r.status != 429 {
		t.Fatalf("an unknown source after the hour's budget: got %s, want 429", r)
	}
	want(t, e.doWith(home, "POST", "/api/v1/send-reset-password-code", "", with(e.two, "email", "victim@example.com")), 200)
	if n := e.mailsTo("victim@example.com"); n != 3+5+1 {
		t.Errorf("got %d mails to the owner, want 9 (signup code, notice, login code, 5 resets, 1 reset for the known source)", n)
	}
}

// TestThrottlingIsAuditedOncePerMinute: a flood of refusals writes one event
// per source and reason a minute, which counts them.
func TestThrottlingIsAuditedOncePerMinute(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.IPFailureLimit = 1 })
	want(t, e.loginWith(e.none, "flood@example.com", "wrong password"), 401)
	for range 50 {
		want(t, e.loginWith(e.none, "flood@example.com", "wrong password"), 429)
	}
	if got := throttledEvents(t, e); len(got) != 1 || got[0].Count != 1 {
		t.Fatalf("after 50 refusals in a minute: got events %+v, want one counting 1", got)
	}
	e.clock.Advance(11 * time.Minute)
	want(t, e.loginWith(e.none, "flood@example.com", "wrong password"), 401)
	want(t, e.loginWith(e.none, "flood@example.com", "wrong password"), 429)
	got := throttledEvents(t, e)
	if len(got) != 2 || got[0].Count != 50 {
		t.Errorf("got events %+v, want a second one counting itself and the 49 not yet counted", got)
	}
}

func throttledEvents(t *testing.T, e *env) []ihoprauth.Event {
	t.Helper()
	events, err := e.auth.Events(context.Background(), time.Time{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []ihoprauth.Event
	for _, ev := range events {
		if ev.Kind == ihoprauth.EventThrottled {
			out = append(out, ev)
		}
	}
	return out
}

// TestEventsExpireAfter90Days: Cleanup deletes events older than the
// default retention and keeps the rest.
func TestEventsExpireAfter90Days(t *testing.T) {
	e := newEnv(t)
	e.signupNone("old@example.com")
	before := countEvents(t, e, ihoprauth.EventSignup)
	e.clock.Advance(91 * 24 * time.Hour)
	e.signupNone("new@example.com")
	if _, err := e.auth.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := countEvents(t, e, ihoprauth.EventSignup); before != 1 || got != 1 {
		t.Errorf("signup events: got %d before and %d after Cleanup, want 1 and 1", before, got)
	}
}

// TestNewDeviceFinishesATwoStepLoginUnderAttack: on an account over its
// failure ceiling, an unknown source's login takes its one attempt of the
// minute, and the code that login mailed is still taken at once.
func TestNewDeviceFinishesATwoStepLoginUnderAttack(t *testing.T) {
	e := newEnv(t, fromProxy, func(c *ihoprauth.Config) { c.AccountFailureCeiling = 10 })
	want(t, e.post("/api/v1/signup", signupBody(e.two, "two-under@example.com")), 200)
	e.awaitMail("two-under@example.com")
	for i := range 10 {
		want(t, e.loginFrom(source(fmt.Sprintf("203.0.113.%d", i+1)), e.two, "two-under@example.com", "wrong password"), 401)
	}
	e.clock.Advance(2 * time.Minute) // past the signup code's mail interval
	newDevice := source("198.51.100.77")
	login := e.loginFrom(newDevice, e.two, "two-under@example.com", goodPassword)
	want(t, login, 200)
	want(t, e.doWith(newDevice, "POST", "/api/v1/two-step-auth-code", "", with(e.two, "two_step_auth_token",
		login.str("two_step_auth_token"), "two_step_auth_code", e.mailedCode("two-under@example.com"))), 200)
}

// TestCeilingHoldsUnderConcurrency: once an account is over its failure
// ceiling, concurrent guesses from unknown sources get about one checked
// attempt each, however many each sends at once: the ceiling is checked
// again when a guess takes its hash slot.
func TestCeilingHoldsUnderConcurrency(t *testing.T) {
	const ceiling, sources, each, hashSlots = 10, 30, 4, 2
	e := newEnv(t, fromProxy, func(c *ihoprauth.Config) {
		c.AccountFailureCeiling, c.MaxConcurrentHashes = ceiling, hashSlots
	})
	e.signupNone("ceiling@example.com")
	rs := burst(sources*each, func(i int) resp {
		return e.loginFrom(source(fmt.Sprintf("203.0.113.%d", i%sources+1)), e.none, "ceiling@example.com", "wrong password")
	})
	if checked, most := countStatus(rs, 401), ceiling+sources+hashSlots; checked > most {
		t.Errorf("got %d guesses checked, want at most %d (the ceiling, one a source, the hashes in flight)", checked, most)
	}
}

// TestDeviceCookieIsSecureBehindTLS: the device cookie is Secure when the
// client came over TLS, as a trusted proxy reports it, and not on plain
// http (where a browser would drop a Secure cookie).
func TestDeviceCookieIsSecureBehindTLS(t *testing.T) {
	e := newEnv(t, fromProxy)
	e.signupNone("tls@example.com")
	tests := []struct {
		name  string
		proto string
		want  bool
	}{
		{"plain http", "", false},
		{"TLS at the proxy", "https", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := source("198.51.100.90")
			if tt.proto != "" {
				hdr.Set("X-Forwarded-Proto", tt.proto)
			}
			r := e.loginFrom(hdr, e.none, "tls@example.com", goodPassword)
			want(t, r, 200)
			if c := deviceCookie(t, r); c.Secure != tt.want {
				t.Errorf("Secure: got %v, want %v", c.Secure, tt.want)
			}
		})
	}
}

// TestNeighbourCannotLockAKnownDevice: a stranger behind the owner's
// address (a NAT) who guesses wrong locks that address on the account, but
// not the owner's known device there; the device's own wrong guesses lock
// the device, and its right password clears only its own failures.
func TestNeighbourCannotLockAKnownDevice(t *testing.T) {
	e := newEnv(t, fromProxy)
	e.signupNone("nat@example.com")
	nat := "198.51.100.60"
	first := e.loginFrom(source(nat), e.none, "nat@example.com", goodPassword)
	want(t, first, 200)
	device := deviceCookie(t, first)

	for range 5 {
		want(t, e.loginFrom(source(nat), e.none, "nat@example.com", "a neighbour's guess"), 401)
	}
	want(t, e.loginFrom(source(nat), e.none, "nat@example.com", goodPassword), 429)
	want(t, e.loginFrom(source(nat, device), e.none, "nat@example.com", goodPassword), 200)
	want(t, e.loginFrom(source(nat), e.none, "nat@example.com", goodPassword), 429) // still locked

	for range 5 {
		want(t, e.loginFrom(source(nat, device), e.none, "nat@example.com", "the owner's typo"), 401)
	}
	want(t, e.loginFrom(source(nat, device), e.none, "nat@example.com", goodPassword), 429)
	e.clock.Advance(31 * time.Second)
	want(t, e.loginFrom(source(nat, device), e.none, "nat@example.com", goodPassword), 200)
}

// TestKnownDevicePassesASpentCap: a neighbour behind the owner's NAT who
// spends the address's failure cap shuts out every request from it but
// the owner's known device, which still logs in, with its password or
// its mailed code, exchanges the code and refreshes. A device known only
// to another account, a forged cookie and the owner's known address do
// not pass, and what they try is answered by the cap's 429 whether it was
// right or wrong.
func TestKnownDevicePassesASpentCap(t *testing.T) {
	e := newEnv(t, fromProxy, func(c *ihoprauth.Config) { c.IPFailureLimit = 5 })
	nat := "198.51.100.70"
	e.signupNone("owner@example.com")
	first := e.loginFrom(source(nat), e.none, "owner@example.com", goodPassword)
	want(t, first, 200)
	owner := deviceCookie(t, first)
	signup := e.doWith(source(nat), "POST", "/api/v1/signup", "", signupBody(e.two, "owner@example.com"))
	want(t, signup, 200)
	want(t, e.doWith(source(nat, owner), "POST", "/api/v1/two-step-auth-code", "", with(e.two, "two_step_auth_token",
		signup.str("two_step_auth_token"), "two_step_auth_code", e.mailedCode("owner@example.com"))), 200)
	e.signupNone("mallory@example.com")
	elsewhere := e.loginFrom(source("203.0.113.90"), e.none, "mallory@example.com", goodPassword)
	want(t, elsewhere, 200)
	mallory := deviceCookie(t, elsewhere)

	for range 5 { // the neighbour spends the cap on somebody else's account
		want(t, e.loginFrom(source(nat), e.none, "someone@example.com", "a guess"), 401)
	}
	refused := func(r resp) {
		t.Helper()
		want(t, r, 429)
		if !strings.Contains(r.str("message"), "your address") {
			t.Errorf("got %s, want the cap's 429", r)
		}
	}
	forged := &http.Cookie{Name: owner.Name, Value: strings.Repeat("0", 32) + "." + strings.Repeat("0", 64)}
	for _, hdr := range []http.Header{source(nat), source(nat, mallory), source(nat, forged)} {
		refused(e.loginFrom(hdr, e.none, "owner@example.com", goodPassword))
		refused(e.loginFrom(hdr, e.none, "owner@example.com", "a guess"))
		refused(e.doWith(hdr, "POST", "/api/v1/api-tauth-token", "", with(e.none, "code", "a guessed code")))
	}

	// The owner's device: a password login, its code, a refresh.
	login := e.loginFrom(source(nat, owner), e.none, "owner@example.com", goodPassword)
	want(t, login, 200)
	tokens := e.doWith(source(nat, owner), "POST", "/api/v1/api-tauth-token", "", with(e.none, "code", login.str("code")))
	want(t, tokens, 200)
	refreshed := e.doWith(source(nat, owner), "POST", "/api/v1/refresh-token", "",
		with(e.none, "refresh_token", tokens.str("refresh_token")))
	want(t, refreshed, 200)
	// The same refresh token from the neighbour is refused by the cap.
	refused(e.doWith(source(nat), "POST", "/api/v1/refresh-token", "",
		with(e.none, "refresh_token", tokens.str("refresh_token"))))
	// A request past the cap changes nothing before its device passes: the
	// used code, which would revoke what it issued, leaves the tokens be.
	refused(e.doWith(source(nat, mallory), "POST", "/api/v1/api-tauth-token", "", with(e.none, "code", login.str("code"))))
	want(t, e.do("GET", "/api/v1/user", refreshed.str("access_token"), nil), 200)

	// A two-step login: the mailed code passes too.
	two := e.loginFrom(source(nat, owner), e.two, "owner@example.com", goodPassword)
	want(t, two, 200)
	want(t, e.doWith(source(nat, owner), "POST", "/api/v1/two-step-auth-code", "", with(e.two, "two_step_auth_token",
		two.str("two_step_auth_token"), "two_step_auth_code", e.mailedCode("owner@example.com"))), 200)

	// The device's own guesses are answered, and lock it, not the cap.
	for range 5 {
		want(t, e.loginFrom(source(nat, owner), e.none, "owner@example.com", "the owner's typo"), 401)
	}
	want(t, e.loginFrom(source(nat, owner), e.none, "owner@example.com", goodPassword), 429)
	e.clock.Advance(31 * time.Second)
	want(t, e.loginFrom(source(nat, owner), e.none, "owner@example.com", goodPassword), 200)

	e.clock.Advance(10 * time.Minute) // the cap's window ends
	want(t, e.loginFrom(source(nat), e.none, "owner@example.com", goodPassword), 200)
}

// sourceReads counts the store's reads of known sources.
type sourceReads struct {
	ihoprauth.Store
	n atomic.Int32
}

func (s *sourceReads) SourceLastSeen(ctx context.Context, account, source string) (time.Time, error) {
	s.n.Add(1)
	return s.Store.SourceLastSeen(ctx, account, source)
}

// TestALoginReadsItsSourcesOnce: the checks of one login (the pair's lock,
// the account's ceiling, the recheck once a hash slot is taken, clearing
// the pair) read whether its device and its address are known once each,
// not once per check; and what the login makes known it knows after.
func TestALoginReadsItsSourcesOnce(t *testing.T) {
	st := &sourceReads{Store: newStoreForTest(t)}
	e := buildEnv(t, st, nil, fromProxy)
	e.signupNone("once@example.com")
	first := e.loginFrom(source("198.51.100.80"), e.none, "once@example.com", goodPassword)
	want(t, first, 200)
	device := deviceCookie(t, first)

	st.n.Store(0)
	want(t, e.loginFrom(source("198.51.100.80", device), e.none, "once@example.com", goodPassword), 200)
	if got := st.n.Load(); got != 1 {
		t.Errorf("a login with a known device read known sources %d times, want 1 (the device)", got)
	}
	st.n.Store(0)
	want(t, e.loginFrom(source("198.51.100.81"), e.none, "once@example.com", goodPassword), 200)
	if got := st.n.Load(); got != 1 {
		t.Errorf("a login from a new address read known sources %d times, want 1 (the address)", got)
	}
}
