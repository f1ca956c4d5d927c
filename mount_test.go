package ihoprauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
)

// TestMountsOnCommonRouters mounts one Auth the way the README shows for
// each router and checks that routing, 404 and 405 behave the same.
func TestMountsOnCommonRouters(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("mount@example.com")
	std := http.NewServeMux()
	std.Handle("/api/v1/", e.auth)
	// Mount sits beside a catch-all GET / of the app, which a plain
	// "/api/v1/" pattern cannot (ServeMux panics: neither is more specific).
	beside := http.NewServeMux()
	beside.HandleFunc("GET /", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("home")) })
	e.auth.Mount(beside)
	chiRouter := chi.NewRouter()
	chiRouter.Handle("/api/v1/*", e.auth)
	chiMounted := chi.NewRouter()
	chiMounted.Mount("/api/v1", e.auth)
	gorilla := mux.NewRouter()
	gorilla.PathPrefix("/api/v1/").Handler(e.auth)
	routers := map[string]http.Handler{"ServeMux": std, "ServeMux Mount beside GET /": beside, "chi Handle": chiRouter, "chi Mount": chiMounted, "gorilla/mux": gorilla}
	for name, router := range routers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(router)
			defer srv.Close()
			e.srv.URL = srv.URL
			r := e.do("GET", "/api/v1/user", tok, nil)
			if r.status != 200 || r.obj("user")["email"] != "mount@example.com" {
				t.Errorf("GET /api/v1/user: got %s, want the user", r)
			}
			want(t, e.do("GET", "/api/v1/nope", "", nil), 404)
			want(t, e.do("GET", "/api/v1/login", "", nil), 405)
			want(t, e.do("DELETE", "/api/v1/login", "", nil), 405)
			// Every standard method reaches the API, whose 405 is JSON
			// with the path's own Allow, not the router's.
			for _, method := range []string{"TRACE", "CONNECT", "PATCH"} {
				r := e.do(method, "/api/v1/login", "", nil)
				if r.status != 405 || r.str("status") != "error" || r.header.Get("Allow") != "POST" {
					t.Errorf("%s /api/v1/login: got %s, Allow %q; want the API's JSON 405, Allow POST", method, r, r.header.Get("Allow"))
				}
			}
			if r := e.post("/api/v1/login", with(e.none, "email", "mount@example.com", "password", goodPassword)); r.status != 200 {
				t.Errorf("POST /api/v1/login: got %s, want 200", r)
			}
		})
	}
}
