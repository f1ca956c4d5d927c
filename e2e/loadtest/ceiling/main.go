// Command ceiling is the bare net/http server that the load test of GET
// /api/v1/user is compared with: it answers every request with a fixed
// JSON body of the same shape and size as the example's answer, and does
// nothing else, so its requests per second are what net/http and the
// machine allow (see BENCHMARKS.md):
//
//	cd e2e && go run ./loadtest/ceiling -addr 127.0.0.1:8081
//
// POST /api/v1/refresh-token answers 401 with an iHopr error, as the
// example does for an unknown refresh token, so that burst.sh can send it
// the same mix of requests. It listens on loopback by default and stops on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// body is a GET /api/v1/user answer of the example.
var body = []byte(`{"status":"success","user":{"id":1,"user_id":"6925d87eb945c5370b35dc5d4bd64df9",` +
	`"first_name":"Ada","last_name":"Lovelace","email":"loadgen@example.com","mobile_number":"11223344",` +
	`"meta":null,"role":"user","provider":"","created_at":"2026-11-26T21:00:03.530124Z"}}` + "\n")

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}

// serve answers on addr, with the example's server timeouts, until ctx ends.
func serve(ctx context.Context, addr string) error {
	srv := &http.Server{
		Addr: addr, Handler: http.HandlerFunc(answer),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// refused is the example's answer to an unknown refresh token.
var refused = []byte(`{"status":"error","message":"The refresh token is invalid or has expired."}` + "\n")

func answer(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodPost && r.URL.Path == "/api/v1/refresh-token" {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write(refused)
		return
	}
	w.Write(body)
}
