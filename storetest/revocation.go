package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// revocationFixture holds, besides the fixture's user, a second user and
// five tokens: a1 and a2 of family "a" and auth code 1, b1 of family "b"
// and code 2, r1 of family "r", revoked before the test, and o1 of the
// other user.
type revocationFixture struct {
	*fixture
	other  ihoprauth.User
	codes  []ihoprauth.AuthCode
	tokens map[string]ihoprauth.Token
}

// revokedEarlier is when r1 was revoked.
var revokedEarlier = t0.Add(time.Second)

func newRevocationFixture(t *testing.T, newStore newStoreFunc) *revocationFixture {
	t.Helper()
	f := &revocationFixture{fixture: newFixture(t, newStore), tokens: map[string]ihoprauth.Token{}}
	f.other = f.createUser(t, newUser(f.project.ID, "other@example.com"))
	for _, label := range []string{"1", "2", "3", "4"} {
		f.codes = append(f.codes, f.createAuthCode(t, label))
	}
	specs := []struct {
		name, family string
		code         int
		userID       int64
	}{
		{"a1", "a", 0, f.user.ID},
		{"a2", "a", 0, f.user.ID},
		{"b1", "b", 1, f.user.ID},
		{"r1", "r", 2, f.user.ID},
		{"o1", "o", 3, f.other.ID},
	}
	for _, s := range specs {
		tok := f.newToken(s.name, s.family, f.codes[s.code].ID, s.userID)
		if s.name == "r1" {
			tok.RevokedAt = &revokedEarlier
		}
		if err := f.store.CreateToken(f.ctx, &tok); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		f.tokens[s.name] = tok
	}
	return f
}

func testRevocation(t *testing.T, newStore newStoreFunc) {
	now := t0.Add(time.Hour)
	type revoke = func(ctx context.Context, s ihoprauth.Store, f *revocationFixture) error
	tests := []struct {
		name        string
		revoke      revoke
		wantRevoked []string
	}{
		{"RevokeToken", func(ctx context.Context, s ihoprauth.Store, f *revocationFixture) error {
			return s.RevokeToken(ctx, f.tokens["a1"].ID, now)
		}, []string{"a1"}},
		{"RevokeToken twice keeps first time", func(ctx context.Context, s ihoprauth.Store, f *revocationFixture) error {
			if err := s.RevokeToken(ctx, f.tokens["a1"].ID, now); err != nil {
				return err
			}
			return s.RevokeToken(ctx, f.tokens["a1"].ID, now.Add(time.Hour))
		}, []string{"a1"}},
		{"RevokeToken already revoked", func(ctx context.Context, s ihoprauth.Store, f *revocationFixture) error {
			return s.RevokeToken(ctx, f.tokens["r1"].ID, now)
		}, nil},
		{"RevokeFamily", func(ctx context.Context, s ihoprauth.Store, f *revocationFixture) error {
			return s.RevokeFamily(ctx, f.tokens["a1"].FamilyID, now)
		}, []string{"a1", "a2"}},
		{"RevokeFamily unknown", func(ctx context.Context, s ihoprauth.Store, f *revocationFixture) error {
			return s.RevokeFamily(ctx, hash("unknown family")[:32], now)
		}, nil},
		{"RevokeAuthCodeTokens", func(ctx context.Context, s ihoprauth.Store, f *revocationFixture) error {
			return s.RevokeAuthCodeTokens(ctx, f.codes[1].ID, now)
		}, []string{"b1"}},
		{"RevokeUserTokens keeping none", func(ctx context.Context, s ihoprauth.Store, f *revocationFixture) error {
			return s.RevokeUserTokens(ctx, f.user.ID, "", now)
		}, []string{"a1", "a2", "b1"}},
		{"RevokeUserTokens keeping one family", func(ctx context.Context, s ihoprauth.Store, f *revocationFixture) error {
			return s.RevokeUserTokens(ctx, f.user.ID, f.tokens["a1"].FamilyID, now)
		}, []string{"b1"}},
		{"RevokeUserTokens of other user", func(ctx context.Context, s ihoprauth.Store, f *revocationFixture) error {
			return s.RevokeUserTokens(ctx, f.other.ID, "", now)
		}, []string{"o1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRevocationFixture(t, newStore)
			if err := tt.revoke(f.ctx, f.store, f); err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			for name, tok := range f.tokens {
				want := tok.RevokedAt
				if slices.Contains(tt.wantRevoked, name) {
					want = &now
				}
				checkRevokedAt(t, f.fixture, name, want)
			}
		})
	}
}

// checkRevokedAt checks the RevokedAt of the token called name.
func checkRevokedAt(t *testing.T, f *fixture, name string, want *time.Time) {
	t.Helper()
	tok, err := accessToken(f, hash("access "+name))
	if err != nil {
		t.Fatalf("TokenUser(%s): got error %v, want nil", name, err)
	}
	if msg := diff(tok.RevokedAt, want); msg != "" {
		t.Errorf("token %s RevokedAt: %s", name, msg)
	}
}

// testRevokeUserCodes checks that RevokeUserCodes spends every unused auth
// code and challenge of one user and nothing of another.
func testRevokeUserCodes(t *testing.T, newStore newStoreFunc) {
	f := newFixture(t, newStore)
	mine := []ihoprauth.AuthCode{f.createAuthCode(t, "m1"), f.createAuthCode(t, "m2")}
	myChallenge := f.createChallenge(t, ihoprauth.PurposeOTP, "m3")
	f.user = f.createUser(t, newUser(f.project.ID, "other@example.com"))
	theirs := f.createAuthCode(t, "o1")
	theirChallenge := f.createChallenge(t, ihoprauth.PurposeReset, "o2")

	now := t0.Add(time.Minute)
	if err := f.store.RevokeUserCodes(f.ctx, mine[0].UserID, now); err != nil {
		t.Fatalf("RevokeUserCodes: got error %v, want nil", err)
	}
	for _, c := range mine {
		got, err := f.store.AuthCodeByHash(f.ctx, c.Hash)
		if err != nil || got.UsedAt == nil || !got.UsedAt.Equal(now) {
			t.Errorf("the user's auth code: got UsedAt %v (err %v), want %v", got.UsedAt, err, now)
		}
	}
	if got, err := f.store.ChallengeByToken(f.ctx, ihoprauth.PurposeOTP, myChallenge.TokenHash); err != nil || got.UsedAt == nil {
		t.Errorf("the user's challenge: got UsedAt %v (err %v), want it used", got.UsedAt, err)
	}
	if won, err := f.store.ConsumeAuthCode(f.ctx, theirs.ID, now); err != nil || !won {
		t.Errorf("another user's auth code: got consumed %v (err %v), want it still usable", won, err)
	}
	if won, err := f.store.ConsumeChallenge(f.ctx, theirChallenge.ID, now); err != nil || !won {
		t.Errorf("another user's challenge: got consumed %v (err %v), want it still usable", won, err)
	}
}
