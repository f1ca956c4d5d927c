package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func testIdentities(t *testing.T, newStore newStoreFunc) {
	t.Run("CreateIdentity round trip", func(t *testing.T) {
		f := newFixture(t, newStore)
		id := f.createIdentity(t, f.user, "oidc", "sub-1")
		if id.ID == 0 {
			t.Fatal("ID: got 0, want non-zero")
		}
		got, err := f.store.IdentityBySubject(f.ctx, f.project.ID, "oidc", "sub-1")
		if err != nil {
			t.Fatalf("IdentityBySubject: got error %v, want nil", err)
		}
		checkEqual(t, got, id)
		checkIdentities(t, f, f.user.ID, id)
	})
	t.Run("CreateIdentity duplicate", func(t *testing.T) {
		f := newFixture(t, newStore)
		first := f.createIdentity(t, f.user, "oidc", "sub-1")
		other := f.createUser(t, newUser(f.project.ID, "bob@example.com"))
		dup := ihoprauth.Identity{ProjectID: f.project.ID, UserID: other.ID, Provider: "oidc", Subject: "sub-1", CreatedAt: t0}
		if err := f.store.CreateIdentity(f.ctx, &dup); !errors.Is(err, ihoprauth.ErrDuplicate) {
			t.Fatalf("CreateIdentity of a taken subject: got error %v, want ErrDuplicate", err)
		}
		checkIdentities(t, f, f.user.ID, first)
		checkIdentities(t, f, other.ID)
	})
	t.Run("CreateIdentity concurrent", func(t *testing.T) {
		f := newFixture(t, newStore)
		wins := race(t, func() (bool, error) {
			id := ihoprauth.Identity{ProjectID: f.project.ID, UserID: f.user.ID, Provider: "oidc", Subject: "raced", CreatedAt: t0}
			err := f.store.CreateIdentity(f.ctx, &id)
			if errors.Is(err, ihoprauth.ErrDuplicate) {
				return false, nil
			}
			return err == nil, err
		})
		if wins != 1 {
			t.Errorf("calls that linked the subject: got %d, want 1", wins)
		}
	})
	t.Run("same subject elsewhere", func(t *testing.T) {
		f := newFixture(t, newStore)
		a := f.createIdentity(t, f.user, "oidc", "sub-1")
		b := f.createIdentity(t, f.user, "github", "sub-1")
		other := f.saveProject(t, newProject("other"))
		c := f.createIdentity(t, f.createUser(t, newUser(other.ID, "ann@example.com")), "oidc", "sub-1")
		checkIdentities(t, f, f.user.ID, a, b)
		checkIdentities(t, f, c.UserID, c)
		for _, lookup := range []struct{ provider, subject string }{{"oidc", "SUB-1"}, {"oidc", "sub-1 "}, {"other", "sub-1"}} {
			if _, err := f.store.IdentityBySubject(f.ctx, f.project.ID, lookup.provider, lookup.subject); !errors.Is(err, ihoprauth.ErrNotFound) {
				t.Errorf("IdentityBySubject(%q, %q): got error %v, want ErrNotFound", lookup.provider, lookup.subject, err)
			}
		}
	})
	t.Run("DeleteIdentity", func(t *testing.T) {
		f := newFixture(t, newStore)
		a := f.createIdentity(t, f.user, "oidc", "sub-1")
		b := f.createIdentity(t, f.user, "github", "sub-2")
		other := f.createUser(t, newUser(f.project.ID, "bob@example.com"))
		if err := f.store.DeleteIdentity(f.ctx, other.ID, a.ID); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("DeleteIdentity of another user's: got error %v, want ErrNotFound", err)
		}
		if err := f.store.DeleteIdentity(f.ctx, f.user.ID, a.ID); err != nil {
			t.Fatalf("DeleteIdentity: got error %v, want nil", err)
		}
		if err := f.store.DeleteIdentity(f.ctx, f.user.ID, a.ID); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("DeleteIdentity again: got error %v, want ErrNotFound", err)
		}
		checkIdentities(t, f, f.user.ID, b)
	})
	t.Run("MarkEmailVerified", func(t *testing.T) {
		f := newFixture(t, newStore)
		first := t0.Add(time.Hour)
		for _, at := range []time.Time{first, first.Add(time.Hour)} {
			if err := f.store.MarkEmailVerified(f.ctx, f.user.ID, at); err != nil {
				t.Fatalf("MarkEmailVerified: got error %v, want nil", err)
			}
		}
		want := f.user
		want.EmailVerifiedAt = &first
		checkUser(t, f, want)
		byEmail, err := f.store.UserByEmail(f.ctx, f.project.ID, f.user.EmailKey)
		if err != nil || byEmail.EmailVerifiedAt == nil || !byEmail.EmailVerifiedAt.Equal(first) {
			t.Errorf("UserByEmail: got EmailVerifiedAt %v and error %v, want %v", byEmail.EmailVerifiedAt, err, first)
		}
		u := byEmail
		u.FirstName = "Annie"
		u.EmailVerifiedAt = nil
		if err := f.store.UpdateUser(f.ctx, &u); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		if got, err := f.store.UserByID(f.ctx, u.ID); err != nil || got.EmailVerifiedAt == nil {
			t.Errorf("after UpdateUser: got EmailVerifiedAt %v and error %v, want it kept", got.EmailVerifiedAt, err)
		}
		if err := f.store.MarkEmailVerified(f.ctx, f.user.ID+1000, first); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("MarkEmailVerified of an unknown user: got error %v, want ErrNotFound", err)
		}
	})
}

func (f *fixture) createIdentity(t *testing.T, u ihoprauth.User, provider, subject string) ihoprauth.Identity {
	t.Helper()
	id := ihoprauth.Identity{ProjectID: u.ProjectID, UserID: u.ID, Provider: provider, Subject: subject,
		Email: "linked+" + subject + "@example.com", CreatedAt: t0}
	if err := f.store.CreateIdentity(f.ctx, &id); err != nil {
		t.Fatalf("CreateIdentity: %v", err)
	}
	return id
}

// checkIdentities checks that the user's identities are want, in order.
func checkIdentities(t *testing.T, f *fixture, userID int64, want ...ihoprauth.Identity) {
	t.Helper()
	got, err := f.store.Identities(f.ctx, userID)
	if err != nil || got == nil {
		t.Fatalf("Identities: got %v and error %v, want a slice", got, err)
	}
	if len(got) != len(want) {
		t.Fatalf("Identities: got %d, want %d", len(got), len(want))
	}
	for i := range want {
		checkEqual(t, got[i], want[i])
	}
}
