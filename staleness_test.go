package ihoprauth_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ihoprauth/ihoprauth"
)

// interferingStore is a Store that, once armed, changes a user behind the
// caller's back right after handing out its copy: what a concurrent
// request (a password reset, say) does between another request's read and
// its write.
type interferingStore struct {
	ihoprauth.Store
	mu     sync.Mutex
	armed  bool
	change func(u *ihoprauth.User)
}

// UserByID is the read that an update of the user starts from.
func (s *interferingStore) UserByID(ctx context.Context, id int64) (ihoprauth.User, error) {
	u, err := s.Store.UserByID(ctx, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.armed {
		s.armed = false
		fresh := u
		s.change(&fresh)
		if err := s.Store.UpdateUser(ctx, &fresh); err != nil {
			return u, err
		}
	}
	return u, err
}

func (s *interferingStore) arm(change func(u *ihoprauth.User)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.change = true, change
}

// TestStaleUpdateDoesNotUndoAConcurrentChange: a request that read the user
// before a concurrent change must not write its stale copy over it.
func TestStaleUpdateDoesNotUndoAConcurrentChange(t *testing.T) {
	_, st := openStore(t)
	meddler := &interferingStore{Store: st}
	e := buildEnv(t, meddler, nil)
	tok := e.signupNone("stale@example.com")
	meddler.arm(func(u *ihoprauth.User) { u.LastName = "Changed elsewhere" })
	r := e.do("PUT", "/api/v1/user/update", tok, map[string]any{"first_name": "Stale"})
	want(t, r, 409)
	checkErrorShape(t, r)
	u := e.do("GET", "/api/v1/user", tok, nil).obj("user")
	if u["last_name"] != "Changed elsewhere" || u["first_name"] != "Ada" {
		t.Errorf("got %v, want the concurrent change kept and the stale one refused", u)
	}
	want(t, e.do("PUT", "/api/v1/user/update", tok, map[string]any{"first_name": "Retried"}), 200)
}

// TestCredentialChangeEndsPendingCodes: an auth code or emailed code got
// with the old password does not work once the password is reset or
// changed.
func TestCredentialChangeEndsPendingCodes(t *testing.T) {
	e := newEnv(t)
	tok := e.signupNone("pending@example.com")
	pending := e.loginWith(e.none, "pending@example.com", goodPassword).str("code")
	r := e.do("PUT", "/api/v1/user/update", tok, map[string]any{"password": "A brand new passphrase", "current_password": goodPassword})
	want(t, r, 200)
	want(t, e.post("/api/v1/api-tauth-token", with(e.none, "code", pending)), 401)
	if notice := e.awaitMail("pending@example.com"); notice.Kind != ihoprauth.MailPasswordChanged {
		t.Errorf("got a %s mail, want the password-changed notice", notice.Kind)
	}

	pending = e.loginWith(e.none, "pending@example.com", "A brand new passphrase").str("code")
	reset := e.post("/api/v1/send-reset-password-code", with(e.none, "email", "pending@example.com"))
	want(t, e.post("/api/v1/reset-password", map[string]any{"reset_password_code": e.mailedCode("pending@example.com"),
		"reset_password_token": reset.str("reset_password_token"), "password": "Another new passphrase"}), 200)
	want(t, e.post("/api/v1/api-tauth-token", with(e.none, "code", pending)), 401)
}
