package ihoprauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
)

// The tests here check what the embedding app gets from Authenticate,
// through authmw: values with nothing secret, and answers bounded by
// RequestTimeout.

// TestUserForTheAppHoldsNoSecret: the User an app gets from authmw.UserFrom
// or the Go API gives json.Marshal nothing secret or internal (issue 10:
// the password hash, canonical email and version came out), and the one the
// middleware hands out holds no password hash at all.
func TestUserForTheAppHoldsNoSecret(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("public@example.com")
	var fromMiddleware ihoprauth.User
	h := authmw.RequireUser(e.auth)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fromMiddleware, _ = authmw.UserFrom(r.Context())
	}))
	req := httptest.NewRequest("GET", "/mine", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if fromMiddleware.Email != "public@example.com" || fromMiddleware.PasswordHash != "" {
		t.Fatalf("got a user with email %q and a password hash of %d bytes, want public@example.com and none",
			fromMiddleware.Email, len(fromMiddleware.PasswordHash))
	}
	looked, err := e.auth.UserByEmail(context.Background(), "web-none", "public@example.com")
	if err != nil || looked.PasswordHash == "" {
		t.Fatalf("UserByEmail: got error %v and a hash of %d bytes, want the stored user", err, len(looked.PasswordHash))
	}
	for name, u := range map[string]ihoprauth.User{"authmw.UserFrom": fromMiddleware, "UserByEmail": looked} {
		raw, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		json.Unmarshal(raw, &fields)
		for _, hidden := range []string{"PasswordHash", "EmailKey", "Version"} {
			if _, ok := fields[hidden]; ok {
				t.Errorf("%s: json.Marshal gives %s: %s", name, hidden, raw)
			}
		}
		if strings.Contains(string(raw), "argon2") || fields["Email"] != "public@example.com" {
			t.Errorf("%s: got %s, want the public fields and no hash", name, raw)
		}
	}
}

// stallingStore is a real store whose bearer lookup, while stalled, waits
// for its context to end, as a query does behind a locked table.
type stallingStore struct {
	ihoprauth.Store
	stalled atomic.Bool
}

func (s *stallingStore) TokenUser(ctx context.Context, hash string) (ihoprauth.Token, ihoprauth.User, error) {
	if s.stalled.Load() {
		select {
		case <-ctx.Done():
			return ihoprauth.Token{}, ihoprauth.User{}, fmt.Errorf("stalled: %w", ctx.Err())
		case <-time.After(10 * time.Second):
			return ihoprauth.Token{}, ihoprauth.User{}, errors.New("stalled 10 s: the lookup had no deadline")
		}
	}
	return s.Store.TokenUser(ctx, hash)
}

// TestRequireUserObeysRequestTimeout: the app's routes behind RequireUser
// give up on a database that does not answer after RequestTimeout, with
// the API's 503 and Retry-After, for a bearer token and for the session
// cookie; a token in the cache needs no database at all.
func TestRequireUserObeysRequestTimeout(t *testing.T) {
	db, st := openStore(t)
	stalling := &stallingStore{Store: st}
	e := buildEnv(t, stalling, nil, withSessions(st), func(c *ihoprauth.Config) {
		c.RequestTimeout, c.TokenCacheTTL = 200*time.Millisecond, time.Minute
	})
	e.db = db
	s := browse(e)
	cached := e.signupNone("cached@example.com")
	want(t, e.do("GET", "/hello", cached, nil), 200)
	uncached := e.signupNone("uncached@example.com")
	s.startSession(e.signupNone("session@example.com")) // the session's login is not cached

	stalling.stalled.Store(true)
	want(t, e.do("GET", "/hello", cached, nil), 200)
	for _, r := range []resp{e.do("GET", "/hello", uncached, nil), e.do("GET", "/api/v1/user", uncached, nil)} {
		if r.status != 503 || r.header.Get("Retry-After") == "" || r.str("status") != "error" {
			t.Errorf("database stalled: got %s, want a 503 JSON error with Retry-After", r)
		}
	}
	if status, body := s.visit("GET", "/hello", "", nil); status != 503 {
		t.Errorf("database stalled, session cookie: got %d %s, want 503", status, body)
	}
	stalling.stalled.Store(false)
	want(t, e.do("GET", "/hello", uncached, nil), 200)
}
