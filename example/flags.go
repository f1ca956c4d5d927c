package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// options are the example's flags.
type options struct {
	addr, db, sqlite, smtp, smtpFrom, smtpTLS string
	projects, admins, replicas                listFlag
	tokenCache                                durationFlag
	hashes                                    int
	argon2                                    argon2Flag
	drainDelay                                time.Duration
	migrate                                   string
	memoryLimit                               string
	passkeyRP                                 string
	passkeyOrigins                            listFlag
	// The provider of docs/design.md, D44.
	oidcIssuer, oidcClientID, oidcClientSecret, publicURL string
}

// parseFlags reads the flags of the command line; -h lists them.
func parseFlags() options {
	var o options
	flag.StringVar(&o.addr, "addr", "localhost:8080", "listen address")
	flag.StringVar(&o.db, "db", "ihoprauth.db", "SQLite file, or a postgres:// or mysql:// URL")
	flag.Var(&o.replicas, "replica", "postgres:// URL of a streaming replica of a PostgreSQL -db, repeatable (store.Config.Replicas)")
	flag.StringVar(&o.sqlite, "sqlite", "cgo", "driver of a SQLite -db: cgo (mattn/go-sqlite3) or pure (pure Go, for a CGO_ENABLED=0 build)")
	flag.StringVar(&o.smtp, "smtp", "", "SMTP server host:port; empty: mails go to stderr and /dev/inbox")
	flag.StringVar(&o.smtpFrom, "smtp-from", "ihoprauth@localhost", "sender address of mails")
	flag.StringVar(&o.smtpTLS, "smtp-tls", "", "none, starttls, tls or opportunistic (default: none on loopback, else starttls)")
	flag.Var(&o.projects, "project", "TYPE:CLIENT_ID:CLIENT_SECRET[:public], repeatable; none: demo projects")
	flag.Var(&o.admins, "admin", "EMAIL that gets role admin in every project, repeatable")
	flag.Var(&o.tokenCache, "token-cache", "keep validated access tokens in memory this long (Config.TokenCacheTTL); 0 or negative: off; unset: the library's default")
	flag.IntVar(&o.hashes, "hashes", 0, "password hashes at once (Config.MaxConcurrentHashes); 0: the library's default")
	flag.Var(&o.argon2, "argon2", "argon2id engine (Config.Argon2Engine): kept, ihoprauth's own, which keeps its memory between hashes (the default), or xcrypto, golang.org/x/crypto/argon2")
	flag.DurationVar(&o.drainDelay, "drain-delay", 0, "on SIGINT or SIGTERM, answer /readyz 503 this long before taking no more requests")
	flag.StringVar(&o.migrate, "migrate", "auto", "auto: bring the schema up to date at start; off: refuse to start when it is behind; print: print the SQL that auto would run on -db, and exit")
	flag.StringVar(&o.memoryLimit, "memory-limit", "auto", "soft limit of the Go runtime's memory, in MiB (runtime/debug.SetMemoryLimit); auto: what the password hashes may hold at once (Auth.HashMemory) plus 32 MiB; off: none; GOMEMLIMIT in the environment wins. With a limit the collector runs by it alone (GOGC=off) unless GOGC is set")
	flag.StringVar(&o.passkeyRP, "passkey-rp", "localhost", "relying-party id of passkeys (Config.Passkeys.ID): the site's domain, never an IP address; empty: no passkeys")
	flag.Var(&o.passkeyOrigins, "passkey-origin", "origin of the page that uses passkeys, repeatable (default: http://localhost:PORT for -passkey-rp localhost, else https://RP)")
	flag.StringVar(&o.oidcIssuer, "oidc-issuer", "", "issuer URL of an OpenID Connect provider to offer as \"local\" in every project (go run ./example/testprovider starts one); empty: none")
	flag.StringVar(&o.oidcClientID, "oidc-client-id", "", "this app's client_id at -oidc-issuer")
	flag.StringVar(&o.oidcClientSecret, "oidc-client-secret", "", "this app's client secret at -oidc-issuer (or IHOPRAUTH_OIDC_CLIENT_SECRET)")
	flag.StringVar(&o.publicURL, "public-url", "", "the URL browsers reach this server at, for the provider's callback; empty: http:// and -addr")
	flag.Parse()
	return o
}

// argon2Flag names a Config.Argon2Engine.
type argon2Flag ihoprauth.Argon2Engine

func (f *argon2Flag) String() string {
	if f != nil && ihoprauth.Argon2Engine(*f) == ihoprauth.Argon2XCrypto {
		return "xcrypto"
	}
	return "kept"
}

func (f *argon2Flag) Set(v string) error {
	switch v {
	case "kept":
		*f = argon2Flag(ihoprauth.Argon2Kept)
	case "xcrypto":
		*f = argon2Flag(ihoprauth.Argon2XCrypto)
	default:
		return fmt.Errorf("%q is neither kept nor xcrypto", v)
	}
	return nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// durationFlag sets a duration field of ihoprauth.Config (docs/design.md,
// D32): unset, it leaves the field to the library's default; 0 or a
// negative value turns the field off; a positive value is used as it is.
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return f.d.String()
}

func (f *durationFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return err
	}
	f.d, f.set = d, true
	return nil
}

// config is the field's value for ihoprauth.Config: 0 (the library's
// default) when the flag is unset, -1 (off) when it is 0 or negative.
func (f durationFlag) config() time.Duration {
	switch {
	case !f.set:
		return 0
	case f.d <= 0:
		return -1
	}
	return f.d
}

// parseProject reads TYPE:CLIENT_ID:CLIENT_SECRET[:public]. A secret given
// this way holds no ':'; TYPE:CLIENT_ID::public is a public client with no
// secret.
func parseProject(s string) (ihoprauth.ProjectSpec, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 3 || len(parts) > 4 {
		return ihoprauth.ProjectSpec{}, fmt.Errorf("-project %q: want TYPE:CLIENT_ID:CLIENT_SECRET[:public]", s)
	}
	spec := ihoprauth.ProjectSpec{Type: ihoprauth.ProjectType(parts[0]), ClientID: parts[1], ClientSecret: parts[2]}
	if len(parts) == 4 {
		if parts[3] != "public" {
			return ihoprauth.ProjectSpec{}, fmt.Errorf("-project %q: the fourth part can only be \"public\"", s)
		}
		spec.Public = true
	}
	if !spec.Type.Valid() {
		return ihoprauth.ProjectSpec{}, fmt.Errorf("-project %q: TYPE must be none, two-step or otp", s)
	}
	if spec.ClientID == "" || (spec.ClientSecret == "" && !spec.Public) {
		return ihoprauth.ProjectSpec{}, fmt.Errorf("-project %q: CLIENT_ID and CLIENT_SECRET must not be empty (unless :public)", s)
	}
	return spec, nil
}

// demoProjects are served when no -project is given: one confidential
// project of each type with a fresh secret at every start (demo-none,
// demo-two-step, demo-otp, for curl and scripts), then a public twin of
// each for the page at / (web-none, web-two-step, web-otp: a browser
// cannot keep a secret, so they have none and PKCE S256 is required).
func demoProjects() []ihoprauth.ProjectSpec {
	types := []ihoprauth.ProjectType{ihoprauth.TypeNone, ihoprauth.TypeTwoStep, ihoprauth.TypeOTP}
	var specs []ihoprauth.ProjectSpec
	for _, t := range types {
		specs = append(specs, ihoprauth.ProjectSpec{Type: t, ClientID: "demo-" + string(t), ClientSecret: randomSecret()})
	}
	for _, t := range types {
		specs = append(specs, ihoprauth.ProjectSpec{Type: t, ClientID: "web-" + string(t), Public: true})
	}
	return specs
}

// memoryLimit is the soft memory limit that -memory-limit asks for, in
// bytes, given what the password hashes may hold at once (Auth.HashMemory);
// 0: none. GOMEMLIMIT in the environment, when set, wins (the runtime has
// read it already).
func memoryLimit(flagValue string, hashMemory int64) (int64, error) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	switch flagValue {
	case "auto":
		return hashMemory + appMemory, nil
	case "off":
		return 0, nil
	}
	mib, err := strconv.ParseInt(flagValue, 10, 64)
	if err != nil || mib <= 0 || mib > 1<<20 {
		return 0, fmt.Errorf("-memory-limit %q: want auto, off or a number of MiB", flagValue)
	}
	return mib << 20, nil
}

// collectByLimit leaves collection to the memory limit alone (GOGC=off)
// unless GOGC is set in the environment. With the default GOGC of 100 the
// collector runs each time the heap doubles, and the example's live heap
// is a few MiB: under a load of cheap requests (a bearer check answered
// from the token cache) it collected about a hundred times a second. With
// a limit in force the heap may as well grow to it: the runtime collects
// as it nears the limit, as it would anyway were the live heap to double
// past it. Bearer checks gained 12–15% throughput (BENCHMARKS.md); the
// price is a heap that sits near the limit instead of near twice what is
// live.
func collectByLimit() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
	}
}

// appMemory is what -memory-limit auto allows beside the password hashes:
// the example's own heap under load is a few MiB (requests, the store's
// statements, the token cache of Config.TokenCacheBytes), and the runtime
// needs some room to collect in.
const appMemory = 32 << 20

// passkeys is the relying party of the example's passkeys: -passkey-rp,
// with -passkey-origin or, for localhost, the origin of the page at the
// port ln listens on (a relying-party id cannot be an IP address, so the
// page must be opened at http://localhost:PORT for passkeys to work).
func (o options) passkeys(ln net.Addr) ihoprauth.PasskeyRP {
	if o.passkeyRP == "" {
		return ihoprauth.PasskeyRP{}
	}
	rp := ihoprauth.PasskeyRP{ID: o.passkeyRP, Name: "ihoprauth example", Origins: o.passkeyOrigins}
	if len(rp.Origins) == 0 && rp.ID == "localhost" {
		_, port, _ := net.SplitHostPort(ln.String())
		rp.Origins = []string{"http://" + net.JoinHostPort("localhost", port)}
	}
	return rp
}
