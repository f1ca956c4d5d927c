package main

import (
	"cmp"
	"net"
	"os"
	"strings"

	"github.com/ihoprauth/ihoprauth"
)

// localProvider is the name of the provider that -oidc-issuer configures:
// the page's button and BASE/api/v1/oauth/local/start use it.
const localProvider = "local"

// providerConfig sets cfg to offer the issuer of -oidc-issuer as the
// provider "local" in every project of specs, with the page at
// -public-url as the only redirect URI (docs/design.md, D44). Without
// -oidc-issuer it changes nothing.
func providerConfig(o options, specs []ihoprauth.ProjectSpec, cfg *ihoprauth.Config) {
	if o.oidcIssuer == "" {
		return
	}
	cfg.PublicURL = publicURL(o)
	cfg.Providers = []ihoprauth.Provider{{
		Name: localProvider, Issuer: o.oidcIssuer, ClientID: o.oidcClientID,
		ClientSecret: cmp.Or(o.oidcClientSecret, os.Getenv("IHOPRAUTH_OIDC_CLIENT_SECRET")),
	}}
	cfg.OAuthProjects = map[string]ihoprauth.OAuthProject{}
	for _, s := range specs {
		cfg.OAuthProjects[s.ClientID] = ihoprauth.OAuthProject{
			Providers: []string{localProvider}, RedirectURIs: []string{pageURL(o)},
		}
	}
}

// publicURL is -public-url, or http:// and the host and port of -addr
// (localhost for an empty or unspecified host).
func publicURL(o options) string {
	if o.publicURL != "" {
		return strings.TrimSuffix(o.publicURL, "/")
	}
	host, port, _ := net.SplitHostPort(o.addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// pageURL is the page at /, where a sign-in with the provider ends.
func pageURL(o options) string { return publicURL(o) + "/" }
