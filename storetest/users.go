package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func testUsers(t *testing.T, newStore newStoreFunc) {
	t.Run("CreateUser round trip", testCreateUser(newStore))
	t.Run("CreateUser uniqueness", testCreateUserUniqueness(newStore))
	t.Run("UserByEmail is byte-exact", testUserByEmailExact(newStore))
	t.Run("UpdateUser", testUpdateUser(newStore))
	t.Run("UpdateUser keeps other fields", testUpdateUserKeeps(newStore))
	t.Run("UpdateUser refuses stale copies", testUpdateUserConflict(newStore))
}

func testCreateUser(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		bare := newUser(f.project.ID, "bare@example.com")
		bare.Meta, bare.PasswordHash, bare.FirstName = nil, "", ""
		tests := []struct {
			name string
			user ihoprauth.User
		}{
			{"all fields", newUser(f.project.ID, "full@example.com")},
			{"no meta or password", bare},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := f.createUser(t, tt.user)
				if u.ID == 0 || u.ID == f.user.ID {
					t.Fatalf("ID: got %d, want a new non-zero ID (other user %d)", u.ID, f.user.ID)
				}
				want := tt.user
				want.ID = u.ID
				checkUser(t, f, want)
			})
		}
	}
}

func testCreateUserUniqueness(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name    string
			second  func(f *fixture, other ihoprauth.Project) ihoprauth.User
			wantErr error
		}{
			{"same email key in same project", func(f *fixture, _ ihoprauth.Project) ihoprauth.User {
				u := newUser(f.project.ID, f.user.EmailKey)
				u.UserID = hash("another user id")[:32]
				return u
			}, ihoprauth.ErrDuplicate},
			{"same user id in other project", func(f *fixture, other ihoprauth.Project) ihoprauth.User {
				u := newUser(other.ID, "bob@example.com")
				u.UserID = f.user.UserID
				return u
			}, ihoprauth.ErrDuplicate},
			{"same email key in other project", func(f *fixture, other ihoprauth.Project) ihoprauth.User {
				return newUser(other.ID, f.user.EmailKey)
			}, nil},
			{"email key differing in case", func(f *fixture, _ ihoprauth.Project) ihoprauth.User {
				return newUser(f.project.ID, "Ann@example.com")
			}, nil},
			{"email key with a trailing space", func(f *fixture, _ ihoprauth.Project) ihoprauth.User {
				return newUser(f.project.ID, f.user.EmailKey+" ")
			}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, newStore)
				other := f.saveProject(t, newProject("other"))
				u := tt.second(f, other)
				err := f.store.CreateUser(f.ctx, &u)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("CreateUser: got error %v, want %v", err, tt.wantErr)
				}
				got, err := f.store.UserByEmail(f.ctx, f.project.ID, f.user.EmailKey)
				if err != nil || got.ID != f.user.ID {
					t.Errorf("UserByEmail of the first user: got ID %d, error %v, want ID %d", got.ID, err, f.user.ID)
				}
			})
		}
	}
}

func testUserByEmailExact(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		lower := f.createUser(t, newUser(f.project.ID, "émile@example.com"))
		upper := f.createUser(t, newUser(f.project.ID, "Émile@example.com"))
		tests := []struct {
			key    string
			wantID int64 // 0: ErrNotFound
		}{
			{f.user.EmailKey, f.user.ID},
			{"émile@example.com", lower.ID},
			{"Émile@example.com", upper.ID},
			{"ANN@example.com", 0},
			{"ann@example.com ", 0},
			{" ann@example.com", 0},
			{"ann@example.co", 0},
		}
		for _, tt := range tests {
			t.Run(tt.key, func(t *testing.T) {
				got, err := f.store.UserByEmail(f.ctx, f.project.ID, tt.key)
				switch {
				case tt.wantID == 0 && !errors.Is(err, ihoprauth.ErrNotFound):
					t.Errorf("got ID %d, error %v, want ErrNotFound", got.ID, err)
				case tt.wantID != 0 && (err != nil || got.ID != tt.wantID):
					t.Errorf("got ID %d, error %v, want ID %d", got.ID, err, tt.wantID)
				}
			})
		}
	}
}

func testUpdateUser(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name string
			edit func(u *ihoprauth.User)
		}{
			{"no change", func(u *ihoprauth.User) {}},
			{"FirstName", func(u *ihoprauth.User) { u.FirstName = "Anna" }},
			{"LastName", func(u *ihoprauth.User) { u.LastName = "" }},
			{"MobileNumber", func(u *ihoprauth.User) { u.MobileNumber = "+33612345678" }},
			{"Meta changed", func(u *ihoprauth.User) { u.Meta = ptr(`{"plan":"pro"}`) }},
			{"Meta empty", func(u *ihoprauth.User) { u.Meta = ptr("") }},
			{"Meta nil", func(u *ihoprauth.User) { u.Meta = nil }},
			{"Role", func(u *ihoprauth.User) { u.Role = "admin" }},
			{"Provider", func(u *ihoprauth.User) { u.Provider = "google" }},
			{"PasswordHash", func(u *ihoprauth.User) { u.PasswordHash = "$2a$10$abcdefghijklmnopqrstuv" }},
			{"PasswordHash cleared", func(u *ihoprauth.User) { u.PasswordHash = "" }},
			{"UpdatedAt", func(u *ihoprauth.User) { u.UpdatedAt = t0.Add(48 * time.Hour) }},
			{"DisabledAt", func(u *ihoprauth.User) { u.DisabledAt = ptr(t0.Add(time.Hour)) }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, newStore)
				u := f.user
				tt.edit(&u)
				if err := f.store.UpdateUser(f.ctx, &u); err != nil {
					t.Fatalf("UpdateUser: got error %v, want nil", err)
				}
				checkUser(t, f, u)
			})
		}
	}
}

func testUpdateUserKeeps(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		u := f.user
		u.Email, u.EmailKey, u.UserID = "eve@example.com", "eve@example.com", hash("eve")[:32]
		u.CreatedAt = t0.Add(time.Hour)
		if err := f.store.UpdateUser(f.ctx, &u); err != nil {
			t.Fatalf("UpdateUser: got error %v, want nil", err)
		}
		want := f.user
		want.Version++
		checkUser(t, f, want)
	}
}

// testUpdateUserConflict checks the optimistic check: an update from a
// stale copy is refused and writes nothing, and of concurrent updates from
// one version exactly one wins.
func testUpdateUserConflict(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		fresh, stale := f.user, f.user
		fresh.PasswordHash = "$2a$10$newnewnewnewnewnewnewn"
		if err := f.store.UpdateUser(f.ctx, &fresh); err != nil {
			t.Fatalf("UpdateUser: got error %v, want nil", err)
		}
		if fresh.Version != f.user.Version+1 {
			t.Errorf("got Version %d after an update, want %d", fresh.Version, f.user.Version+1)
		}
		stale.FirstName = "Stale"
		if err := f.store.UpdateUser(f.ctx, &stale); !errors.Is(err, ihoprauth.ErrConflict) {
			t.Fatalf("UpdateUser from a stale copy: got %v, want ErrConflict", err)
		}
		checkUser(t, f, fresh)

		wins := raceN(t, 20, func() (bool, error) {
			u := fresh
			u.FirstName = "Racer"
			err := f.store.UpdateUser(f.ctx, &u)
			if errors.Is(err, ihoprauth.ErrConflict) {
				return false, nil
			}
			return err == nil, err
		})
		if wins != 1 {
			t.Errorf("got %d of 20 concurrent updates from one version through, want 1", wins)
		}
	}
}

// checkUser checks that all three lookups return want.
func checkUser(t *testing.T, f *fixture, want ihoprauth.User) {
	t.Helper()
	lookups := []struct {
		name string
		get  func() (ihoprauth.User, error)
	}{
		{"UserByID", func() (ihoprauth.User, error) { return f.store.UserByID(f.ctx, want.ID) }},
		{"UserByUserID", func() (ihoprauth.User, error) { return f.store.UserByUserID(f.ctx, want.UserID) }},
		{"UserByEmail", func() (ihoprauth.User, error) {
			return f.store.UserByEmail(f.ctx, want.ProjectID, want.EmailKey)
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
