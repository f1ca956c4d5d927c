package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"gorm.io/gorm"

	"github.com/alexedwards/scs/v2"
	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
	"github.com/ihoprauth/ihoprauth/store"
)

// server is the example put together over one database: the API with
// cookie sessions, the page at /, the dev inbox, and the app's own
// protected routes.
type server struct {
	auth        *ihoprauth.Auth
	db          *gorm.DB
	handler     http.Handler
	stopCleanup func()
}

// newServer opens the database, saves the projects and builds the routes.
// Mails, when no -smtp is given, are written to stderr (and the inbox).
func newServer(ctx context.Context, o options, specs []ihoprauth.ProjectSpec, stderr io.Writer) (*server, error) {
	m, in, err := newMailer(o, stderr)
	if err != nil {
		return nil, err
	}
	db, err := openDB(o.db)
	if err != nil {
		return nil, err
	}
	s := &server{db: db}
	st, err := store.New(ctx, db, store.Config{})
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	sessions := ihoprauth.NewSessionManager(st.SessionStore())
	s.auth, err = ihoprauth.New(ctx, st, m, ihoprauth.Config{
		Sessions:      sessions,
		NewUserRole:   adminRole(o.admins),
		TokenCacheTTL: o.tokenCache,
	})
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	if err := setUp(ctx, s.auth, specs, o.admins); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	// Expired codes and tokens, idle counters and old audit events go
	// hourly, as a production app would have them go.
	s.stopCleanup = s.auth.StartCleanup(time.Hour)
	s.handler = routes(s.auth, sessions, st, newPageConfig(specs, in != nil), in)
	return s, nil
}

// Close sends the mail still queued and closes the database.
func (s *server) Close() error {
	var errs []error
	if s.stopCleanup != nil {
		s.stopCleanup()
	}
	if s.auth != nil {
		errs = append(errs, s.auth.Close(context.Background()))
	}
	sqlDB, err := s.db.DB()
	if err == nil {
		err = sqlDB.Close()
	}
	return errors.Join(append(errs, err)...)
}

// adminRole gives role admin to the -admin addresses when they sign up.
func adminRole(emails []string) func(context.Context, ihoprauth.Project, string) string {
	admins := map[string]bool{}
	for _, e := range emails {
		admins[ihoprauth.CanonicalEmail(e)] = true
	}
	return func(_ context.Context, _ ihoprauth.Project, email string) string {
		if admins[email] {
			return "admin"
		}
		return "user"
	}
}

// routes mounts the API at /api/v1/ and the example's own pages around it.
// The dev inbox exists only when in is not nil (no -smtp). The account page
// loads and saves its session, so each visit moves the idle timeout on.
func routes(auth *ihoprauth.Auth, sessions *scs.SessionManager, projects projectFinder, cfg pageConfig, in *inbox) http.Handler {
	mux := http.NewServeMux()
	auth.Mount(mux)
	mux.Handle("GET /hello", authmw.RequireUser(auth)(http.HandlerFunc(hello)))
	mux.Handle("GET /account", sessions.LoadAndSave(authmw.RequireUser(auth)(account{projects})))
	mux.Handle("GET /config.json", cfg)
	if in != nil {
		mux.Handle("GET /dev/inbox", localOnly(in))
	}
	mux.Handle("/", staticFiles())
	return mux
}

// hello is the app's own route, open only to signed-in users.
func hello(w http.ResponseWriter, r *http.Request) {
	u, _ := authmw.UserFrom(r.Context())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]string{
		"status": "success", "message": "Hello, " + u.FirstName + "!", "user_id": u.UserID, "role": u.Role,
	})
}

// localOnly serves h only to requests from this machine that name it as
// their host: the dev inbox shows every code, so neither another machine
// (with -addr 0.0.0.0) nor a page on another site that rebinds its DNS name
// to 127.0.0.1 may read it.
func localOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, _, _ := net.SplitHostPort(r.RemoteAddr)
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !isLoopback(peer) || !isLoopback(host) {
			http.Error(w, "the dev inbox is served only to localhost", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
