package ihoprauth

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// instrumentedStore is the Store of an Auth with a MeterProvider or a
// TracerProvider: every call is timed into ihoprauth.store.duration by
// method and outcome, and is a span (a child of the request's), so a slow
// database shows which calls it slows.
type instrumentedStore struct {
	Store
	tel *telemetry
}

var _ Store = instrumentedStore{}

// start begins a Store call named method; done ends it with its error.
// Without a TracerProvider it starts no span.
func (s instrumentedStore) start(ctx context.Context, method string) (context.Context, func(error)) {
	began := time.Now()
	var span trace.Span
	if s.tel.tracing {
		ctx, span = s.tel.tracer.Start(ctx, "ihoprauth.store "+method, trace.WithSpanKind(trace.SpanKindClient))
	}
	return ctx, func(err error) {
		outcome := "ok"
		switch {
		case errors.Is(err, ErrNotFound):
			outcome = "not_found"
		case err != nil:
			outcome = "error"
		}
		s.tel.storeTime.Record(ctx, time.Since(began).Seconds(), s.tel.storeSets.get([2]string{method, outcome}, newStoreSet))
		if span == nil {
			return
		}
		if outcome == "error" {
			span.SetStatus(codes.Error, "")
		}
		span.End()
	}
}

// Ping asks the underlying Store as Auth.Ready would (see ping).
func (s instrumentedStore) Ping(ctx context.Context) (err error) {
	ctx, done := s.start(ctx, "Ping")
	defer func() { done(err) }()
	return ping(ctx, s.Store)
}
