// Command testprovider is a local OpenID Provider for trying the example's
// "Sign in with the local test provider" button (docs/design.md, D44). It
// runs github.com/oauth2-proxy/mockoidc, a provider made for tests: it
// signs in whoever asks as one user, without a password. Never expose it.
//
//	go run ./example/testprovider
//	go run ./example -oidc-issuer http://127.0.0.1:9998/oidc \
//	    -oidc-client-id ihoprauth-demo -oidc-client-secret demo-secret
//
// It prints the issuer and the flags to give the example.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"

	"github.com/oauth2-proxy/mockoidc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9998", "listen address")
	clientID := flag.String("client-id", "ihoprauth-demo", "the client_id the example uses")
	secret := flag.String("client-secret", "demo-secret", "the client secret the example uses")
	email := flag.String("email", "jane.doe@example.com", "the email of the user it signs in")
	unverified := flag.Bool("unverified", false, "say email_verified false (no automatic linking, no proof of the email)")
	flag.Parse()
	if err := run(*addr, *clientID, *secret, *email, !*unverified); err != nil {
		fmt.Fprintln(os.Stderr, "testprovider:", err)
		os.Exit(1)
	}
}

func run(addr, clientID, secret, email string, verified bool) error {
	op, err := mockoidc.NewServer(nil)
	if err != nil {
		return err
	}
	op.ClientID, op.ClientSecret = clientID, secret
	user := &mockoidc.MockUser{Subject: "test-" + email, Email: email, EmailVerified: verified, PreferredUsername: email}
	// Every authorization signs in the same user.
	err = op.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint {
				op.QueueUser(user)
			}
			next.ServeHTTP(w, r)
		})
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if err := op.Start(ln, nil); err != nil {
		return err
	}
	fmt.Printf("local test provider (mockoidc) at %s, signing in %s (email_verified %v)\n\n", op.Issuer(), email, verified)
	fmt.Printf("Start the example with:\n\n  go run ./example -oidc-issuer %s -oidc-client-id %s -oidc-client-secret %s\n\nStop with Ctrl-C.\n",
		op.Issuer(), clientID, secret)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	<-stop
	return op.Shutdown()
}
