package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// maxAttempts is the attempt limit the challenge tests pass to
// TakeChallengeAttempt.
const maxAttempts = 5

func testChallenges(t *testing.T, newStore newStoreFunc) {
	t.Run("CreateChallenge round trip", testCreateChallenge(newStore))
	t.Run("TakeChallengeAttempt", testTakeChallengeAttempt(newStore))
	t.Run("TakeChallengeAttempt concurrent", func(t *testing.T) {
		f := newFixture(t, newStore)
		c := f.createChallenge(t, ihoprauth.PurposeTwoStep, "guessed at once")
		taken := race(t, func() (bool, error) { return f.store.TakeChallengeAttempt(f.ctx, c.ID, maxAttempts) })
		if taken != maxAttempts {
			t.Errorf("attempts taken by %d concurrent calls: got %d, want %d", racers, taken, maxAttempts)
		}
		c.Attempts = maxAttempts
		checkChallenge(t, f, c)
	})
	t.Run("ConsumeChallenge", testConsumeChallenge(newStore))
	t.Run("ConsumeChallenge concurrent", func(t *testing.T) {
		f := newFixture(t, newStore)
		for round := range raceRounds {
			c := f.createChallenge(t, ihoprauth.PurposeOTP, fmt.Sprint("raced ", round))
			now := t0.Add(time.Minute)
			wins := race(t, func() (bool, error) { return f.store.ConsumeChallenge(f.ctx, c.ID, now) })
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

func testTakeChallengeAttempt(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name     string
			attempts int
			usedAt   *time.Time
			want     bool
		}{
			{"fresh", 0, nil, true},
			{"one below the limit", maxAttempts - 1, nil, true},
			{"at the limit", maxAttempts, nil, false},
			{"used", 0, ptr(t0.Add(time.Second)), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, newStore)
				c := f.newChallenge(ihoprauth.PurposeOTP, "attempted")
				c.Attempts, c.UsedAt = tt.attempts, tt.usedAt
				if err := f.store.CreateChallenge(f.ctx, &c); err != nil {
					t.Fatalf("CreateChallenge: %v", err)
				}
				got, err := f.store.TakeChallengeAttempt(f.ctx, c.ID, maxAttempts)
				if err != nil || got != tt.want {
					t.Fatalf("TakeChallengeAttempt: got %v, error %v, want %v", got, err, tt.want)
				}
				if got {
					c.Attempts++
				}
				checkChallenge(t, f, c)
			})
		}
		f := newFixture(t, newStore)
		if got, err := f.store.TakeChallengeAttempt(f.ctx, 987654, maxAttempts); err != nil || got {
			t.Errorf("TakeChallengeAttempt of an unknown id: got %v, error %v, want false, nil", got, err)
		}
	}
}

func testConsumeChallenge(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name     string
			attempts int
			usedAt   *time.Time
			want     bool
		}{
			{"fresh", 0, nil, true},
			{"every attempt taken", maxAttempts, nil, true},
			{"already used", 0, ptr(t0.Add(time.Second)), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, newStore)
				c := f.newChallenge(ihoprauth.PurposeOTP, "consumed")
				c.Attempts, c.UsedAt = tt.attempts, tt.usedAt
				if err := f.store.CreateChallenge(f.ctx, &c); err != nil {
					t.Fatalf("CreateChallenge: %v", err)
				}
				now := t0.Add(time.Minute)
				got, err := f.store.ConsumeChallenge(f.ctx, c.ID, now)
				if err != nil || got != tt.want {
					t.Fatalf("ConsumeChallenge: got %v, error %v, want %v", got, err, tt.want)
				}
				again, err := f.store.ConsumeChallenge(f.ctx, c.ID, now.Add(time.Second))
				if err != nil || again {
					t.Errorf("second ConsumeChallenge: got %v, error %v, want false", again, err)
				}
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
