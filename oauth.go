package ihoprauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Sign-in with another provider (docs/design.md, D42) ends in iHopr's own
// shape, so that a client only adds a button:
//
//	GET BasePath/oauth/{provider}/start?client_id&redirect_uri&state&code_challenge
//	  → 302 to the provider, with a state, a nonce and a PKCE challenge of ours
//	GET BasePath/oauth/{provider}/callback?code&state   (the provider sends the browser here)
//	  → 302 to redirect_uri?code=…&state=…   (code for api-tauth-token)
//	  or redirect_uri?mfa_token=…&mfa_expires_at=…&methods=…&state=…   (D34)
//	  or redirect_uri?error=…&error_description=…&state=…
//
// The library's state, nonce and PKCE verifier ride in a cookie sealed with
// the library's key (AES-256-GCM, bound to the provider) that binds the
// sign-in to the browser that started it (login CSRF, RFC 9700 §4.7); the
// state is also a challenge in the store, so that on any instance it works
// once and for oauthStateTTL. Before redirect_uri is checked against the
// project's list, errors are JSON; after, they go to redirect_uri.

// oauthStateTTL is how long a sign-in may take at the provider.
const oauthStateTTL = 10 * time.Minute

// maxSubject is the longest subject of a provider identity.
const maxSubject = 255

// oauthStartsPerHour bounds the sign-ins with providers that one source
// (an address, IPv6 per /64) may start in an hour, over all projects: each
// stores a state until Cleanup purges it.
const oauthStartsPerHour = 100

// oauthCookiePrefix starts the name of a sign-in's state cookie; the name
// ends with the start of its state, so that sign-ins in two tabs do not
// overwrite each other's cookie.
const oauthCookiePrefix = "ihoprauth_oauth_"

// oauthFlow is what the state cookie carries, sealed, from start to
// callback.
type oauthFlow struct {
	State       string `json:"s"`
	Nonce       string `json:"n"`
	Verifier    string `json:"v"`
	RedirectURI string `json:"r"`
	ClientState string `json:"c"`
}

// The JSON errors of the flow, before it can redirect.
var (
	errNoProvider = &Error{Status: http.StatusNotFound, Message: "This project offers no such provider."}
	errBadState   = badRequest("The sign-in could not be completed: its state is missing, used, expired or from another browser. Start again.")
)

// serveOAuth answers BasePath/oauth/{provider}/start and …/callback.
func (a *Auth) serveOAuth(w http.ResponseWriter, r *http.Request, rest string) {
	name, action, _ := strings.Cut(rest, "/")
	p := a.providers.byName[name]
	if p == nil || (action != "start" && action != "callback") {
		errNotFound.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		methodNotAllowed().ServeHTTP(w, r)
		return
	}
	ctx, cancel := a.bounded(withClient(r.Context(), a.clientOf(r)))
	defer cancel()
	r = r.WithContext(ctx)
	var err error
	if action == "start" {
		err = a.oauthStart(w, r, p)
	} else {
		err = a.oauthCallback(w, r, p)
	}
	if err != nil {
		a.writeError(w, r, err)
	}
}

// redirectTo answers a 302 to uri with params added to its query.
func redirectTo(w http.ResponseWriter, uri string, params url.Values) {
	u, _ := url.Parse(uri) // checked at start, against the project's list
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q.Set(k, v[0])
		}
	}
	u.RawQuery = q.Encode()
	found(w, u.String())
}

// found answers a 302 to location with no body, which no cache keeps.
func found(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// oauthError is an error that the flow answers by redirecting to the
// client's redirect_uri with error and error_description (RFC 6749
// §4.1.2.1).
type oauthError struct{ code, description string }

func (e *oauthError) Error() string { return "ihoprauth: " + e.code + ": " + e.description }

// redirectError returns what answers an *oauthError by redirecting to uri
// with the client's state.
func redirectError(w http.ResponseWriter, uri, clientState string) func(*oauthError) error {
	return func(e *oauthError) error {
		redirectTo(w, uri, url.Values{"error": {e.code}, "error_description": {e.description}, "state": {clientState}})
		return nil
	}
}

// The redirect errors of the flow besides RFC 6749's.
var (
	errAccountExists = &oauthError{"account_exists", "An account with this email exists. Sign in to it and link the provider from there."}
	errIdentityTaken = &oauthError{"identity_taken", "This provider account is linked to another account."}
	errRefused       = &oauthError{"access_denied", "The sign-in was refused."}
	errNoEmail       = &oauthError{"access_denied", "The provider gave no usable email address."}
	errBadLinkToken  = &oauthError{"invalid_request", "The link_token is invalid or has expired."}
)

// oauthProject returns the project of clientID and how it offers
// providers, if it offers p.
func (a *Auth) oauthProject(ctx context.Context, clientID string, p *provider) (Project, OAuthProject, error) {
	proj, err := a.project(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return Project{}, OAuthProject{}, errBadClient
	}
	if err != nil {
		return Project{}, OAuthProject{}, err
	}
	op, ok := a.cfg.OAuthProjects[clientID]
	if !ok || !slices.Contains(op.Providers, p.Name) {
		return Project{}, OAuthProject{}, errNoProvider
	}
	return proj, op, nil
}

// oauthStart checks the client's request and sends the browser to the
// provider.
func (a *Auth) oauthStart(w http.ResponseWriter, r *http.Request, p *provider) error {
	ctx := r.Context()
	form, err := decodeForm([]byte(r.URL.RawQuery))
	if err != nil {
		return err
	}
	in := &input{form: form}
	clientID, redirect := in.str("client_id", true, 191), in.str("redirect_uri", true, 2048)
	if err := in.err(); err != nil {
		return err
	}
	proj, op, err := a.oauthProject(ctx, clientID, p)
	if err != nil {
		return err
	}
	// Each start stores a state: a source may store so many an hour.
	if err := a.spendSourceBudget(ctx, proj.ID, "oauth-start", oauthStartsPerHour,
		"provider sign-ins from one address", "Too many sign-ins from your address."); err != nil {
		return err
	}
	if !slices.Contains(op.RedirectURIs, redirect) {
		return fieldError("redirect_uri", "The redirect_uri is not one of the project's redirect URIs.")
	}
	flow := oauthFlow{State: newOpaque(tokenBytes), Nonce: newOpaque(tokenBytes), Verifier: oauth2.GenerateVerifier(),
		RedirectURI: redirect, ClientState: in.str("state", false, 512)}
	fail := redirectError(w, redirect, flow.ClientState)
	pk := a.readPKCE(in)
	if pk.challenge == "" && in.err() == nil {
		in.fail("code_challenge", "The code_challenge field is required: every sign-in with a provider uses PKCE (S256).")
	}
	linkToken := in.str("link_token", false, maxOpaque)
	if err := in.err(); err != nil {
		return fail(&oauthError{"invalid_request", err.(*Error).Message})
	}
	var linker int64
	if linkToken != "" {
		if linker, err = a.takeLinkToken(ctx, proj, p, linkToken); err != nil {
			return a.oauthFailed(ctx, proj, p, err, fail)
		}
	}
	conf, err := p.config(ctx)
	if err != nil {
		a.cfg.OnError(ctx, err)
		return fail(&oauthError{"temporarily_unavailable", "The provider cannot be reached. Try again shortly."})
	}
	c := Challenge{Purpose: PurposeOAuth, ProjectID: proj.ID, UserID: linker, TokenHash: sha256Hex(flow.State),
		CodeChallenge: pk.challenge, CodeChallengeMethod: pk.method, ExpiresAt: a.now().Add(oauthStateTTL),
		CreatedAt: a.now(), Provider: p.Name}
	if err := a.store.CreateChallenge(ctx, &c); err != nil {
		return err
	}
	http.SetCookie(w, a.oauthCookie(flow, p.Name))
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(flow.Verifier)}
	if p.Issuer != "" {
		opts = append(opts, oidc.Nonce(flow.Nonce))
	}
	found(w, conf.AuthCodeURL(flow.State, opts...))
	return nil
}

// oauthAD is the additional data of a sealed state cookie: it opens only
// for the provider it was made for, and never as a factor secret.
func oauthAD(provider string) []byte { return []byte("oauth-state:" + provider) }

// oauthCookie is the state cookie of flow: HttpOnly, SameSite=Lax (the
// provider's redirect back is a top-level GET, which carries it), Secure
// unless PublicURL is http://, and only sent to the provider's paths.
func (a *Auth) oauthCookie(flow oauthFlow, provider string) *http.Cookie {
	plain, _ := json.Marshal(flow)
	return a.stateCookie(provider, flow.State, a.sealString(plain, oauthAD(provider)), int(oauthStateTTL.Seconds()))
}

// stateCookie is the state cookie of the sign-in with provider whose state
// is state; a negative maxAge clears it.
func (a *Auth) stateCookie(provider, state, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: oauthCookiePrefix + state[:16], Value: value, Path: a.cfg.BasePath + "/oauth/" + provider + "/",
		MaxAge: maxAge, HttpOnly: true, Secure: !strings.HasPrefix(a.cfg.PublicURL, "http://"), SameSite: http.SameSiteLaxMode,
	}
}

// openFlow returns the flow of r's state cookie for state, if the cookie
// is there, opens under a current or previous key, and names that state.
func (a *Auth) openFlow(r *http.Request, provider, state string) (oauthFlow, bool) {
	if len(state) != 2*tokenBytes {
		return oauthFlow{}, false
	}
	c, err := r.Cookie(oauthCookiePrefix + state[:16])
	if err != nil {
		return oauthFlow{}, false
	}
	plain, ok := a.openString(c.Value, oauthAD(provider))
	var flow oauthFlow
	if !ok || json.Unmarshal(plain, &flow) != nil || !equalHex(flow.State, state) {
		return oauthFlow{}, false
	}
	return flow, true
}

// oauthCallback completes a sign-in that the provider sent the browser
// back from.
func (a *Auth) oauthCallback(w http.ResponseWriter, r *http.Request, p *provider) error {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	flow, ok := a.openFlow(r, p.Name, state)
	if !ok {
		return errBadState
	}
	http.SetCookie(w, a.stateCookie(p.Name, state, "", -1))
	c, proj, err := a.takeOAuthState(ctx, p, state)
	if err != nil {
		return err
	}
	fail := redirectError(w, flow.RedirectURI, flow.ClientState)
	if q.Get("error") != "" || q.Get("code") == "" {
		a.event(ctx, EventProviderLoginFailed, proj.ID, "", p.Name+": the provider answered "+cutText(q.Get("error"), 64))
		return fail(&oauthError{"access_denied", "The provider did not sign the user in."})
	}
	cl, err := p.identify(ctx, q.Get("code"), flow.Verifier, flow.Nonce, a.cfg.Now)
	if err == nil && cl.Subject == "" {
		err = errors.New("ihoprauth: the provider named no subject")
	}
	if err == nil && (len(cl.Subject) > maxSubject || hasControl(cl.Subject)) {
		// OpenID Connect Core §2 allows no more than 255 ASCII characters;
		// the identities table keeps no more, a database that cut it would
		// merge accounts, and PostgreSQL refuses a NUL.
		err = errors.New("ihoprauth: the provider's subject is longer than 255 bytes or has control characters")
	}
	if err != nil {
		a.event(ctx, EventProviderLoginFailed, proj.ID, "", p.Name+": "+cutText(err.Error(), 200))
		return fail(&oauthError{"access_denied", "The provider's answer could not be verified."})
	}
	if c.UserID != 0 {
		// A link is only proposed here: the user it is for confirms it
		// with their bearer token and the start's PKCE verifier (D43).
		code, err := a.pendingLink(ctx, c, p, cl)
		if err != nil {
			return err
		}
		redirectTo(w, flow.RedirectURI, url.Values{"link_code": {code}, "state": {flow.ClientState}})
		return nil
	}
	params, err := a.providerLogin(ctx, proj, p, cl, pkce{c.CodeChallenge, c.CodeChallengeMethod})
	if err != nil {
		return a.oauthFailed(ctx, proj, p, err, fail)
	}
	if st := clientFrom(ctx).state; st != nil && st.device != "" {
		http.SetCookie(w, a.deviceCookie(r, st.device))
	}
	params.Set("state", flow.ClientState)
	redirectTo(w, flow.RedirectURI, params)
	return nil
}

// oauthFailed answers err by redirecting when it is an *oauthError, and
// with a JSON error otherwise (a broken database).
func (a *Auth) oauthFailed(ctx context.Context, proj Project, p *provider, err error, fail func(*oauthError) error) error {
	var oe *oauthError
	if errors.As(err, &oe) {
		a.event(ctx, EventProviderLoginFailed, proj.ID, "", p.Name+": "+oe.code)
		return fail(oe)
	}
	return err
}

// takeOAuthState spends the stored state of a sign-in with p and returns
// it with its project. A state that is unknown, used, expired or of
// another provider is errBadState.
func (a *Auth) takeOAuthState(ctx context.Context, p *provider, state string) (Challenge, Project, error) {
	c, err := a.store.ChallengeByToken(ctx, PurposeOAuth, sha256Hex(state))
	switch {
	case errors.Is(err, ErrNotFound):
		return Challenge{}, Project{}, errBadState
	case err != nil:
		return Challenge{}, Project{}, err
	case c.UsedAt != nil || !a.now().Before(c.ExpiresAt) || c.Provider != p.Name:
		return Challenge{}, Project{}, errBadState
	}
	won, err := a.store.ConsumeChallenge(ctx, c.ID, a.now())
	if err != nil || !won {
		return Challenge{}, Project{}, cmpErr(err, errBadState)
	}
	proj, err := a.store.ProjectByID(ctx, c.ProjectID)
	if errors.Is(err, ErrNotFound) {
		return Challenge{}, Project{}, errBadState
	}
	return c, proj, err
}

// providerLogin signs in the user that cl names (docs/design.md, D43) and
// returns what the redirect carries: the login's code, or an mfa_token
// when the user has a second factor (D34).
func (a *Auth) providerLogin(ctx context.Context, proj Project, p *provider, cl claims, pk pkce) (url.Values, error) {
	u, err := a.providerUser(ctx, proj, p, cl)
	if err != nil {
		return nil, err
	}
	if u.Disabled() {
		return nil, errRefused
	}
	account := accountKey(proj.ID, u.EmailKey)
	methods, err := a.factorMethods(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	a.event(ctx, EventProviderLogin, proj.ID, u.UserID, p.Name)
	if len(methods) > 0 {
		step, err := a.newMFAStep(ctx, a.store, pendingLogin{proj.ID, u.ID, account, pk, p.Name}, methods)
		if err != nil {
			return nil, err
		}
		return url.Values{"mfa_token": {step.MFAToken}, "mfa_expires_at": {step.MFAExpiresAt},
			"methods": {strings.Join(step.Methods, " ")}}, nil
	}
	code, err := a.newAuthCode(ctx, a.store, proj.ID, u.ID, pk, AAL1, p.Name)
	if err != nil {
		return nil, err
	}
	if err := a.loginCompleted(ctx, account); err != nil {
		return nil, err
	}
	return url.Values{"code": {code}}, nil
}

// cutText cuts s to at most n bytes, for audit results: valid UTF-8 with
// each control character shown as "?", since s may come from the browser's
// query and PostgreSQL refuses a NUL or invalid UTF-8.
func cutText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.Map(func(r rune) rune {
		if hasControl(string(r)) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}
