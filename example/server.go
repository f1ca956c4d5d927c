package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/memmetrics"
	"github.com/ihoprauth/ihoprauth/store"
)

// server is the example put together over one database: the API with
// cookie sessions, the page at /, the dev inbox, and the app's own
// protected routes.
type server struct {
	auth        *ihoprauth.Auth
	db          *gorm.DB
	replicas    []*gorm.DB // -replica
	store       *store.Store
	handler     http.Handler
	stopCleanup func()
	draining    atomic.Bool // set at SIGINT or SIGTERM
	// metrics keeps what the Auth records (Config.MeterProvider) for
	// /metrics; an app would pass its OpenTelemetry SDK's provider.
	metrics *memmetrics.Provider
}

// probes are the handlers of /healthz, /readyz and /metrics.
type probes struct{ live, ready, metrics http.Handler }

// probes returns the example's health checks: /healthz answers 200 while
// the process serves at all (liveness), /readyz 200 only while it should
// get traffic: not draining, and Auth.Ready (the database answers, the
// mail queue moves). Both are JSON; a 503 says why, with Retry-After.
func (s *server) probes() probes {
	answer := func(w http.ResponseWriter, status int, body map[string]string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	}
	return probes{
		metrics: s.metrics,
		live: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			answer(w, http.StatusOK, map[string]string{"status": "ok"})
		}),
		ready: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err := s.auth.Ready(r.Context())
			switch {
			case s.draining.Load():
				answer(w, http.StatusServiceUnavailable, map[string]string{"status": "error", "message": "shutting down"})
			case err != nil:
				answer(w, http.StatusServiceUnavailable, map[string]string{"status": "error", "message": err.Error()})
			default:
				answer(w, http.StatusOK, map[string]string{"status": "ready"})
			}
		}),
	}
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
	if s.store != nil && len(s.replicas) > 0 {
		n := s.store.ReplicaStats()
		slog.Info("reads that a -replica could serve", "replica", n.Replica, "primary", n.Primary)
	}
	for _, db := range append([]*gorm.DB{s.db}, s.replicas...) {
		sqlDB, err := db.DB()
		if err == nil {
			err = sqlDB.Close()
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
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

// serve answers on ln until ctx ends, then calls drain (still answering),
// then stops taking requests and lets those in flight finish, for at most
// shutdownTimeout.
func serve(ctx context.Context, ln net.Listener, h http.Handler, drain func()) error {
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
	drain()
	slog.Info("shutting down: no new requests; waiting for those in flight")
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// shutdownTimeout bounds the wait for requests in flight at shutdown.
const shutdownTimeout = 10 * time.Second

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
// their host and came through no proxy: the dev inbox shows every code, so
// neither another machine (with -addr 0.0.0.0), nor a page on another site
// that rebinds its DNS name to 127.0.0.1, nor a client of a reverse proxy
// on this machine (which marks what it forwards) may read it. A plain
// port forwarder on this machine cannot be told from a local browser: the
// README says not to run the dev mailer behind one.
func localOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, _, _ := net.SplitHostPort(r.RemoteAddr)
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		proxied := r.Header.Get("Forwarded") != "" || r.Header.Get("X-Forwarded-For") != "" ||
			r.Header.Get("X-Real-IP") != "" || r.Header.Get("X-Forwarded-Host") != ""
		if !isLoopback(peer) || !isLoopback(host) || proxied {
			http.Error(w, "served only to localhost", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// observeGoroutines adds the process's goroutines to the example's own
// metrics (process_goroutines on /metrics), which the soak run watches.
func observeGoroutines(p metric.MeterProvider) error {
	m := p.Meter("example")
	g, err := m.Int64ObservableGauge("process.goroutines", metric.WithDescription("Goroutines of the process."))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(g, int64(runtime.NumGoroutine()))
		return nil
	}, g)
	return err
}
