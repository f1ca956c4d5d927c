package ihoprauth

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	nooptrace "go.opentelemetry.io/otel/trace/noop"
)

// Metrics and traces go through the OpenTelemetry API, the one an app
// already uses with whatever it exports to (Prometheus, OTLP): the app
// passes its MeterProvider and TracerProvider in Config, and without them
// nothing is recorded (the API's no-op implementations cost a few
// nanoseconds a call). No attribute carries an email, token, user id,
// address or any other value without a small bound: endpoints are route
// patterns, kinds and results are the constants of Event, store methods
// are method names. The README lists every instrument.

// instrumentationName names ihoprauth's meter and tracer.
const instrumentationName = "github.com/ihoprauth/ihoprauth"

// telemetry holds the instruments of an Auth. A nil *telemetry, or one
// made without providers, records nothing and costs a branch: the hot
// paths (a cached bearer check) allocate nothing for it.
type telemetry struct {
	requests     metric.Int64Counter     // ihoprauth.requests
	latency      metric.Float64Histogram // ihoprauth.request.duration
	events       metric.Int64Counter     // ihoprauth.events
	refusals     metric.Int64Counter     // ihoprauth.refusals
	hashWait     metric.Float64Histogram // ihoprauth.hash.wait
	hashTime     metric.Float64Histogram // ihoprauth.hash.duration
	storeTime    metric.Float64Histogram // ihoprauth.store.duration
	mailFailures metric.Int64Counter     // ihoprauth.mail.failures
	cacheLookups metric.Int64Counter     // ihoprauth.token_cache.lookups
	meter        metric.Meter
	tracer       trace.Tracer
	on           bool // a MeterProvider or TracerProvider was given
	tracing      bool // a TracerProvider was given: requests get spans

	// The attribute sets of the metrics, made once per combination of
	// values and then shared: attribute.NewSet sorts and allocates, and
	// every request would otherwise pay it. The values are few: route
	// patterns, methods and statuses (see endpoint, knownMethod), Store
	// methods and outcomes (instrumentedStore.start), the constants of
	// Event and the hash operations.
	requestSets  attrCache[requestKey, requestSets]
	storeSets    attrCache[[2]string, metric.MeasurementOption] // method, outcome
	eventSets    attrCache[[2]string, metric.MeasurementOption] // kind, result
	refusalSets  attrCache[[2]string, metric.MeasurementOption] // kind, reason
	hashTimeSets attrCache[string, metric.MeasurementOption]    // operation
}

// requestKey names the attribute sets of one kind of answered request.
type requestKey struct {
	endpoint, method string
	status           int
}

// requestSets are the options that carry the attributes of the request
// metrics.
type requestSets struct {
	count   metric.AddOption    // endpoint, method and status, for ihoprauth.requests
	latency metric.RecordOption // endpoint, for ihoprauth.request.duration
}

func newRequestSets(k requestKey) requestSets {
	return requestSets{
		count: metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", k.endpoint),
			attribute.String("http.request.method", k.method), attribute.Int("http.response.status_code", k.status))),
		latency: metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", k.endpoint))),
	}
}

// newStoreSet, newEventSet, newRefusalSet and newHashTimeSet make the
// attribute options of storeSets, eventSets, refusalSets and hashTimeSets.
func newStoreSet(k [2]string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("method", k[0]), attribute.String("outcome", k[1])))
}

func newEventSet(k [2]string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", k[0]), attribute.String("result", k[1])))
}

func newRefusalSet(k [2]string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", k[0]), attribute.String("reason", k[1])))
}

func newHashTimeSet(op string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("operation", op)))
}

// attrCache holds a value made once per key, for keys of a small bounded
// set. Reads take no lock: the map is replaced whole when it grows.
type attrCache[K comparable, V any] struct {
	m  atomic.Pointer[map[K]V]
	mu sync.Mutex // serializes growing m
}

// get returns the value of k, made by newV on k's first use.
func (c *attrCache[K, V]) get(k K, newV func(K) V) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[K]V{}
	if old := c.m.Load(); old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
		m = maps.Clone(*old)
	}
	v := newV(k)
	m[k] = v
	c.m.Store(&m)
	return v
}

// newTelemetry makes the instruments on the providers of cfg, or no-op
// ones where cfg has none.
func newTelemetry(cfg Config) (*telemetry, error) {
	mp, tp := cfg.MeterProvider, cfg.TracerProvider
	t := &telemetry{on: mp != nil || tp != nil, tracing: tp != nil}
	if mp == nil {
		mp = noopmetric.NewMeterProvider()
	}
	if tp == nil {
		tp = nooptrace.NewTracerProvider()
	}
	t.meter, t.tracer = mp.Meter(instrumentationName), tp.Tracer(instrumentationName)
	seconds := metric.WithExplicitBucketBoundaries(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
	var errs [9]error
	t.requests, errs[0] = t.meter.Int64Counter("ihoprauth.requests",
		metric.WithDescription("API requests answered, by endpoint, method and status."), metric.WithUnit("{request}"))
	t.latency, errs[1] = t.meter.Float64Histogram("ihoprauth.request.duration",
		metric.WithDescription("Time to answer an API request, by endpoint."), metric.WithUnit("s"), seconds)
	t.events, errs[2] = t.meter.Int64Counter("ihoprauth.events",
		metric.WithDescription("Audit events (logins, failed logins, codes, tokens, …), by kind and result."), metric.WithUnit("{event}"))
	t.refusals, errs[3] = t.meter.Int64Counter("ihoprauth.refusals",
		metric.WithDescription("Requests refused by a throttle or the admin policy, by kind and reason (every one, not once a minute as in the audit trail)."),
		metric.WithUnit("{request}"))
	t.hashWait, errs[4] = t.meter.Float64Histogram("ihoprauth.hash.wait",
		metric.WithDescription("Time a password hash waited for a hashing slot (MaxConcurrentHashes)."), metric.WithUnit("s"), seconds)
	t.hashTime, errs[5] = t.meter.Float64Histogram("ihoprauth.hash.duration",
		metric.WithDescription("Time of a password hash, by operation (hash or verify)."), metric.WithUnit("s"), seconds)
	t.storeTime, errs[6] = t.meter.Float64Histogram("ihoprauth.store.duration",
		metric.WithDescription("Time of a Store call, by method and outcome (ok, not_found, error)."), metric.WithUnit("s"), seconds)
	t.mailFailures, errs[7] = t.meter.Int64Counter("ihoprauth.mail.failures",
		metric.WithDescription("Mails not delivered after every try, by kind."), metric.WithUnit("{mail}"))
	t.cacheLookups, errs[8] = t.meter.Int64Counter("ihoprauth.token_cache.lookups",
		metric.WithDescription("Bearer checks asked of the token cache, by result (hit or miss)."), metric.WithUnit("{lookup}"))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("ihoprauth: metrics: %w", err)
	}
	return t, nil
}

// observeGauges registers the gauges read from a at each collection: the
// mail queue's depth and the token cache's size.
func (t *telemetry) observeGauges(a *Auth) error {
	queue, err := t.meter.Int64ObservableGauge("ihoprauth.mail.queue",
		metric.WithDescription("Mails waiting in the queue."), metric.WithUnit("{mail}"))
	if err != nil {
		return err
	}
	cache, err := t.meter.Int64ObservableGauge("ihoprauth.token_cache.size",
		metric.WithDescription("Bytes the token cache holds (bounded by TokenCacheBytes)."), metric.WithUnit("By"))
	if err != nil {
		return err
	}
	_, err = t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(queue, int64(len(a.mail.ch)))
		o.ObserveInt64(cache, a.cache.size())
		return nil
	}, queue, cache)
	return err
}

// request records an answered API request and ends its span, if any.
func (t *telemetry) request(ctx context.Context, span trace.Span, endpoint, method string, status int, began time.Time) {
	if t == nil || !t.on {
		return
	}
	sets := t.requestSets.get(requestKey{endpoint, method, status}, newRequestSets)
	t.requests.Add(ctx, 1, sets.count)
	t.latency.Record(ctx, time.Since(began).Seconds(), sets.latency)
	if span == nil {
		return
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// event counts an audit event.
func (t *telemetry) event(ctx context.Context, e Event) {
	if t == nil || !t.on {
		return
	}
	t.events.Add(ctx, 1, t.eventSets.get([2]string{e.Kind, e.Result}, newEventSet))
}

// refusal counts a refused request.
func (t *telemetry) refusal(ctx context.Context, e Event) {
	if t == nil || !t.on {
		return
	}
	t.refusals.Add(ctx, 1, t.refusalSets.get([2]string{e.Kind, e.Result}, newRefusalSet))
}

// hashed records the wait for a hashing slot and the hash itself.
func (t *telemetry) hashed(ctx context.Context, op string, asked, began time.Time) {
	if t == nil || !t.on {
		return
	}
	t.hashWait.Record(ctx, began.Sub(asked).Seconds())
	t.hashTime.Record(ctx, time.Since(began).Seconds(), t.hashTimeSets.get(op, newHashTimeSet))
}

// The attributes of token cache lookups, made once.
var (
	cacheHit  = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "hit")))
	cacheMiss = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "miss")))
)

// cacheLookup counts a lookup of the token cache.
func (t *telemetry) cacheLookup(ctx context.Context, hit bool) {
	if t == nil || !t.on {
		return
	}
	if hit {
		t.cacheLookups.Add(ctx, 1, cacheHit)
	} else {
		t.cacheLookups.Add(ctx, 1, cacheMiss)
	}
}

// serveObserved is ServeHTTP with a span and the request metrics.
// Without a TracerProvider there is no span to start (nor its options to
// make): request gets a nil span.
func (a *Auth) serveObserved(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	endpoint, method := a.endpoint(r.URL.Path), knownMethod(r.Method)
	ctx := r.Context()
	var span trace.Span
	if a.tel.tracing {
		ctx, span = a.tel.tracer.Start(ctx, "ihoprauth "+endpoint, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", method), attribute.String("http.route", endpoint)))
		r = r.WithContext(ctx)
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	a.route(sw, r)
	a.tel.request(ctx, span, endpoint, method, sw.status, began)
}

// knownMethod is m if it is a method of RFC 9110 or PATCH, else "_OTHER",
// as OpenTelemetry's conventions say: a client picks the method, and an
// attribute must not take any value a client sends.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// endpoint names the route of path for metrics and spans: a path of the
// API without BasePath, with the admin API's user_id and client_id as
// {user_id} and {client_id}, or "unknown". It never carries what a client
// put in the path.
func (a *Auth) endpoint(path string) string {
	rest, ok := strings.CutPrefix(path, a.prefix)
	if !ok {
		return "unknown"
	}
	if admin, ok := strings.CutPrefix(rest, "admin/"); ok {
		routes, arg := a.adminRoute(admin)
		switch {
		case routes == nil:
			return "unknown"
		case strings.HasPrefix(admin, "projects/"):
			return "admin/projects/{client_id}"
		case arg == "":
			return "admin/users"
		}
		pattern := "admin/users/{user_id}"
		if _, action, ok := strings.Cut(strings.TrimPrefix(admin, "users/"), "/"); ok {
			pattern += "/" + action
		}
		return pattern
	}
	if a.routes[rest] == nil {
		return "unknown"
	}
	return rest
}

// statusWriter remembers the status of the answer it writes.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
