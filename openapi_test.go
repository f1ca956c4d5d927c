package ihoprauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/ihoprauth/ihoprauth"
)

// apiSpec is openapi.json, loaded and checked once for the whole test run,
// with a router that finds the operation of a request.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

var loadSpec = sync.OnceValues(func() (*apiSpec, error) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("loading openapi.json: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, errors.New("openapi.json is not OpenAPI 3.1: its 3.1 keywords would not be validated")
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &apiSpec{doc: doc, router: router}, nil
})

// checkOpenAPI validates one exchange the tests made against openapi.json:
// the response always, the request only when the response status is below
// 400, since tests send invalid requests on purpose. Paths outside the
// API's base path are the app's own routes, which the document does not
// describe.
func checkOpenAPI(t *testing.T, req *http.Request, body []byte, res *http.Response, resBody []byte) {
	t.Helper()
	if err := validateExchange(req, body, res.StatusCode, res.Header, resBody); err != nil {
		t.Errorf("OpenAPI: %s %s answered %d %s: %v", req.Method, req.URL.Path, res.StatusCode, resBody, err)
	}
}

// validateExchange checks a request (its body apart, as it was sent) and
// the response to it against the document.
func validateExchange(req *http.Request, body []byte, status int, header http.Header, resBody []byte) error {
	spec, err := loadSpec()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(req.URL.Path, spec.doc.Servers[0].URL+"/") {
		return nil
	}
	ctx := context.Background()
	vreq := req.Clone(ctx)
	vreq.Body, vreq.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	vreq.GetBody = nil
	head := vreq.Method == http.MethodHead
	if head {
		vreq.Method = http.MethodGet // the server answers HEAD as GET, without the body
	}
	route, params, err := spec.router.FindRoute(vreq)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		return spec.validateUnrouted(vreq, "NotFound", http.StatusNotFound, status, header, resBody)
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return spec.validateUnrouted(vreq, "MethodNotAllowed", http.StatusMethodNotAllowed, status, header, resBody)
	case err != nil:
		return err
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: &openapi3filter.Options{
		AuthenticationFunc:                sentCredentials,
		RejectWhenRequestBodyNotSpecified: true,
	}}
	if status < 400 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("request: %w", err)
		}
	}
	return validateResponse(ctx, in, status, header, resBody, head)
}

// validateUnrouted checks the answer to a path or method the document does
// not list: it must be the status and shape of the named component response.
func (s *apiSpec) validateUnrouted(req *http.Request, name string, want, status int, header http.Header, resBody []byte) error {
	if status != want {
		return fmt.Errorf("the document has no operation for it, so want %d, got %d", want, status)
	}
	op := &openapi3.Operation{Responses: openapi3.NewResponses(
		openapi3.WithStatus(want, &openapi3.ResponseRef{Value: s.doc.Components.Responses[name].Value}))}
	route := &routers.Route{Spec: s.doc, Path: req.URL.Path, PathItem: &openapi3.PathItem{}, Method: req.Method, Operation: op}
	in := &openapi3filter.RequestValidationInput{Request: req, Route: route}
	return validateResponse(req.Context(), in, status, header, resBody, req.Method == http.MethodHead)
}

// validateResponse checks the status, body and every header line of a
// response. kin-openapi reads only the first line of a header, so each
// header is checked as a client reads it (clientViews): a second
// Cache-Control line, which fetch would join to the first, cannot pass
// unseen. A header the response does not document, other than the
// transport's own, is refused too.
func validateResponse(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte, noBody bool) error {
	if err := undocumentedHeaders(in.Route.Operation, status, header); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	for _, view := range clientViews(header) {
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: view,
			Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: noBody}}
		out.SetBodyBytes(body)
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			return fmt.Errorf("response: %w", err)
		}
	}
	return nil
}

// clientViews returns header as HTTP clients read it, one header set per
// Set-Cookie line (at least one set): the lines of any other field are
// joined with ", " as RFC 9110 section 5.3 allows and as fetch's
// Headers.get does, while Set-Cookie lines are read one by one
// (Headers.getSetCookie), so each must match the document on its own.
func clientViews(header http.Header) []http.Header {
	joined := http.Header{}
	for name, lines := range header {
		if name != "Set-Cookie" {
			joined.Set(name, strings.Join(lines, ", "))
		}
	}
	cookies := header.Values("Set-Cookie")
	if len(cookies) == 0 {
		return []http.Header{joined}
	}
	views := make([]http.Header, len(cookies))
	for i, c := range cookies {
		views[i] = joined.Clone()
		views[i].Set("Set-Cookie", c)
	}
	return views
}

// transportHeaders are the response headers that belong to HTTP itself
// rather than to the API, which the document does not list: the media type
// (checked against the response's content), the length and the date.
var transportHeaders = map[string]bool{"Content-Type": true, "Content-Length": true, "Date": true}

// undocumentedHeaders reports a header of the response that the
// operation's answer for status does not document.
func undocumentedHeaders(op *openapi3.Operation, status int, header http.Header) error {
	ref := op.Responses.Status(status)
	if ref == nil {
		ref = op.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return nil // the status itself is refused by ValidateResponse
	}
	documented := map[string]bool{}
	for name := range ref.Value.Headers {
		documented[http.CanonicalHeaderKey(name)] = true
	}
	for name := range header {
		if !documented[name] && !transportHeaders[name] {
			return fmt.Errorf("header %s (%q) is not in the document's %d answer", name, header.Values(name), status)
		}
	}
	return nil
}

// sentCredentials stands for the server's credential checks in request
// validation. It cannot tell a live token from a dead one (the server does,
// and a refused one is a 401 whose request is not validated), but an
// operation the document protects must have been sent a bearer token in the
// Authorization header. (Logout's session cookie is a cookie parameter, not
// a security scheme: see the document's description.)
func sentCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s, req := in.SecurityScheme, in.RequestValidationInput.Request
	switch {
	case s == nil:
		return fmt.Errorf("no security scheme %q", in.SecuritySchemeName)
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		scheme, token, _ := strings.Cut(req.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return errors.New("no bearer token in the Authorization header")
		}
	default:
		return fmt.Errorf("security scheme %q is not handled by the tests", in.SecuritySchemeName)
	}
	return nil
}

// TestOpenAPIServed checks that GET /api/v1/openapi.json answers the
// document the tests validate against.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/openapi.json", "", nil)
	want(t, r, 200)
	file, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var served, onDisk any
	if err := json.Unmarshal([]byte(r.raw), &served); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(file, &onDisk); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(served, onDisk) {
		t.Errorf("got a served document that differs from openapi.json")
	}
	want(t, e.do("HEAD", "/api/v1/openapi.json", "", nil), 200)
}

// TestOpenAPIServerFollowsBasePath checks that an Auth configured otherwise
// serves the document with its settings: its base path as the server URL,
// its least password length and its session cookie's name.
func TestOpenAPIServerFollowsBasePath(t *testing.T) {
	e := newEnv(t, func(c *ihoprauth.Config) {
		c.BasePath = "/auth/"
		c.MinPasswordLength = 12
		c.Sessions = ihoprauth.NewSessionManager(memstore.NewWithCleanupInterval(0))
		c.Sessions.Cookie.Name = "sid"
	})
	srv := httptest.NewServer(e.auth)
	defer srv.Close()
	e.srv.URL = srv.URL
	r := e.do("GET", "/auth/openapi.json", "", nil)
	want(t, r, 200)
	servers, _ := r.body["servers"].([]any)
	if len(servers) != 1 || servers[0].(map[string]any)["url"] != "/auth" {
		t.Errorf("got servers %v, want one with url /auth", r.body["servers"])
	}
	if _, ok := r.body["paths"].(map[string]any)["/login"]; !ok {
		t.Errorf("got paths %v, want the document's", r.body["paths"])
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(r.raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Components.Schemas["NewPassword"].Value.MinLength; got != 12 {
		t.Errorf("got NewPassword minLength %d, want 12", got)
	}
	if p := doc.Paths.Find("/logout").Post.Parameters.GetByInAndName("cookie", "sid"); p == nil {
		t.Errorf("got no cookie parameter sid on logout, want the configured cookie name")
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestOpenAPIValidationIsNotVacuous feeds the validator exchanges that break
// the document in one way each, so that a validator that skipped what it
// does not understand (a 3.1 keyword, a header, an undocumented status)
// would show here instead of passing every test silently.
func TestOpenAPIValidationIsNotVacuous(t *testing.T) {
	const (
		user     = `{"id":6,"user_id":"8d0a","first_name":"A","last_name":"B","email":"a@example.com","mobile_number":"1","meta":null,"role":"user","created_at":"2026-03-17T11:43:58.123456Z"}`
		userBody = `{"status":"success","user":` + user + `}`
		token    = `{"status":"success","access_token":"a","refresh_token":"r","expires_at":"2026-03-17 12:43:58","user":` +
			`{"id":6,"user_id":"8d0a","first_name":"A","last_name":"B","email":"a@example.com","mobile_number":"1","meta":"{}","role":"user","provider":"","created_at":"2026-03-17T11:43:58.123456Z"}}`
		loginNone = `{"status":"success","message":"Auth Code sent successfully","code":"c0de","project_type":"none"}`
		errBody   = `{"status":"error","message":"Nope."}`
		invalid   = `{"status":"error","message":"The email field is required.","errors":{"email":["The email field is required."]}}`
		signup    = `{"client_id":"web","client_secret":"s","email":"a@example.com","password":"Correct horse battery 9","first_name":"A","last_name":"B","mobile_number":11223344}`
	)
	std := func(kv ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Cache-Control": {"no-store"}, "X-Content-Type-Options": {"nosniff"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				h.Del(kv[i])
			} else {
				h.Set(kv[i], kv[i+1])
			}
		}
		return h
	}
	// twice answers a second line of a header, as a middleware that Adds
	// instead of Sets would.
	twice := func(h http.Header, name, value string) http.Header {
		h.Add(name, value)
		return h
	}
	cases := []struct {
		name                             string
		method, path, ctype, tok, cookie string
		body                             string
		status                           int
		header                           http.Header
		resBody                          string
		valid                            bool
	}{
		// Controls: each of these must pass, or the failures below prove nothing.
		{name: "control: user", method: "GET", path: "/api/v1/user", tok: "t", status: 200, header: std(), resBody: userBody, valid: true},
		{name: "control: token", method: "POST", path: "/api/v1/api-tauth-token", ctype: "application/json", body: `{"client_id":"web","code":"c"}`, status: 200, header: std(), resBody: token, valid: true},
		{name: "control: signup JSON", method: "POST", path: "/api/v1/signup", ctype: "application/json", body: signup, status: 200, header: std(), resBody: loginNone, valid: true},
		{name: "control: signup form", method: "POST", path: "/api/v1/signup", ctype: "application/x-www-form-urlencoded",
			body: "client_id=web&email=a%40example.com&first_name=A&last_name=B&mobile_number=%28123%29+456-78&meta=x", status: 200, header: std(), resBody: loginNone, valid: true},
		{name: "control: code as number", method: "POST", path: "/api/v1/otp-code", ctype: "application/json", body: `{"otp_code":12345,"otp_token":"t"}`,
			status: 200, header: std(), resBody: `{"status":"success","code":"c"}`, valid: true},
		{name: "control: meta object and null", method: "PUT", path: "/api/v1/user/update", ctype: "application/json", tok: "t", body: `{"meta":{"a":1}}`,
			status: 200, header: std(), resBody: `{"status":"success","user":` + user + `,"updated":{"meta":null,"updated_at":"2026-03-17 11:43:58"}}`, valid: true},
		{name: "control: HEAD answered as GET", method: "HEAD", path: "/api/v1/user", tok: "t", status: 200, header: std(), valid: true},
		{name: "HEAD answered without its headers", method: "HEAD", path: "/api/v1/user", tok: "t", status: 200, header: std("Cache-Control", "")},
		{name: "control: bearer 401", method: "GET", path: "/api/v1/user", status: 401, header: std("WWW-Authenticate", "Bearer"), resBody: errBody, valid: true},
		{name: "control: 422", method: "POST", path: "/api/v1/login", ctype: "application/json", body: `{}`, status: 422, header: std(), resBody: invalid, valid: true},
		{name: "control: 404", method: "GET", path: "/api/v1/nope", status: 404, header: std(), resBody: errBody, valid: true},
		{name: "control: 405", method: "GET", path: "/api/v1/login", status: 405, header: std("Allow", "POST"), resBody: errBody, valid: true},

		// Response bodies.
		{name: "id as a string", method: "GET", path: "/api/v1/user", tok: "t", status: 200, header: std(),
			resBody: strings.Replace(userBody, `"id":6`, `"id":"6"`, 1)},
		{name: "missing required field", method: "GET", path: "/api/v1/user", tok: "t", status: 200, header: std(),
			resBody: strings.Replace(userBody, `"email":"a@example.com",`, ``, 1)},
		{name: "provider outside the token answer (unevaluatedProperties)", method: "GET", path: "/api/v1/user", tok: "t", status: 200, header: std(),
			resBody: strings.Replace(userBody, `"role":"user"`, `"role":"user","provider":""`, 1)},
		{name: "token user without provider", method: "POST", path: "/api/v1/api-tauth-token", ctype: "application/json", body: `{"client_id":"web","code":"c"}`,
			status: 200, header: std(), resBody: strings.Replace(token, `"provider":"",`, ``, 1)},
		{name: "status not success (const)", method: "GET", path: "/api/v1/user", tok: "t", status: 200, header: std(),
			resBody: strings.Replace(userBody, `"success"`, `"ok"`, 1)},
		{name: "created_at in the wrong format", method: "GET", path: "/api/v1/user", tok: "t", status: 200, header: std(),
			resBody: strings.Replace(userBody, `2026-03-17T11:43:58.123456Z`, `2026-03-17 11:43:58`, 1)},
		{name: "expires_at in RFC 3339", method: "POST", path: "/api/v1/api-tauth-token", ctype: "application/json", body: `{"client_id":"web","code":"c"}`,
			status: 200, header: std(), resBody: strings.Replace(token, `2026-03-17 12:43:58`, `2026-03-17T12:43:58Z`, 1)},
		{name: "meta as an object", method: "GET", path: "/api/v1/user", tok: "t", status: 200, header: std(),
			resBody: strings.Replace(userBody, `"meta":null`, `"meta":{}`, 1)},
		{name: "project_type of another branch (oneOf)", method: "POST", path: "/api/v1/signup", ctype: "application/json", body: signup, status: 200, header: std(),
			resBody: strings.Replace(loginNone, `"none"`, `"otp"`, 1)},
		{name: "updated missing from an update", method: "PUT", path: "/api/v1/user/update/role", ctype: "application/json", tok: "t", body: `{"role":"a"}`,
			status: 200, header: std(), resBody: userBody},
		{name: "422 without errors", method: "POST", path: "/api/v1/login", ctype: "application/json", body: `{}`, status: 422, header: std(), resBody: errBody},
		{name: "errors outside a 422", method: "POST", path: "/api/v1/login", ctype: "application/json", body: `{}`, status: 400, header: std(), resBody: invalid},
		{name: "error status not error", method: "POST", path: "/api/v1/login", ctype: "application/json", body: `{}`, status: 401, header: std(),
			resBody: `{"status":"success","message":"Nope."}`},

		// Statuses, headers and media types.
		{name: "undocumented status", method: "POST", path: "/api/v1/login", ctype: "application/json", body: `{}`, status: 403, header: std(), resBody: errBody},
		{name: "bearer 401 without WWW-Authenticate", method: "GET", path: "/api/v1/user", status: 401, header: std(), resBody: errBody},
		{name: "WWW-Authenticate of another scheme", method: "GET", path: "/api/v1/user", status: 401, header: std("WWW-Authenticate", "Basic"), resBody: errBody},
		{name: "429 without Retry-After", method: "POST", path: "/api/v1/login", ctype: "application/json", body: `{}`, status: 429, header: std(), resBody: errBody},
		{name: "Retry-After not a number", method: "POST", path: "/api/v1/login", ctype: "application/json", body: `{}`, status: 503,
			header: std("Retry-After", "soon"), resBody: errBody},
		{name: "control: session with its cookie and Vary", method: "POST", path: "/api/v1/session", tok: "t", status: 200,
			header: std("Set-Cookie", "__Host-ihoprauth=x; Path=/", "Vary", "Cookie"), resBody: `{"status":"success"}`, valid: true},
		{name: "control: logout with the session cookie alone", method: "POST", path: "/api/v1/logout", cookie: "__Host-ihoprauth=x", status: 200,
			header: std("Set-Cookie", "__Host-ihoprauth=; Max-Age=0", "Vary", "Cookie"), resBody: `{"status":"success"}`, valid: true},
		{name: "a second Cache-Control line (fetch joins it to the first)", method: "POST", path: "/api/v1/session", tok: "t", status: 200,
			header: twice(std("Set-Cookie", "__Host-ihoprauth=x; Path=/"), "Cache-Control", `no-cache="Set-Cookie"`), resBody: `{"status":"success"}`},
		{name: "a second Retry-After line", method: "POST", path: "/api/v1/login", ctype: "application/json", body: `{}`, status: 429,
			header: twice(std("Retry-After", "5"), "Retry-After", "5"), resBody: errBody},
		{name: "a second Set-Cookie line that is empty", method: "POST", path: "/api/v1/session", tok: "t", status: 200,
			header: twice(std("Set-Cookie", "__Host-ihoprauth=x; Path=/"), "Set-Cookie", ""), resBody: `{"status":"success"}`},
		{name: "a header the answer does not document", method: "GET", path: "/api/v1/user", tok: "t", status: 200,
			header: std("Set-Cookie", "a=b"), resBody: userBody},
		{name: "Vary of another value", method: "POST", path: "/api/v1/session", tok: "t", status: 200,
			header: std("Set-Cookie", "__Host-ihoprauth=x; Path=/", "Vary", "Origin"), resBody: `{"status":"success"}`},
		{name: "no Cache-Control", method: "GET", path: "/api/v1/user", tok: "t", status: 200, header: std("Cache-Control", ""), resBody: userBody},
		{name: "answer not JSON", method: "GET", path: "/api/v1/user", tok: "t", status: 200, header: std("Content-Type", "text/plain"), resBody: userBody},
		{name: "unknown path answered 200", method: "GET", path: "/api/v1/nope", status: 200, header: std(), resBody: errBody},
		{name: "405 without Allow", method: "GET", path: "/api/v1/login", status: 405, header: std(), resBody: errBody},
		{name: "404 of another shape", method: "GET", path: "/api/v1/nope", status: 404, header: std(), resBody: `{"error":"not found"}`},

		// Requests, with an answer that claims they were accepted.
		{name: "request missing a required field", method: "POST", path: "/api/v1/signup", ctype: "application/json",
			body: strings.Replace(signup, `"first_name":"A",`, ``, 1), status: 200, header: std(), resBody: loginNone},
		{name: "request code of five digits as a string", method: "POST", path: "/api/v1/otp-code", ctype: "application/json",
			body: `{"otp_code":"12345","otp_token":"t"}`, status: 200, header: std(), resBody: `{"status":"success","code":"c"}`},
		{name: "request name with a control character", method: "POST", path: "/api/v1/signup", ctype: "application/json",
			body: strings.Replace(signup, `"first_name":"A"`, `"first_name":"A\r\nBcc: x@example.com"`, 1), status: 200, header: std(), resBody: loginNone},
		{name: "request mobile_number as a float", method: "POST", path: "/api/v1/signup", ctype: "application/json",
			body: strings.Replace(signup, `11223344`, `1.5`, 1), status: 200, header: std(), resBody: loginNone},
		{name: "request meta as an array", method: "PUT", path: "/api/v1/user/update", ctype: "application/json", tok: "t", body: `{"meta":[1]}`,
			status: 200, header: std(), resBody: `{"status":"success","user":` + user + `,"updated":{"updated_at":"2026-03-17 11:43:58"}}`},
		{name: "request form with a short code_challenge", method: "POST", path: "/api/v1/login", ctype: "application/x-www-form-urlencoded",
			body: "client_id=web&email=a%40example.com&code_challenge=numquam", status: 200, header: std(), resBody: loginNone},
		{name: "request form code not six digits", method: "POST", path: "/api/v1/otp-code", ctype: "application/x-www-form-urlencoded",
			body: "otp_code=12345&otp_token=t", status: 200, header: std(), resBody: `{"status":"success","code":"c"}`},
		{name: "request name with U+2028", method: "POST", path: "/api/v1/signup", ctype: "application/json",
			body: strings.Replace(signup, `"first_name":"A"`, `"first_name":"A\u2028B"`, 1), status: 200, header: std(), resBody: loginNone},
		{name: "control: request client_secret of 1024 ASCII characters", method: "POST", path: "/api/v1/signup", ctype: "application/json",
			body: strings.Replace(signup, `"client_secret":"s"`, `"client_secret":"`+strings.Repeat("s", 1024)+`"`, 1), status: 200, header: std(), resBody: loginNone, valid: true},
		{name: "request client_secret of 257 characters over 1024 bytes", method: "POST", path: "/api/v1/signup", ctype: "application/json",
			body: strings.Replace(signup, `"client_secret":"s"`, `"client_secret":"`+strings.Repeat("é", 257)+strings.Repeat("s", 511)+`"`, 1), status: 200, header: std(), resBody: loginNone},
		{name: "request password of 7 characters", method: "POST", path: "/api/v1/signup", ctype: "application/json",
			body: strings.Replace(signup, `Correct horse battery 9`, `Correct`, 1), status: 200, header: std(), resBody: loginNone},
		{name: "request meta with NUL", method: "PUT", path: "/api/v1/user/update", ctype: "application/json", tok: "t", body: `{"meta":"a\u0000b"}`,
			status: 200, header: std(), resBody: `{"status":"success","user":` + user + `,"updated":{"meta":"a","updated_at":"2026-03-17 11:43:58"}}`},
		{name: "request meta over 16 KiB", method: "PUT", path: "/api/v1/user/update", ctype: "application/json", tok: "t", body: `{"meta":"` + strings.Repeat("m", 16<<10+1) + `"}`,
			status: 200, header: std(), resBody: `{"status":"success","user":` + user + `,"updated":{"meta":"a","updated_at":"2026-03-17 11:43:58"}}`},
		{name: "request without a bearer token", method: "GET", path: "/api/v1/user", status: 200, header: std(), resBody: userBody},
		{name: "request of another media type", method: "POST", path: "/api/v1/login", ctype: "text/plain", body: "hello", status: 200, header: std(), resBody: loginNone},
		{name: "request body on GET", method: "GET", path: "/api/v1/user", tok: "t", ctype: "application/json", body: `{}`, status: 200, header: std(), resBody: userBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, "http://127.0.0.1:1"+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			if c.tok != "" {
				req.Header.Set("Authorization", "Bearer "+c.tok)
			}
			if c.cookie != "" {
				req.Header.Set("Cookie", c.cookie)
			}
			err = validateExchange(req, []byte(c.body), c.status, c.header, []byte(c.resBody))
			switch {
			case c.valid && err != nil:
				t.Errorf("got %v, want the exchange to validate", err)
			case !c.valid && err == nil:
				t.Errorf("got no error, want the validator to refuse the exchange")
			case !c.valid:
				t.Logf("refused as it should be: %.200s", err)
			}
		})
	}
}

// TestOpenAPISessionExchanges makes the cookie-session requests of the
// session tests through the env, so that they are validated too: starting a
// session, and logging out with the cookie alone, cross-site and not.
func TestOpenAPISessionExchanges(t *testing.T) {
	s := newSessionEnv(t)
	tok := s.signupNone("oa-session@example.com")
	r := s.do("POST", "/api/v1/session", tok, nil)
	want(t, r, 200)
	var cookie string
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "__Host-ihoprauth" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatalf("got Set-Cookie %q, want the session cookie", r.header.Values("Set-Cookie"))
	}
	s.header = http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}}
	want(t, s.do("POST", "/api/v1/logout", "", nil), 403)
	s.header = http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"same-origin"}}
	want(t, s.do("POST", "/api/v1/logout", "", nil), 200)
	s.header = nil
	want(t, s.do("POST", "/api/v1/logout", "", nil), 401)
}
