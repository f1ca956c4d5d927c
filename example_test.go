package ihoprauth_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/store"
	"github.com/ihoprauth/ihoprauth/store/sqlite"
)

// newExampleAuth opens an Auth on a throwaway SQLite file, as an app would
// on its own database.
func newExampleAuth() (*ihoprauth.Auth, func()) {
	dir, err := os.MkdirTemp("", "ihoprauth-example")
	if err != nil {
		log.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(dir, "auth.db"))
	if err != nil {
		log.Fatal(err)
	}
	st, err := store.New(context.Background(), db, store.Config{})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := ihoprauth.New(context.Background(), st, &mailer.Recorder{}, ihoprauth.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}
	return auth, func() { auth.Close(context.Background()); os.RemoveAll(dir) }
}

// Mount the API on an existing mux, next to the app's own routes.
func ExampleAuth() {
	auth, done := newExampleAuth()
	defer done()
	ctx := context.Background()
	if _, err := auth.SaveProject(ctx, ihoprauth.ProjectSpec{ClientID: "web", ClientSecret: "a-long-random-secret", Type: ihoprauth.TypeNone}); err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/api/v1/", auth)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := http.Post(srv.URL+"/api/v1/signup", "application/json", strings.NewReader(
		`{"client_id":"web","client_secret":"a-long-random-secret","email":"ada@example.com",`+
			`"password":"correct horse battery","first_name":"Ada","last_name":"Lovelace","mobile_number":"5550100"}`))
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	fmt.Println(res.Status, res.Header.Get("Content-Type"))
	// Output: 200 OK application/json; charset=utf-8
}

// Create or update a project at start; the secret is stored only as a
// keyed hash.
func ExampleAuth_SaveProject() {
	auth, done := newExampleAuth()
	defer done()
	p, err := auth.SaveProject(context.Background(), ihoprauth.ProjectSpec{
		ClientID: "mobile", Type: ihoprauth.TypeOTP, Public: true, // an app cannot keep a secret: PKCE instead
	})
	fmt.Println(p.ClientID, p.Type, p.Public, err)
	// Output: mobile otp true <nil>
}

// Protect the app's own routes with the tokens the API issues, and read the
// user in the handler.
func Example_protectRoute() {
	auth, done := newExampleAuth()
	defer done()
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", auth)
	mux.Handle("GET /hello", authmw.RequireUser(auth)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := authmw.UserFrom(r.Context())
		fmt.Fprintf(w, "hello, %s\n", u.FirstName)
	})))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/hello", nil))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output: 401 Bearer
}

// Give a user a role from the app's own code; requests can only change
// roles through Config.RolePolicy.
func ExampleAuth_SetRole() {
	auth, done := newExampleAuth()
	defer done()
	ctx := context.Background()
	auth.SaveProject(ctx, ihoprauth.ProjectSpec{ClientID: "web", ClientSecret: "a-long-random-secret", Type: ihoprauth.TypeNone})
	u, err := auth.ImportUser(ctx, "web", ihoprauth.ImportedUser{Email: "grace@example.com", FirstName: "Grace"})
	if err != nil {
		log.Fatal(err)
	}
	u, err = auth.SetRole(ctx, u.UserID, "admin")
	fmt.Println(u.Email, u.Role, err)
	// Output: grace@example.com admin <nil>
}
