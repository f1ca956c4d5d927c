package ihoprauth_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/store"
)

// sessionEnv is an env with cookie sessions on, served over TLS as well,
// since a __Host- cookie is Secure and Go's cookie jar sends it over HTTPS
// only.
type sessionEnv struct {
	*env
	tls     *httptest.Server
	browser *http.Client
}

func newSessionEnv(t *testing.T) *sessionEnv {
	t.Helper()
	db, st := openStore(t)
	e := buildEnv(t, st, nil, withSessions(st))
	e.db = db
	return browse(e)
}

// withSessions turns cookie sessions on, kept in st.
func withSessions(st *store.Store) func(*ihoprauth.Config) {
	return func(c *ihoprauth.Config) { c.Sessions = ihoprauth.NewSessionManager(st.SessionStore()) }
}

// browse serves e over TLS as well and gives it a browser with a cookie jar.
func browse(e *env) *sessionEnv {
	s := &sessionEnv{env: e, tls: httptest.NewTLSServer(e.srv.Config.Handler)}
	e.t.Cleanup(s.tls.Close)
	s.browser = s.tls.Client()
	s.browser.Jar, _ = cookiejar.New(nil)
	return s
}

// visit sends a request as the browser: with its cookies, no bearer token
// unless given, and the extra headers.
func (s *sessionEnv) visit(method, path, token string, header http.Header) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.tls.URL+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.browser.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (s *sessionEnv) startSession(token string) *http.Cookie {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.tls.URL+"/api/v1/session", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := s.browser.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		s.t.Fatalf("POST /api/v1/session: got %d, want 200", res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if c.Name == "__Host-ihoprauth" {
			return c
		}
	}
	s.t.Fatal("no __Host-ihoprauth cookie set")
	return nil
}

func TestSessionCookie(t *testing.T) {
	s := newSessionEnv(t)
	tok := s.signupNone("cookie@example.com")
	c := s.startSession(tok)
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("got cookie %+v, want Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain", c)
	}
	if status, body := s.visit("GET", "/hello", "", nil); status != 200 || body != "hello cookie@example.com" {
		t.Fatalf("the app's route with only the cookie: got %d %s, want 200", status, body)
	}
	for name, h := range map[string]http.Header{
		"cross-site fetch":           {"Sec-Fetch-Site": {"cross-site"}},
		"another origin":             {"Origin": {"https://evil.example"}},
		"same-site, not same-origin": {"Sec-Fetch-Site": {"same-site"}},
	} {
		if status, _ := s.visit("POST", "/api/v1/logout", "", h); status != 403 {
			t.Errorf("%s logout with the cookie: got %d, want 403", name, status)
		}
	}
	if status, _ := s.visit("GET", "/hello", "", nil); status != 200 {
		t.Fatalf("after refused cross-site requests: got %d, want the session alive", status)
	}
	if status, _ := s.visit("POST", "/api/v1/logout", "", http.Header{"Sec-Fetch-Site": {"same-origin"}}); status != 200 {
		t.Fatalf("same-origin logout with the cookie: got %d, want 200", status)
	}
	if status, _ := s.visit("GET", "/hello", "", nil); status != 401 {
		t.Errorf("after logout: got %d, want 401", status)
	}
	want(t, s.do("GET", "/api/v1/user", tok, nil), 401) // the login behind the session ended too
}

func TestRevocationEndsSessions(t *testing.T) {
	s := newSessionEnv(t)
	tok := s.signupNone("ended@example.com")
	s.startSession(tok)
	r := s.post("/api/v1/send-reset-password-code", with(s.none, "email", "ended@example.com"))
	want(t, s.post("/api/v1/reset-password", map[string]any{"reset_password_code": s.mailedCode("ended@example.com"),
		"reset_password_token": r.str("reset_password_token"), "password": "A brand new passphrase"}), 200)
	if status, _ := s.visit("GET", "/hello", "", nil); status != 401 {
		t.Errorf("after a password reset: got %d, want the session ended (401)", status)
	}

	tok = s.exchange(s.none, s.loginWith(s.none, "ended@example.com", "A brand new passphrase").str("code"), "").str("access_token")
	s.startSession(tok)
	want(t, s.do("POST", "/api/v1/logout", tok, nil), 200) // logout of the login by bearer
	if status, _ := s.visit("GET", "/hello", "", nil); status != 401 {
		t.Errorf("after the login's logout: got %d, want the session ended (401)", status)
	}
}

func TestSessionsOffByDefault(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("nosession@example.com")
	r := e.do("POST", "/api/v1/session", tok, nil)
	if r.status != 404 || !strings.Contains(r.str("message"), "not enabled") {
		t.Errorf("got %s, want 404 saying sessions are not enabled", r)
	}
}

// TestSessionTableHoldsNoCredential: a copy of the sessions table yields
// neither the cookie nor a bearer token.
func TestSessionTableHoldsNoCredential(t *testing.T) {
	s := newSessionEnv(t)
	tok := s.signupNone("table@example.com")
	cookie := s.startSession(tok)
	var rows []struct {
		Token string
		Data  []byte
	}
	if err := s.db.Raw("SELECT token, data FROM ihoprauth_sessions").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("got %d sessions, want 1", len(rows))
	}
	if rows[0].Token == cookie.Value || strings.Contains(string(rows[0].Data), tok) {
		t.Fatal("the sessions table holds the cookie or the access token")
	}
	for _, candidate := range hex64Any.FindAllString(string(rows[0].Data), -1) {
		want(t, s.do("GET", "/api/v1/user", candidate, nil), 401)
	}
}

var hex64Any = regexp.MustCompile(`[0-9a-f]{64}`)
