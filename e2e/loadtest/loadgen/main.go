// Command loadgen drives the example server over loopback through the
// API's multi-step flows, or a burst of cheap requests at once, and reports,
// for each, requests per second, p50 and p99 latency, errors and the
// server's peak resident memory (see BENCHMARKS.md):
//
//	go run ./example -addr 127.0.0.1:8080 -db /tmp/load.db -project none:load:load-secret-0123456789 &
//	cd e2e && go run ./loadtest/loadgen -base http://127.0.0.1:8080 -client-id load \
//		-client-secret load-secret-0123456789 -pid $! -scenario flow,login,refresh,storm
//
// Scenarios (comma separated; each stops after -duration or -max
// requests, whichever comes first):
//
//	flow     signup → code → api-tauth-token → GET /user, a new user each time
//	login    POST /login of -accounts users, -c at once
//	refresh  POST /refresh-token, each worker rotating its own refresh token
//	storm    GET /user at -probe-rate over one connection while idle, then
//	         while -storm logins of -accounts users run at once; compares
//	         the two p99s
//	burst    -burst requests at once, of the cheap kinds of -burst-kinds in
//	         turn, counted by status (see burst.go); any answer but the
//	         kind's own or a 503 with Retry-After is an error
//	soak     mixed traffic for -duration: signups, code exchanges, reads,
//	         refreshes, logouts, logins, a malformed body and a wrong client
//	         secret, each of -c workers one round every -soak-pause
//	token    prints the access token of a new user (for the wrk script)
//
// It uses valid credentials only, so no throttle fires (docs/design.md,
// D15), except for the burst's bad-refresh and bad-client kinds, which are
// refused (401) by design: one failure each, well below the cap of a source.
// ihoprauth caps the credential checks of each client address (D25), so
// requests come from -sources loopback addresses in turn, 127.1.0.1
// onwards (Linux routes all of 127.0.0.0/8 on lo), each with its own idle
// connections. loadgen sends to nothing but -base, which must be a
// loopback address. Peak memory
// is VmHWM of /proc/PID/status, reset before each scenario through
// /proc/PID/clear_refs (which needs the right to write it; otherwise the
// figure is the peak since the server started). loadgen exits 1 when any
// request failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

type options struct {
	base, clientID, clientSecret string
	pid                          int
	scenarios                    string
	workers, storm, max          int
	accounts                     int
	sources, burst               int
	burstKinds, token            string
	duration, idle, soakPause    time.Duration
	probeRate                    float64
}

func main() {
	var o options
	flag.StringVar(&o.base, "base", "http://127.0.0.1:8080", "base URL of the example (loopback only)")
	flag.StringVar(&o.clientID, "client-id", "demo-none", "client_id of a project of type none")
	flag.StringVar(&o.clientSecret, "client-secret", "", "its client_secret")
	flag.IntVar(&o.pid, "pid", 0, "process id of the server, for its peak RSS; 0: not reported")
	flag.StringVar(&o.scenarios, "scenario", "flow,login,refresh,storm", "comma-separated scenarios: flow, login, refresh, storm, burst, soak, token")
	flag.IntVar(&o.workers, "c", 4, "concurrent clients of flow, login and refresh")
	flag.IntVar(&o.storm, "storm", 100, "concurrent logins of the storm")
	flag.IntVar(&o.accounts, "accounts", 1, "users that the login and storm scenarios log in, in turn")
	flag.IntVar(&o.sources, "sources", 1000, fmt.Sprintf("source addresses 127.1.0.1 onwards that requests come from in turn, at most %d; 0: the kernel's choice", maxSources))
	flag.IntVar(&o.burst, "burst", 4000, "requests of the burst, all sent at once")
	flag.StringVar(&o.burstKinds, "burst-kinds", "user,bad-refresh", "comma-separated requests the burst sends in turn: user, bad-refresh, bad-client")
	flag.StringVar(&o.token, "token", "", "access token of the burst's user requests; empty: a new user's")
	flag.IntVar(&o.max, "max", 100_000, "most requests of one scenario")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "longest run of one scenario (and of the storm)")
	flag.DurationVar(&o.idle, "idle", 5*time.Second, "how long the storm probes the idle server first")
	flag.DurationVar(&o.soakPause, "soak-pause", time.Second, "least time between the starts of two rounds of one soak worker")
	flag.Float64Var(&o.probeRate, "probe-rate", 200, "GET /user per second during the storm's two phases, over one connection")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if err := checkLoopback(o.base); err != nil {
		return err
	}
	if o.clientSecret == "" {
		return errors.New("-client-secret is required")
	}
	if o.sources < 0 || o.sources > maxSources {
		return fmt.Errorf("-sources %d: want 0 to %d", o.sources, maxSources)
	}
	if o.probeRate <= 0 {
		return fmt.Errorf("-probe-rate %g: want more than 0", o.probeRate)
	}
	if o.burst < 1 {
		return fmt.Errorf("-burst %d: want at least 1", o.burst)
	}
	c := newClient(o.base, o.clientID, o.clientSecret, o.sources)
	ctx := context.Background()
	var failed bool
	for _, name := range strings.Split(o.scenarios, ",") {
		if name == "token" {
			token, err := c.newUserToken(ctx)
			if err != nil {
				return err
			}
			fmt.Println(token)
			continue
		}
		results, err := runScenario(ctx, c, o, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, r := range results {
			printResult(r)
			failed = failed || r.errors > 0
		}
	}
	if failed {
		return errors.New("some requests failed")
	}
	return nil
}

func runScenario(ctx context.Context, c *client, o options, name string) ([]result, error) {
	switch name {
	case "flow":
		return one(flow(ctx, c, o))
	case "login":
		return one(login(ctx, c, o))
	case "refresh":
		return one(refresh(ctx, c, o))
	case "storm":
		return storm(ctx, c, o)
	case "burst":
		return burst(ctx, c, o)
	case "soak":
		return one(soak(ctx, c, o))
	}
	return nil, fmt.Errorf("unknown scenario %q", name)
}

func one(r result, err error) ([]result, error) { return []result{r}, err }

// checkLoopback refuses a base URL whose host is not a loopback address:
// load runs stay on this machine.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("-base: %w", err)
	}
	ips, err := net.LookupIP(u.Hostname())
	if err != nil {
		return fmt.Errorf("-base: %w", err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("-base %s: %s is not a loopback address", base, ip)
		}
	}
	return nil
}
