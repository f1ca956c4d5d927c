package ihoprauth_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ihoprauth/ihoprauth"
)

var (
	plainTime   = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)
	createdTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
	hex32       = regexp.MustCompile(`^[0-9a-f]{32}$`)
	hex64       = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// checkTokenAnswer checks the documented shape of api-tauth-token.
func checkTokenAnswer(t *testing.T, r resp, email string) {
	t.Helper()
	u := r.obj("user")
	if r.str("status") != "success" || !hex64.MatchString(r.str("access_token")) || !hex64.MatchString(r.str("refresh_token")) {
		t.Errorf("got %s, want status success and two 64-hex tokens", r)
	}
	if got := r.str("expires_at"); got != "2026-03-17 12:43:58" {
		t.Errorf("got expires_at %q, want one hour after the clock, 2026-03-17 12:43:58", got)
	}
	if u["email"] != email || !hex32.MatchString(u["user_id"].(string)) || u["provider"] != "" {
		t.Errorf("got user %v, want email %s, a 32-hex user_id and provider \"\"", u, email)
	}
	if _, isNum := u["id"].(float64); !isNum {
		t.Errorf("got id %v, want a number", u["id"])
	}
	if !createdTime.MatchString(u["created_at"].(string)) || u["created_at"] != "2026-03-17T11:43:58.123456Z" {
		t.Errorf("got created_at %v, want 2026-03-17T11:43:58.123456Z", u["created_at"])
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("got Cache-Control %q, want no-store", cc)
	}
}

func TestNoneProjectFlow(t *testing.T) {
	e := newEnv(t)
	r := e.post("/api/v1/signup", signupBody(e.none, "ada@example.com", "meta", `{"address":"NJ"}`))
	want(t, r, 200)
	if r.str("message") != "Auth Code sent successfully" || r.str("project_type") != "none" || !hex32.MatchString(r.str("code")) {
		t.Fatalf("got %s, want the documented none answer with a 32-hex code", r)
	}
	tok := e.exchange(e.none, r.str("code"), "")
	checkTokenAnswer(t, tok, "ada@example.com")
	if got := tok.obj("user")["mobile_number"]; got != "11223344" {
		t.Errorf("got mobile_number %v, want the string 11223344", got)
	}
	if got := tok.obj("user")["meta"]; got != `{"address":"NJ"}` {
		t.Errorf("got meta %v, want the stored string", got)
	}

	u := e.do("GET", "/api/v1/user", tok.str("access_token"), nil)
	want(t, u, 200)
	if _, has := u.obj("user")["provider"]; has || u.obj("user")["email"] != "ada@example.com" {
		t.Errorf("got %s, want the user without provider", u)
	}
	if !strings.Contains(u.raw, `"user":{"id":`) {
		t.Errorf("got %s, want the fields in the documented order, id first", u.raw)
	}

	login := e.post("/api/v1/login", with(e.none, "email", "ADA@example.com ", "password", goodPassword))
	want(t, login, 200)
	if login.str("code") == "" || login.str("code") == r.str("code") {
		t.Errorf("got %s, want a new code", login)
	}
}

func TestTwoStepProjectFlow(t *testing.T) {
	e := newEnv(t)
	r := e.post("/api/v1/signup", signupBody(e.two, "grace@example.com"))
	want(t, r, 200)
	if r.str("message") != "Two Step Authentication code sent successfully." || r.str("project_type") != "two-step" ||
		!hex64.MatchString(r.str("two_step_auth_token")) || r.str("code") != "" {
		t.Fatalf("got %s, want the documented two-step answer", r)
	}
	code := e.mailedCode("grace@example.com")
	v := e.post("/api/v1/two-step-auth-code", map[string]any{"two_step_auth_code": code, "two_step_auth_token": r.str("two_step_auth_token")})
	want(t, v, 200)
	if len(v.body) != 2 || v.str("status") != "success" || !hex32.MatchString(v.str("code")) {
		t.Fatalf("got %s, want exactly status and code", v)
	}
	checkTokenAnswer(t, e.exchange(e.two, v.str("code"), ""), "grace@example.com")

	bad := e.post("/api/v1/login", with(e.two, "email", "grace@example.com", "password", "wrong password!"))
	want(t, bad, 401)
	login := e.post("/api/v1/login", with(e.two, "email", "grace@example.com", "password", goodPassword))
	want(t, login, 200)
	code = e.mailedCode("grace@example.com")
	v = e.post("/api/v1/two-step-auth-code", map[string]any{"two_step_auth_code": code, "two_step_auth_token": login.str("two_step_auth_token")})
	want(t, v, 200)
}

func TestOTPProjectFlow(t *testing.T) {
	e := newEnv(t)
	r := e.post("/api/v1/signup", with(e.otp, "email", "kj@example.com", "first_name", "Katherine",
		"last_name", "Johnson", "mobile_number", "(123) 456-78"))
	want(t, r, 200)
	if r.str("message") != "OTP code sent successfully." || r.str("project_type") != "otp" || !hex64.MatchString(r.str("otp_token")) {
		t.Fatalf("got %s, want the documented otp answer", r)
	}
	code := e.mailedCode("kj@example.com")
	v := e.post("/api/v1/otp-code", map[string]any{"otp_code": code, "otp_token": r.str("otp_token")})
	want(t, v, 200)
	tok := e.exchange(e.otp, v.str("code"), "")
	checkTokenAnswer(t, tok, "kj@example.com")
	if got := tok.obj("user")["mobile_number"]; got != "(123) 456-78" {
		t.Errorf("got mobile_number %v, want (123) 456-78", got)
	}

	login := e.post("/api/v1/login", with(e.otp, "email", "kj@example.com"))
	want(t, login, 200)
	code = e.mailedCode("kj@example.com")
	v = e.post("/api/v1/otp-code", map[string]any{"otp_code": code, "otp_token": login.str("otp_token")})
	want(t, v, 200)
}

func TestCodesAsNumbersKeepLeadingZeros(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) { c.CodeMailsPerIPPerHour = 100 })
	// Sign up until a mailed code starts with 0, then send it as a JSON
	// number, as the document types it; try the other codes as numbers too.
	for i := 0; i < 60; i++ {
		email := "zero" + strings.Repeat("x", i) + "@example.com"
		r := e.post("/api/v1/signup", with(e.otp, "email", email, "first_name", "Z", "last_name", "Z", "mobile_number", 1))
		want(t, r, 200)
		code := e.mailedCode(email)
		num := strings.TrimLeft(code, "0")
		if num == "" {
			num = "0"
		}
		v := e.post("/api/v1/otp-code", `{"otp_code":`+num+`,"otp_token":"`+r.str("otp_token")+`"}`)
		want(t, v, 200)
		if code[0] == '0' {
			return
		}
	}
	t.Log("no code with a leading zero in 60 tries; numbers were still accepted")
}

func TestFormBodies(t *testing.T) {
	e := newEnv(t)
	form := "client_id=web-none&client_secret=none-secret-0123456789&email=form%40example.com&password=" +
		strings.ReplaceAll(goodPassword, " ", "+") + "&first_name=F&last_name=L&mobile_number=5550100"
	r := e.send("POST", "/api/v1/signup", "", "application/x-www-form-urlencoded", strings.NewReader(form))
	want(t, r, 200)
	tok := e.send("POST", "/api/v1/api-tauth-token", "", "application/x-www-form-urlencoded",
		strings.NewReader("client_id=web-none&client_secret=none-secret-0123456789&code="+r.str("code")))
	want(t, tok, 200)
	checkTokenAnswer(t, tok, "form@example.com")
}

func TestUpdateUser(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("up@example.com")
	e.clock.Advance(90 * 1e9)
	r := e.do("PUT", "/api/v1/user/update", tok, map[string]any{"first_name": "New", "last_name": "Lovelace", "mobile_number": "1122334455"})
	want(t, r, 200)
	upd := r.obj("updated")
	if len(upd) != 3 || upd["first_name"] != "New" || upd["mobile_number"] != "1122334455" || upd["updated_at"] != "2026-03-17 11:45:28" {
		t.Errorf("got updated %v, want first_name, mobile_number and updated_at only (last_name did not change)", upd)
	}
	if r.obj("user")["first_name"] != "New" {
		t.Errorf("got %s, want the new first_name in user", r)
	}
	again := e.do("GET", "/api/v1/user", tok, nil)
	if again.obj("user")["first_name"] != "New" || again.obj("user")["mobile_number"] != "1122334455" {
		t.Errorf("got %s, want the update stored", again)
	}
	meta := e.do("PUT", "/api/v1/user/update", tok, map[string]any{"meta": map[string]any{"k": 1}})
	want(t, meta, 200)
	if meta.obj("updated")["meta"] != `{"k":1}` || meta.obj("user")["meta"] != `{"k":1}` {
		t.Errorf("got %s, want meta kept as JSON text", meta)
	}
	hello := e.do("GET", "/hello", tok, nil)
	if hello.status != 200 || hello.raw != "hello up@example.com" {
		t.Errorf("got %s, want the protected route to see the user", hello)
	}
}
