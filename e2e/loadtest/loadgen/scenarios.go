package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// drive runs workers clients, each calling step (which makes cost
// requests) until the scenario's -duration has passed or its -max requests
// are spent. A request under way when time is up finishes: no request is
// cut off, so none fails for that. It returns the time taken.
func drive(o options, workers, cost int, step func(worker int)) time.Duration {
	deadline := time.Now().Add(o.duration)
	var budget atomic.Int64
	budget.Store(int64(o.max))
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && budget.Add(-int64(cost)) >= 0 {
				step(w)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// measured runs a scenario between a reset and a reading of the server's
// peak RSS.
func measured(o options, name string, rec *recorder, body func() time.Duration) result {
	reset := resetPeak(o.pid)
	r := rec.result(name, body())
	r.peakRSS = peakRSS(o.pid)
	if !reset && r.peakRSS > 0 {
		r.note = joinNote(r.note, "peak RSS since the server started")
	}
	return r
}

// flow signs up a new user, exchanges the code and reads the user, over
// and over; every request counts.
func flow(ctx context.Context, c *client, o options) (result, error) {
	rec := &recorder{}
	r := measured(o, "flow signup→token→user", rec, func() time.Duration {
		return drive(o, o.workers, 3, func(int) {
			var code, access string
			err := rec.time(func() (err error) { code, err = c.signup(ctx, c.newEmail()); return err })
			if err == nil {
				err = rec.time(func() (err error) { access, _, err = c.exchange(ctx, code); return err })
			}
			if err == nil {
				rec.time(func() error { return c.user(ctx, access) })
			}
		})
	})
	r.note = joinNote(r.note, fmt.Sprintf("%.1f flows/s", r.perSecond()/3))
	return r, nil
}

// login logs o.accounts users in over and over, o.workers at once: worker
// w logs in the user w mod o.accounts.
func login(ctx context.Context, c *client, o options) (result, error) {
	emails, err := newUsers(ctx, c, o.accounts)
	if err != nil {
		return result{}, err
	}
	rec := &recorder{}
	return measured(o, fmt.Sprintf("login (c=%d, %d accounts)", o.workers, len(emails)), rec, func() time.Duration {
		return drive(o, o.workers, 1, func(w int) {
			rec.time(func() error { _, err := c.login(ctx, emails[w%len(emails)]); return err })
		})
	}), nil
}

// newUsers signs n users up (at least one) and returns their emails.
func newUsers(ctx context.Context, c *client, n int) ([]string, error) {
	emails := make([]string, max(n, 1))
	for i := range emails {
		var err error
		if emails[i], _, _, err = c.newUser(ctx); err != nil {
			return nil, err
		}
	}
	return emails, nil
}

// refresh rotates refresh tokens, each worker its own login's.
func refresh(ctx context.Context, c *client, o options) (result, error) {
	email, _, _, err := c.newUser(ctx)
	if err != nil {
		return result{}, err
	}
	tokens := make([]string, o.workers)
	for i := range tokens {
		if tokens[i], err = c.freshRefresh(ctx, email); err != nil {
			return result{}, err
		}
	}
	rec := &recorder{}
	return measured(o, fmt.Sprintf("refresh (c=%d)", o.workers), rec, func() time.Duration {
		return drive(o, o.workers, 1, func(w int) {
			err := rec.time(func() (err error) { tokens[w], err = c.refresh(ctx, tokens[w]); return err })
			if err != nil {
				tokens[w], _ = c.freshRefresh(ctx, email)
			}
		})
	}), nil
}

// freshRefresh logs email in and returns the new login's refresh token.
func (c *client) freshRefresh(ctx context.Context, email string) (string, error) {
	code, err := c.login(ctx, email)
	if err != nil {
		return "", err
	}
	_, refresh, err := c.exchange(ctx, code)
	return refresh, err
}

// storm probes GET /user at o.probeRate on the idle server, then again
// while o.storm logins (of o.accounts users in turn) run at once for
// o.duration, and reports both probes and the logins.
func storm(ctx context.Context, c *client, o options) ([]result, error) {
	emails, err := newUsers(ctx, c, o.accounts)
	if err != nil {
		return nil, err
	}
	_, access, _, err := c.newUser(ctx)
	if err != nil {
		return nil, err
	}
	probeName := fmt.Sprintf("storm: GET /user %g/s", o.probeRate)
	idle := &recorder{}
	idleResult := idle.result(probeName+", idle", probe(ctx, c, o, access, idle, o.idle, nil))
	logins, during := &recorder{}, &recorder{}
	var loginsTook time.Duration
	stormResult := measured(o, probeName+", storm", during, func() time.Duration {
		return probe(ctx, c, o, access, during, o.duration, func() {
			so := o
			so.duration -= time.Second // the logins end before the probe does
			loginsTook = drive(so, o.storm, 1, func(w int) {
				logins.time(func() error { _, err := c.login(ctx, emails[w%len(emails)]); return err })
			})
		})
	})
	if idleResult.p99 > 0 {
		stormResult.note = joinNote(stormResult.note, fmt.Sprintf("p99 %.1f× idle", float64(stormResult.p99)/float64(idleResult.p99)))
	}
	loginResult := logins.result(fmt.Sprintf("storm: login (%d at once, %d accounts)", o.storm, len(emails)), loginsTook)
	loginResult.peakRSS = stormResult.peakRSS
	return []result{idleResult, stormResult, loginResult}, nil
}

// probe sends GET /user at a fixed o.probeRate for d over one connection
// of its own, one request after another, while load runs. A request's
// latency counts from the time it was due, not from when it was sent: an
// answer that comes late delays the requests behind it on the connection,
// and they count that wait (as wrk2 does; measuring from the send would
// hide it). It returns once d has passed, load has returned and the last
// probe has answered.
func probe(ctx context.Context, c *client, o options, access string, rec *recorder, d time.Duration, load func()) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	if load != nil {
		wg.Go(load)
	}
	interval := time.Duration(float64(time.Second) / o.probeRate)
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d {
			break
		}
		time.Sleep(time.Until(due))
		err := c.probeUser(ctx, access)
		rec.add(time.Since(due), err)
	}
	wg.Wait()
	return time.Since(start)
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
