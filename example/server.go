package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
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
