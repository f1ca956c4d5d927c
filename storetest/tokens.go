package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func testTokens(t *testing.T, newStore newStoreFunc) {
	t.Run("CreateToken round trip", testCreateToken(newStore))
	t.Run("MarkTokenRefreshed", testMarkTokenRefreshed(newStore))
	t.Run("TokenUser", testTokenUser(newStore))
	t.Run("ExpireReplacedAccess", testExpireReplacedAccess(newStore))
	t.Run("MarkTokenRefreshed concurrent", func(t *testing.T) {
		f := newFixture(t, newStore)
		for round := range raceRounds {
			tok := f.createToken(t, fmt.Sprint("raced ", round), "family", 0, f.user.ID)
			now := t0.Add(time.Minute)
			wins := race(t, func() (bool, error) { return f.store.MarkTokenRefreshed(f.ctx, tok.ID, now) })
			if wins != 1 {
				t.Errorf("round %d, calls that refreshed the token: got %d, want 1", round+1, wins)
			}
			tok.RefreshedAt = &now
			checkToken(t, f, tok)
		}
	})
}

func testCreateToken(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		code := f.createAuthCode(t, "code")
		revoked := f.newToken("revoked", "family", code.ID, f.user.ID)
		revoked.RefreshedAt, revoked.RevokedAt = ptr(t0.Add(time.Minute)), ptr(t0.Add(2*time.Minute))
		tests := []struct {
			name  string
			token ihoprauth.Token
		}{
			{"from auth code", f.newToken("from code", "family", code.ID, f.user.ID)},
			{"refreshed and revoked", revoked},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tok := tt.token
				if err := f.store.CreateToken(f.ctx, &tok); err != nil {
					t.Fatalf("CreateToken: got error %v, want nil", err)
				}
				if tok.ID == 0 {
					t.Fatal("ID: got 0, want non-zero")
				}
				want := tt.token
				want.ID = tok.ID
				checkToken(t, f, want)
			})
		}
	}
}

func testMarkTokenRefreshed(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		earlier := t0.Add(time.Second)
		tests := []struct {
			name                   string
			refreshedAt, revokedAt *time.Time
			want                   bool
		}{
			{"fresh", nil, nil, true},
			{"already refreshed", &earlier, nil, false},
			{"revoked", nil, &earlier, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, newStore)
				tok := f.newToken("token", "family", 0, f.user.ID)
				tok.RefreshedAt, tok.RevokedAt = tt.refreshedAt, tt.revokedAt
				if err := f.store.CreateToken(f.ctx, &tok); err != nil {
					t.Fatalf("CreateToken: %v", err)
				}
				now := t0.Add(time.Minute)
				got, err := f.store.MarkTokenRefreshed(f.ctx, tok.ID, now)
				if err != nil || got != tt.want {
					t.Fatalf("MarkTokenRefreshed: got %v, error %v, want %v", got, err, tt.want)
				}
				again, err := f.store.MarkTokenRefreshed(f.ctx, tok.ID, now.Add(time.Second))
				if err != nil || again {
					t.Errorf("second MarkTokenRefreshed: got %v, error %v, want false", again, err)
				}
				if got {
					tok.RefreshedAt = &now
				}
				checkToken(t, f, tok)
			})
		}
	}
}

// testExpireReplacedAccess checks that only the refreshed tokens of the one
// family that would work past the given time end then, and that nothing
// else about any token changes.
func testExpireReplacedAccess(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		at := t0.Add(10 * time.Minute)
		refreshed := ptr(t0.Add(time.Minute))
		specs := []struct {
			name, family string
			refreshedAt  *time.Time
			revokedAt    *time.Time
			expiresAt    time.Time
			wantExpires  time.Time
		}{
			{"replaced", "f", refreshed, nil, t0.Add(time.Hour), at},
			{"replaced and revoked", "f", refreshed, ptr(t0.Add(2 * time.Minute)), t0.Add(time.Hour), at},
			{"replaced, ends earlier", "f", refreshed, nil, t0.Add(5 * time.Minute), t0.Add(5 * time.Minute)},
			{"current", "f", nil, nil, t0.Add(time.Hour), t0.Add(time.Hour)},
			{"other family", "g", refreshed, nil, t0.Add(time.Hour), t0.Add(time.Hour)},
		}
		var tokens []ihoprauth.Token
		for _, s := range specs {
			tok := f.newToken(s.name, s.family, 0, f.user.ID)
			tok.RefreshedAt, tok.RevokedAt, tok.ExpiresAt = s.refreshedAt, s.revokedAt, s.expiresAt
			if err := f.store.CreateToken(f.ctx, &tok); err != nil {
				t.Fatalf("CreateToken: %v", err)
			}
			tokens = append(tokens, tok)
		}
		if err := f.store.ExpireReplacedAccess(f.ctx, tokens[0].FamilyID, at); err != nil {
			t.Fatalf("ExpireReplacedAccess: got error %v, want nil", err)
		}
		for i, s := range specs {
			t.Run(s.name, func(t *testing.T) {
				want := tokens[i]
				want.ExpiresAt = s.wantExpires
				checkToken(t, f, want)
			})
		}
	}
}

// checkToken checks that both lookups return want, revoked or not:
// TokenByRefreshHash all of it, TokenUser all but the RefreshHash.
func checkToken(t *testing.T, f *fixture, want ihoprauth.Token) {
	t.Helper()
	lookups := []struct {
		name string
		get  func() (ihoprauth.Token, error)
		want ihoprauth.Token
	}{
		{"TokenUser", func() (ihoprauth.Token, error) { return accessToken(f, want.AccessHash) }, bearerToken(want)},
		{"TokenByRefreshHash", func() (ihoprauth.Token, error) { return f.store.TokenByRefreshHash(f.ctx, want.RefreshHash) }, want},
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			got, err := l.get()
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			checkEqual(t, got, l.want)
		})
	}
}

// bearerToken and bearerUser are t and u as TokenUser returns them,
// without the hash of the refresh token or of the password.
func bearerToken(t ihoprauth.Token) ihoprauth.Token {
	t.RefreshHash = ""
	return t
}

func bearerUser(u ihoprauth.User) ihoprauth.User {
	u.PasswordHash, u.EmailVerifiedAt = "", nil
	return u
}

// testTokenUser checks the one-read bearer lookup: the token, revoked or
// not, comes back with its own user, neither with the hash of a credential
// other than hash, and an unknown hash is ErrNotFound.
func testTokenUser(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		other := f.createUser(t, newUser(f.project.ID, "other@example.com"))
		mine := f.createToken(t, "mine", "family", 0, f.user.ID)
		theirs := f.newToken("theirs", "other family", 0, other.ID)
		theirs.RevokedAt = ptr(t0.Add(time.Minute))
		if err := f.store.CreateToken(f.ctx, &theirs); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		for _, tt := range []struct {
			name  string
			token ihoprauth.Token
			user  ihoprauth.User
		}{{"live", mine, f.user}, {"revoked", theirs, other}} {
			t.Run(tt.name, func(t *testing.T) {
				tok, u, err := f.store.TokenUser(f.ctx, tt.token.AccessHash)
				if err != nil {
					t.Fatalf("TokenUser: got error %v, want nil", err)
				}
				checkEqual(t, tok, bearerToken(tt.token))
				checkEqual(t, u, bearerUser(tt.user))
			})
		}
		if _, _, err := f.store.TokenUser(f.ctx, hash("no such token")); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("unknown hash: got %v, want ErrNotFound", err)
		}
	}
}
