package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ihoprauth/ihoprauth"
	"github.com/oauth2-proxy/mockoidc"
)

// TestRoutes checks the example's own pages without a browser: what each
// answers, and that the dev inbox exists only without -smtp.
func TestRoutes(t *testing.T) {
	tests := []struct {
		name         string
		smtp         string
		method, path string
		status       int
		contains     string
	}{
		{"page", "", "GET", "/", 200, `<script src="/app.js"`},
		{"script", "", "GET", "/app.js", 200, "crypto.subtle.digest"},
		{"config lists the public projects", "", "GET", "/config.json", 200,
			`{"projects":[{"client_id":"web-none","type":"none"},{"client_id":"web-two-step","type":"two-step"},` +
				`{"client_id":"web-otp","type":"otp"}],"inbox":true,"passkeys":false}`},
		{"inbox", "", "GET", "/dev/inbox", 200, "No mail yet."},
		{"no inbox with -smtp", "127.0.0.1:2525", "GET", "/dev/inbox", 404, ""},
		{"config without inbox with -smtp", "127.0.0.1:2525", "GET", "/config.json", 200, `"inbox":false`},
		{"account needs a login", "", "GET", "/account", 401, "Unauthenticated."},
		{"API", "", "GET", "/api/v1/user", 401, "Unauthenticated."},
		{"unknown page", "", "GET", "/nope", 404, ""},
		{"pages are GET only", "", "POST", "/", 405, ""},
		{"liveness", "", "GET", "/healthz", 200, `{"status":"ok"}`},
		{"readiness", "", "GET", "/readyz", 200, `{"status":"ready"}`},
		{"metrics", "", "GET", "/metrics", 200, `ihoprauth_store_duration_count{method="SaveProject",outcome="ok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testServer(t, options{smtp: tt.smtp, smtpFrom: "auth@example.com"}, nil)
			w := httptest.NewRecorder()
			srv.handler.ServeHTTP(w, localRequest(tt.method, tt.path))
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.contains) {
				t.Errorf("%s %s: got %d %q, want %d containing %q", tt.method, tt.path, w.Code, w.Body, tt.status, tt.contains)
			}
		})
	}
}

func TestPagesSetSecurityHeaders(t *testing.T) {
	srv := testServer(t, options{}, nil)
	for _, path := range []string{"/", "/style.css", "/dev/inbox"} {
		w := httptest.NewRecorder()
		srv.handler.ServeHTTP(w, localRequest("GET", path))
		h := w.Result().Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: got headers %v, want a CSP, nosniff and no-referrer", path, h)
		}
	}
}

func TestInbox(t *testing.T) {
	in := newInbox(io.Discard)
	for i := range inboxSize + 2 {
		if err := in.Send(t.Context(), ihoprauth.Message{Kind: ihoprauth.MailOTP, To: fmt.Sprintf("u%d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
	}
	mails := in.newest()
	if len(mails) != inboxSize || mails[0].To != fmt.Sprintf("u%d@example.com", inboxSize+1) ||
		mails[inboxSize-1].To != "u2@example.com" {
		t.Errorf("got %d mails from %s to %s, want the last %d, newest first", len(mails), mails[0].To, mails[len(mails)-1].To, inboxSize)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := in.Send(ctx, ihoprauth.Message{To: "late@example.com"}); err == nil || in.newest()[0].To == "late@example.com" {
		t.Errorf("Send with a done context: got %v, want an error and nothing kept", err)
	}
}

// TestInboxEscapes shows a mail's text and HTML as data, never as markup of
// the page.
func TestInboxEscapes(t *testing.T) {
	in := newInbox(io.Discard)
	in.Send(t.Context(), ihoprauth.Message{Kind: ihoprauth.MailOTP, To: "a@example.com",
		Subject: "<script>alert(1)</script>", Text: "code <b>123456</b>", HTML: `<p onclick="x()">"hi"</p>`})
	w := httptest.NewRecorder()
	in.ServeHTTP(w, httptest.NewRequest("GET", "/dev/inbox", nil))
	body := w.Body.String()
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "code &lt;b&gt;123456&lt;/b&gt;",
		`srcdoc="&lt;p onclick=&#34;x()&#34;&gt;&#34;hi&#34;&lt;/p&gt;"`, "<iframe sandbox "} {
		if !strings.Contains(body, want) {
			t.Errorf("inbox page: missing %s in\n%s", want, body)
		}
	}
}

func TestBrowserURL(t *testing.T) {
	tests := []struct{ flag, listen, want string }{
		{"localhost:8080", "127.0.0.1:8080", "http://localhost:8080"},
		{":0", "[::]:41234", "http://localhost:41234"},
		{"0.0.0.0:8080", "0.0.0.0:8080", "http://localhost:8080"},
		{"[::]:8080", "[::]:8080", "http://localhost:8080"},
		{"127.0.0.1:9000", "127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"[::1]:9000", "[::1]:9000", "http://[::1]:9000"},
	}
	for _, tt := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tt.listen)
		if err != nil {
			t.Fatal(err)
		}
		if got := browserURL(tt.flag, addr); got != tt.want {
			t.Errorf("browserURL(%q, %s) = %q, want %q", tt.flag, tt.listen, got, tt.want)
		}
	}
}

func TestDemoProjects(t *testing.T) {
	var got []string
	for _, s := range demoProjects() {
		got = append(got, fmt.Sprintf("%s public=%t secret=%t", s.ClientID, s.Public, s.ClientSecret != ""))
	}
	want := []string{
		"demo-none public=false secret=true", "demo-two-step public=false secret=true", "demo-otp public=false secret=true",
		"web-none public=true secret=false", "web-two-step public=true secret=false", "web-otp public=true secret=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// testServer is the example with its demo projects over a new SQLite
// database; stderr gets what it would print there (nil: nothing).
func testServer(t *testing.T, o options, stderr io.Writer) *server {
	t.Helper()
	if stderr == nil {
		stderr = io.Discard
	}
	o.db, o.sqlite = filepath.Join(t.TempDir(), "example.db"), "cgo"
	srv, err := newServer(t.Context(), o, demoProjects(), ihoprauth.PasskeyRP{}, stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// localRequest is a request from this machine to localhost, as a browser
// on the developer's machine sends it.
func localRequest(method, path string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	r.Host, r.RemoteAddr = "localhost:8080", "127.0.0.1:50000"
	return r
}

// TestInboxOnlyForLocalhost: the inbox shows codes, so another machine or a
// page that rebinds its own host name to 127.0.0.1 gets nothing.
func TestInboxOnlyForLocalhost(t *testing.T) {
	srv := testServer(t, options{}, nil)
	for name, edit := range map[string]func(*http.Request){
		"another host name": func(r *http.Request) { r.Host = "attacker.example" },
		"another machine":   func(r *http.Request) { r.RemoteAddr = "192.0.2.7:40000" },
		"through a proxy":   func(r *http.Request) { r.Header.Set("X-Forwarded-For", "192.0.2.7") },
		"forwarded":         func(r *http.Request) { r.Header.Set("Forwarded", "for=192.0.2.7") },
	} {
		for _, path := range []string{"/dev/inbox", "/metrics"} {
			r := localRequest("GET", path)
			edit(r)
			w := httptest.NewRecorder()
			srv.handler.ServeHTTP(w, r)
			if w.Code != http.StatusForbidden {
				t.Errorf("%s %s: got %d, want 403", name, path, w.Code)
			}
		}
	}
	r := localRequest("GET", "/dev/inbox")
	r.Host = "[::1]"
	w := httptest.NewRecorder()
	srv.handler.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("Host [::1]: got %d, want 200", w.Code)
	}
}

// TestProviderButton: with -oidc-issuer the page learns of the provider
// and a start from the page's origin goes to the provider (the whole dance
// is tested in the library's oauth_test.go).
func TestProviderButton(t *testing.T) {
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Shutdown() })
	srv := testServer(t, options{addr: "localhost:8080", oidcIssuer: op.Issuer(), oidcClientID: op.ClientID, oidcClientSecret: op.ClientSecret}, nil)
	w := httptest.NewRecorder()
	srv.handler.ServeHTTP(w, localRequest("GET", "/config.json"))
	if !strings.Contains(w.Body.String(), `"provider":"local"`) {
		t.Errorf("config.json: got %s, want the provider", w.Body)
	}
	q := url.Values{"client_id": {"web-none"}, "redirect_uri": {"http://localhost:8080/"}, "state": {"s"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}}
	w = httptest.NewRecorder()
	srv.handler.ServeHTTP(w, localRequest("GET", "/api/v1/oauth/local/start?"+q.Encode()))
	if loc := w.Header().Get("Location"); w.Code != http.StatusFound || !strings.HasPrefix(loc, op.AuthorizationEndpoint()+"?") {
		t.Errorf("start: got %d to %q, want a redirect to the provider", w.Code, loc)
	}
}
