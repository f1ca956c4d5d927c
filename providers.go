package ihoprauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Provider is another sign-in provider that projects may offer beside
// passwords and mailed codes (docs/design.md, D42): an OpenID Connect
// issuer, found by discovery, or a plain OAuth2 provider in the style of
// GitHub, named by its three URLs. Config.Providers lists them and
// Config.OAuthProjects says which project offers which.
type Provider struct {
	// Name is the provider's path segment (BasePath/oauth/{Name}/start)
	// and what the token answer shows as user.provider: 1 to 32 of a-z,
	// 0-9 and "-". Required.
	Name string
	// Issuer is the issuer URL of an OpenID Connect provider; its
	// /.well-known/openid-configuration is read at the first sign-in (and
	// again after a failed read), and its ID tokens are verified: issuer,
	// audience, expiry, signature and nonce. Set it, or the three URLs
	// below, not both.
	Issuer string
	// AuthURL, TokenURL and UserInfoURL are the endpoints of a plain
	// OAuth2 provider, which has no ID token: who signed in is read from
	// the JSON that UserInfoURL answers to the access token.
	AuthURL, TokenURL, UserInfoURL string
	// ClientID and ClientSecret are this app's credentials at the
	// provider. ClientID is required.
	ClientID, ClientSecret string
	// Scopes are asked of the provider. Default: "openid", "email",
	// "profile" for an Issuer, none for plain OAuth2.
	Scopes []string
	// SubjectField, EmailField and EmailVerifiedField name the fields of
	// a plain OAuth2 provider's user info that hold the account's id (a
	// string or a number), its email and whether the provider verified
	// it (a boolean or "true"). Defaults "id", "email" and "" (no such
	// field: the email counts as not verified, so such a provider never
	// links automatically and never proves an email). Unused with Issuer,
	// whose ID token has "sub", "email" and "email_verified".
	SubjectField, EmailField, EmailVerifiedField string
}

// OAuthProject is how one project offers other providers (Config.OAuthProjects).
type OAuthProject struct {
	// Providers are the Names of the Config.Providers the project offers.
	Providers []string
	// RedirectURIs are the client's addresses that a sign-in may end at;
	// the redirect_uri of a start must equal one of them byte for byte
	// (RFC 9700 §4.1.3). At least one is required.
	RedirectURIs []string
	// AutoLink lets a provider identity that is new to the project sign in
	// to the project's account of the same email, when the provider
	// asserts the email verified (docs/design.md, D43). Default false: such
	// a sign-in is refused with error=account_exists, and the owner links
	// the provider from a logged-in session instead.
	AutoLink bool
}

// providerName is what Provider.Name may be.
var providerName = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// checkProviders reports what in the provider settings of c cannot work.
func (c Config) checkProviders() []error {
	var errs []error
	names := map[string]bool{}
	for i, p := range c.Providers {
		field := fmt.Sprintf("Providers[%d]", i)
		plain := p.AuthURL != "" || p.TokenURL != "" || p.UserInfoURL != ""
		switch {
		case !providerName.MatchString(p.Name):
			errs = append(errs, invalidField(field+".Name", "%q: want 1 to 32 of a-z, 0-9 and -", p.Name))
		case names[p.Name]:
			errs = append(errs, invalidField(field+".Name", "%q is named twice", p.Name))
		case p.ClientID == "":
			errs = append(errs, invalidField(field+".ClientID", "is required"))
		case (p.Issuer == "") == !plain:
			errs = append(errs, invalidField(field, "set Issuer (OpenID Connect) or AuthURL, TokenURL and UserInfoURL (plain OAuth2), not both"))
		case plain && (p.AuthURL == "" || p.TokenURL == "" || p.UserInfoURL == ""):
			errs = append(errs, invalidField(field, "plain OAuth2 needs AuthURL, TokenURL and UserInfoURL"))
		}
		names[p.Name] = true
	}
	for clientID, op := range c.OAuthProjects {
		field := fmt.Sprintf("OAuthProjects[%q]", clientID)
		for _, name := range op.Providers {
			if !names[name] {
				errs = append(errs, invalidField(field+".Providers", "%q is not in Providers", name))
			}
		}
		if len(op.RedirectURIs) == 0 {
			errs = append(errs, invalidField(field+".RedirectURIs", "needs at least one"))
		}
		for _, uri := range op.RedirectURIs {
			if u, err := url.Parse(uri); err != nil || !u.IsAbs() || u.Fragment != "" {
				errs = append(errs, invalidField(field+".RedirectURIs", "%q: want an absolute URI without a fragment", uri))
			}
		}
	}
	if len(c.Providers) > 0 {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, invalidField("PublicURL", "%q: Providers need the app's public https:// (or http:// in development) URL", c.PublicURL))
		}
	}
	return errs
}

// providerSet holds the configured providers and what discovery found.
type providerSet struct {
	byName map[string]*provider
}

// provider is one Provider at run time.
type provider struct {
	Provider
	redirectURL string
	client      *http.Client

	mu   sync.Mutex
	oidc *oidc.Provider // nil until discovery succeeds
}

func newProviderSet(cfg Config) providerSet {
	set := providerSet{byName: map[string]*provider{}}
	for _, p := range cfg.Providers {
		if len(p.Scopes) == 0 && p.Issuer != "" {
			p.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
		}
		if p.Issuer == "" {
			p.SubjectField = cmp.Or(p.SubjectField, "id")
			p.EmailField = cmp.Or(p.EmailField, "email")
		}
		set.byName[p.Name] = &provider{
			Provider:    p,
			redirectURL: strings.TrimSuffix(cfg.PublicURL, "/") + cfg.BasePath + "/oauth/" + p.Name + "/callback",
			client:      cfg.OAuthHTTPClient,
		}
	}
	return set
}

// withClient returns ctx carrying the HTTP client for calls to p.
func (p *provider) withClient(ctx context.Context) context.Context {
	return oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, p.client), p.client)
}

// discovered returns the OpenID Connect provider behind p's Issuer,
// reading its discovery document on first use; a failed read is tried
// again by the next sign-in.
func (p *provider) discovered(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oidc != nil {
		return p.oidc, nil
	}
	op, err := oidc.NewProvider(p.withClient(ctx), p.Issuer)
	if err != nil {
		return nil, fmt.Errorf("ihoprauth: discovery of provider %s: %w", p.Name, err)
	}
	p.oidc = op
	return op, nil
}

// config returns the OAuth2 client configuration towards p.
func (p *provider) config(ctx context.Context) (*oauth2.Config, error) {
	c := &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: p.redirectURL, Scopes: p.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL}}
	if p.Issuer != "" {
		op, err := p.discovered(ctx)
		if err != nil {
			return nil, err
		}
		c.Endpoint = op.Endpoint()
	}
	return c, nil
}

// claims is who a provider says signed in.
type claims struct {
	Subject       string
	Email         string
	EmailVerified bool
	GivenName     string
	FamilyName    string
}

// errNonce says the ID token does not carry the nonce of its sign-in: it
// was issued for another one (a replay or an injected code).
var errNonce = errors.New("ihoprauth: the ID token's nonce does not match")

// identify trades the provider's code for tokens (with the PKCE verifier
// of the sign-in) and returns who signed in: from the verified ID token
// of an OpenID Connect provider, whose nonce must be nonce, or from the
// user info of a plain OAuth2 provider.
func (p *provider) identify(ctx context.Context, code, verifier, nonce string, now func() time.Time) (claims, error) {
	ctx = p.withClient(ctx)
	conf, err := p.config(ctx)
	if err != nil {
		return claims{}, err
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	var refused *oauth2.RetrieveError
	if errors.As(err, &refused) {
		// Its message quotes the provider's whole answer; the audit trail
		// gets the status and the error code only.
		return claims{}, fmt.Errorf("ihoprauth: token request to provider %s: %s %s", p.Name, refused.Response.Status, refused.ErrorCode)
	}
	if err != nil {
		return claims{}, fmt.Errorf("ihoprauth: token request to provider %s: %w", p.Name, err)
	}
	if p.Issuer == "" {
		return p.userInfo(ctx, conf.TokenSource(ctx, tok))
	}
	raw, _ := tok.Extra("id_token").(string)
	op, err := p.discovered(ctx)
	if err != nil {
		return claims{}, err
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: p.ClientID, Now: now}).Verify(ctx, raw)
	if err != nil {
		return claims{}, fmt.Errorf("ihoprauth: ID token of provider %s: %w", p.Name, err)
	}
	if !equalHex(idt.Nonce, nonce) {
		return claims{}, errNonce
	}
	var c struct {
		Email         string    `json:"email"`
		EmailVerified jsonTruth `json:"email_verified"`
		GivenName     string    `json:"given_name"`
		FamilyName    string    `json:"family_name"`
		AZP           string    `json:"azp"`
	}
	if err := idt.Claims(&c); err != nil {
		return claims{}, fmt.Errorf("ihoprauth: ID token claims of provider %s: %w", p.Name, err)
	}
	// OpenID Connect Core §3.1.3.7: a token that names an authorized party,
	// or has more than one audience, must have been issued to us.
	if (c.AZP != "" || len(idt.Audience) > 1) && c.AZP != p.ClientID {
		return claims{}, fmt.Errorf("ihoprauth: ID token of provider %s was issued to another party (azp)", p.Name)
	}
	return claims{Subject: idt.Subject, Email: c.Email, EmailVerified: bool(c.EmailVerified),
		GivenName: c.GivenName, FamilyName: c.FamilyName}, nil
}

// maxUserInfo bounds the user info read from a plain OAuth2 provider.
const maxUserInfo = 1 << 20

// userInfo reads who signed in from a plain OAuth2 provider's user info,
// by the fields its Provider names.
func (p *provider) userInfo(ctx context.Context, src oauth2.TokenSource) (claims, error) {
	resp, err := oauth2.NewClient(ctx, src).Get(p.UserInfoURL)
	if err != nil {
		return claims{}, fmt.Errorf("ihoprauth: user info of provider %s: %w", p.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return claims{}, fmt.Errorf("ihoprauth: user info of provider %s: %s", p.Name, resp.Status)
	}
	var info map[string]json.RawMessage
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxUserInfo))
	dec.UseNumber()
	if err := dec.Decode(&info); err != nil {
		return claims{}, fmt.Errorf("ihoprauth: user info of provider %s: %w", p.Name, err)
	}
	c := claims{Subject: jsonText(info[p.SubjectField]), Email: jsonText(info[p.EmailField])}
	if p.EmailVerifiedField != "" {
		var v jsonTruth
		c.EmailVerified = json.Unmarshal(info[p.EmailVerifiedField], &v) == nil && bool(v)
	}
	return c, nil
}

// jsonText returns a JSON string's text or a JSON number's literal ("" for
// anything else): providers give account ids as either.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if _, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return n.String()
		}
	}
	return ""
}

// jsonTruth is a claim that is true as the boolean true or the string
// "true" (some providers send email_verified as a string).
type jsonTruth bool

func (t *jsonTruth) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	*t = jsonTruth(s == "true")
	return nil
}
