package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"
)

// password is the password of every user loadgen signs up.
const password = "Correct horse battery 9"

// client calls the API of one none project.
type client struct {
	base  string
	creds map[string]any
	// https holds one HTTP client per source address; requests take them
	// in turn (see do).
	https []*http.Client
	next  atomic.Uint64
	// probe is the storm's own client: one connection, from the kernel's
	// choice of address, never shared with the load (see probe).
	probe *http.Client
	run   int64
	users atomic.Int64
}

// maxSources is how many source addresses sourceAddr can name.
const maxSources = 256 * 254

// newClient returns a client whose requests come from sources loopback
// addresses in turn (see sourceAddr), or from the kernel's choice when
// sources is 0.
func newClient(base, clientID, clientSecret string, sources int) *client {
	c := &client{
		base:  base,
		creds: map[string]any{"client_id": clientID, "client_secret": clientSecret},
		run:   time.Now().UnixNano(),
	}
	if sources == 0 {
		c.https = []*http.Client{newHTTP(nil)}
	}
	c.probe = newHTTP(nil)
	c.probe.Transport.(*http.Transport).MaxConnsPerHost = 1
	for i := range sources {
		c.https = append(c.https, newHTTP(&net.TCPAddr{IP: sourceAddr(i).AsSlice()}))
	}
	return c
}

// newHTTP returns an HTTP client whose connections are bound to local, or
// to the kernel's choice when local is nil. Each keeps its own idle
// connections, so a connection reused for a request still comes from the
// address the request was given.
func newHTTP(local *net.TCPAddr) *http.Client {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if local != nil {
		dialer.LocalAddr = local
	}
	transport := &http.Transport{DialContext: dialer.DialContext,
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}
	return &http.Client{Transport: transport, Timeout: 60 * time.Second}
}

// sourceAddr is the i-th source address, 127.1.0.1 onwards: 127.1.X.Y with
// Y from 1 to 254, then X+1. ihoprauth caps the credential checks of one
// client address (docs/design.md, D25), so a load run that sent everything
// from 127.0.0.1 would meet 429s; spreading the requests over many
// addresses of 127.0.0.0/8, which Linux routes on lo, keeps each address
// far below the cap.
func sourceAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(1 + i/254/256), byte(i / 254 % 256), byte(1 + i%254)})
}

// do sends req from the next source address.
func (c *client) do(req *http.Request) (*http.Response, error) {
	return c.https[c.next.Add(1)%uint64(len(c.https))].Do(req)
}

// closeIdle closes the idle connections of every source, so the server
// sees them end.
func (c *client) closeIdle() {
	for _, h := range c.https {
		h.CloseIdleConnections()
	}
}

// newEmail returns an address that no earlier run or call used.
func (c *client) newEmail() string {
	return fmt.Sprintf("loadgen-%d-%d@example.com", c.run, c.users.Add(1))
}

// statusError is an answer other than 200; recorders count them by status.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// call sends a request and decodes its JSON answer, which must be a 200.
func (c *client) call(ctx context.Context, method, path, token string, body map[string]any) (map[string]any, error) {
	res, raw, err := c.send(ctx, method, path, token, body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, &statusError{res.StatusCode, fmt.Sprintf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(raw))}
	}
	var answer map[string]any
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return answer, nil
}

// send sends a request, with the client's credentials added to a body,
// and returns the answer, whatever its status, and its body.
func (c *client) send(ctx context.Context, method, path, token string, body map[string]any) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		all := map[string]any{}
		for k, v := range c.creds {
			all[k] = v
		}
		for k, v := range body {
			all[k] = v
		}
		raw, err := json.Marshal(all)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	return res, raw, nil
}

// field calls and returns the string field name of the answer.
func (c *client) field(ctx context.Context, name, method, path, token string, body map[string]any) (string, error) {
	answer, err := c.call(ctx, method, path, token, body)
	if err != nil {
		return "", err
	}
	s, _ := answer[name].(string)
	if s == "" {
		return "", fmt.Errorf("%s %s: no %s in the answer", method, path, name)
	}
	return s, nil
}

func (c *client) signup(ctx context.Context, email string) (code string, err error) {
	return c.field(ctx, "code", "POST", "/api/v1/signup", "", map[string]any{
		"email": email, "password": password, "first_name": "Ada", "last_name": "Lovelace", "mobile_number": "11223344"})
}

func (c *client) login(ctx context.Context, email string) (code string, err error) {
	return c.field(ctx, "code", "POST", "/api/v1/login", "", map[string]any{"email": email, "password": password})
}

func (c *client) exchange(ctx context.Context, code string) (access, refresh string, err error) {
	answer, err := c.call(ctx, "POST", "/api/v1/api-tauth-token", "", map[string]any{"code": code})
	if err != nil {
		return "", "", err
	}
	access, _ = answer["access_token"].(string)
	refresh, _ = answer["refresh_token"].(string)
	if access == "" || refresh == "" {
		return "", "", fmt.Errorf("api-tauth-token: no tokens in the answer")
	}
	return access, refresh, nil
}

func (c *client) user(ctx context.Context, access string) error {
	_, err := c.call(ctx, "GET", "/api/v1/user", access, nil)
	return err
}

// probeUser is GET /user through the probe's one connection.
func (c *client) probeUser(ctx context.Context, access string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/user", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := c.probe.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return &statusError{res.StatusCode, fmt.Sprintf("GET /api/v1/user: %d %s", res.StatusCode, bytes.TrimSpace(raw))}
	}
	return nil
}

func (c *client) refresh(ctx context.Context, refresh string) (string, error) {
	return c.field(ctx, "refresh_token", "POST", "/api/v1/refresh-token", "", map[string]any{"refresh_token": refresh})
}

// newUser signs a user up and returns its email and first token pair.
func (c *client) newUser(ctx context.Context) (email, access, refresh string, err error) {
	email = c.newEmail()
	code, err := c.signup(ctx, email)
	if err != nil {
		return "", "", "", err
	}
	access, refresh, err = c.exchange(ctx, code)
	return email, access, refresh, err
}

func (c *client) newUserToken(ctx context.Context) (string, error) {
	_, access, _, err := c.newUser(ctx)
	return access, err
}
