package storetest

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func (f *fixture) savePasskey(t *testing.T, userID int64, credID string, count uint32) ihoprauth.Passkey {
	t.Helper()
	p := ihoprauth.Passkey{UserID: userID, CredentialID: bytes.Repeat([]byte(credID), 100), PublicKey: []byte("cose key of " + credID),
		SignCount: count, BackupEligible: true, BackupState: true, AAGUID: make([]byte, 16), Transports: "internal,hybrid",
		Name: "key " + credID, CreatedAt: t0}
	if err := f.store.SavePasskey(f.ctx, &p); err != nil {
		t.Fatalf("SavePasskey: %v", err)
	}
	return p
}

func testPasskeys(t *testing.T, newStore newStoreFunc) {
	t.Run("round trip", func(t *testing.T) {
		f := newFixture(t, newStore)
		want := f.savePasskey(t, f.user.ID, "a", 7)
		got, err := f.store.PasskeyByCredentialID(f.ctx, want.CredentialID)
		if err != nil {
			t.Fatalf("PasskeyByCredentialID: %v", err)
		}
		want.CreatedAt = t0.UTC()
		if !bytes.Equal(got.CredentialID, want.CredentialID) || !bytes.Equal(got.PublicKey, want.PublicKey) ||
			got.SignCount != 7 || !got.BackupEligible || !got.BackupState || got.Transports != want.Transports ||
			got.Name != want.Name || !got.CreatedAt.Equal(want.CreatedAt) || got.LastUsedAt != nil || got.UserID != f.user.ID {
			t.Errorf("got %+v, want %+v", got, want)
		}
		list, err := f.store.Passkeys(f.ctx, f.user.ID)
		if err != nil || len(list) != 1 || list[0].ID != want.ID {
			t.Errorf("Passkeys: got %v, %v, want the one saved", list, err)
		}
	})
	t.Run("credential id unique over users", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.savePasskey(t, f.user.ID, "a", 0)
		other := f.createUser(t, newUser(f.project.ID, "bob@example.com"))
		p := ihoprauth.Passkey{UserID: other.ID, CredentialID: bytes.Repeat([]byte("a"), 100), PublicKey: []byte("k"), CreatedAt: t0}
		if err := f.store.SavePasskey(f.ctx, &p); !errors.Is(err, ihoprauth.ErrDuplicate) {
			t.Errorf("SavePasskey of a taken credential id: got %v, want ErrDuplicate", err)
		}
		if list, err := f.store.Passkeys(f.ctx, other.ID); err != nil || len(list) != 0 {
			t.Errorf("Passkeys of a user without any: got %v, %v, want an empty slice", list, err)
		}
	})
	t.Run("UsePasskey moves the counter forward only", func(t *testing.T) {
		f := newFixture(t, newStore)
		p := f.savePasskey(t, f.user.ID, "a", 5)
		for _, c := range []struct {
			count uint32
			want  bool
		}{{5, false}, {4, false}, {0, false}, {6, true}, {6, false}, {9, true}} {
			got, err := f.store.UsePasskey(f.ctx, p.ID, c.count, false, t0.Add(time.Minute))
			if err != nil || got != c.want {
				t.Errorf("UsePasskey(%d): got %v, %v, want %v", c.count, got, err, c.want)
			}
		}
		got, _ := f.store.PasskeyByCredentialID(f.ctx, p.CredentialID)
		if got.SignCount != 9 || got.BackupState || got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("after uses: got %+v, want count 9, backup state false, last used t0+1m", got)
		}
	})
	t.Run("UsePasskey of an authenticator without a counter", func(t *testing.T) {
		f := newFixture(t, newStore)
		p := f.savePasskey(t, f.user.ID, "z", 0)
		for i := range 3 {
			if ok, err := f.store.UsePasskey(f.ctx, p.ID, 0, true, t0); err != nil || !ok {
				t.Errorf("use %d with counter 0: got %v, %v, want true", i, ok, err)
			}
		}
	})
	t.Run("UsePasskey concurrent: one wins", func(t *testing.T) {
		f := newFixture(t, newStore)
		p := f.savePasskey(t, f.user.ID, "a", 1)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if ok, err := f.store.UsePasskey(f.ctx, p.ID, 2, false, t0); err == nil && ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("concurrent UsePasskey with one count: got %d winners, want 1", wins.Load())
		}
	})
	t.Run("DeletePasskey only the owner's", func(t *testing.T) {
		f := newFixture(t, newStore)
		p := f.savePasskey(t, f.user.ID, "a", 0)
		other := f.createUser(t, newUser(f.project.ID, "bob@example.com"))
		if err := f.store.DeletePasskey(f.ctx, other.ID, p.ID); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("DeletePasskey by another user: got %v, want ErrNotFound", err)
		}
		if err := f.store.DeletePasskey(f.ctx, f.user.ID, p.ID); err != nil {
			t.Errorf("DeletePasskey: %v", err)
		}
		if _, err := f.store.PasskeyByCredentialID(f.ctx, p.CredentialID); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("after delete: got %v, want ErrNotFound", err)
		}
	})
	t.Run("DeleteUser and DeleteProject delete passkeys", func(t *testing.T) {
		f := newFixture(t, newStore)
		p := f.savePasskey(t, f.user.ID, "a", 0)
		if err := f.store.DeleteUser(f.ctx, f.user.ID, "account", "pseudonym"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		if _, err := f.store.PasskeyByCredentialID(f.ctx, p.CredentialID); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("after DeleteUser: got %v, want ErrNotFound", err)
		}
		u := f.createUser(t, newUser(f.project.ID, "bob@example.com"))
		q := f.savePasskey(t, u.ID, "b", 0)
		if err := f.store.DeleteProject(f.ctx, f.project.ID); err != nil {
			t.Fatalf("DeleteProject: %v", err)
		}
		if _, err := f.store.PasskeyByCredentialID(f.ctx, q.CredentialID); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("after DeleteProject: got %v, want ErrNotFound", err)
		}
	})
}
