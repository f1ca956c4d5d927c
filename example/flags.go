package main

import (
	"flag"
	"fmt"
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
	drainDelay                                time.Duration
	migrate                                   string
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
	flag.DurationVar(&o.drainDelay, "drain-delay", 0, "on SIGINT or SIGTERM, answer /readyz 503 this long before taking no more requests")
	flag.StringVar(&o.migrate, "migrate", "auto", "auto: bring the schema up to date at start; off: refuse to start when it is behind; print: print the SQL that auto would run on -db, and exit")
	flag.Parse()
	return o
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
