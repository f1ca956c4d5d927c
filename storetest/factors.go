package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func testFactors(t *testing.T, newStore newStoreFunc) {
	t.Run("SaveFactor round trip", func(t *testing.T) {
		f := newFixture(t, newStore)
		got := f.saveFactor(t, "first")
		if got.ID == 0 {
			t.Fatal("ID: got 0, want non-zero")
		}
		want := f.newFactor("first")
		want.ID = got.ID
		checkFactors(t, f, want)
	})
	t.Run("SaveFactor replaces an unconfirmed one", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.saveFactor(t, "abandoned")
		second := f.saveFactor(t, "second")
		want := f.newFactor("second")
		want.ID = second.ID
		checkFactors(t, f, want)
	})
	t.Run("SaveFactor refused beside a confirmed one", func(t *testing.T) {
		f := newFixture(t, newStore)
		first := f.confirmFactor(t, f.saveFactor(t, "first"), 100)
		next := f.newFactor("second")
		if err := f.store.SaveFactor(f.ctx, &next); !errors.Is(err, ihoprauth.ErrDuplicate) {
			t.Fatalf("SaveFactor: got error %v, want ErrDuplicate", err)
		}
		checkFactors(t, f, first)
	})
	t.Run("Factors of another user", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.saveFactor(t, "ann's")
		other := f.createUser(t, newUser(f.project.ID, "bob@example.com"))
		got, err := f.store.Factors(f.ctx, other.ID)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("Factors of a user without any: got %v, %v, want an empty slice", got, err)
		}
	})
	t.Run("ConfirmFactor", testConfirmFactor(newStore))
	t.Run("UseFactorStep", testUseFactorStep(newStore))
	t.Run("UseFactorStep concurrent", func(t *testing.T) {
		f := newFixture(t, newStore)
		fa := f.confirmFactor(t, f.saveFactor(t, "raced"), 100)
		for round := range raceRounds {
			step := int64(101 + round)
			wins := race(t, func() (bool, error) { return f.store.UseFactorStep(f.ctx, fa.ID, step) })
			if wins != 1 {
				t.Errorf("round %d, calls that used step %d: got %d, want 1", round+1, step, wins)
			}
		}
		fa.LastStep = 100 + raceRounds
		checkFactors(t, f, fa)
	})
	t.Run("RecoveryCodes", testRecoveryCodes(newStore))
	t.Run("UseRecoveryCode concurrent", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.replaceRecoveryCodes(t, f.user.ID, "raced", raceRounds)
		codes, err := f.store.RecoveryCodes(f.ctx, f.user.ID)
		if err != nil || len(codes) != raceRounds {
			t.Fatalf("RecoveryCodes: got %d codes, %v, want %d", len(codes), err, raceRounds)
		}
		for round, rc := range codes {
			wins := race(t, func() (bool, error) { return f.store.UseRecoveryCode(f.ctx, rc.ID, t0) })
			if wins != 1 {
				t.Errorf("round %d, calls that used the code: got %d, want 1", round+1, wins)
			}
		}
		if left, _ := f.store.RecoveryCodes(f.ctx, f.user.ID); len(left) != 0 {
			t.Errorf("unused codes after using each: got %d, want 0", len(left))
		}
	})
	t.Run("DeleteFactors", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.confirmFactor(t, f.saveFactor(t, "ann's"), 100)
		f.replaceRecoveryCodes(t, f.user.ID, "ann's", 10)
		other := f.createUser(t, newUser(f.project.ID, "bob@example.com"))
		bobs := f.newFactor("bob's")
		bobs.UserID = other.ID
		if err := f.store.SaveFactor(f.ctx, &bobs); err != nil {
			t.Fatal(err)
		}
		f.replaceRecoveryCodes(t, other.ID, "bob's", 10)
		if err := f.store.DeleteFactors(f.ctx, f.user.ID); err != nil {
			t.Fatalf("DeleteFactors: got error %v, want nil", err)
		}
		checkFactors(t, f)
		if left, _ := f.store.RecoveryCodes(f.ctx, f.user.ID); len(left) != 0 {
			t.Errorf("recovery codes after DeleteFactors: got %d, want 0", len(left))
		}
		if got, _ := f.store.Factors(f.ctx, other.ID); len(got) != 1 {
			t.Errorf("the other user's factors: got %d, want 1", len(got))
		}
		if left, _ := f.store.RecoveryCodes(f.ctx, other.ID); len(left) != 10 {
			t.Errorf("the other user's recovery codes: got %d, want 10", len(left))
		}
		if err := f.store.DeleteFactors(f.ctx, f.user.ID); err != nil {
			t.Errorf("DeleteFactors with none left: got error %v, want nil", err)
		}
	})
	t.Run("AAL of auth codes and tokens", func(t *testing.T) {
		f := newFixture(t, newStore)
		c := f.newAuthCode("second factor")
		c.AAL = ihoprauth.AAL2
		if err := f.store.CreateAuthCode(f.ctx, &c); err != nil {
			t.Fatal(err)
		}
		if got, err := f.store.AuthCodeByHash(f.ctx, c.Hash); err != nil || got.AAL != ihoprauth.AAL2 {
			t.Errorf("AuthCodeByHash: got AAL %v, %v, want aal2", got.AAL, err)
		}
		tok := f.newToken("second factor", "second factor", c.ID, f.user.ID)
		tok.AAL, tok.AuthAt = ihoprauth.AAL2, time.Time{}
		if err := f.store.CreateToken(f.ctx, &tok); err != nil {
			t.Fatal(err)
		}
		if got, _, err := f.store.TokenUser(f.ctx, tok.AccessHash); err != nil || got.AAL != ihoprauth.AAL2 || !got.AuthAt.IsZero() {
			t.Errorf("TokenUser: got AAL %v, AuthAt %v, %v, want aal2 and a zero AuthAt", got.AAL, got.AuthAt, err)
		}
		if got, err := f.store.TokenByRefreshHash(f.ctx, tok.RefreshHash); err != nil || got.AAL != ihoprauth.AAL2 {
			t.Errorf("TokenByRefreshHash: got AAL %v, %v, want aal2", got.AAL, err)
		}
		zero := f.newToken("zero", "zero", c.ID, f.user.ID)
		zero.AAL = 0
		if err := f.store.CreateToken(f.ctx, &zero); err != nil {
			t.Fatal(err)
		}
		if got, _, err := f.store.TokenUser(f.ctx, zero.AccessHash); err != nil || got.AAL != ihoprauth.AAL1 {
			t.Errorf("TokenUser of a token stored with AAL 0: got AAL %v, %v, want aal1", got.AAL, err)
		}
	})
	t.Run("DeleteUser deletes them", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.confirmFactor(t, f.saveFactor(t, "ann's"), 100)
		f.replaceRecoveryCodes(t, f.user.ID, "ann's", 10)
		if err := f.store.DeleteUser(f.ctx, f.user.ID, hash("account"), "deleted-0123456789abcdef01234567"); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.store.Factors(f.ctx, f.user.ID); len(got) != 0 {
			t.Errorf("factors of a deleted user: got %d, want 0", len(got))
		}
		if left, _ := f.store.RecoveryCodes(f.ctx, f.user.ID); len(left) != 0 {
			t.Errorf("recovery codes of a deleted user: got %d, want 0", len(left))
		}
	})
}

func testConfirmFactor(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		fa := f.saveFactor(t, "confirmed")
		wins := race(t, func() (bool, error) { return f.store.ConfirmFactor(f.ctx, fa.ID, 100, t0.Add(time.Minute)) })
		if wins != 1 {
			t.Errorf("concurrent calls that confirmed the factor: got %d, want 1", wins)
		}
		fa.LastStep, fa.ConfirmedAt = 100, ptr(t0.Add(time.Minute))
		checkFactors(t, f, fa)
		if won, err := f.store.ConfirmFactor(f.ctx, fa.ID+1000, 100, t0); won || err != nil {
			t.Errorf("ConfirmFactor of an unknown id: got %v, %v, want false, nil", won, err)
		}
	}
}

func testUseFactorStep(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		unconfirmed := f.saveFactor(t, "unconfirmed")
		if won, err := f.store.UseFactorStep(f.ctx, unconfirmed.ID, 200); won || err != nil {
			t.Errorf("UseFactorStep of an unconfirmed factor: got %v, %v, want false, nil", won, err)
		}
		fa := f.confirmFactor(t, unconfirmed, 100)
		tests := []struct {
			step int64
			want bool
		}{{99, false}, {100, false}, {101, true}, {101, false}, {103, true}, {102, false}}
		for _, tt := range tests {
			t.Run(fmt.Sprint("step ", tt.step), func(t *testing.T) {
				won, err := f.store.UseFactorStep(f.ctx, fa.ID, tt.step)
				if err != nil || won != tt.want {
					t.Errorf("got %v, %v, want %v, nil", won, err, tt.want)
				}
			})
		}
		fa.LastStep = 103
		checkFactors(t, f, fa)
	}
}

func testRecoveryCodes(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		f.replaceRecoveryCodes(t, f.user.ID, "old", 10)
		f.replaceRecoveryCodes(t, f.user.ID, "new", 10)
		codes, err := f.store.RecoveryCodes(f.ctx, f.user.ID)
		if err != nil || len(codes) != 10 {
			t.Fatalf("RecoveryCodes after a new set: got %d codes, %v, want 10", len(codes), err)
		}
		for i, rc := range codes {
			want := ihoprauth.RecoveryCode{ID: rc.ID, UserID: f.user.ID, Hash: hash(fmt.Sprint("new ", i)), CreatedAt: t0}
			checkEqual(t, rc, want)
		}
		if won, err := f.store.UseRecoveryCode(f.ctx, codes[3].ID, t0.Add(time.Minute)); !won || err != nil {
			t.Fatalf("UseRecoveryCode: got %v, %v, want true, nil", won, err)
		}
		if won, err := f.store.UseRecoveryCode(f.ctx, codes[3].ID, t0.Add(time.Minute)); won || err != nil {
			t.Errorf("UseRecoveryCode again: got %v, %v, want false, nil", won, err)
		}
		left, err := f.store.RecoveryCodes(f.ctx, f.user.ID)
		if err != nil || len(left) != 9 {
			t.Fatalf("RecoveryCodes after one use: got %d codes, %v, want 9", len(left), err)
		}
		for _, rc := range left {
			if rc.ID == codes[3].ID {
				t.Errorf("the used code is still listed as unused")
			}
		}
	}
}

func (f *fixture) newFactor(label string) ihoprauth.Factor {
	return ihoprauth.Factor{UserID: f.user.ID, Kind: ihoprauth.FactorTOTP, Secret: []byte("sealed \x00\xff " + label), CreatedAt: t0}
}

func (f *fixture) saveFactor(t *testing.T, label string) ihoprauth.Factor {
	t.Helper()
	fa := f.newFactor(label)
	if err := f.store.SaveFactor(f.ctx, &fa); err != nil {
		t.Fatalf("SaveFactor: %v", err)
	}
	return fa
}

func (f *fixture) confirmFactor(t *testing.T, fa ihoprauth.Factor, step int64) ihoprauth.Factor {
	t.Helper()
	if won, err := f.store.ConfirmFactor(f.ctx, fa.ID, step, t0); !won || err != nil {
		t.Fatalf("ConfirmFactor: got %v, %v, want true, nil", won, err)
	}
	fa.LastStep, fa.ConfirmedAt = step, ptr(t0)
	return fa
}

func (f *fixture) replaceRecoveryCodes(t *testing.T, userID int64, label string, n int) {
	t.Helper()
	hashes := make([]string, n)
	for i := range hashes {
		hashes[i] = hash(fmt.Sprint(label, " ", i))
	}
	if err := f.store.ReplaceRecoveryCodes(f.ctx, userID, hashes, t0); err != nil {
		t.Fatalf("ReplaceRecoveryCodes: %v", err)
	}
}

// checkFactors reports how the stored factors of the fixture's user differ
// from want.
func checkFactors(t *testing.T, f *fixture, want ...ihoprauth.Factor) {
	t.Helper()
	got, err := f.store.Factors(f.ctx, f.user.ID)
	if err != nil {
		t.Fatalf("Factors: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Factors: got %d, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].Secret, want[i].Secret) {
			t.Errorf("factor %d Secret: got %q, want %q", i, got[i].Secret, want[i].Secret)
		}
		g, w := got[i], want[i]
		g.Secret, w.Secret = nil, nil
		type plain struct {
			ID, UserID  int64
			Kind        ihoprauth.FactorKind
			LastStep    int64
			ConfirmedAt *time.Time
			CreatedAt   time.Time
		}
		checkEqual(t, plain{g.ID, g.UserID, g.Kind, g.LastStep, g.ConfirmedAt, g.CreatedAt},
			plain{w.ID, w.UserID, w.Kind, w.LastStep, w.ConfirmedAt, w.CreatedAt})
	}
}
