package ihoprauth_test

import (
	"strings"
	"testing"
)

// checkErrorShape checks the one error shape of the API.
func checkErrorShape(t *testing.T, r resp) {
	t.Helper()
	if r.str("status") != "error" || r.str("message") == "" {
		t.Errorf("got %s, want {\"status\":\"error\",\"message\":...}", r)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("got Content-Type %q, want application/json; charset=utf-8", ct)
	}
	if _, has := r.body["errors"]; has && r.status != 422 {
		t.Errorf("got errors in a %d answer, want them only for 422: %s", r.status, r)
	}
}

func TestErrorStatuses(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("err@example.com")
	big := `{"email":"` + strings.Repeat("a", 70<<10) + `"}`
	cases := []struct {
		name, method, path, token, ctype, body string
		status                                 int
		field                                  string // for 422: the field named in errors
	}{
		{"malformed JSON", "POST", "/api/v1/login", "", "application/json", `{"client_id":`, 400, ""},
		{"JSON array", "POST", "/api/v1/login", "", "application/json", `["client_id"]`, 400, ""},
		{"duplicate key", "POST", "/api/v1/login", "", "application/json", `{"email":"a@b.c","email":"x@y.z"}`, 400, ""},
		{"trailing data", "POST", "/api/v1/login", "", "application/json", `{"email":"a@b.c"} {}`, 400, ""},
		{"invalid UTF-8", "POST", "/api/v1/login", "", "application/json", "{\"email\":\"\xff\"}", 400, ""},
		{"duplicate form key", "POST", "/api/v1/login", "", "application/x-www-form-urlencoded", "email=a&email=b", 400, ""},
		{"unknown client", "POST", "/api/v1/login", "", "application/json",
			`{"client_id":"nope","client_secret":"x","email":"a@example.com","password":"whatever123"}`, 401, ""},
		{"wrong client secret", "POST", "/api/v1/login", "", "application/json",
			`{"client_id":"web-none","client_secret":"x","email":"a@example.com","password":"whatever123"}`, 401, ""},
		{"wrong password", "POST", "/api/v1/login", "", "application/json",
			`{"client_id":"web-none","client_secret":"none-secret-0123456789","email":"err@example.com","password":"wrong one!"}`, 401, ""},
		{"no token", "GET", "/api/v1/user", "", "", "", 401, ""},
		{"bad token", "GET", "/api/v1/user", "deadbeef", "", "", 401, ""},
		{"role raise", "PUT", "/api/v1/user/update/role", tok, "application/json", `{"role":"admin"}`, 403, ""},
		{"unknown route", "GET", "/api/v1/nope", "", "", "", 404, ""},
		{"wrong method", "GET", "/api/v1/login", "", "", "", 405, ""},
		{"too large", "POST", "/api/v1/login", "", "application/json", big, 413, ""},
		{"unsupported type", "POST", "/api/v1/login", "", "text/plain", "email=a", 415, ""},
		{"missing email", "POST", "/api/v1/login", "", "application/json",
			`{"client_id":"web-none","client_secret":"none-secret-0123456789"}`, 422, "email"},
		{"bad email", "POST", "/api/v1/login", "", "application/json",
			`{"client_id":"web-none","client_secret":"none-secret-0123456789","email":"not an email"}`, 422, "email"},
		{"email of wrong type", "POST", "/api/v1/login", "", "application/json",
			`{"client_id":"web-none","client_secret":"none-secret-0123456789","email":42}`, 422, "email"},
		{"code not six digits", "POST", "/api/v1/otp-code", "", "application/json", `{"otp_code":"12345x","otp_token":"t"}`, 422, "otp_code"},
		{"code as bool", "POST", "/api/v1/otp-code", "", "application/json", `{"otp_code":true,"otp_token":"t"}`, 422, "otp_code"},
		{"mobile as float", "POST", "/api/v1/signup", "", "application/json",
			`{"client_id":"web-none","client_secret":"none-secret-0123456789","email":"f@example.com","password":"Correct horse battery 9","first_name":"a","last_name":"b","mobile_number":1.5}`, 422, "mobile_number"},
		{"common password", "POST", "/api/v1/signup", "", "application/json",
			`{"client_id":"web-none","client_secret":"none-secret-0123456789","email":"f@example.com","password":"123456","first_name":"a","last_name":"b","mobile_number":1}`, 422, "password"},
		{"password123", "POST", "/api/v1/signup", "", "application/json",
			`{"client_id":"web-none","client_secret":"none-secret-0123456789","email":"f@example.com","password":"password123","first_name":"a","last_name":"b","mobile_number":1}`, 422, "password"},
		{"control character in name", "POST", "/api/v1/signup", "", "application/json",
			`{"client_id":"web-none","client_secret":"none-secret-0123456789","email":"f@example.com","password":"Correct horse battery 9","first_name":"a\r\nBcc: x@y.z","last_name":"b","mobile_number":1}`, 422, "first_name"},
		{"NUL in meta", "POST", "/api/v1/signup", "", "application/json",
			`{"client_id":"web-none","client_secret":"none-secret-0123456789","email":"nul@example.com","password":"Correct horse battery 9","first_name":"a","last_name":"b","mobile_number":1,"meta":"a\u0000b"}`, 422, "meta"},
		{"taken email in none project", "POST", "/api/v1/signup", "", "application/json",
			`{"client_id":"web-none","client_secret":"none-secret-0123456789","email":"ERR@example.com","password":"Correct horse battery 9","first_name":"a","last_name":"b","mobile_number":1}`, 422, "email"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r resp
			if c.body == "" {
				r = e.send(c.method, c.path, c.token, c.ctype, nil)
			} else {
				r = e.send(c.method, c.path, c.token, c.ctype, strings.NewReader(c.body))
			}
			if r.status != c.status {
				t.Fatalf("got %s, want status %d", r, c.status)
			}
			checkErrorShape(t, r)
			if c.field != "" {
				errs := r.obj("errors")
				if msgs, ok := errs[c.field].([]any); !ok || len(msgs) == 0 {
					t.Errorf("got errors %v, want a message for %s", errs, c.field)
				}
			}
		})
	}
}

func TestBearerFailuresCarryWWWAuthenticate(t *testing.T) {
	e := newEnv(t)
	none := e.send("GET", "/api/v1/user", "", "", nil)
	if got := none.header.Get("WWW-Authenticate"); got != "Bearer" {
		t.Errorf("no token: got WWW-Authenticate %q, want Bearer", got)
	}
	bad := e.send("GET", "/hello", "0123", "", nil)
	if got := bad.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` || bad.status != 401 {
		t.Errorf("bad token on the app's route: got %d %q, want 401 Bearer error=\"invalid_token\"", bad.status, got)
	}
	checkErrorShape(t, bad)
}

func TestWrongMethodListsAllowed(t *testing.T) {
	e := newEnv(t)
	r := e.send("DELETE", "/api/v1/user/update", "", "", nil)
	if r.status != 405 || r.header.Get("Allow") != "PUT" {
		t.Errorf("got %d Allow %q, want 405 with Allow: PUT", r.status, r.header.Get("Allow"))
	}
}

func TestUnknownEmailLooksLikeWrongPassword(t *testing.T) {
	e := newEnv(t)
	e.signupNone("known@example.com")
	wrong := e.post("/api/v1/login", with(e.none, "email", "known@example.com", "password", "not the password"))
	unknown := e.post("/api/v1/login", with(e.none, "email", "nobody@example.com", "password", "not the password"))
	if wrong.status != 401 || wrong.raw != unknown.raw || wrong.status != unknown.status {
		t.Errorf("got %s and %s, want the same 401 for a wrong password and an unknown email", wrong, unknown)
	}
}

func TestServerErrorShowsNoInternals(t *testing.T) {
	e := newEnv(t)
	db, err := e.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := e.post("/api/v1/login", with(e.none, "email", "a@example.com", "password", goodPassword))
	if r.status != 500 || r.str("message") != "Server error." || strings.Contains(strings.ToLower(r.raw), "sql") {
		t.Errorf("got %s, want a 500 with the plain message only", r)
	}
	if len(e.errs.all()) == 0 {
		t.Error("got no error reported to OnError, want the database failure")
	}
}

// TestDecodeMessagesSayWhatIsWrong checks that a body that is not JSON at
// all is told so, apart from JSON that is not an object, and that a field
// that takes a number says so when it gets another type.
func TestDecodeMessagesSayWhatIsWrong(t *testing.T) {
	e := newEnv(t)
	for body, want := range map[string]string{
		`not json`:      "The request body is not valid JSON (near byte 0).",
		`{"email":`:     "The request body is not valid JSON (near byte 9).",
		`["client_id"]`: "The request body must be a JSON object.",
	} {
		r := e.send("POST", "/api/v1/login", "", "application/json", strings.NewReader(body))
		if r.status != 400 || r.str("message") != want {
			t.Errorf("body %s: got %s, want 400 %q", body, r, want)
		}
	}
	signup := func(mobile string) resp {
		return e.send("POST", "/api/v1/signup", "", "application/json", strings.NewReader(
			`{"client_id":"web-none","client_secret":"none-secret-0123456789","email":42,"password":"Correct horse battery 9","first_name":"a","last_name":"b","mobile_number":`+mobile+`}`))
	}
	r := signup("true")
	want(t, r, 422)
	for field, msg := range map[string]string{"mobile_number": "The mobile_number must be a string or a number.", "email": "The email must be a string."} {
		if msgs, _ := r.obj("errors")[field].([]any); len(msgs) == 0 || msgs[0] != msg {
			t.Errorf("errors.%s: got %v, want %q", field, r.obj("errors")[field], msg)
		}
	}
}
