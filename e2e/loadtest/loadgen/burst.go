package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// burstKind is one cheap request that the burst sends: each reads or
// writes the database once or twice and hashes nothing expensive.
type burstKind struct {
	name string
	// what is the request, as the report names it.
	what string
	// want is its answer when the server is not overloaded; 503 with
	// Retry-After is the other answer allowed (docs/design.md, D30).
	want int
	send func(ctx context.Context, c *client, access string, i int) (*http.Response, []byte, error)
}

// burstKinds are the requests of -burst-kinds.
var burstKinds = map[string]burstKind{
	// One indexed read: the token joined with its user (the example runs
	// without -token-cache unless told otherwise).
	"user": {"user", "GET /api/v1/user, valid bearer token", http.StatusOK,
		func(ctx context.Context, c *client, access string, _ int) (*http.Response, []byte, error) {
			return c.send(ctx, "GET", "/api/v1/user", access, nil)
		}},
	// The valid client's credentials and an unknown refresh token: a write
	// (the source's slot of its cap, taken before any check, and kept by
	// the 401), the client's row and one indexed read of the token.
	"bad-refresh": {"bad-refresh", "POST /api/v1/refresh-token, unknown refresh token", http.StatusUnauthorized,
		func(ctx context.Context, c *client, _ string, i int) (*http.Response, []byte, error) {
			return c.send(ctx, "POST", "/api/v1/refresh-token", "", map[string]any{
				"refresh_token": fmt.Sprintf("burst-%d-%d", c.run, i)})
		}},
	// An unknown client_id: the source's slot (a write) and one read of the
	// projects, before any password is looked at.
	"bad-client": {"bad-client", "POST /api/v1/login, unknown client_id", http.StatusUnauthorized,
		func(ctx context.Context, c *client, _ string, _ int) (*http.Response, []byte, error) {
			return c.send(ctx, "POST", "/api/v1/login", "", map[string]any{
				"client_id": "burst-unknown-client", "email": "burst@example.com", "password": password})
		}},
}

// tally counts the answers of one kind by status.
type tally struct {
	kind      burstKind
	rec       recorder
	statuses  map[int]int
	transport int // requests that got no answer
}

// burst sends o.burst requests at once, the kinds of o.burstKinds in turn,
// each on its own goroutine and so on its own connection (the source
// addresses taking turns), and counts the answers by status. It fails
// every request answered with anything but its kind's status or a 503
// with Retry-After, and every request that got no answer: a 500, a 429 (a
// throttle fired: the run is not valid, D15) or a dropped connection all
// make loadgen exit 1.
func burst(ctx context.Context, c *client, o options) ([]result, error) {
	var kinds []burstKind
	for name := range strings.SplitSeq(o.burstKinds, ",") {
		k, ok := burstKinds[name]
		if !ok {
			return nil, fmt.Errorf("unknown -burst-kinds %q: want %s", name, strings.Join(slices.Sorted(maps.Keys(burstKinds)), ", "))
		}
		kinds = append(kinds, k)
	}
	access := o.token
	if access == "" && slices.ContainsFunc(kinds, func(k burstKind) bool { return k.name == "user" }) {
		var err error
		if access, err = c.newUserToken(ctx); err != nil {
			return nil, err
		}
	}
	tallies := make([]*tally, len(kinds))
	for i, k := range kinds {
		tallies[i] = &tally{kind: k, statuses: map[int]int{}}
	}
	var (
		mu                 sync.Mutex
		outstanding, peak  atomic.Int64
		ready, start, done = &sync.WaitGroup{}, make(chan struct{}), &sync.WaitGroup{}
	)
	rec := &recorder{}
	name := fmt.Sprintf("burst (%d at once)", o.burst)
	var elapsed time.Duration
	r := measured(o, name, rec, func() time.Duration {
		for i := range o.burst {
			t := tallies[i%len(tallies)]
			ready.Add(1)
			done.Go(func() {
				ready.Done()
				<-start
				n := outstanding.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				began := time.Now()
				res, raw, err := t.kind.send(ctx, c, access, i)
				took := time.Since(began)
				outstanding.Add(-1)
				var bad error
				switch {
				case err != nil:
					bad = err
				case res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "":
					bad = fmt.Errorf("503 without Retry-After: %s", strings.TrimSpace(string(raw)))
				case res.StatusCode != t.kind.want && res.StatusCode != http.StatusServiceUnavailable:
					bad = fmt.Errorf("%d %s", res.StatusCode, strings.TrimSpace(string(raw)))
				}
				rec.add(took, bad)
				t.rec.add(took, bad)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.transport++
				} else {
					t.statuses[res.StatusCode]++
				}
			})
		}
		ready.Wait()
		began := time.Now()
		close(start)
		done.Wait()
		elapsed = time.Since(began)
		return elapsed
	})
	c.closeIdle()
	r.note = joinNote(r.note, fmt.Sprintf("%d sources, at most %d outstanding", len(c.https), peak.Load()))
	results := []result{r}
	for _, t := range tallies {
		results = append(results, t.result(elapsed))
	}
	return results, nil
}

// result is t as a line of the report, its counts by status in the note.
func (t *tally) result(elapsed time.Duration) result {
	var counts []string
	for _, status := range slices.Sorted(maps.Keys(t.statuses)) {
		counts = append(counts, fmt.Sprintf("%d: %d", status, t.statuses[status]))
	}
	if t.transport > 0 {
		counts = append(counts, fmt.Sprintf("no answer: %d", t.transport))
	}
	r := t.rec.result("  "+t.kind.name, elapsed)
	r.note = t.kind.what + " → " + strings.Join(counts, ", ")
	return r
}
