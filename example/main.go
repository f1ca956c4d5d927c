// Command example serves the ihoprauth API and one protected route of its
// own, with nothing to set up first:
//
//	go run ./example
//
// Flags:
//
//	-addr        listen address (default localhost:8080)
//	-db          SQLite file (default ihoprauth.db), or a postgres:// or mysql:// URL
//	-smtp        host:port of an SMTP server; empty: mails are printed to stderr
//	-smtp-from   sender address
//	-smtp-tls    none, starttls, tls or opportunistic (default: none on loopback, else starttls)
//	-project     TYPE:CLIENT_ID:CLIENT_SECRET[:public], repeatable
//	-admin       EMAIL that gets role admin in every project, repeatable
//
// The SMTP user and password, when the server needs them, are read from
// IHOPRAUTH_SMTP_USER and IHOPRAUTH_SMTP_PASSWORD.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/middleware"
	"github.com/ihoprauth/ihoprauth/store"
)

type options struct {
	addr, db, smtp, smtpFrom, smtpTLS string
	projects, admins                  listFlag
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "localhost:8080", "listen address")
	flag.StringVar(&o.db, "db", "ihoprauth.db", "SQLite file, or a postgres:// or mysql:// URL")
	flag.StringVar(&o.smtp, "smtp", "", "SMTP server host:port; empty: mails are printed to stderr")
	flag.StringVar(&o.smtpFrom, "smtp-from", "ihoprauth@localhost", "sender address of mails")
	flag.StringVar(&o.smtpTLS, "smtp-tls", "", "none, starttls, tls or opportunistic (default: none on loopback, else starttls)")
	flag.Var(&o.projects, "project", "TYPE:CLIENT_ID:CLIENT_SECRET[:public], repeatable; none: three demo projects")
	flag.Var(&o.admins, "admin", "EMAIL that gets role admin in every project, repeatable")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	specs, printSecrets, err := projectSpecs(o.projects)
	if err != nil {
		return err
	}
	m, err := newMailer(o)
	if err != nil {
		return err
	}
	db, err := openDB(o.db)
	if err != nil {
		return err
	}
	st, err := store.New(db)
	if err != nil {
		return err
	}
	admins := map[string]bool{}
	for _, e := range o.admins {
		admins[ihoprauth.CanonicalEmail(e)] = true
	}
	auth, err := ihoprauth.New(st, m, ihoprauth.Config{
		NewUserRole: func(_ context.Context, _ ihoprauth.Project, email string) string {
			if admins[email] {
				return "admin"
			}
			return "user"
		},
	})
	if err != nil {
		return err
	}
	defer auth.Close()
	if err := setUp(ctx, auth, specs, o.admins); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	printUsage(ln.Addr().String(), specs, printSecrets, o.smtp)
	warnUnverifiedAdmins(specs, o.admins)
	return serve(ctx, ln, routes(auth))
}

// projectSpecs returns the projects to serve and whether their secrets were
// made up here (and so must be printed).
func projectSpecs(flags []string) ([]ihoprauth.ProjectSpec, bool, error) {
	if len(flags) == 0 {
		return demoProjects(), true, nil
	}
	var specs []ihoprauth.ProjectSpec
	for _, f := range flags {
		spec, err := parseProject(f)
		if err != nil {
			return nil, false, err
		}
		specs = append(specs, spec)
	}
	return specs, false, nil
}

func newMailer(o options) (ihoprauth.Mailer, error) {
	if o.smtp == "" {
		return mailer.NewDev(os.Stderr), nil
	}
	host, portText, err := net.SplitHostPort(o.smtp)
	if err != nil {
		return nil, fmt.Errorf("-smtp %q: %w", o.smtp, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("-smtp %q: bad port", o.smtp)
	}
	mode := mailer.TLSStartTLS
	if o.smtpTLS != "" {
		if mode, err = mailer.ParseTLSMode(o.smtpTLS); err != nil {
			return nil, err
		}
	} else if isLoopback(host) {
		mode = mailer.TLSNone
	}
	return mailer.NewSMTP(mailer.SMTPConfig{
		Host: host, Port: port, From: o.smtpFrom, TLS: mode,
		Username: os.Getenv("IHOPRAUTH_SMTP_USER"), Password: os.Getenv("IHOPRAUTH_SMTP_PASSWORD"),
	})
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// warnUnverifiedAdmins says what -admin means in a none project: signup
// there proves no ownership of the email, so whoever signs up first with an
// -admin address becomes admin.
func warnUnverifiedAdmins(specs []ihoprauth.ProjectSpec, admins []string) {
	if len(admins) == 0 {
		return
	}
	for _, s := range specs {
		if s.Type == ihoprauth.TypeNone {
			fmt.Fprintf(os.Stderr, "warning: project %s is of type none, which never verifies an email: "+
				"whoever signs up there first as an -admin address gets role admin.\n", s.ClientID)
		}
	}
}

// setUp saves the projects and gives existing -admin users their role.
func setUp(ctx context.Context, auth *ihoprauth.Auth, specs []ihoprauth.ProjectSpec, admins []string) error {
	for _, spec := range specs {
		if _, err := auth.SaveProject(ctx, spec); err != nil {
			return err
		}
		for _, email := range admins {
			u, err := auth.LookupUser(ctx, spec.ClientID, email)
			if errors.Is(err, ihoprauth.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if _, err := auth.SetRole(ctx, u.UserID, "admin"); err != nil {
				return err
			}
		}
	}
	return nil
}

func routes(auth *ihoprauth.Auth) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", auth)
	mux.Handle("GET /hello", middleware.RequireUser(auth)(http.HandlerFunc(hello)))
	return mux
}

// hello is the app's own route, open only to signed-in users.
func hello(w http.ResponseWriter, r *http.Request) {
	u, _ := middleware.UserFrom(r.Context())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]string{
		"status": "success", "message": "Hello, " + u.FirstName + "!", "user_id": u.UserID, "role": u.Role,
	})
}

// serve answers on ln until ctx ends, then lets running requests finish.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

func randomSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}
