package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// maxAttempts is the failure limit the challenge tests pass to
// ConsumeChallenge.
const maxAttempts = 5

func testChallenges(t *testing.T, newStore newStoreFunc) {
	t.Run("CreateChallenge round trip", testCreateChallenge(newStore))
	t.Run("RecordChallengeFailure counts", testRecordChallengeFailure(newStore))
	t.Run("ConsumeChallenge", testConsumeChallenge(newStore))
	t.Run("ConsumeChallenge concurrent", func(t *testing.T) {
		f := newFixture(t, newStore)
		for round := range raceRounds {
			c := f.createChallenge(t, ihoprauth.PurposeOTP, fmt.Sprint("raced ", round))
			now := t0.Add(time.Minute)
			wins := race(t, func() (bool, error) { return f.store.ConsumeChallenge(f.ctx, c.ID, now, maxAttempts) })
			if wins != 1 {
				t.Errorf("round %d, calls that consumed the challenge: got %d, want 1", round+1, wins)
			}
			c.UsedAt = &now
			checkChallenge(t, f, c)
		}
	})
}

func testCreateChallenge(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		decoy := f.newChallenge(ihoprauth.PurposeReset, "decoy")
		decoy.UserID, decoy.CodeChallenge, decoy.CodeChallengeMethod = 0, "", ""
		used := f.newChallenge(ihoprauth.PurposeOTP, "used")
		used.Attempts, used.UsedAt = 2, ptr(t0.Add(time.Minute))
		tests := []struct {
			name      string
			challenge ihoprauth.Challenge
		}{
			{"otp", f.newChallenge(ihoprauth.PurposeOTP, "otp")},
			{"two-step", f.newChallenge(ihoprauth.PurposeTwoStep, "two-step")},
			{"decoy without user", decoy},
			{"used with failures", used},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := tt.challenge
				if err := f.store.CreateChallenge(f.ctx, &c); err != nil {
					t.Fatalf("CreateChallenge: got error %v, want nil", err)
				}
				if c.ID == 0 {
					t.Fatal("ID: got 0, want non-zero")
				}
				want := tt.challenge
				want.ID = c.ID
				checkChallenge(t, f, want)
			})
		}
	}
}

func testRecordChallengeFailure(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		inTurn := func(t *testing.T, fail func() (bool, error)) {
			for range 3 {
				if _, err := fail(); err != nil {
					t.Fatalf("RecordChallengeFailure: got error %v, want nil", err)
				}
			}
		}
		concurrently := func(t *testing.T, fail func() (bool, error)) { race(t, fail) }
		tests := []struct {
			name   string
			record func(t *testing.T, fail func() (bool, error))
			want   int
		}{
			{"three in turn", inTurn, 3},
			{"concurrent", concurrently, racers},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, newStore)
				c := f.createChallenge(t, ihoprauth.PurposeTwoStep, "failing")
				tt.record(t, func() (bool, error) { return false, f.store.RecordChallengeFailure(f.ctx, c.ID) })
				c.Attempts = tt.want
				checkChallenge(t, f, c)
			})
		}
	}
}

func testConsumeChallenge(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name     string
			failures int
			usedAt   *time.Time
			want     bool
		}{
			{"fresh", 0, nil, true},
			{"one failure below the limit", maxAttempts - 1, nil, true},
			{"failures at the limit", maxAttempts, nil, false},
			{"failures over the limit", maxAttempts + 1, nil, false},
			{"already used", 0, ptr(t0.Add(time.Second)), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, newStore)
				c := f.newChallenge(ihoprauth.PurposeOTP, "consumed")
				c.UsedAt = tt.usedAt
				if err := f.store.CreateChallenge(f.ctx, &c); err != nil {
					t.Fatalf("CreateChallenge: %v", err)
				}
				for range tt.failures {
					if err := f.store.RecordChallengeFailure(f.ctx, c.ID); err != nil {
						t.Fatalf("RecordChallengeFailure: %v", err)
					}
				}
				now := t0.Add(time.Minute)
				got, err := f.store.ConsumeChallenge(f.ctx, c.ID, now, maxAttempts)
				if err != nil || got != tt.want {
					t.Fatalf("ConsumeChallenge: got %v, error %v, want %v", got, err, tt.want)
				}
				again, err := f.store.ConsumeChallenge(f.ctx, c.ID, now.Add(time.Second), maxAttempts)
				if err != nil || again {
					t.Errorf("second ConsumeChallenge: got %v, error %v, want false", again, err)
				}
				c.Attempts = tt.failures
				if got {
					c.UsedAt = &now
				}
				checkChallenge(t, f, c)
			})
		}
	}
}

func testAuthCodes(t *testing.T, newStore newStoreFunc) {
	t.Run("CreateAuthCode round trip", func(t *testing.T) {
		f := newFixture(t, newStore)
		c := f.createAuthCode(t, "round trip")
		if c.ID == 0 {
			t.Fatal("ID: got 0, want non-zero")
		}
		checkAuthCode(t, f, c)
	})
	t.Run("ConsumeAuthCode once", func(t *testing.T) {
		f := newFixture(t, newStore)
		c := f.createAuthCode(t, "once")
		now := t0.Add(time.Second)
		for i, want := range []bool{true, false} {
			got, err := f.store.ConsumeAuthCode(f.ctx, c.ID, now.Add(time.Duration(i)*time.Second))
			if err != nil || got != want {
				t.Errorf("ConsumeAuthCode call %d: got %v, error %v, want %v", i+1, got, err, want)
			}
		}
		c.UsedAt = &now
		checkAuthCode(t, f, c)
	})
	t.Run("ConsumeAuthCode concurrent", func(t *testing.T) {
		f := newFixture(t, newStore)
		for round := range raceRounds {
			c := f.createAuthCode(t, fmt.Sprint("raced ", round))
			now := t0.Add(time.Second)
			wins := race(t, func() (bool, error) { return f.store.ConsumeAuthCode(f.ctx, c.ID, now) })
			if wins != 1 {
				t.Errorf("round %d, calls that consumed the code: got %d, want 1", round+1, wins)
			}
			c.UsedAt = &now
			checkAuthCode(t, f, c)
		}
	})
}

// checkChallenge checks that ChallengeByToken returns want.
func checkChallenge(t *testing.T, f *fixture, want ihoprauth.Challenge) {
	t.Helper()
	got, err := f.store.ChallengeByToken(f.ctx, want.Purpose, want.TokenHash)
	if err != nil {
		t.Fatalf("ChallengeByToken: got error %v, want nil", err)
	}
	checkEqual(t, got, want)
}

// checkAuthCode checks that AuthCodeByHash returns want.
func checkAuthCode(t *testing.T, f *fixture, want ihoprauth.AuthCode) {
	t.Helper()
	got, err := f.store.AuthCodeByHash(f.ctx, want.Hash)
	if err != nil {
		t.Fatalf("AuthCodeByHash: got error %v, want nil", err)
	}
	checkEqual(t, got, want)
}
