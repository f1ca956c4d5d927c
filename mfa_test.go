package ihoprauth_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
)

// step is one TOTP time step.
const step = 30 * time.Second

var recoveryShape = regexp.MustCompile(`^[a-z2-7]{4}(-[a-z2-7]{4}){3}$`)

// enrolTOTP sets up an authenticator app for the user of tok and returns
// its secret and the recovery codes. The clock stays where it is: the
// confirming code's step is spent, so tests move the clock a step on
// before they need a fresh code.
func (e *env) enrolTOTP(tok string) (secret string, recovery []string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/user/mfa/totp", tok, nil)
	want(e.t, r, 200)
	secret = r.str("secret")
	r = e.do("POST", "/api/v1/user/mfa/totp/confirm", tok, map[string]any{"totp_code": e.totp(secret)})
	want(e.t, r, 200)
	for _, c := range r.body["recovery_codes"].([]any) {
		recovery = append(recovery, c.(string))
	}
	return secret, recovery
}

// totp is the code an authenticator app with secret shows now.
func (e *env) totp(secret string) string {
	e.t.Helper()
	code, err := ihoprauth.TOTPCode(secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

// loginMFA logs email in to the none project and returns the mfa_token,
// failing unless the answer is the second step's.
func (e *env) loginMFA(email string) string {
	e.t.Helper()
	r := e.post("/api/v1/login", with(e.none, "email", email, "password", goodPassword))
	want(e.t, r, 200)
	if r.str("mfa_token") == "" || r.body["code"] != nil {
		e.t.Fatalf("got %s, want an mfa_token and no code", r)
	}
	return r.str("mfa_token")
}

func (e *env) mfaCode(token string, kv ...any) resp {
	e.t.Helper()
	return e.post("/api/v1/mfa-code", with(map[string]any{"mfa_token": token}, kv...))
}

func TestTOTPEnrolment(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("enrol@example.com")
	want(t, e.do("POST", "/api/v1/user/mfa/totp", "", nil), 401)

	r := e.do("POST", "/api/v1/user/mfa/totp", tok, nil)
	want(t, r, 200)
	secret := r.str("secret")
	if len(secret) != 32 {
		t.Errorf("got a secret of %d base32 characters, want 32 (160 bits)", len(secret))
	}
	uri, err := url.Parse(r.str("otpauth_uri"))
	if err != nil || uri.Scheme != "otpauth" || uri.Host != "totp" || uri.Query().Get("secret") != secret ||
		uri.Query().Get("issuer") != "web-none" || !strings.Contains(uri.Path, "enrol@example.com") {
		t.Errorf("got otpauth_uri %q, want otpauth://totp/ with the secret, issuer web-none and the email", r.str("otpauth_uri"))
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.str("qr_code"), "data:image/png;base64,"))
	if err != nil {
		t.Fatalf("qr_code: %v", err)
	}
	if img, err := png.Decode(bytes.NewReader(raw)); err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("qr_code: got %v, want a PNG image", err)
	}

	r = e.do("GET", "/api/v1/user/mfa", tok, nil)
	want(t, r, 200)
	if fs := r.body["factors"].([]any); len(fs) != 1 || fs[0].(map[string]any)["confirmed"] != false {
		t.Errorf("got factors %v, want one unconfirmed", r.body["factors"])
	}
	t.Run("an unconfirmed factor does not count at login", func(t *testing.T) {
		r := e.post("/api/v1/login", with(e.none, "email", "enrol@example.com", "password", goodPassword))
		if r.status != 200 || r.str("code") == "" || r.body["mfa_token"] != nil {
			t.Errorf("got %s, want the code at once", r)
		}
	})
	wrong := map[string]any{"totp_code": nextCode(e.totp(secret))}
	r = e.do("POST", "/api/v1/user/mfa/totp/confirm", tok, wrong)
	want(t, r, 422)
	if r.obj("errors")["totp_code"] == nil {
		t.Errorf("got %s, want errors.totp_code", r)
	}

	r = e.do("POST", "/api/v1/user/mfa/totp/confirm", tok, map[string]any{"totp_code": e.totp(secret)})
	want(t, r, 200)
	codes := r.body["recovery_codes"].([]any)
	seen := map[string]bool{}
	for _, c := range codes {
		s := c.(string)
		if !recoveryShape.MatchString(s) || seen[s] {
			t.Errorf("got recovery code %q, want a new one shaped abcd-efgh-ijkl-mnop", s)
		}
		seen[s] = true
	}
	if len(codes) != 10 {
		t.Errorf("got %d recovery codes, want 10", len(codes))
	}
	want(t, e.do("POST", "/api/v1/user/mfa/totp", tok, nil), 409)
	want(t, e.do("POST", "/api/v1/user/mfa/totp/confirm", tok, map[string]any{"totp_code": e.totp(secret)}), 409)
	r = e.do("GET", "/api/v1/user/mfa", tok, nil)
	if fs := r.body["factors"].([]any); len(fs) != 1 || fs[0].(map[string]any)["confirmed"] != true || r.body["recovery_codes_left"] != 10.0 {
		t.Errorf("got %s, want one confirmed factor and 10 recovery codes", r)
	}

	t.Run("the secret is sealed at rest", func(t *testing.T) {
		var stored []byte
		if err := e.db.Raw("SELECT secret FROM ihoprauth_factors").Row().Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(bytes.ToUpper(stored), []byte(secret)) || bytes.Contains(stored, decodeBase32(t, secret)) {
			t.Errorf("the stored secret holds the plain secret")
		}
		for c := range seen {
			var n int
			e.db.Raw("SELECT COUNT(*) FROM ihoprauth_recovery_codes WHERE hash LIKE ?", "%"+strings.ReplaceAll(c, "-", "")+"%").Scan(&n)
			if n != 0 {
				t.Errorf("a recovery code is stored in plain text")
			}
		}
	})
}

// nextCode is a 6-digit code other than code.
func nextCode(code string) string {
	b := []byte(code)
	b[5] = '0' + (b[5]-'0'+1)%10
	return string(b)
}

func TestTOTPLogin(t *testing.T) {
	e := newEnv(t)
	const email = "totp@example.com"
	secret, _ := e.enrolTOTP(e.signupNone(email))
	e.clock.Advance(step)

	r := e.post("/api/v1/login", with(e.none, "email", email, "password", goodPassword))
	want(t, r, 200)
	if r.body["code"] != nil || r.str("project_type") != "none" || r.str("message") != "Second factor required." {
		t.Errorf("got %s, want the second step instead of the code", r)
	}
	if got := r.body["methods"]; !slices.Equal(anyStrings(got), []string{"totp", "recovery_code"}) {
		t.Errorf("got methods %v, want [totp recovery_code]", got)
	}
	if got, wantExp := r.str("mfa_expires_at"), e.clock.Now().Add(5*time.Minute).Format("2006-01-02 15:04:05"); got != wantExp {
		t.Errorf("got mfa_expires_at %q, want %q", got, wantExp)
	}
	token := r.str("mfa_token")

	for _, tt := range []struct {
		name string
		body map[string]any
	}{
		{"no proof", map[string]any{"mfa_token": token}},
		{"two proofs", map[string]any{"mfa_token": token, "totp_code": "123456", "recovery_code": "abcd-efgh-ijkl-mnop"}},
		{"no token", map[string]any{"totp_code": "123456"}},
		{"a code of five digits", map[string]any{"mfa_token": token, "totp_code": "12345"}},
	} {
		t.Run(tt.name, func(t *testing.T) { want(t, e.post("/api/v1/mfa-code", tt.body), 422) })
	}
	want(t, e.mfaCode(token, "totp_code", nextCode(e.totp(secret))), 401)
	code := e.totp(secret)
	r = e.mfaCode(token, "totp_code", code)
	want(t, r, 200)
	if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), ";"), "ihoprauth_device=") {
		t.Errorf("got Set-Cookie %q, want the device cookie of a completed login", r.header.Values("Set-Cookie"))
	}
	tok := e.exchange(e.none, r.str("code"), "").str("access_token")
	want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
	want(t, e.mfaCode(token, "totp_code", e.totp(secret)), 401) // the token is spent

	t.Run("a code works once within its window", func(t *testing.T) {
		want(t, e.mfaCode(e.loginMFA(email), "totp_code", code), 401)
		e.clock.Advance(step - time.Second) // the same code is still in the window
		want(t, e.mfaCode(e.loginMFA(email), "totp_code", code), 401)
		e.clock.Advance(time.Second)
		prev, _ := ihoprauth.TOTPCode(secret, e.clock.Now().Add(-2*step))
		want(t, e.mfaCode(e.loginMFA(email), "totp_code", prev), 401) // before the last one used
		want(t, e.mfaCode(e.loginMFA(email), "totp_code", e.totp(secret)), 200)
	})
	t.Run("the expired mfa_token", func(t *testing.T) {
		e.clock.Advance(step)
		token := e.loginMFA(email)
		e.clock.Advance(5*time.Minute + time.Second)
		want(t, e.mfaCode(token, "totp_code", e.totp(secret)), 401)
	})
	t.Run("PKCE is carried through the second step", func(t *testing.T) {
		pub := newEnv(t)
		verifier, challenge := pkcePair("mfa")
		r := pub.post("/api/v1/signup", signupBody(pub.public, "spa@example.com", "code_challenge", challenge))
		tok := pub.exchange(pub.public, r.str("code"), verifier).str("access_token")
		secret, _ := pub.enrolTOTP(tok)
		pub.clock.Advance(step)
		r = pub.post("/api/v1/login", with(pub.public, "email", "spa@example.com", "password", goodPassword, "code_challenge", challenge))
		want(t, r, 200)
		r = pub.mfaCode(r.str("mfa_token"), "totp_code", pub.totp(secret))
		want(t, r, 200)
		want(t, pub.post("/api/v1/api-tauth-token", with(pub.public, "code", r.str("code"))), 422)
		pub.exchange(pub.public, r.str("code"), verifier)
	})
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, s := range list {
		out[i], _ = s.(string)
	}
	return out
}

// TestTOTPAfterMailedCode checks that otp and two-step logins ask for the
// second factor after their mailed code, and not before it.
func TestTOTPAfterMailedCode(t *testing.T) {
	for _, tt := range []struct {
		name, tokenField, codeField, path string
		project                           func(e *env) map[string]any
	}{
		{"otp", "otp_token", "otp_code", "/api/v1/otp-code", func(e *env) map[string]any { return e.otp }},
		{"two-step", "two_step_auth_token", "two_step_auth_code", "/api/v1/two-step-auth-code", func(e *env) map[string]any { return e.two }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			email := tt.name + "@example.com"
			redeem := func(r resp) resp {
				want(t, r, 200)
				return e.post(tt.path, map[string]any{tt.codeField: e.mailedCode(email), tt.tokenField: r.str(tt.tokenField)})
			}
			r := redeem(e.post("/api/v1/signup", signupBody(tt.project(e), email)))
			want(t, r, 200)
			secret, _ := e.enrolTOTP(e.exchange(tt.project(e), r.str("code"), "").str("access_token"))
			e.clock.Advance(2 * time.Minute) // past the code-mail interval

			r = redeem(e.post("/api/v1/login", with(tt.project(e), "email", email, "password", goodPassword)))
			want(t, r, 200)
			if r.body["code"] != nil || r.str("mfa_token") == "" || r.str("project_type") != tt.name {
				t.Fatalf("got %s, want the second step of a %s login", r, tt.name)
			}
			r = e.mfaCode(r.str("mfa_token"), "totp_code", e.totp(secret))
			want(t, r, 200)
			e.exchange(tt.project(e), r.str("code"), "")
		})
	}
}

func TestRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	const email = "recover@example.com"
	tok := e.signupNone(email)
	secret, codes := e.enrolTOTP(tok)

	typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))
	r := e.mfaCode(e.loginMFA(email), "recovery_code", typed)
	want(t, r, 200)
	e.exchange(e.none, r.str("code"), "")
	if msg := e.awaitMail(email); msg.Kind != ihoprauth.MailRecoveryCodeUsed {
		t.Errorf("got a %s mail, want %s", msg.Kind, ihoprauth.MailRecoveryCodeUsed)
	}
	if n := countEvents(t, e, ihoprauth.EventRecoveryCodeUsed); n != 1 {
		t.Errorf("got %d %q events, want 1", n, ihoprauth.EventRecoveryCodeUsed)
	}
	want(t, e.mfaCode(e.loginMFA(email), "recovery_code", codes[0]), 401)
	if r := e.do("GET", "/api/v1/user/mfa", tok, nil); r.body["recovery_codes_left"] != 9.0 {
		t.Errorf("got %s, want 9 recovery codes left", r)
	}

	t.Run("a new set ends the old one", func(t *testing.T) {
		e.clock.Advance(11 * time.Minute) // past the step-up window of the login
		want(t, e.do("POST", "/api/v1/user/mfa/recovery-codes", tok, nil), 403)
		want(t, e.do("POST", "/api/v1/user/mfa/recovery-codes", tok, map[string]any{"totp_code": nextCode(e.totp(secret))}), 403)
		r := e.do("POST", "/api/v1/user/mfa/recovery-codes", tok, map[string]any{"totp_code": e.totp(secret)})
		want(t, r, 200)
		fresh := anyStrings(r.body["recovery_codes"])
		if len(fresh) != 10 || slices.Contains(fresh, codes[1]) {
			t.Fatalf("got %v, want 10 new codes", fresh)
		}
		want(t, e.mfaCode(e.loginMFA(email), "recovery_code", codes[1]), 401)
		want(t, e.mfaCode(e.loginMFA(email), "recovery_code", fresh[0]), 200)
	})
}

func TestFactorRemoval(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("remove@example.com")
	want(t, e.do("POST", "/api/v1/user/mfa/totp/remove", tok, map[string]any{"totp_code": "123456"}), 409)
	secret, _ := e.enrolTOTP(tok)
	e.clock.Advance(11 * time.Minute) // past the step-up window of the login

	want(t, e.do("POST", "/api/v1/user/mfa/totp/remove", "", map[string]any{"totp_code": e.totp(secret)}), 401)
	r := e.do("POST", "/api/v1/user/mfa/totp/remove", tok, nil)
	want(t, r, 403)
	if !strings.Contains(r.str("message"), "totp_code") {
		t.Errorf("got %s, want a message that says what to send", r)
	}
	want(t, e.do("POST", "/api/v1/user/mfa/totp/remove", tok, map[string]any{"totp_code": "123456", "recovery_code": "aaaa-bbbb-cccc-dddd"}), 422)
	want(t, e.do("POST", "/api/v1/user/mfa/totp/remove", tok, map[string]any{"totp_code": nextCode(e.totp(secret))}), 403)
	want(t, e.do("POST", "/api/v1/user/mfa/totp/remove", tok, map[string]any{"recovery_code": "aaaa-bbbb-cccc-dddd"}), 403)
	want(t, e.do("POST", "/api/v1/user/mfa/totp/remove", tok, map[string]any{"totp_code": e.totp(secret)}), 200)
	r = e.post("/api/v1/login", with(e.none, "email", "remove@example.com", "password", goodPassword))
	if r.status != 200 || r.str("code") == "" {
		t.Errorf("got %s, want the code at once once the factor is gone", r)
	}
	r = e.do("GET", "/api/v1/user/mfa", tok, nil)
	if len(r.body["factors"].([]any)) != 0 || r.body["recovery_codes_left"] != 0.0 {
		t.Errorf("got %s, want no factor and no recovery code", r)
	}

	t.Run("a recent login needs no factor", func(t *testing.T) {
		tok := e.signupNone("remove-recent@example.com")
		e.enrolTOTP(tok)
		e.clock.Advance(9 * time.Minute)
		want(t, e.do("POST", "/api/v1/user/mfa/totp/remove", tok, nil), 200)
	})
	t.Run("with a recovery code", func(t *testing.T) {
		tok := e.signupNone("remove-recovery@example.com")
		_, codes := e.enrolTOTP(tok)
		e.clock.Advance(11 * time.Minute)
		want(t, e.do("POST", "/api/v1/user/mfa/totp/remove", tok, map[string]any{"recovery_code": codes[3]}), 200)
		want(t, e.do("POST", "/api/v1/user/mfa/totp/remove", tok, map[string]any{"recovery_code": codes[4]}), 409)
	})
}

// TestWrongTOTPCodesThrottle checks that wrong codes lock the source out
// of the account like wrong mailed codes, and that neither a new mfa_token
// nor the right password in between gives new guesses.
func TestWrongTOTPCodesThrottle(t *testing.T) {
	e := newEnv(t)
	const email = "guess@example.com"
	secret, _ := e.enrolTOTP(e.signupNone(email))
	e.clock.Advance(step)

	first := e.loginMFA(email)
	for range 3 {
		want(t, e.mfaCode(first, "totp_code", nextCode(e.totp(secret))), 401)
	}
	second := e.loginMFA(email)
	for range 2 {
		want(t, e.mfaCode(second, "totp_code", nextCode(e.totp(secret))), 401)
	}
	r := e.mfaCode(second, "totp_code", e.totp(secret))
	want(t, r, 429)
	if r.header.Get("Retry-After") == "" {
		t.Errorf("got %s, want Retry-After", r)
	}
	want(t, e.post("/api/v1/login", with(e.none, "email", email, "password", goodPassword)), 429)
	if n := countEvents(t, e, ihoprauth.EventFactorFailed); n != 5 {
		t.Errorf("got %d %q events, want 5", n, ihoprauth.EventFactorFailed)
	}

	e.clock.Advance(31 * time.Second) // the first lock is 30 s
	want(t, e.mfaCode(e.loginMFA(email), "totp_code", e.totp(secret)), 200)
}

// TestTwoInstancesAgreeOnTOTPReplay runs two Auths on one database: a code
// used on one is refused on the other, and of concurrent uses across both
// exactly one wins.
func TestTwoInstancesAgreeOnTOTPReplay(t *testing.T) {
	for _, backend := range testdb.All() {
		t.Run(backend, func(t *testing.T) {
			db := testdb.Open(t, backend)
			a := newEnvOn(t, db, nil)
			b := newEnvOn(t, testdb.Reopen(t, db), a.mail)
			const email = "replay@example.com"
			secret, _ := a.enrolTOTP(a.signupNone(email))
			a.clock.Advance(step)
			b.clock.Advance(step)

			code := a.totp(secret)
			tb := b.loginMFA(email)
			want(t, a.mfaCode(a.loginMFA(email), "totp_code", code), 200)
			want(t, b.mfaCode(tb, "totp_code", code), 401)

			a.clock.Advance(step)
			b.clock.Advance(step)
			code = a.totp(secret)
			tokens := make([]string, 8)
			for i := range tokens {
				tokens[i] = []*env{a, b}[i%2].loginMFA(email)
			}
			next := make(chan int, len(tokens))
			for i := range tokens {
				next <- i
			}
			oks := race(t, len(tokens), func() resp {
				i := <-next
				return []*env{a, b}[i%2].mfaCode(tokens[i], "totp_code", code)
			})
			if len(oks) != 1 {
				t.Errorf("got %d successes of %d concurrent uses of one code, want 1", len(oks), len(tokens))
			}
		})
	}
}

func decodeBase32(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRequireFactorEndToEnd checks the assurance level the Auth tells
// authmw: a password login is aal1 and refused by RequireFactor, a login
// through mfa-code is aal2, and a refresh keeps it.
func TestRequireFactorEndToEnd(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.Handle("GET /strong", authmw.RequireFactor(e.auth)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		level, _ := authmw.AssuranceFrom(r.Context())
		io.WriteString(w, level.String())
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/strong", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}

	const email = "strong@example.com"
	weak := e.signupNone(email)
	if status, body := get(weak); status != 403 {
		t.Errorf("a password login: got %d %s, want 403", status, body)
	}
	secret, _ := e.enrolTOTP(weak)
	e.clock.Advance(step)
	r := e.mfaCode(e.loginMFA(email), "totp_code", e.totp(secret))
	want(t, r, 200)
	tokens := e.exchange(e.none, r.str("code"), "")
	if status, body := get(tokens.str("access_token")); status != 200 || body != "aal2" {
		t.Errorf("a login with a second factor: got %d %s, want 200 aal2", status, body)
	}
	r = e.post("/api/v1/refresh-token", with(e.none, "refresh_token", tokens.str("refresh_token")))
	want(t, r, 200)
	if status, body := get(r.str("access_token")); status != 200 || body != "aal2" {
		t.Errorf("after a refresh: got %d %s, want 200 aal2", status, body)
	}
	if status, _ := get(weak); status != 403 {
		t.Errorf("the earlier password login: got %d, want 403 still", status)
	}
}

// TestStepUp checks that a user with a second factor changes the password
// or the role only within StepUpWindow of the login or with a current
// factor, and that a user without one keeps today's rules.
func TestStepUp(t *testing.T) {
	e := newEnv(t)
	const email = "stepup@example.com"
	tok := e.signupNone(email)
	secret, codes := e.enrolTOTP(tok)
	password := func(tok, current, next string, kv ...any) resp {
		return e.do("PUT", "/api/v1/user/update", tok, with(map[string]any{"current_password": current, "password": next}, kv...))
	}
	want(t, password(tok, goodPassword, "A second passphrase 1"), 200) // within 10 minutes of the login

	e.clock.Advance(11 * time.Minute)
	r := password(tok, "A second passphrase 1", "A third passphrase 2")
	want(t, r, 403)
	if !strings.Contains(r.str("message"), "recent login") {
		t.Errorf("got %s, want a message that says what the change needs", r)
	}
	want(t, password(tok, "A second passphrase 1", "A third passphrase 2", "totp_code", nextCode(e.totp(secret))), 403)
	want(t, password(tok, "A second passphrase 1", "A third passphrase 2", "totp_code", e.totp(secret)), 200)

	u, err := e.auth.UserByEmail(context.Background(), "web-none", email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.SetRole(context.Background(), u.UserID, "admin"); err != nil {
		t.Fatal(err)
	}
	role := map[string]any{"role": "editor"}
	want(t, e.do("PUT", "/api/v1/user/update/role", tok, role), 403)
	want(t, e.do("PUT", "/api/v1/user/update/role", tok, with(role, "recovery_code", codes[0])), 200)
	want(t, e.do("PUT", "/api/v1/user/update", tok, map[string]any{"first_name": "Names need no step-up"}), 200)
	if n := countEvents(t, e, ihoprauth.EventStepUpRefused); n != 2 {
		t.Errorf("got %d %q events, want 2", n, ihoprauth.EventStepUpRefused)
	}

	t.Run("a fresh login with the second factor", func(t *testing.T) {
		e.clock.Advance(step)
		r := e.post("/api/v1/login", with(e.none, "email", email, "password", "A third passphrase 2"))
		want(t, r, 200)
		r = e.mfaCode(r.str("mfa_token"), "totp_code", e.totp(secret))
		want(t, r, 200)
		fresh := e.exchange(e.none, r.str("code"), "").str("access_token")
		want(t, password(fresh, "A third passphrase 2", "A fourth passphrase 3"), 200)
	})
	t.Run("users without a factor keep today's rules", func(t *testing.T) {
		tok := e.signupNone("no-factor@example.com")
		e.clock.Advance(time.Hour - time.Minute)
		want(t, password(tok, goodPassword, "A second passphrase 1"), 200)
	})
}
