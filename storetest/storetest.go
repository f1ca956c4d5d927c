// Package storetest checks that an implementation of ihoprauth.Store keeps
// the contract documented on the interface, the way testing/fstest checks
// a file system. Every Store implementation runs it from its own tests:
//
//	package mystore_test
//
//	import (
//		"testing"
//
//		"github.com/ihoprauth/ihoprauth"
//		"github.com/ihoprauth/ihoprauth/storetest"
//		"example.com/mystore"
//	)
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ihoprauth.Store {
//			return mystore.NewEmpty(t) // a fresh, empty database
//		})
//	}
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// newStoreFunc returns a fresh, empty store for one subtest.
type newStoreFunc = func(t *testing.T) ihoprauth.Store

// Run checks the store contract with one subtest per behaviour. newStore
// is called once by each subtest and must return a fresh, empty store that
// shares no rows with any other, so that subtests cannot disturb each
// other; it should release the store with t.Cleanup. Some subtests call a
// method from 20 goroutines at once, and one calls Hit from 50.
func Run(t *testing.T, newStore func(t *testing.T) ihoprauth.Store) {
	groups := []struct {
		name string
		run  func(*testing.T, newStoreFunc)
	}{
		{"Projects", testProjects},
		{"Users", testUsers},
		{"Challenges", testChallenges},
		{"AuthCodes", testAuthCodes},
		{"Tokens", testTokens},
		{"Revocation", testRevocation},
		{"RevokeUserCodes", testRevokeUserCodes},
		{"InTx", testInTx},
		{"Secret", testSecret},
		{"Counters", testCounters},
		{"Sources", testSources},
		{"Changes", testChanges},
		{"Events", testEvents},
		{"APIKeys", testAPIKeys},
		{"Factors", testFactors},
		{"Passkeys", testPasskeys},
		{"Identities", testIdentities},
		{"Manage", testManage},
		{"Purge", testPurge},
		{"NotFound", testNotFound},
		{"CancelledContext", testCancelledContext},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, newStore) })
	}
}

// testNotFound checks that every lookup reports ErrNotFound for a key that
// matches nothing, while other rows exist: a lookup that dropped a zero or
// wrong condition would return one of them instead.
func testNotFound(t *testing.T, newStore newStoreFunc) {
	f := newFixture(t, newStore)
	ch := f.createChallenge(t, ihoprauth.PurposeOTP, "challenge")
	code := f.createAuthCode(t, "code")
	tok := f.createToken(t, "token", "family", code.ID, f.user.ID)
	otherUser := f.user
	otherUser.ID = f.user.ID + 1000
	tests := []struct {
		name   string
		lookup func(ctx context.Context, s ihoprauth.Store) error
	}{
		{"ProjectByClientID unknown", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.ProjectByClientID(ctx, "unknown")
			return err
		}},
		{"ProjectByClientID empty", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.ProjectByClientID(ctx, "")
			return err
		}},
		{"ProjectByID unknown", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.ProjectByID(ctx, f.project.ID+1000)
			return err
		}},
		{"ProjectByID zero", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.ProjectByID(ctx, 0)
			return err
		}},
		{"UserByEmail unknown", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.UserByEmail(ctx, f.project.ID, "nobody@example.com")
			return err
		}},
		{"UserByEmail other project", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.UserByEmail(ctx, f.project.ID+1000, f.user.EmailKey)
			return err
		}},
		{"UserByEmail empty", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.UserByEmail(ctx, f.project.ID, "")
			return err
		}},
		{"UserByID unknown", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.UserByID(ctx, f.user.ID+1000)
			return err
		}},
		{"UserByUserID unknown", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.UserByUserID(ctx, hash("nobody")[:32])
			return err
		}},
		{"APIKeyByHash unknown", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.APIKeyByHash(ctx, hash("no key"))
			return err
		}},
		{"UserByUserID empty", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.UserByUserID(ctx, "")
			return err
		}},
		{"UpdateUser unknown", func(ctx context.Context, s ihoprauth.Store) error {
			return s.UpdateUser(ctx, &otherUser)
		}},
		{"ChallengeByToken other purpose", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.ChallengeByToken(ctx, ihoprauth.PurposeReset, ch.TokenHash)
			return err
		}},
		{"ChallengeByToken unknown", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.ChallengeByToken(ctx, ihoprauth.PurposeOTP, hash("unknown"))
			return err
		}},
		{"ChallengeByToken code hash", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.ChallengeByToken(ctx, ihoprauth.PurposeOTP, ch.CodeHash)
			return err
		}},
		{"AuthCodeByHash unknown", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.AuthCodeByHash(ctx, hash("unknown"))
			return err
		}},
		{"AuthCodeByHash empty", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.AuthCodeByHash(ctx, "")
			return err
		}},
		{"TokenUser refresh hash", func(ctx context.Context, s ihoprauth.Store) error {
			_, _, err := s.TokenUser(ctx, tok.RefreshHash)
			return err
		}},
		{"TokenUser empty", func(ctx context.Context, s ihoprauth.Store) error {
			_, _, err := s.TokenUser(ctx, "")
			return err
		}},
		{"TokenByRefreshHash access hash", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.TokenByRefreshHash(ctx, tok.AccessHash)
			return err
		}},
		{"TokenByRefreshHash empty", func(ctx context.Context, s ihoprauth.Store) error {
			_, err := s.TokenByRefreshHash(ctx, "")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.lookup(f.ctx, f.store); !errors.Is(err, ihoprauth.ErrNotFound) {
				t.Errorf("got error %v, want ErrNotFound", err)
			}
		})
	}
}

// testCancelledContext checks that calls made with a cancelled context fail
// with an error other than ErrNotFound.
func testCancelledContext(t *testing.T, newStore newStoreFunc) {
	f := newFixture(t, newStore)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	tests := []struct {
		name string
		call func(s ihoprauth.Store) error
	}{
		{"ProjectByID", func(s ihoprauth.Store) error {
			_, err := s.ProjectByID(ctx, f.project.ID)
			return err
		}},
		{"CreateUser", func(s ihoprauth.Store) error {
			u := newUser(f.project.ID, "late@example.com")
			return s.CreateUser(ctx, &u)
		}},
		{"Secret", func(s ihoprauth.Store) error {
			_, err := s.Secret(ctx, "late", []byte("value"))
			return err
		}},
		{"Hit", func(s ihoprauth.Store) error {
			_, err := s.Hit(ctx, hash("late"), t0, time.Minute)
			return err
		}},
		{"InTx", func(s ihoprauth.Store) error {
			return s.InTx(ctx, func(tx ihoprauth.Store) error {
				_, err := tx.ProjectByID(ctx, f.project.ID)
				return err
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(f.store)
			if err == nil || errors.Is(err, ihoprauth.ErrNotFound) {
				t.Errorf("got error %v, want a context error", err)
			}
		})
	}
}
