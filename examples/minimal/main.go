// Command minimal is the least a program does to embed ihoprauth: open
// SQLite, make the store and a mailer, create the Auth and a project, serve
// the API beside a route of the app's own that only signed-in users reach,
// and shut down cleanly on Ctrl-C.
//
//	APP_CLIENT_SECRET=$(openssl rand -hex 24) go run ./examples/minimal
//
// The API is then at http://localhost:8081/api/v1/ for the two-step project
// "app", and GET /hello answers a bearer token from it. Mail, codes
// included, is written to stderr: a real app sends it with mailer.NewSMTP.
// The example in ../../example is the full demo, with a page to click
// through, a dev inbox and every flag.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/store"
	"github.com/ihoprauth/ihoprauth/store/sqlite"
)

func main() {
	secret := os.Getenv("APP_CLIENT_SECRET")
	if secret == "" {
		log.Fatal("set APP_CLIENT_SECRET to the client secret that the project app takes")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", "localhost:8081")
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s", ln.Addr())
	if err := run(ctx, ln, "minimal.db", secret); err != nil {
		log.Fatal(err)
	}
}

// run serves the API and the app's routes on ln, over the SQLite file
// dbPath, until ctx is done; then it lets running requests finish, sends
// the mail still queued and closes the database.
func run(ctx context.Context, ln net.Listener, dbPath, secret string) error {
	db, err := sqlite.Open(dbPath)
	if err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	st, err := store.New(ctx, db, store.Config{})
	if err != nil {
		return err
	}
	auth, err := ihoprauth.New(ctx, st, mailer.NewDev(os.Stderr), ihoprauth.Config{})
	if err != nil {
		return err
	}
	defer auth.Close(context.Background())
	project := ihoprauth.ProjectSpec{ClientID: "app", ClientSecret: secret, Type: ihoprauth.TypeTwoStep}
	if _, err := auth.SaveProject(ctx, project); err != nil {
		return err
	}

	mux := http.NewServeMux()
	auth.Mount(mux) // the API at /api/v1/
	mux.Handle("GET /hello", authmw.RequireUser(auth)(http.HandlerFunc(hello)))

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	stopped := make(chan error, 1)
	stopOnDone := context.AfterFunc(ctx, func() {
		timeout, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- srv.Shutdown(timeout)
	})
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		stopOnDone()
		return err
	}
	return <-stopped
}

// hello is the app's own route: authmw.RequireUser lets only requests with
// a valid token reach it, and puts their user in the context.
func hello(w http.ResponseWriter, r *http.Request) {
	u, _ := authmw.UserFrom(r.Context())
	fmt.Fprintf(w, "Hello, %s!\n", u.FirstName)
}
