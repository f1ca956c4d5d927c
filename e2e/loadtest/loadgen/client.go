package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// password is the password of every user loadgen signs up.
const password = "Correct horse battery 9"

// client calls the API of one none project.
type client struct {
	base  string
	creds map[string]any
	http  *http.Client
	run   int64
	users atomic.Int64
}

func newClient(base, clientID, clientSecret string) *client {
	transport := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}
	return &client{
		base:  base,
		creds: map[string]any{"client_id": clientID, "client_secret": clientSecret},
		http:  &http.Client{Transport: transport, Timeout: 60 * time.Second},
		run:   time.Now().UnixNano(),
	}
}

// newEmail returns an address that no earlier run or call used.
func (c *client) newEmail() string {
	return fmt.Sprintf("loadgen-%d-%d@example.com", c.run, c.users.Add(1))
}

// call sends a request and decodes its JSON answer, which must be a 200.
func (c *client) call(ctx context.Context, method, path, token string, body map[string]any) (map[string]any, error) {
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
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(raw))
	}
	var answer map[string]any
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return answer, nil
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
