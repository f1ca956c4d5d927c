package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func testProjects(t *testing.T, newStore newStoreFunc) {
	t.Run("SaveProject inserts", testSaveProjectInserts(newStore))
	t.Run("SaveProject updates same ClientID", testSaveProjectUpdates(newStore))
	t.Run("SetProjectSecretHash", func(t *testing.T) {
		f := newFixture(t, newStore)
		old := f.project.SecretHash
		if err := f.store.SetProjectSecretHash(f.ctx, f.project.ID, old, hash("rekeyed")); err != nil {
			t.Fatalf("SetProjectSecretHash: %v", err)
		}
		if got, err := f.store.ProjectByID(f.ctx, f.project.ID); err != nil || got.SecretHash != hash("rekeyed") {
			t.Fatalf("after SetProjectSecretHash: got %q, %v; want the new hash", got.SecretHash, err)
		}
		// Again with the same old hash: done already, so no conflict.
		if err := f.store.SetProjectSecretHash(f.ctx, f.project.ID, old, hash("rekeyed")); err != nil {
			t.Errorf("SetProjectSecretHash done already: got %v, want nil", err)
		}
		// A secret changed meanwhile is left alone.
		if err := f.store.SetProjectSecretHash(f.ctx, f.project.ID, old, hash("stale")); !errors.Is(err, ihoprauth.ErrConflict) {
			t.Errorf("SetProjectSecretHash of a changed secret: got %v, want ErrConflict", err)
		}
		if got, _ := f.store.ProjectByID(f.ctx, f.project.ID); got.SecretHash != hash("rekeyed") {
			t.Errorf("after a conflict: got %q, want the hash kept", got.SecretHash)
		}
		if err := f.store.SetProjectSecretHash(f.ctx, f.project.ID+1000, old, hash("x")); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("SetProjectSecretHash of an unknown project: got %v, want ErrNotFound", err)
		}
	})
	t.Run("SaveProject adds BcryptCosts", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		for _, step := range []struct{ given, want int }{
			{0, 0}, {1 << 10, 1 << 10}, {0, 1 << 10}, {1 << 8, 1<<10 | 1<<8}, {1 << 12, 1<<12 | 1<<10 | 1<<8},
		} {
			p := newProject("imports")
			p.BcryptCosts = step.given
			if err := s.SaveProject(ctx, &p); err != nil {
				t.Fatalf("SaveProject: %v", err)
			}
			stored, err := s.ProjectByClientID(ctx, p.ClientID)
			if err != nil || stored.BcryptCosts != step.want || p.BcryptCosts != step.want {
				t.Errorf("saved with BcryptCosts %d: got stored %d, set %d (error %v), want %d",
					step.given, stored.BcryptCosts, p.BcryptCosts, err, step.want)
			}
		}
	})
}

func testSaveProjectInserts(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		public := newProject("spa")
		public.SecretHash, public.Public, public.Type = "", true, ihoprauth.TypeOTP
		tests := []struct {
			name    string
			project ihoprauth.Project
		}{
			{"confidential", newProject("server")},
			{"public without secret", public},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, newStore)
				p := f.saveProject(t, tt.project)
				if p.ID == 0 || p.ID == f.project.ID {
					t.Fatalf("ID: got %d, want a new non-zero ID (other project %d)", p.ID, f.project.ID)
				}
				want := tt.project
				want.ID = p.ID
				checkEqual(t, p, want)
				checkProject(t, f, want)
			})
		}
	}
}

func testSaveProjectUpdates(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		changed := ihoprauth.Project{
			ClientID:   f.project.ClientID,
			SecretHash: hash("rotated secret"),
			Type:       ihoprauth.TypeNone,
			Public:     true,
			CreatedAt:  t0.Add(time.Hour),
			UpdatedAt:  t0.Add(time.Hour),
		}
		p := f.saveProject(t, changed)
		if p.ID != f.project.ID {
			t.Errorf("ID: got %d, want %d (kept)", p.ID, f.project.ID)
		}
		if !p.CreatedAt.Equal(f.project.CreatedAt) {
			t.Errorf("CreatedAt: got %v, want %v (kept)", p.CreatedAt, f.project.CreatedAt)
		}
		want := changed
		want.ID, want.CreatedAt, want.UpdatedAt = f.project.ID, f.project.CreatedAt, p.UpdatedAt
		checkProject(t, f, want)
	}
}

// checkProject checks that both lookups return want.
func checkProject(t *testing.T, f *fixture, want ihoprauth.Project) {
	t.Helper()
	lookups := []struct {
		name string
		get  func() (ihoprauth.Project, error)
	}{
		{"ProjectByID", func() (ihoprauth.Project, error) { return f.store.ProjectByID(f.ctx, want.ID) }},
		{"ProjectByClientID", func() (ihoprauth.Project, error) {
			return f.store.ProjectByClientID(f.ctx, want.ClientID)
		}},
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			got, err := l.get()
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			checkEqual(t, got, want)
		})
	}
}
