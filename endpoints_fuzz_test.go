package ihoprauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/store"
)

var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/api/v1/login"}, {"POST", "/api/v1/signup"}, {"POST", "/api/v1/otp-code"},
	{"POST", "/api/v1/two-step-auth-code"}, {"POST", "/api/v1/send-reset-password-code"},
	{"POST", "/api/v1/reset-password"}, {"POST", "/api/v1/api-tauth-token"}, {"GET", "/api/v1/user"},
	{"PUT", "/api/v1/user/update"}, {"PUT", "/api/v1/user/update/role"}, {"POST", "/api/v1/refresh-token"},
	{"POST", "/api/v1/logout"},
}

// FuzzEndpoints sends any body, JSON or form, to every endpoint of a real
// Auth on SQLite, with and without a valid bearer token: no input may
// panic or get a 5xx, and every answer is JSON in the API's shape.
func FuzzEndpoints(f *testing.F) {
	auth, token := fuzzAuth(f)
	seeds := []string{
		`{"client_id":"fz","client_secret":"fuzz-secret-0123456789","email":"f@example.com","password":"Fuzzing pass 1234"}`,
		`{"client_id":"fz","client_secret":"fuzz-secret-0123456789","email":"g@example.com","password":"Fuzzing pass 1234","first_name":"F","last_name":"Z","mobile_number":1,"meta":{"x":1}}`,
		`{"otp_code":123456,"otp_token":"x","two_step_auth_code":"012345","two_step_auth_token":"y"}`,
		`{"first_name":"New","role":"admin","password":"Another pass 1234","current_password":"Fuzzing pass 1234"}`,
		`{"code":"00112233445566778899aabbccddeeff","code_verifier":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","client_id":"fz"}`,
		`{"refresh_token":"` + token + `","all":true}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), false, true, []byte(s))
		f.Add(uint8(i+6), true, true, []byte(s))
	}
	f.Add(uint8(0), false, false, []byte("client_id=fz&email=a%40b.c&password=x"))
	f.Fuzz(func(t *testing.T, route uint8, bearer, isJSON bool, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", map[bool]string{true: "application/json", false: "application/x-www-form-urlencoded"}[isJSON])
		if bearer {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		auth.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: got %d %s, want no 5xx", rt.method, rt.path, rec.Code, rec.Body)
		}
		var shape struct{ Status string }
		if err := json.Unmarshal(rec.Body.Bytes(), &shape); err != nil || (shape.Status != "success" && shape.Status != "error") {
			t.Fatalf("%s %s: got %q, want JSON with status success or error", rt.method, rt.path, rec.Body)
		}
	})
}

// fuzzAuth is an Auth on a fresh SQLite store with a none project and one
// signed-in user, whose access token it returns.
func fuzzAuth(f *testing.F) (*ihoprauth.Auth, string) {
	st, err := store.New(context.Background(), testdb.Open(f, testdb.SQLite), store.Config{})
	if err != nil {
		f.Fatal(err)
	}
	auth, err := ihoprauth.New(context.Background(), st, &mailer.Recorder{}, ihoprauth.Config{
		Argon2: ihoprauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}, MailAttempts: 1,
		Logger: (&env{}).quietLogger(), OnError: func(context.Context, error) {},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { auth.Close(context.Background()) })
	ctx := context.Background()
	if _, err := auth.SaveProject(ctx, ihoprauth.ProjectSpec{ClientID: "fz", ClientSecret: "fuzz-secret-0123456789", Type: ihoprauth.TypeNone}); err != nil {
		f.Fatal(err)
	}
	call := func(path string, body map[string]any) map[string]any {
		raw, _ := json.Marshal(body)
		req := httptest.NewRequest("POST", path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		auth.ServeHTTP(rec, req)
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		if rec.Code != http.StatusOK {
			f.Fatalf("%s: got %d %s", path, rec.Code, rec.Body)
		}
		return out
	}
	creds := map[string]any{"client_id": "fz", "client_secret": "fuzz-secret-0123456789"}
	r := call("/api/v1/signup", with(creds, "email", "fuzz@example.com", "password", "Fuzzing pass 1234",
		"first_name", "F", "last_name", "Z", "mobile_number", 1))
	tok := call("/api/v1/api-tauth-token", with(creds, "code", r["code"]))
	return auth, tok["access_token"].(string)
}
