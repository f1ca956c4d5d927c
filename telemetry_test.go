package ihoprauth_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/memmetrics"
)

// spans is a TracerProvider that records each span's name and the name of
// its parent ("" for a root).
type spans struct {
	embedded.TracerProvider
	mu    sync.Mutex
	ended []string // "parent > name", in the order they ended
}

type spanKey struct{}

func (s *spans) Tracer(string, ...trace.TracerOption) trace.Tracer { return tracer{s: s} }

type tracer struct {
	embedded.Tracer
	s *spans
}

func (t tracer) Start(ctx context.Context, name string, _ ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent, _ := ctx.Value(spanKey{}).(string)
	return context.WithValue(ctx, spanKey{}, name), &span{s: t.s, path: parent + " > " + name}
}

func (s *spans) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ended)
}

type span struct {
	noop.Span
	s    *spans
	path string
}

func (sp *span) End(...trace.SpanEndOption) {
	sp.s.mu.Lock()
	defer sp.s.mu.Unlock()
	sp.s.ended = append(sp.s.ended, sp.path)
}

func TestMetricsAndTraces(t *testing.T) {
	metrics, traces := memmetrics.New(), &spans{}
	e := newEnv(t, func(c *ihoprauth.Config) { c.MeterProvider, c.TracerProvider = metrics, traces })
	tok := e.signupNone("metered@example.com")
	want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
	want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
	for range 6 {
		e.loginWith(e.none, "metered@example.com", "wrong password")
	}
	want(t, e.do("GET", "/api/v1/nothing-here", "", nil), 404)
	want(t, e.do("ADA-LOVELACE", "/api/v1/login", "", nil), 405)
	u, err := e.auth.UserByEmail(context.Background(), "web-none", "metered@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want(t, e.do("GET", "/api/v1/admin/users/"+u.UserID, tok, nil), 403)

	str, num := attribute.String, attribute.Int
	for _, c := range []struct {
		name  string
		attrs []attribute.KeyValue
		least float64
	}{
		{"ihoprauth.requests", []attribute.KeyValue{str("endpoint", "signup"), str("http.request.method", "POST"), num("http.response.status_code", 200)}, 1},
		{"ihoprauth.requests", []attribute.KeyValue{str("endpoint", "user"), str("http.request.method", "GET"), num("http.response.status_code", 200)}, 2},
		{"ihoprauth.requests", []attribute.KeyValue{str("endpoint", "login"), str("http.request.method", "POST"), num("http.response.status_code", 429)}, 1},
		{"ihoprauth.requests", []attribute.KeyValue{str("endpoint", "unknown"), str("http.request.method", "GET"), num("http.response.status_code", 404)}, 1},
		{"ihoprauth.requests", []attribute.KeyValue{str("endpoint", "admin/users/{user_id}"), str("http.request.method", "GET"), num("http.response.status_code", 403)}, 1},
		{"ihoprauth.requests", []attribute.KeyValue{str("endpoint", "login"), str("http.request.method", "_OTHER"), num("http.response.status_code", 405)}, 1},
		{"ihoprauth.request.duration", []attribute.KeyValue{str("endpoint", "login")}, 6},
		{"ihoprauth.events", []attribute.KeyValue{str("kind", ihoprauth.EventSignup), str("result", "ok")}, 1},
		{"ihoprauth.events", []attribute.KeyValue{str("kind", ihoprauth.EventLoginFailed), str("result", "bad credentials")}, 5},
		{"ihoprauth.refusals", []attribute.KeyValue{str("kind", ihoprauth.EventThrottled), str("reason", "account locked for this source")}, 1},
		{"ihoprauth.refusals", []attribute.KeyValue{str("kind", ihoprauth.EventAdminRefused), str("reason", "not an admin")}, 1},
		{"ihoprauth.hash.duration", []attribute.KeyValue{str("operation", "hash")}, 1},
		{"ihoprauth.hash.duration", []attribute.KeyValue{str("operation", "verify")}, 5},
		{"ihoprauth.hash.wait", nil, 6},
		{"ihoprauth.store.duration", []attribute.KeyValue{str("method", "CreateUser"), str("outcome", "ok")}, 1},
		{"ihoprauth.store.duration", []attribute.KeyValue{str("method", "UserByEmail"), str("outcome", "ok")}, 1},
		{"ihoprauth.token_cache.lookups", []attribute.KeyValue{str("result", "hit")}, 1},
		{"ihoprauth.token_cache.lookups", []attribute.KeyValue{str("result", "miss")}, 1},
	} {
		if got := metrics.Value(c.name, c.attrs...); got < c.least {
			t.Errorf("%s %v: got %v, want at least %v", c.name, c.attrs, got, c.least)
		}
	}
	if got := metrics.Value("ihoprauth.token_cache.size"); got <= 0 {
		t.Errorf("ihoprauth.token_cache.size: got %v, want the bytes of the cached login", got)
	}
	if !slices.Contains(metrics.Names(), "ihoprauth.mail.queue") {
		t.Errorf("no ihoprauth.mail.queue gauge among %v", metrics.Names())
	}
	var text strings.Builder
	metrics.WriteText(&text)
	for _, secret := range []string{"metered@example.com", u.UserID, tok, "127.0.0.1", "ADA-LOVELACE"} {
		if strings.Contains(text.String(), secret) {
			t.Errorf("the metrics carry %q:\n%s", secret, text.String())
		}
	}

	got := traces.list()
	for _, path := range []string{
		" > ihoprauth signup",
		"ihoprauth signup > ihoprauth.store CreateUser",
		"ihoprauth user > ihoprauth.store TokenUser",
		"ihoprauth admin/users/{user_id} > ihoprauth.store RecordEvent",
		"ihoprauth api-tauth-token > ihoprauth.store InTx",
	} {
		if !slices.Contains(got, path) {
			t.Errorf("no span %q among %q", path, got)
		}
	}
}

// TestMetricsWithoutTraces checks the metrics of an Auth with a
// MeterProvider and no TracerProvider, which starts no spans: each request
// and Store call is still counted under its own attributes, the sets that
// are made once and shared keeping kinds of requests apart.
func TestMetricsWithoutTraces(t *testing.T) {
	metrics := memmetrics.New()
	e := newEnv(t, func(c *ihoprauth.Config) { c.MeterProvider = metrics })
	tok := e.signupNone("untraced@example.com")
	for range 3 {
		want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
	}
	want(t, e.do("GET", "/api/v1/user", "not-a-token", nil), 401)
	str, num := attribute.String, attribute.Int
	user := func(status int) []attribute.KeyValue {
		return []attribute.KeyValue{str("endpoint", "user"), str("http.request.method", "GET"), num("http.response.status_code", status)}
	}
	for _, c := range []struct {
		name  string
		attrs []attribute.KeyValue
		want  float64
	}{
		{"ihoprauth.requests", user(200), 3},
		{"ihoprauth.requests", user(401), 1},
		{"ihoprauth.store.duration", []attribute.KeyValue{str("method", "TokenUser"), str("outcome", "not_found")}, 1},
	} {
		if got := metrics.Value(c.name, c.attrs...); got != c.want {
			t.Errorf("%s %v: got %v, want %v", c.name, c.attrs, got, c.want)
		}
	}
	if got := metrics.Value("ihoprauth.request.duration", str("endpoint", "user")); got != 4 {
		t.Errorf("ihoprauth.request.duration of user: got %v observations, want 4", got)
	}
}

// TestNoTelemetryByDefault checks that without providers the Store is the
// one the app passed, not a wrapper.
func TestNoTelemetryByDefault(t *testing.T) {
	e := newEnv(t)
	if _, ok := ihoprauth.StoreOf(e.auth).(interface{ Ping(context.Context) error }); !ok {
		t.Fatal("without providers the Auth wraps its Store")
	}
}
