package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// soak runs the mixed traffic of a long run (BENCHMARKS.md, "Soak"): each
// of -c workers, paced to one round every -soak-pause, signs a user up,
// exchanges the code, reads the user twice, refreshes, reads again, logs
// out, logs in again (a user it made earlier), and sends a malformed body
// and a wrong client secret, whose 400 and 401 are what they must be. Any
// other answer fails the request; a 5xx always does.
func soak(ctx context.Context, c *client, o options) (result, error) {
	rec := &recorder{}
	r := measured(o, "soak (mixed)", rec, func() time.Duration {
		return drive(o, o.workers, 11, func(int) {
			began := time.Now()
			soakRound(ctx, c, rec)
			if wait := o.soakPause - time.Since(began); wait > 0 {
				time.Sleep(wait)
			}
		})
	})
	return r, nil
}

// soakRound is one round of soak; the requests after a failed one that
// needs its answer are skipped.
func soakRound(ctx context.Context, c *client, rec *recorder) {
	email := c.newEmail()
	var code, access, refresh string
	steps := []func() error{
		func() (err error) { code, err = c.signup(ctx, email); return err },
		func() (err error) { access, refresh, err = c.exchange(ctx, code); return err },
		func() error { return c.user(ctx, access) },
		func() error { return c.user(ctx, access) },
		func() error {
			answer, err := c.call(ctx, "POST", "/api/v1/refresh-token", "", map[string]any{"refresh_token": refresh})
			if err == nil {
				access, _ = answer["access_token"].(string)
			}
			return err
		},
		func() error { return c.user(ctx, access) },
		func() error { _, err := c.call(ctx, "POST", "/api/v1/logout", access, nil); return err },
		func() (err error) { code, err = c.login(ctx, email); return err },
		func() (err error) { _, _, err = c.exchange(ctx, code); return err },
	}
	for _, step := range steps {
		if err := rec.time(step); err != nil {
			break
		}
	}
	rec.time(func() error { return c.expect(ctx, http.StatusBadRequest, "POST", "/api/v1/login", `{"email":`) })
	rec.time(func() error {
		return c.expect(ctx, http.StatusUnauthorized, "POST", "/api/v1/login",
			fmt.Sprintf(`{"client_id":%q,"client_secret":"not the secret","email":%q,"password":"whatever it is"}`, c.creds["client_id"], email))
	})
}

// expect sends body as it is (JSON) and fails unless the answer's status
// is want.
func (c *client) expect(ctx context.Context, want int, method, path, body string) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.do(req)
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		return &statusError{res.StatusCode, fmt.Sprintf("%s %s: %d %s, want %d", method, path, res.StatusCode, bytes.TrimSpace(raw), want)}
	}
	return nil
}
