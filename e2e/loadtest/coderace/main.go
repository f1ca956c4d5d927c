// Command coderace races one auth code over two instances of the example
// (issue 16: on two nodes of a Galera cluster, see galera.sh): each
// repetition logs a user in on one instance, then sends -c exchanges of
// the code it got (POST /api/v1/api-tauth-token) at once, half to each
// instance, and counts the answers by status. Single use holds when
// exactly one is 200 and every other 401; anything else (a 500, a 503)
// fails the repetition.
//
//	coderace -a http://127.0.0.1:8281 -b http://127.0.0.1:8282 -client-id load \
//		-client-secret load-secret-0123456789 -n 50 -c 20
//
// The requests of a repetition all come from one loopback address, so
// that the failed exchanges hit one per-source failure counter, the row
// whose upsert the two nodes fight over; each repetition has an address of
// its own, 127.2.0.1 onwards, so that no repetition meets the per-source
// failure limit (-c - 1 failures each; Config.IPFailureLimit is 100 in 10
// minutes). It prints each repetition's counts and the totals, and exits
// 1 when a request fails or a repetition is not one 200 and -c - 1 401s.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type options struct {
	a, b, clientID, clientSecret string
	n, c                         int
}

func main() {
	var o options
	flag.StringVar(&o.a, "a", "http://127.0.0.1:8281", "base URL of the first instance")
	flag.StringVar(&o.b, "b", "http://127.0.0.1:8282", "base URL of the second instance")
	flag.StringVar(&o.clientID, "client-id", "load", "client_id of a none project on both")
	flag.StringVar(&o.clientSecret, "client-secret", "", "its client_secret")
	flag.IntVar(&o.n, "n", 50, "repetitions, at most 250")
	flag.IntVar(&o.c, "c", 20, "concurrent exchanges of each code, half to each instance")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "coderace:", err)
		os.Exit(1)
	}
}

// password is the password of the user coderace signs up.
const password = "Correct horse battery 9"

func run(o options) error {
	for _, base := range []string{o.a, o.b} {
		u, err := url.Parse(base)
		if err != nil || (u.Hostname() != "localhost" && !strings.HasPrefix(u.Hostname(), "127.")) {
			return fmt.Errorf("%s: want a loopback URL", base)
		}
	}
	if o.n < 1 || o.n > 250 || o.c < 2 {
		return fmt.Errorf("-n %d -c %d: want 1 <= n <= 250 and c >= 2", o.n, o.c)
	}
	creds := map[string]any{"client_id": o.clientID, "client_secret": o.clientSecret}
	email := fmt.Sprintf("coderace-%d@example.com", time.Now().UnixNano())
	signup := with(creds, "email", email, "password", password, "first_name", "Code", "last_name", "Race", "mobile_number", "1")
	if _, err := call(clientFrom(nil), o.a, "/api/v1/signup", signup, 200); err != nil {
		return err
	}
	totals := map[int]int{}
	failed := 0
	start := time.Now()
	for i := range o.n {
		statuses, err := once(o, creds, email, i)
		if err != nil {
			return fmt.Errorf("repetition %d: %w", i+1, err)
		}
		ok := maps.Equal(statuses, map[int]int{200: 1, 401: o.c - 1})
		verdict := "ok"
		if !ok {
			verdict = "FAIL"
			failed++
		}
		fmt.Printf("repetition %2d: %s %s\n", i+1, format(statuses), verdict)
		for status, n := range statuses {
			totals[status] += n
		}
	}
	fmt.Printf("coderace: %d repetitions of %d exchanges of one code over 2 instances in %v: %s; %d repetitions not one 200 and %d 401s\n",
		o.n, o.c, time.Since(start).Round(time.Millisecond), format(totals), failed, o.c-1)
	if failed > 0 {
		return fmt.Errorf("%d of %d repetitions failed", failed, o.n)
	}
	return nil
}

// once logs the user in on one instance and races the code; it returns
// the count of answers by status.
func once(o options, creds map[string]any, email string, i int) (map[int]int, error) {
	client := clientFrom(net.IPv4(127, 2, byte((i+1)>>8), byte(i+1)))
	bases := []string{o.a, o.b}
	raw, err := call(client, bases[i%2], "/api/v1/login", with(creds, "email", email, "password", password), 200)
	if err != nil {
		return nil, err
	}
	var login struct{ Code string }
	if err := json.Unmarshal(raw, &login); err != nil || login.Code == "" {
		return nil, fmt.Errorf("login: no code in %s", raw)
	}
	exchange := with(creds, "code", login.Code)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		errs     []error
		gate     = make(chan struct{})
	)
	for j := range o.c {
		wg.Go(func() {
			<-gate
			status, err := post(client, bases[j%2], "/api/v1/api-tauth-token", exchange)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			statuses[status]++
		})
	}
	close(gate)
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return statuses, nil
}

// clientFrom returns an HTTP client whose connections come from the local
// address ip (nil: the kernel's choice; Linux routes all of 127.0.0.0/8
// on lo), with room for every exchange of a repetition at once.
func clientFrom(ip net.IP) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if ip != nil {
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: 64,
		},
	}
}

// format writes counts by status in the order of the statuses.
func format(statuses map[int]int) string {
	var parts []string
	for _, status := range slices.Sorted(maps.Keys(statuses)) {
		parts = append(parts, fmt.Sprintf("%d×%d", statuses[status], status))
	}
	return strings.Join(parts, " ")
}

func with(base map[string]any, kv ...any) map[string]any {
	m := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// call posts body and checks the answer's status, returning its body.
func call(client *http.Client, base, path string, body any, want int) ([]byte, error) {
	raw, status, err := send(client, base, path, body)
	if err != nil {
		return nil, err
	}
	if status != want {
		return nil, fmt.Errorf("POST %s%s: got %d %s, want %d", base, path, status, raw, want)
	}
	return raw, nil
}

// post posts body and returns the answer's status.
func post(client *http.Client, base, path string, body any) (int, error) {
	_, status, err := send(client, base, path, body)
	return status, err
}

func send(client *http.Client, base, path string, body any) ([]byte, int, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, 0, err
	}
	res, err := client.Post(base+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	return answer, res.StatusCode, err
}
