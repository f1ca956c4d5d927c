package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// errAbort is what the functions passed to InTx return to roll back.
var errAbort = errors.New("storetest: abort")

func testInTx(t *testing.T, newStore newStoreFunc) {
	// Each fn calls write, which saves the project "tx" and consumes the
	// fixture's auth code; visible tells whether the writes must survive.
	// A nested InTx joins the outer transaction: its error rolls nothing
	// back by itself.
	type write = func(tx ihoprauth.Store)
	tests := []struct {
		name    string
		fn      func(f *fixture, write write) func(tx ihoprauth.Store) error
		wantErr error
		visible bool
	}{
		{"commit", func(f *fixture, write write) func(tx ihoprauth.Store) error {
			return func(tx ihoprauth.Store) error { write(tx); return nil }
		}, nil, true},
		{"rollback", func(f *fixture, write write) func(tx ihoprauth.Store) error {
			return func(tx ihoprauth.Store) error { write(tx); return errAbort }
		}, errAbort, false},
		{"nested commit, outer rollback", func(f *fixture, write write) func(tx ihoprauth.Store) error {
			return func(tx ihoprauth.Store) error {
				err := tx.InTx(f.ctx, func(inner ihoprauth.Store) error { write(inner); return nil })
				return errors.Join(err, errAbort)
			}
		}, errAbort, false},
		{"nested error ignored by outer", func(f *fixture, write write) func(tx ihoprauth.Store) error {
			return func(tx ihoprauth.Store) error {
				err := tx.InTx(f.ctx, func(inner ihoprauth.Store) error { write(inner); return errAbort })
				if !errors.Is(err, errAbort) {
					return fmt.Errorf("nested InTx: got error %v, want %v", err, errAbort)
				}
				return nil
			}
		}, nil, true},
		{"nested rollback", func(f *fixture, write write) func(tx ihoprauth.Store) error {
			return func(tx ihoprauth.Store) error {
				return tx.InTx(f.ctx, func(inner ihoprauth.Store) error { write(inner); return errAbort })
			}
		}, errAbort, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, newStore)
			code := f.createAuthCode(t, "tx")
			write := func(tx ihoprauth.Store) {
				if err := writeInTx(f, tx, code); err != nil {
					t.Errorf("writes in transaction: got error %v, want nil", err)
				}
			}
			err := f.store.InTx(f.ctx, tt.fn(f, write))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("InTx: got error %v, want %v", err, tt.wantErr)
			}
			checkTxWrites(t, f, code, tt.visible)
		})
	}
}

// writeInTx saves the project "tx", checks that tx sees it, and consumes
// code through tx.
func writeInTx(f *fixture, tx ihoprauth.Store, code ihoprauth.AuthCode) error {
	p := newProject("tx")
	if err := tx.SaveProject(f.ctx, &p); err != nil {
		return err
	}
	if _, err := tx.ProjectByClientID(f.ctx, "tx"); err != nil {
		return errors.Join(errors.New("own write not visible in transaction"), err)
	}
	won, err := tx.ConsumeAuthCode(f.ctx, code.ID, t0.Add(time.Second))
	if err == nil && !won {
		err = errors.New("ConsumeAuthCode in transaction: got false, want true")
	}
	return err
}

// checkTxWrites checks whether the writes of writeInTx are in the store.
func checkTxWrites(t *testing.T, f *fixture, code ihoprauth.AuthCode, visible bool) {
	t.Helper()
	_, err := f.store.ProjectByClientID(f.ctx, "tx")
	switch {
	case visible && err != nil:
		t.Errorf("project written in transaction: got error %v, want it stored", err)
	case !visible && !errors.Is(err, ihoprauth.ErrNotFound):
		t.Errorf("project written in transaction: got error %v, want ErrNotFound", err)
	}
	got, err := f.store.AuthCodeByHash(f.ctx, code.Hash)
	if err != nil {
		t.Fatalf("AuthCodeByHash: got error %v, want nil", err)
	}
	if used := got.UsedAt != nil; used != visible {
		t.Errorf("auth code consumed in transaction: got used %v, want %v", used, visible)
	}
}
