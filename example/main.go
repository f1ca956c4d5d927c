// Command example is ihoprauth embedded in a small app that a newcomer can
// click through, with nothing to set up first:
//
//	go run ./example
//
// and open the address it prints. newServer and routes, at the top of this
// file, are the embedding: open the database, make the store and the
// mailer, create the Auth with cookie sessions on, save the projects, and
// mount the API beside the app's own routes, which package authmw
// protects. examples/minimal does the same in about 100 lines with no demo
// around it. The rest of this directory is the demo: its flags (flags.go,
// projects.go, usage.go), the databases -db names (db.go), the SMTP or
// development mailer (mail.go, inbox.go) and the pages (web.go, account.go
// and web/).
//
// It serves the API at /api/v1/; a page at / that uses it the way a
// single-page app does (signup, login in each kind of project with the
// mailed code, password reset, refresh and logout, with PKCE S256 computed
// in the browser and the tokens kept in memory); /dev/inbox, the mails
// "sent", when no -smtp is given; /account, a server-rendered page open to
// the session cookie the page gets after a login; and /hello, a JSON route
// open to a bearer token.
//
// With -oidc-issuer it offers that OpenID Connect provider in every
// project, and the page shows "Sign in with the local test provider"
// (provider.go; go run ./example/testprovider starts one on this machine).
//
// With no -project it creates three confidential demo projects (demo-none,
// demo-two-step, demo-otp, with fresh secrets it prints, for curl and
// scripts) and their public twins for the page (web-none, web-two-step,
// web-otp: a browser cannot keep a secret). go run ./example -h lists the
// flags; the SMTP user and password, when the server needs them, are read
// from IHOPRAUTH_SMTP_USER and IHOPRAUTH_SMTP_PASSWORD.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
	"github.com/ihoprauth/ihoprauth/internal/memmetrics"
	"github.com/ihoprauth/ihoprauth/store"
)

// newServer is the embedding: it opens the database, makes the store and
// the mailer, creates the Auth with cookie sessions on, saves the projects
// and builds the routes. Mails, when no -smtp is given, are written to
// stderr (and the dev inbox).
func newServer(ctx context.Context, o options, specs []ihoprauth.ProjectSpec, passkeys ihoprauth.PasskeyRP, stderr io.Writer) (*server, error) {
	m, in, err := newMailer(o, stderr)
	if err != nil {
		return nil, err
	}
	db, err := openDB(o.db, o.sqlite)
	if err != nil {
		return nil, err
	}
	s := &server{db: db, metrics: memmetrics.New()}
	if err := observeGoroutines(s.metrics); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.replicas, err = openReplicas(o.replicas)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	st, err := store.New(ctx, db, store.Config{NoMigrate: o.migrate == "off", Replicas: s.replicas})
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.store = st
	sessions := ihoprauth.NewSessionManager(st.SessionStore())
	cfg := ihoprauth.Config{
		Sessions:            sessions,
		NewUserRole:         adminRole(o.admins),
		TokenCacheTTL:       o.tokenCache.config(),
		MaxConcurrentHashes: o.hashes,
		Argon2Engine:        ihoprauth.Argon2Engine(o.argon2),
		MeterProvider:       s.metrics,
		Passkeys:            passkeys,
	}
	providerConfig(o, specs, &cfg)
	s.auth, err = ihoprauth.New(ctx, st, m, cfg)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	if err := setUp(ctx, s.auth, specs, o.admins); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	// Expired codes and tokens, idle counters and old audit events go
	// hourly, as a production app would have them go.
	s.stopCleanup = s.auth.StartCleanup(time.Hour)
	page := newPageConfig(specs, in != nil, o.oidcIssuer != "")
	page.Passkeys = passkeys.ID != ""
	s.handler = routes(s.auth, sessions, st, page, in, s.probes())
	return s, nil
}

// routes mounts the API at /api/v1/ and the example's own pages around it.
// The dev inbox exists only when in is not nil (no -smtp). The account page
// loads and saves its session, so each visit moves the idle timeout on.
func routes(auth *ihoprauth.Auth, sessions *scs.SessionManager, projects projectFinder, cfg pageConfig, in *inbox, p probes) http.Handler {
	mux := http.NewServeMux()
	auth.Mount(mux)
	mux.Handle("GET /metrics", localOnly(p.metrics))
	mux.Handle("GET /healthz", p.live)
	mux.Handle("GET /readyz", p.ready)
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

func main() {
	o := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	switch o.migrate {
	case "auto", "off":
	case "print":
		return printMigrations(ctx, o, os.Stdout)
	default:
		return fmt.Errorf("-migrate %q: want auto, off or print", o.migrate)
	}
	specs, printSecrets, err := projectSpecs(o.projects)
	if err != nil {
		return err
	}
	if _, err := memoryLimit(o.memoryLimit, 0); err != nil {
		return err // before the database is opened
	}
	// Listening first tells the port, which the passkeys' origin needs.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv, err := newServer(ctx, o, specs, o.passkeys(ln.Addr()), os.Stderr)
	if err != nil {
		return errors.Join(err, ln.Close())
	}
	defer srv.Close()
	// A login storm's memory is the password hashes' (Auth.HashMemory) and
	// the garbage of finished ones: the limit has the runtime collect that
	// garbage before the heap doubles (BENCHMARKS.md, "Login storms").
	limit, err := memoryLimit(o.memoryLimit, srv.auth.HashMemory())
	if err != nil {
		return err
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
		collectByLimit()
	}
	printUsage(browserURL(o.addr, ln.Addr()), specs, printSecrets, o.smtp)
	warnUnverifiedAdmins(specs, o.admins)
	// On SIGINT or SIGTERM: /readyz answers 503 for -drain-delay while
	// requests are still served, so a load balancer stops sending new
	// ones; then the server stops taking requests and lets those in flight
	// finish; then (deferred above) the Auth sends the mail still queued
	// and the database is closed.
	return serve(ctx, ln, srv.handler, func() {
		srv.draining.Store(true)
		slog.Info("draining: /readyz answers 503", "for", o.drainDelay)
		time.Sleep(o.drainDelay)
	})
}
