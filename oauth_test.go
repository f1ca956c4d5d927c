package ihoprauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/ihoprauth/ihoprauth"
)

// The sign-in with other providers (docs/design.md, D42 and D43) is
// tested against a real OpenID Provider, mockoidc, started by each test on
// loopback: discovery, its keys, its signed ID tokens, PKCE, nonce and
// userinfo are its own, not hand-written JSON.

// appRedirect is the client's redirect_uri on the projects' lists: the
// browser's journey ends there.
const appRedirect = "https://app.example.test/signed-in"

// oauthEnv is an env served over TLS (the state cookie is Secure) with two
// providers on one mockoidc: "local" by OpenID Connect discovery, "plain"
// by its authorization, token and userinfo endpoints as plain OAuth2.
type oauthEnv struct {
	*env
	op *mockoidc.MockOIDC
}

func newOAuthEnv(t *testing.T, tweak ...func(*ihoprauth.Config)) *oauthEnv {
	t.Helper()
	op, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return newOAuthEnvWith(t, op, tweak...)
}

// newOAuthEnvWith is newOAuthEnv with op, not yet started, as the
// provider.
func newOAuthEnvWith(t *testing.T, op *mockoidc.MockOIDC, tweak ...func(*ihoprauth.Config)) *oauthEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Shutdown() })
	srv := httptest.NewUnstartedServer(nil)
	cfg := func(c *ihoprauth.Config) {
		c.PublicURL = "https://" + srv.Listener.Addr().String()
		c.Providers = []ihoprauth.Provider{
			{Name: "local", Issuer: op.Issuer(), ClientID: op.ClientID, ClientSecret: op.ClientSecret},
			{Name: "plain", AuthURL: op.AuthorizationEndpoint(), TokenURL: op.TokenEndpoint(), UserInfoURL: op.UserinfoEndpoint(),
				ClientID: op.ClientID, ClientSecret: op.ClientSecret, Scopes: []string{"openid", "email"}, SubjectField: "sub"},
		}
		c.OAuthProjects = map[string]ihoprauth.OAuthProject{
			"web-none": {Providers: []string{"local", "plain"}, RedirectURIs: []string{appRedirect}},
			"web-two":  {Providers: []string{"local", "plain"}, RedirectURIs: []string{appRedirect}, AutoLink: true},
			"spa":      {Providers: []string{"local"}, RedirectURIs: []string{appRedirect}},
		}
	}
	e := newEnv(t, append([]func(*ihoprauth.Config){cfg}, tweak...)...)
	// mockoidc signs with the test's clock, so the library's checks of
	// expiry agree with it.
	mockoidc.NowFunc = e.clock.Now
	t.Cleanup(func() { mockoidc.NowFunc = time.Now })
	srv.Config.Handler = e.srv.Config.Handler
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.srv = srv
	return &oauthEnv{env: e, op: op}
}

// browser is an HTTP client that keeps cookies and follows redirects, as
// far as the client's redirect_uri, and checks each answer of the API
// against openapi.json.
type browser struct {
	t      *testing.T
	client *http.Client
}

func (e *oauthEnv) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c := *e.srv.Client()
	c.Jar = jar
	c.Transport = checkedTransport{e.t, c.Transport}
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == "app.example.test" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &browser{t: e.t, client: &c}
}

// checkedTransport validates every exchange with the API against the
// document.
type checkedTransport struct {
	t    *testing.T
	next http.RoundTripper
}

func (c checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return res, err
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(raw))
	checkOpenAPI(c.t, req, nil, res, raw)
	return res, nil
}

// visit GETs uri and returns where the journey ended: the answer that was
// not a redirect, or the redirect to the client's redirect_uri.
func (b *browser) visit(uri string) (*http.Response, string) {
	b.t.Helper()
	res, err := b.client.Get(uri)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}

// landing is the query of the client's redirect_uri at the end of a
// journey; the test fails when it did not end there.
func landing(t *testing.T, res *http.Response, body string) url.Values {
	t.Helper()
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), appRedirect+"?") {
		t.Fatalf("got %d %s (Location %q), want a redirect to %s", res.StatusCode, body, res.Header.Get("Location"), appRedirect)
	}
	return loc.Query()
}

// startURL is the start of a sign-in with provider for the client.
func (e *oauthEnv) startURL(provider, clientID, challenge string, extra ...string) string {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {appRedirect}, "state": {"client-state-42"}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return e.srv.URL + "/api/v1/oauth/" + provider + "/start?" + q.Encode()
}

// signIn runs a whole sign-in of user with provider for the project and
// returns the query the client's redirect_uri got.
func (e *oauthEnv) signIn(user *mockoidc.MockUser, provider string, project map[string]any, challenge string, extra ...string) url.Values {
	e.t.Helper()
	e.op.QueueUser(user)
	res, body := e.browser().visit(e.startURL(provider, project["client_id"].(string), challenge, extra...))
	return landing(e.t, res, body)
}

func mockUser(sub, email string, verified bool) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: sub, Email: email, EmailVerified: verified, PreferredUsername: sub}
}

func TestOAuthSignInEndToEnd(t *testing.T) {
	e := newOAuthEnv(t)
	verifier, challenge := pkcePair("oidc-e2e")
	got := e.signIn(mockUser("sub-ada", "Ada@Example.com", true), "local", e.none, challenge)
	if got.Get("state") != "client-state-42" || got.Get("code") == "" || got.Get("error") != "" {
		t.Fatalf("redirect_uri got %v, want a code and the client's state", got)
	}
	tok := e.exchange(e.none, got.Get("code"), verifier)
	u := tok.obj("user")
	if u["provider"] != "local" || u["email"] != "Ada@Example.com" {
		t.Errorf("token answer's user: got provider %v, email %v, want local and Ada@Example.com", u["provider"], u["email"])
	}
	ids := e.do("GET", "/api/v1/user/identities", tok.str("access_token"), nil)
	want(t, ids, 200)
	if list, _ := ids.body["identities"].([]any); len(list) != 1 || list[0].(map[string]any)["provider"] != "local" {
		t.Errorf("identities: got %s, want the one of local", ids.raw)
	}

	again := e.signIn(mockUser("sub-ada", "ada@example.com", true), "local", e.none, challenge)
	tok2 := e.exchange(e.none, again.Get("code"), verifier)
	if tok2.obj("user")["user_id"] != u["user_id"] {
		t.Errorf("second sign-in: got user %v, want the same user %v", tok2.obj("user")["user_id"], u["user_id"])
	}
	replay := e.post("/api/v1/api-tauth-token", with(e.none, "code", again.Get("code"), "code_verifier", verifier))
	want(t, replay, 401)
	want(t, e.post("/api/v1/api-tauth-token", with(e.none, "code", got.Get("code"))), 401)
}

func TestOAuthPlainOAuth2(t *testing.T) {
	e := newOAuthEnv(t)
	verifier, challenge := pkcePair("plain")
	got := e.signIn(mockUser("4711", "grace@example.com", true), "plain", e.none, challenge)
	tok := e.exchange(e.none, got.Get("code"), verifier)
	if u := tok.obj("user"); u["provider"] != "plain" || u["email"] != "grace@example.com" {
		t.Errorf("token answer's user: got %v, want provider plain and grace@example.com", u)
	}
	ids, err := e.auth.Identities(context.Background(), tok.obj("user")["user_id"].(string))
	if err != nil || len(ids) != 1 || ids[0].Subject != "4711" || ids[0].Provider != "plain" {
		t.Errorf("Identities: got %+v and error %v, want plain's 4711", ids, err)
	}
}

func TestOAuthStartRefusals(t *testing.T) {
	e := newOAuthEnv(t)
	_, challenge := pkcePair("refusals")
	b := e.browser()
	cases := []struct {
		name, uri string
		status    int
	}{
		{"redirect_uri not on the list", strings.Replace(e.startURL("local", "web-none", challenge), "app.example.test", "evil.example", 1), 422},
		{"unknown client", e.startURL("local", "nobody", challenge), 401},
		{"provider the project does not offer", e.startURL("plain", "spa", challenge), 404},
		{"unknown provider", e.startURL("nope", "web-none", challenge), 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := b.visit(c.uri)
			if res.StatusCode != c.status || !strings.Contains(res.Header.Get("Content-Type"), "application/json") {
				t.Errorf("got %d %s, want JSON %d", res.StatusCode, body, c.status)
			}
		})
	}
	t.Run("no code_challenge", func(t *testing.T) {
		res, body := b.visit(e.startURL("local", "web-none", ""))
		got := landing(t, res, body)
		if got.Get("error") != "invalid_request" || got.Get("state") != "client-state-42" {
			t.Errorf("got %v, want error=invalid_request with the client's state", got)
		}
	})
}

// journeyToCallback runs a sign-in as far as the provider's redirect to
// the callback and returns the callback URL, not yet visited, and the
// browser that holds the state cookie.
func (e *oauthEnv) journeyToCallback(user *mockoidc.MockUser, challenge string) (string, *browser) {
	e.t.Helper()
	e.op.QueueUser(user)
	b := e.browser()
	b.client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	res, body := b.visit(e.startURL("local", "web-none", challenge))
	if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "/callback?") {
		e.t.Fatalf("got %d %s, want the provider's redirect to the callback", res.StatusCode, body)
	}
	b.client.CheckRedirect = e.browser().client.CheckRedirect
	return res.Header.Get("Location"), b
}

func TestOAuthCallbackState(t *testing.T) {
	e := newOAuthEnv(t)
	_, challenge := pkcePair("state")
	t.Run("bad state", func(t *testing.T) {
		callback, b := e.journeyToCallback(mockUser("sub-s1", "s1@example.com", true), challenge)
		u, _ := url.Parse(callback)
		q := u.Query()
		q.Set("state", strings.Repeat("0", 64))
		u.RawQuery = q.Encode()
		res, body := b.visit(u.String())
		if res.StatusCode != 400 {
			t.Errorf("got %d %s, want 400", res.StatusCode, body)
		}
	})
	t.Run("another browser", func(t *testing.T) {
		callback, _ := e.journeyToCallback(mockUser("sub-s2", "s2@example.com", true), challenge)
		res, body := e.browser().visit(callback)
		if res.StatusCode != 400 {
			t.Errorf("got %d %s, want 400: the state cookie binds the sign-in to its browser", res.StatusCode, body)
		}
	})
	t.Run("replayed callback", func(t *testing.T) {
		callback, b := e.journeyToCallback(mockUser("sub-s3", "s3@example.com", true), challenge)
		cookies := b.client.Jar.Cookies(mustURL(t, callback))
		res, body := b.visit(callback)
		if got := landing(t, res, body); got.Get("code") == "" {
			t.Fatalf("first visit: got %v, want a code", got)
		}
		b.client.Jar.SetCookies(mustURL(t, callback), cookies) // a stolen copy of the cookie
		res, body = b.visit(callback)
		if res.StatusCode != 400 {
			t.Errorf("second visit: got %d %s, want 400: a state works once", res.StatusCode, body)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestOAuthWrongNonce(t *testing.T) {
	op, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The provider signs an ID token for another sign-in's nonce, as a
	// replayed or injected code would carry.
	op.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint {
				q := r.URL.Query()
				q.Set("nonce", "a-nonce-of-another-sign-in")
				r.URL.RawQuery = q.Encode()
			}
			next.ServeHTTP(w, r)
		})
	})
	e := newOAuthEnvWith(t, op)
	_, challenge := pkcePair("nonce")
	got := e.signIn(mockUser("sub-n", "n@example.com", true), "local", e.none, challenge)
	if got.Get("error") != "access_denied" || got.Get("code") != "" {
		t.Errorf("got %v, want error=access_denied and no code", got)
	}
	if u, err := e.auth.UserByEmail(context.Background(), "web-none", "n@example.com"); err == nil {
		t.Errorf("a user was made: %v", u.UserID)
	}
}

// TestOAuthStartsPerSource: every start stores a state, so one address may
// start only so many sign-ins an hour.
func TestOAuthStartsPerSource(t *testing.T) {
	e := newOAuthEnv(t)
	_, challenge := pkcePair("budget")
	b := e.browser()
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for i := range 100 {
		if res, body := b.visit(e.startURL("local", "web-none", challenge)); res.StatusCode != http.StatusFound {
			t.Fatalf("start %d: got %d %s, want 302", i+1, res.StatusCode, body)
		}
	}
	res, body := b.visit(e.startURL("local", "web-none", challenge))
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("start 101: got %d %s, want 429 with Retry-After", res.StatusCode, body)
	}
}

// TestOAuthExpiredIDToken: an ID token whose expiry has passed by the
// library's clock is refused, as go-oidc checks it with Config.Now.
func TestOAuthExpiredIDToken(t *testing.T) {
	e := newOAuthEnv(t)
	e.op.FastForward(-time.Hour) // the provider signs as of an hour ago: its 10-minute token has expired
	_, challenge := pkcePair("expired")
	got := e.signIn(mockUser("sub-x", "x@example.com", true), "local", e.none, challenge)
	if got.Get("error") != "access_denied" || got.Get("code") != "" {
		t.Errorf("got %v, want error=access_denied and no code", got)
	}
	events, err := e.auth.Events(context.Background(), time.Time{}, 10)
	if err != nil || len(events) == 0 || events[0].Kind != ihoprauth.EventProviderLoginFailed || !strings.Contains(events[0].Result, "expired") {
		t.Errorf("latest event: got %+v (error %v), want a provider login failed for an expired token", events, err)
	}
}

// azpUser is a mockoidc user whose ID token names an authorized party.
type azpUser struct {
	*mockoidc.MockUser
	azp string
}

func (u azpUser) Claims(scope []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	base, err := u.MockUser.Claims(scope, c)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	var m jwt.MapClaims
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["azp"] = u.azp
	return m, nil
}

// TestOAuthAuthorizedParty: an ID token issued to another party (its azp
// is another client's) is refused; one whose azp is ours signs in.
func TestOAuthAuthorizedParty(t *testing.T) {
	e := newOAuthEnv(t)
	_, challenge := pkcePair("azp")
	for _, tt := range []struct {
		azp      string
		wantCode bool
	}{{"another-client", false}, {e.op.ClientID, true}} {
		e.op.QueueUser(azpUser{mockUser("sub-azp-"+tt.azp, "azp."+tt.azp+"@example.com", true), tt.azp})
		res, body := e.browser().visit(e.startURL("local", "web-none", challenge))
		got := landing(t, res, body)
		if (got.Get("code") != "") != tt.wantCode {
			t.Errorf("azp %q: got %v, want a code: %v", tt.azp, got, tt.wantCode)
		}
		if !tt.wantCode && got.Get("error") != "access_denied" {
			t.Errorf("azp %q: got %v, want error=access_denied", tt.azp, got)
		}
	}
}
