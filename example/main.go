// Command example is a small app around ihoprauth that a newcomer can
// click through, with nothing to set up first:
//
//	go run ./example
//
// and open the address it prints. It serves:
//
//   - the API at /api/v1/, with cookie sessions turned on;
//   - a page at / that uses the API the way a single-page app does: signup,
//     login in each kind of project (entering the mailed code), password
//     reset, the current user, refresh and logout, with PKCE S256 computed
//     in the browser and the tokens kept in memory;
//   - /dev/inbox, when no -smtp is given: the mails the server "sent",
//     codes included, newest first;
//   - /account, a server-rendered page open to the session cookie the page
//     gets after a login, and /hello, a JSON route open to a bearer token.
//
// With no -project it creates three confidential demo projects (demo-none,
// demo-two-step, demo-otp, with fresh secrets it prints, for curl and
// scripts) and their public twins for the page (web-none, web-two-step,
// web-otp: a browser cannot keep a secret).
//
// Flags:
//
//	-addr        listen address (default localhost:8080)
//	-db          SQLite file (default ihoprauth.db), or a postgres:// or mysql:// URL
//	-smtp        host:port of an SMTP server; empty: mails go to stderr and /dev/inbox
//	-smtp-from   sender address
//	-smtp-tls    none, starttls, tls or opportunistic (default: none on loopback, else starttls)
//	-project     TYPE:CLIENT_ID:CLIENT_SECRET[:public], repeatable
//	-admin       EMAIL that gets role admin in every project, repeatable
//	-token-cache DURATION to keep validated access tokens in memory (default 0: off)
//
// The SMTP user and password, when the server needs them, are read from
// IHOPRAUTH_SMTP_USER and IHOPRAUTH_SMTP_PASSWORD.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	addr, db, smtp, smtpFrom, smtpTLS string
	projects, admins                  listFlag
	tokenCache                        time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "localhost:8080", "listen address")
	flag.StringVar(&o.db, "db", "ihoprauth.db", "SQLite file, or a postgres:// or mysql:// URL")
	flag.StringVar(&o.smtp, "smtp", "", "SMTP server host:port; empty: mails go to stderr and /dev/inbox")
	flag.StringVar(&o.smtpFrom, "smtp-from", "ihoprauth@localhost", "sender address of mails")
	flag.StringVar(&o.smtpTLS, "smtp-tls", "", "none, starttls, tls or opportunistic (default: none on loopback, else starttls)")
	flag.Var(&o.projects, "project", "TYPE:CLIENT_ID:CLIENT_SECRET[:public], repeatable; none: demo projects")
	flag.Var(&o.admins, "admin", "EMAIL that gets role admin in every project, repeatable")
	flag.DurationVar(&o.tokenCache, "token-cache", 0, "keep validated access tokens in memory this long (Config.TokenCacheTTL); 0: off")
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
	srv, err := newServer(ctx, o, specs, os.Stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	printUsage(browserURL(o.addr, ln.Addr()), specs, printSecrets, o.smtp)
	warnUnverifiedAdmins(specs, o.admins)
	return serve(ctx, ln, srv.handler)
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

// browserURL is the address to open in a browser: the host of -addr (or
// localhost when it names none or every interface) and the port listened on.
func browserURL(flagAddr string, ln net.Addr) string {
	host, _, _ := net.SplitHostPort(flagAddr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	_, port, _ := net.SplitHostPort(ln.String())
	return "http://" + net.JoinHostPort(host, port)
}
