package authmw_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/store"
)

// BenchmarkRequireUser is RequireUser in front of a handler that does
// nothing, on a real Auth over SQLite, with the token cache off (a negative
// TokenCacheTTL, off whatever the default; one indexed read per call) and
// on. The request and the recorder are made once,
// so the allocations counted are the middleware's own; parallel runs
// GOMAXPROCS checks at once.
func BenchmarkRequireUser(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"cache=off", -1}, {"cache=on", time.Minute}} {
		b.Run(c.name, func(b *testing.B) {
			auth := benchAuth(b, c.ttl)
			revoked := accessToken(b, auth, "revoked@example.com")
			serve(b, auth, "POST", "/api/v1/logout", revoked, nil)
			tokens := []struct{ name, token string }{
				{"valid", accessToken(b, auth, "valid@example.com")},
				{"unknown", strings.Repeat("ab", 32)},
				{"revoked", revoked},
			}
			h := authmw.RequireUser(auth)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			}))
			for _, tc := range tokens {
				b.Run(tc.name, func(b *testing.B) {
					req := httptest.NewRequest("GET", "/hello", nil)
					req.Header.Set("Authorization", "Bearer "+tc.token)
					rec := httptest.NewRecorder()
					b.ReportAllocs()
					for b.Loop() {
						rec.Body.Reset()
						h.ServeHTTP(rec, req)
					}
					if want := wantStatus(tc.name); rec.Code != want {
						b.Fatalf("got %d, want %d", rec.Code, want)
					}
				})
			}
			b.Run("valid/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					req := httptest.NewRequest("GET", "/hello", nil)
					req.Header.Set("Authorization", "Bearer "+tokens[0].token)
					rec := httptest.NewRecorder()
					for pb.Next() {
						h.ServeHTTP(rec, req)
					}
				})
			})
		})
	}
}

func wantStatus(token string) int {
	if token == "valid" {
		return http.StatusNoContent
	}
	return http.StatusUnauthorized
}

// benchAuth is an Auth on a fresh SQLite file with one none project,
// "bench", whose secret is "bench-secret-0123456789".
func benchAuth(b *testing.B, ttl time.Duration) *ihoprauth.Auth {
	b.Helper()
	st, err := store.New(context.Background(), testdb.Open(b, testdb.SQLite), store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	auth, err := ihoprauth.New(context.Background(), st, &mailer.Recorder{}, ihoprauth.Config{
		Argon2:        ihoprauth.Argon2Params{Memory: 64, Time: 1, Threads: 1},
		TokenCacheTTL: ttl,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnError:       func(_ context.Context, err error) { b.Error(err) },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { auth.Close(context.Background()) })
	spec := ihoprauth.ProjectSpec{ClientID: "bench", ClientSecret: "bench-secret-0123456789", Type: ihoprauth.TypeNone}
	if _, err := auth.SaveProject(context.Background(), spec); err != nil {
		b.Fatal(err)
	}
	return auth
}

// accessToken signs email up and returns an access token of the new user.
func accessToken(b *testing.B, auth *ihoprauth.Auth, email string) string {
	b.Helper()
	creds := `"client_id":"bench","client_secret":"bench-secret-0123456789"`
	code := serve(b, auth, "POST", "/api/v1/signup", "", []byte(`{`+creds+`,"email":"`+email+
		`","password":"Correct horse battery 9","first_name":"A","last_name":"B","mobile_number":"1"}`))["code"]
	return serve(b, auth, "POST", "/api/v1/api-tauth-token", "", []byte(`{`+creds+`,"code":"`+code+`"}`))["access_token"]
}

// serve answers one API request and returns the string fields of its
// answer, failing b unless it is a 200.
func serve(b *testing.B, h http.Handler, method, path, token string, body []byte) map[string]string {
	b.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: got %d %s, want 200", method, path, rec.Code, rec.Body)
	}
	var answer map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
		b.Fatal(err)
	}
	fields := map[string]string{}
	for k, v := range answer {
		if s, ok := v.(string); ok {
			fields[k] = s
		}
	}
	return fields
}
