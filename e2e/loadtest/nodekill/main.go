// Command nodekill runs a mixed load (signups, logins, code exchanges,
// refreshes, bearer checks) over instances of the example while a
// database node is killed and restarted, then checks that nothing
// acknowledged was lost (issue 16 item 4; nodekill.sh runs it on a Galera
// cluster and on a PostgreSQL primary with a replica):
//
//	nodekill -instances http://127.0.0.1:8291,http://127.0.0.1:8292 -victim 1 \
//		-client-id load -client-secret SECRET -kill 'CMD' -restart 'CMD'
//
// The load runs for -before, then -kill runs (sh -c), the load goes on for
// -down, then -restart runs, and the load goes on until the -victim
// instance (0-based; -1 for none) has answered without a 5xx or a failed
// connection for -settle, at most -recover. One code in four is exchanged
// by two requests at once on two different instances, so that a code
// redeemed twice would show. A refresh whose answer was lost (a 5xx or no answer)
// may have rotated its family or not, so that family is left alone
// afterwards and counted as uncertain.
//
// Afterwards, on the instances other than the victim and then on the
// victim: every acknowledged signup must log in, and the latest access
// token of every family that is not uncertain must pass a bearer check,
// and its latest refresh token must refresh. It prints the answers by
// status per phase and instance, 503s without Retry-After, the times, and
// the verification, and exits 1 when something acknowledged was lost, a
// code was redeemed twice, a 500 (or any 5xx but 503) or a 503 without
// Retry-After was answered, or the victim did not recover.
//
// Each request comes from an address of its own in 127.3.0.0/16 (the
// per-source signup limit is 20 an hour; Linux routes 127.0.0.0/8 on lo).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	instances                           []string
	victim                              int
	clientID, clientSecret              string
	kill, restart                       string
	workers                             int
	before, down, settle, recoverWithin time.Duration
}

func main() {
	var o options
	var instances string
	flag.StringVar(&instances, "instances", "", "comma-separated base URLs of the example's instances")
	flag.IntVar(&o.victim, "victim", 0, "0-based index of the instance on the node that is killed; -1: none")
	flag.StringVar(&o.clientID, "client-id", "load", "client_id of a none project on every instance")
	flag.StringVar(&o.clientSecret, "client-secret", "", "its client_secret")
	flag.StringVar(&o.kill, "kill", "", "shell command that kills the node")
	flag.StringVar(&o.restart, "restart", "", "shell command that starts it again")
	flag.IntVar(&o.workers, "workers", 6, "concurrent workers")
	flag.DurationVar(&o.before, "before", 15*time.Second, "load before the kill")
	flag.DurationVar(&o.down, "down", 15*time.Second, "load between the kill and the restart")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "how long the victim must answer without failure to count as recovered")
	flag.DurationVar(&o.recoverWithin, "recover", 3*time.Minute, "how long after the restart the victim may take to recover")
	flag.Parse()
	o.instances = strings.Split(instances, ",")
	if len(o.instances) < 2 || o.kill == "" || o.restart == "" || o.victim >= len(o.instances) {
		fmt.Fprintln(os.Stderr, "nodekill: want -instances with at least 2 URLs, -kill, -restart and a -victim among them")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "nodekill:", err)
		os.Exit(1)
	}
}

const password = "Correct horse battery 9"

// phases of the run, for the counts.
const (
	phaseBefore = iota
	phaseDown
	phaseAfter
	phases
)

var phaseNames = [phases]string{"before the kill", "node down", "after the restart"}

// run is the whole run; its error says what failed the check.
func run(o options) error {
	r := &recorder{o: o, counts: map[key]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	start := time.Now()
	for w := range o.workers {
		wg.Go(func() { r.work(ctx, w) })
	}
	time.Sleep(o.before)
	r.phase.Store(phaseDown)
	killAt := time.Now()
	fmt.Printf("nodekill: %s: kill: %s\n", killAt.Sub(start).Round(time.Millisecond), o.kill)
	if out, err := exec.Command("sh", "-c", o.kill).CombinedOutput(); err != nil {
		cancel()
		wg.Wait()
		return fmt.Errorf("-kill: %v: %s", err, out)
	}
	time.Sleep(o.down)
	r.phase.Store(phaseAfter)
	restartAt := time.Now()
	fmt.Printf("nodekill: %s: restart: %s\n", restartAt.Sub(start).Round(time.Millisecond), o.restart)
	out, err := exec.Command("sh", "-c", o.restart).CombinedOutput()
	restarted := time.Now()
	fmt.Printf("nodekill: the restart command took %s\n", restarted.Sub(restartAt).Round(time.Millisecond))
	if err != nil {
		cancel()
		wg.Wait()
		return fmt.Errorf("-restart: %v: %s", err, out)
	}
	recovered := r.awaitRecovery(restarted, o)
	cancel()
	wg.Wait()
	fmt.Printf("nodekill: %d workers over %d instances for %s\n", o.workers, len(o.instances), time.Since(start).Round(time.Millisecond))
	var problems []string
	if o.victim >= 0 {
		if recovered.IsZero() {
			problems = append(problems, fmt.Sprintf("the victim did not answer without failure for %s within %s of the restart", o.settle, o.recoverWithin))
		} else {
			fmt.Printf("nodekill: the victim's instance: last failure %s after the kill, %s after the restart command ended\n",
				recovered.Sub(killAt).Round(time.Millisecond), recovered.Sub(restarted).Round(time.Millisecond))
		}
	}
	problems = append(problems, r.report()...)
	problems = append(problems, r.verify()...)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	fmt.Println("nodekill: ok")
	return nil
}

// key counts answers by phase, instance and status (0: no answer).
type key struct{ phase, instance, status int }

// tokens is the part of an answer with tokens that nodekill uses.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// family is one login's tokens, the latest acknowledged.
type family struct {
	access, refresh string
	uncertain       bool // a refresh's answer was lost
}

type recorder struct {
	o     options
	phase atomic.Int32
	addr  atomic.Uint32 // the next source address

	mu          sync.Mutex
	counts      map[key]int
	noRetry     int       // 503s without Retry-After
	twice       int       // codes redeemed twice
	codes       int       // codes raced
	signups     []string  // acknowledged
	families    []*family // acknowledged
	victimFail  time.Time // the victim's last failure
	victimFails int
}

// work runs the mixed load until ctx ends: a signup, a login of an
// acknowledged user, a refresh and a bearer check of a family of its own.
func (r *recorder) work(ctx context.Context, w int) {
	var mine []*family
	for i := 0; ctx.Err() == nil; i++ {
		email := fmt.Sprintf("nodekill-%d-%d-%d@example.com", time.Now().UnixNano(), w, i)
		body := map[string]any{"email": email, "password": password, "first_name": "Node", "last_name": "Kill", "mobile_number": "1"}
		var signup struct{ Code string }
		if r.call(ctx, r.pick(), "/api/v1/signup", "", body, &signup) == 200 {
			r.mu.Lock()
			r.signups = append(r.signups, email)
			r.mu.Unlock()
			if f := r.exchange(ctx, signup.Code, 2*i); f != nil {
				mine = append(mine, f)
			}
		}
		if u := r.someSignup(); u != "" {
			var login struct{ Code string }
			if r.call(ctx, r.pick(), "/api/v1/login", "", map[string]any{"email": u, "password": password}, &login) == 200 {
				if f := r.exchange(ctx, login.Code, 2*i+1); f != nil {
					mine = append(mine, f)
				}
			}
		}
		if len(mine) > 0 {
			f := mine[rand.IntN(len(mine))]
			if !f.uncertain {
				r.refresh(ctx, f)
			}
			if !f.uncertain {
				r.call(ctx, r.pick(), "/api/v1/user", f.access, nil, nil)
			}
		}
	}
}

// exchange exchanges code on one instance and returns the family of a
// 200, or nil. Every fourth code of a worker is raced instead (see race),
// and gives no family: the loser of a race revokes what the winner got,
// as a code used twice must (RFC 6749 §4.1.2).
func (r *recorder) exchange(ctx context.Context, code string, i int) *family {
	if code == "" {
		return nil
	}
	if i%4 == 3 {
		r.race(ctx, code)
		return nil
	}
	var t tokens
	if r.call(ctx, r.pick(), "/api/v1/api-tauth-token", "", map[string]any{"code": code}, &t) != 200 {
		return nil
	}
	f := &family{access: t.AccessToken, refresh: t.RefreshToken}
	r.mu.Lock()
	r.families = append(r.families, f)
	r.mu.Unlock()
	return f
}

// race exchanges code on two instances at once and counts a code that
// both accept.
func (r *recorder) race(ctx context.Context, code string) {
	i := rand.IntN(len(r.o.instances))
	j := (i + 1 + rand.IntN(len(r.o.instances)-1)) % len(r.o.instances)
	var statuses [2]int
	var wg sync.WaitGroup
	for k, inst := range []int{i, j} {
		wg.Go(func() {
			statuses[k] = r.call(ctx, inst, "/api/v1/api-tauth-token", "", map[string]any{"code": code}, nil)
		})
	}
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.codes++
	if statuses[0] == 200 && statuses[1] == 200 {
		r.twice++
	}
}

// refresh rotates f's refresh token; a lost answer leaves f uncertain.
func (r *recorder) refresh(ctx context.Context, f *family) {
	var t tokens
	status := r.call(ctx, r.pick(), "/api/v1/refresh-token", "", map[string]any{"refresh_token": f.refresh}, &t)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case status == 200:
		f.access, f.refresh = t.AccessToken, t.RefreshToken
	case status == 0 && ctx.Err() != nil:
	case status != 401 && status != 429:
		f.uncertain = true
	}
}

// someSignup returns an acknowledged signup's email, or "".
func (r *recorder) someSignup() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.signups) == 0 {
		return ""
	}
	return r.signups[rand.IntN(len(r.signups))]
}

// pick returns a random instance.
func (r *recorder) pick() int { return rand.IntN(len(r.o.instances)) }

// call sends body (GET without one, with bearer when given) to instance
// inst, decodes a 200's answer into out, counts the answer and returns its
// status, 0 when there was none.
func (r *recorder) call(ctx context.Context, inst int, path, bearer string, body map[string]any, out any) int {
	status, retryAfter := r.send(ctx, inst, path, bearer, body, out)
	if ctx.Err() != nil && status == 0 {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[key{int(r.phase.Load()), inst, status}]++
	if status == 503 && !retryAfter {
		r.noRetry++
	}
	if inst == r.o.victim && (status == 0 || status >= 500) {
		r.victimFail = time.Now()
		r.victimFails++
	}
	return status
}

func (r *recorder) send(ctx context.Context, inst int, path, bearer string, body map[string]any, out any) (int, bool) {
	method, reader := http.MethodGet, io.Reader(nil)
	if body != nil {
		body = maps.Clone(body)
		body["client_id"], body["client_secret"] = r.o.clientID, r.o.clientSecret
		raw, _ := json.Marshal(body)
		method, reader = http.MethodPost, bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.o.instances[inst]+path, reader)
	if err != nil {
		return 0, false
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := r.client().Do(req)
	if err != nil {
		return 0, false
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, false
	}
	if res.StatusCode == 200 && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return 0, false
		}
	}
	return res.StatusCode, res.Header.Get("Retry-After") != ""
}

// client returns a client whose connection comes from the next address of
// 127.3.0.0/16.
func (r *recorder) client() *http.Client {
	n := r.addr.Add(1)
	ip := net.IPv4(127, 3, byte(n>>8), byte(n))
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// awaitRecovery returns when the victim has answered for o.settle without
// a failure, at most o.recoverWithin after restarted: the time of its
// last failure, or zero when it did not recover.
func (r *recorder) awaitRecovery(restarted time.Time, o options) time.Time {
	if o.victim < 0 {
		time.Sleep(o.settle)
		return restarted
	}
	for time.Since(restarted) < o.recoverWithin {
		time.Sleep(250 * time.Millisecond)
		r.mu.Lock()
		last := r.victimFail
		r.mu.Unlock()
		if time.Since(last) >= o.settle && time.Since(restarted) >= o.settle {
			return last
		}
	}
	return time.Time{}
}

// report prints the counts and returns what they fail.
func (r *recorder) report() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var problems []string
	bad := map[int]int{}
	for p := range phases {
		for inst := range r.o.instances {
			row := map[int]int{}
			for k, n := range r.counts {
				if k.phase == p && k.instance == inst {
					row[k.status] = n
				}
			}
			tag := ""
			if inst == r.o.victim {
				tag = " (victim)"
			}
			fmt.Printf("nodekill: %-17s instance %d%s: %s\n", phaseNames[p], inst, tag, format(row))
			for status, n := range row {
				if status >= 500 && status != 503 {
					bad[status] += n
				}
			}
		}
	}
	fmt.Printf("nodekill: %d codes raced by two instances at once, %d redeemed twice; %d 503s without Retry-After\n", r.codes, r.twice, r.noRetry)
	if r.twice > 0 {
		problems = append(problems, fmt.Sprintf("%d codes redeemed twice", r.twice))
	}
	if r.noRetry > 0 {
		problems = append(problems, fmt.Sprintf("%d 503s without Retry-After", r.noRetry))
	}
	if len(bad) > 0 {
		problems = append(problems, "5xx other than 503: "+format(bad))
	}
	return problems
}

// verify checks every acknowledged signup and family, first on an
// instance other than the victim, then on the victim.
func (r *recorder) verify() []string {
	ctx := context.Background()
	survivor := (r.o.victim + 1) % len(r.o.instances)
	var problems []string
	uncertain := 0
	for _, f := range r.families {
		if f.uncertain {
			uncertain++
		}
	}
	for _, inst := range []int{survivor, r.o.victim} {
		if inst < 0 {
			continue
		}
		lost := r.verifyOn(ctx, inst)
		fmt.Printf("nodekill: verified on instance %d: %d of %d acknowledged signups log in; %d of %d families (%d uncertain left out) pass a bearer check and refresh\n",
			inst, len(r.signups)-lost.signups, len(r.signups), len(r.families)-uncertain-lost.families, len(r.families)-uncertain, uncertain)
		if lost.signups > 0 || lost.families > 0 {
			problems = append(problems, fmt.Sprintf("on instance %d: %d signups and %d families lost", inst, lost.signups, lost.families))
		}
	}
	return problems
}

type lost struct{ signups, families int }

// verifyOn logs every acknowledged signup in on inst, and checks and
// refreshes every certain family there, four requests at a time.
func (r *recorder) verifyOn(ctx context.Context, inst int) lost {
	var n lost
	var signups, families []func() bool
	for _, email := range r.signups {
		signups = append(signups, func() bool {
			status, _ := r.send(ctx, inst, "/api/v1/login", "", map[string]any{"email": email, "password": password}, nil)
			if status != 200 {
				fmt.Printf("nodekill: lost signup %s: login on instance %d answers %d\n", email, inst, status)
			}
			return status == 200
		})
	}
	for _, f := range r.families {
		if f.uncertain {
			continue
		}
		families = append(families, func() bool {
			status, _ := r.send(ctx, inst, "/api/v1/user", f.access, nil, nil)
			if status != 200 {
				fmt.Printf("nodekill: lost family: bearer check on instance %d answers %d\n", inst, status)
				return false
			}
			var t tokens
			status, _ = r.send(ctx, inst, "/api/v1/refresh-token", "", map[string]any{"refresh_token": f.refresh}, &t)
			if status != 200 {
				fmt.Printf("nodekill: lost family: refresh on instance %d answers %d\n", inst, status)
				return false
			}
			f.access, f.refresh = t.AccessToken, t.RefreshToken
			return true
		})
	}
	n.signups, n.families = failures(signups), failures(families)
	return n
}

// failures runs jobs four at a time and counts those that return false.
func failures(jobs []func() bool) int {
	var failed atomic.Int32
	next := make(chan func() bool)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for job := range next {
				if !job() {
					failed.Add(1)
				}
			}
		})
	}
	for _, job := range jobs {
		next <- job
	}
	close(next)
	wg.Wait()
	return int(failed.Load())
}

// format writes counts by status in the order of the statuses; status 0
// is "no answer".
func format(statuses map[int]int) string {
	var parts []string
	for _, status := range slices.Sorted(maps.Keys(statuses)) {
		name := fmt.Sprint(status)
		if status == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%d×%s", statuses[status], name))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
