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
	addr, db, smtp, smtpFrom, smtpTLS string
	projects, admins                  listFlag
	tokenCache                        time.Duration
}

// parseFlags reads the flags of the command line; -h lists them.
func parseFlags() options {
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
	return o
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

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
