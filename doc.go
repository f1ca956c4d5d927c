// Package ihoprauth serves the iHopr authentication API (login, signup, OTP
// and two-step codes, password reset, code-to-token exchange with PKCE, user
// and role updates) from inside a Go program, on any net/http mux:
//
//	package main
//
//	import (
//		"context"
//		"log"
//		"net/http"
//		"os"
//
//		"github.com/ihoprauth/ihoprauth"
//		"github.com/ihoprauth/ihoprauth/mailer"
//		"github.com/ihoprauth/ihoprauth/authmw"
//		"github.com/ihoprauth/ihoprauth/store"
//		"github.com/ihoprauth/ihoprauth/store/sqlite"
//	)
//
//	func main() {
//		db, err := sqlite.Open("auth.db")
//		if err != nil {
//			log.Fatal(err)
//		}
//		st, err := store.New(context.Background(), db, store.Config{})
//		if err != nil {
//			log.Fatal(err)
//		}
//		auth, err := ihoprauth.New(context.Background(), st, mailer.NewDev(os.Stderr), ihoprauth.Config{})
//		if err != nil {
//			log.Fatal(err)
//		}
//		defer auth.Close(context.Background())
//		_, err = auth.SaveProject(context.Background(), ihoprauth.ProjectSpec{
//			ClientID: "web", ClientSecret: os.Getenv("WEB_CLIENT_SECRET"), Type: ihoprauth.TypeTwoStep,
//		})
//		if err != nil {
//			log.Fatal(err)
//		}
//
//		mux := http.NewServeMux()
//		auth.Mount(mux) // or mux.Handle("/api/v1/", auth)
//		mux.Handle("GET /hello", authmw.RequireUser(auth)(http.HandlerFunc(
//			func(w http.ResponseWriter, r *http.Request) {
//				u, _ := authmw.UserFrom(r.Context())
//				w.Write([]byte("hello, " + u.FirstName + "\n"))
//			})))
//		log.Fatal(http.ListenAndServe("localhost:8080", mux))
//	}
//
// Clients written for iHopr work against it by changing only the base URL.
//
// # Endpoints
//
// Under Config.BasePath (/api/v1): POST login, signup, otp-code,
// two-step-auth-code, send-reset-password-code, reset-password,
// api-tauth-token, refresh-token, logout and session; GET user; PUT
// user/update and user/update/role. Bodies are JSON or form-encoded;
// answers are JSON, errors in one shape ({"status":"error","message":...,
// "errors":{...}}) with the status that fits (see Error).
//
// Projects may also offer sign-in with OpenID Connect and plain OAuth2
// providers (Config.Providers, Config.OAuthProjects): GET
// oauth/{provider}/start sends the browser to the provider, and its
// callback brings it back to the client's redirect_uri with a code for
// api-tauth-token, as a login does (docs/design.md, D42 and D43).
//
// # Parts
//
// Everything is kept through a Store (package store keeps it in SQLite,
// PostgreSQL or MariaDB through GORM; package storetest checks any other)
// and mail goes through a Mailer (package mailer sends it over SMTP).
// Package authmw protects the app's routes with the tokens, or with the
// cookie sessions of NewSessionManager.
//
// # Defaults
//
// Every default is the secure one and follows OWASP ASVS 5.0 and NIST SP
// 800-63B: argon2id passwords checked against a common-password list,
// single-use codes stored as keyed hashes, PKCE S256, opaque tokens stored
// as SHA-256, refresh-token rotation with reuse detection, throttles shared
// by every instance, no account enumeration, an audit trail. Config lists
// each setting with its default.
package ihoprauth
