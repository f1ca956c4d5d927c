// Package memmetrics is a small OpenTelemetry MeterProvider that keeps
// counters, histograms (as count and sum) and gauges in memory and writes
// them in the Prometheus text format. It implements only what ihoprauth
// records, for the example's /metrics page and for tests that read the
// figures back; an app passes its OpenTelemetry SDK's MeterProvider
// instead.
//
//	p := memmetrics.New()
//	auth, err := ihoprauth.New(ctx, st, m, ihoprauth.Config{MeterProvider: p})
//	http.Handle("GET /metrics", p)
package memmetrics

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"
	"go.opentelemetry.io/otel/metric/noop"
)

// Provider is the MeterProvider; its zero value is not usable, use New.
type Provider struct {
	embedded.MeterProvider
	mu        sync.Mutex
	series    map[seriesKey]*series
	callbacks []metric.Callback
}

// seriesKey names a series by its instrument and attributes, without
// formatting them: the labels are made once, when the series is.
type seriesKey struct {
	name  string
	attrs attribute.Distinct
}

type series struct {
	name, labels string
	kind         string // counter, histogram or gauge
	value, sum   float64
	count        int64
}

// New returns an empty Provider.
func New() *Provider { return &Provider{series: map[seriesKey]*series{}} }

// Meter returns a meter whose instruments record into p.
func (p *Provider) Meter(string, ...metric.MeterOption) metric.Meter { return &meter{p: p} }

func (p *Provider) add(kind, name string, attrs attribute.Set, f func(*series)) {
	key := seriesKey{name, attrs.Equivalent()}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.series[key]
	if s == nil {
		s = &series{name: name, labels: promLabels(attrs), kind: kind}
		p.series[key] = s
	}
	f(s)
}

// promLabels writes attrs as Prometheus labels ({a="x",b="y"}).
func promLabels(attrs attribute.Set) string {
	if attrs.Len() == 0 {
		return ""
	}
	var parts []string
	for _, kv := range attrs.ToSlice() {
		parts = append(parts, fmt.Sprintf("%s=%q", promName(string(kv.Key)), kv.Value.String()))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// promName turns an OpenTelemetry name into a Prometheus one.
func promName(s string) string { return promNames.Replace(s) }

var promNames = strings.NewReplacer(".", "_", "-", "_")

// Value returns the sum of a counter or the last value of a gauge named
// name (as the instrument is named) with exactly attrs; for a histogram,
// the number of values recorded. It runs the gauges' callbacks first.
func (p *Provider) Value(name string, attrs ...attribute.KeyValue) float64 {
	p.collect()
	p.mu.Lock()
	defer p.mu.Unlock()
	set := attribute.NewSet(attrs...)
	s := p.series[seriesKey{name, set.Equivalent()}]
	switch {
	case s == nil:
		return 0
	case s.kind == "histogram":
		return float64(s.count)
	}
	return s.value
}

// Names returns the names of the instruments that recorded something.
func (p *Provider) Names() []string {
	p.collect()
	p.mu.Lock()
	defer p.mu.Unlock()
	names := map[string]bool{}
	for _, s := range p.series {
		names[s.name] = true
	}
	return slices.Sorted(maps.Keys(names))
}

// collect runs the callbacks of the observable instruments.
func (p *Provider) collect() {
	p.mu.Lock()
	callbacks := slices.Clone(p.callbacks)
	p.mu.Unlock()
	for _, cb := range callbacks {
		_ = cb(context.Background(), observer{p: p})
	}
}

// WriteText writes every series in the Prometheus text format.
func (p *Provider) WriteText(w io.Writer) error {
	p.collect()
	p.mu.Lock()
	defer p.mu.Unlock()
	all := slices.Collect(maps.Values(p.series))
	slices.SortFunc(all, func(a, b *series) int { return strings.Compare(a.name+a.labels, b.name+b.labels) })
	for _, s := range all {
		name := promName(s.name)
		var err error
		switch s.kind {
		case "counter":
			_, err = fmt.Fprintf(w, "%s_total%s %g\n", name, s.labels, s.value)
		case "histogram":
			_, err = fmt.Fprintf(w, "%s_count%s %d\n%s_sum%s %g\n", name, s.labels, s.count, name, s.labels, s.sum)
		default:
			_, err = fmt.Fprintf(w, "%s%s %g\n", name, s.labels, s.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ServeHTTP answers with WriteText.
func (p *Provider) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	p.WriteText(w)
}

type meter struct {
	noop.Meter
	p *Provider
}

func (m *meter) Int64Counter(name string, _ ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return &counter{p: m.p, name: name}, nil
}

func (m *meter) Float64Histogram(name string, _ ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	return &histogram{p: m.p, name: name}, nil
}

func (m *meter) Int64ObservableGauge(name string, _ ...metric.Int64ObservableGaugeOption) (metric.Int64ObservableGauge, error) {
	return &gauge{name: name}, nil
}

func (m *meter) RegisterCallback(f metric.Callback, _ ...metric.Observable) (metric.Registration, error) {
	m.p.mu.Lock()
	defer m.p.mu.Unlock()
	m.p.callbacks = append(m.p.callbacks, f)
	return noop.Registration{}, nil
}

type counter struct {
	noop.Int64Counter
	p    *Provider
	name string
}

func (c *counter) Enabled(context.Context) bool { return true }

func (c *counter) Add(_ context.Context, v int64, opts ...metric.AddOption) {
	c.p.add("counter", c.name, metric.NewAddConfig(opts).Attributes(), func(s *series) { s.value += float64(v) })
}

type histogram struct {
	noop.Float64Histogram
	p    *Provider
	name string
}

func (h *histogram) Enabled(context.Context) bool { return true }

func (h *histogram) Record(_ context.Context, v float64, opts ...metric.RecordOption) {
	h.p.add("histogram", h.name, metric.NewRecordConfig(opts).Attributes(), func(s *series) { s.count++; s.sum += v })
}

type gauge struct {
	noop.Int64ObservableGauge
	name string
}

type observer struct {
	embedded.Observer
	p *Provider
}

func (o observer) ObserveInt64(inst metric.Int64Observable, v int64, opts ...metric.ObserveOption) {
	if g, ok := inst.(*gauge); ok {
		o.p.add("gauge", g.name, metric.NewObserveConfig(opts).Attributes(), func(s *series) { s.value = float64(v) })
	}
}

func (o observer) ObserveFloat64(metric.Float64Observable, float64, ...metric.ObserveOption) {}
