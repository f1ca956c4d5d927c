package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func testManage(t *testing.T, newStore newStoreFunc) {
	t.Run("TokenUser carries DisabledAt", testTokenUserDisabled(newStore))
	t.Run("ListUsers filters", testListUsersFilters(newStore))
	t.Run("ListUsers pages", testListUsersPages(newStore))
	t.Run("UserEvents", testUserEvents(newStore))
	t.Run("DeleteUser erases", testDeleteUser(newStore))
	t.Run("DeleteUser unknown", testDeleteUserUnknown(newStore))
	t.Run("DeleteProject", testDeleteProject(newStore))
}

// testTokenUserDisabled checks that the bearer lookup sees a disabled user
// as disabled: the bearer check refuses on it.
func testTokenUserDisabled(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		tok := f.createToken(t, "token", "family", 0, f.user.ID)
		u := f.user
		u.DisabledAt = ptr(t0.Add(time.Minute))
		if err := f.store.UpdateUser(f.ctx, &u); err != nil {
			t.Fatalf("UpdateUser: got error %v, want nil", err)
		}
		_, got, err := f.store.TokenUser(f.ctx, tok.AccessHash)
		if err != nil {
			t.Fatalf("TokenUser: got error %v, want nil", err)
		}
		checkEqual(t, got, bearerUser(u))
	}
}

// listFixture is a fixture whose project has five more users, created a
// minute apart from t0 on, with roles alternating "admin" and "member",
// and whose other project has a user that no query of the first may
// return.
func listFixture(t *testing.T, newStore newStoreFunc) (*fixture, []ihoprauth.User) {
	t.Helper()
	f := newFixture(t, newStore)
	users := []ihoprauth.User{f.user}
	for i, email := range []string{"bob@example.com", "bo_b@example.org", "carl@example.com", "b%x@example.com", "dora@example.net"} {
		u := newUser(f.project.ID, email)
		u.CreatedAt = t0.Add(time.Duration(i+1) * time.Minute)
		u.Role = []string{"admin", "member"}[i%2]
		users = append(users, f.createUser(t, u))
	}
	other := f.saveProject(t, newProject("other"))
	f.createUser(t, newUser(other.ID, "bob@example.com"))
	return f, users
}

func testListUsersFilters(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f, users := listFixture(t, newStore)
		q := func(edit func(*ihoprauth.UserQuery)) ihoprauth.UserQuery {
			q := ihoprauth.UserQuery{ProjectID: f.project.ID, Limit: 100}
			edit(&q)
			return q
		}
		tests := []struct {
			name  string
			query ihoprauth.UserQuery
			want  []int // indexes into users
		}{
			{"all", q(func(*ihoprauth.UserQuery) {}), []int{0, 1, 2, 3, 4, 5}},
			{"prefix", q(func(q *ihoprauth.UserQuery) { q.EmailPrefix = "bo" }), []int{1, 2}},
			{"prefix with _ is literal", q(func(q *ihoprauth.UserQuery) { q.EmailPrefix = "bo_" }), []int{2}},
			{"prefix with % is literal", q(func(q *ihoprauth.UserQuery) { q.EmailPrefix = "b%" }), []int{4}},
			{"prefix is case-sensitive", q(func(q *ihoprauth.UserQuery) { q.EmailPrefix = "Bo" }), nil},
			{"whole email", q(func(q *ihoprauth.UserQuery) { q.EmailPrefix = "carl@example.com" }), []int{3}},
			{"role", q(func(q *ihoprauth.UserQuery) { q.Role = "admin" }), []int{1, 3, 5}},
			{"role is exact", q(func(q *ihoprauth.UserQuery) { q.Role = "Admin" }), nil},
			{"created from", q(func(q *ihoprauth.UserQuery) { q.CreatedFrom = t0.Add(3 * time.Minute) }), []int{3, 4, 5}},
			{"created before", q(func(q *ihoprauth.UserQuery) { q.CreatedBefore = t0.Add(2 * time.Minute) }), []int{0, 1}},
			{"created range and role", q(func(q *ihoprauth.UserQuery) {
				q.CreatedFrom, q.CreatedBefore, q.Role = t0.Add(time.Minute), t0.Add(5*time.Minute), "member"
			}), []int{2, 4}},
			{"other project", ihoprauth.UserQuery{ProjectID: f.project.ID + 1000, Limit: 100}, nil},
			{"zero limit", q(func(q *ihoprauth.UserQuery) { q.Limit = 0 }), nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var want []ihoprauth.User
				for _, i := range tt.want {
					want = append(want, users[i])
				}
				checkUsers(t, f, tt.query, want)
			})
		}
	}
}

// testListUsersPages walks the project two users at a time by the cursor.
func testListUsersPages(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f, users := listFixture(t, newStore)
		q := ihoprauth.UserQuery{ProjectID: f.project.ID, Limit: 2}
		for page := 0; page < 3; page++ {
			got := checkUsers(t, f, q, users[2*page:2*page+2])
			q.AfterID = got[len(got)-1].ID
		}
		checkUsers(t, f, q, nil)
	}
}

// checkUsers checks that ListUsers(q) returns want, in order, and returns
// what it got.
func checkUsers(t *testing.T, f *fixture, q ihoprauth.UserQuery, want []ihoprauth.User) []ihoprauth.User {
	t.Helper()
	got, err := f.store.ListUsers(f.ctx, q)
	if err != nil {
		t.Fatalf("ListUsers: got error %v, want nil", err)
	}
	if got == nil {
		t.Errorf("ListUsers: got nil, want an empty slice when nothing matches")
	}
	if len(got) != len(want) {
		t.Fatalf("ListUsers: got %d users %v, want %d %v", len(got), emails(got), len(want), emails(want))
	}
	for i := range got {
		t.Run(fmt.Sprint("user ", i+1), func(t *testing.T) { checkEqual(t, got[i], want[i]) })
	}
	return got
}

// emails lists the EmailKey of each user.
func emails(users []ihoprauth.User) []string {
	var e []string
	for _, u := range users {
		e = append(e, u.EmailKey)
	}
	return e
}

func testUserEvents(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		var mine []ihoprauth.Event
		for i := range 4 {
			e := ihoprauth.Event{Kind: fmt.Sprint("kind ", i), ProjectID: f.project.ID, UserID: f.user.UserID,
				IP: "192.0.2.1", Result: "ok", Count: 1, At: t0.Add(time.Duration(i) * time.Second)}
			mine = append(mine, f.recordEvent(t, e))
			f.recordEvent(t, ihoprauth.Event{Kind: "other", ProjectID: f.project.ID, UserID: hash("other")[:32], At: e.At})
			f.recordEvent(t, ihoprauth.Event{Kind: "nobody", ProjectID: f.project.ID, At: e.At})
		}
		tests := []struct {
			name  string
			since time.Time
			limit int
			want  []ihoprauth.Event
		}{
			{"all, newest first", t0.Add(-time.Hour), 10, []ihoprauth.Event{mine[3], mine[2], mine[1], mine[0]}},
			{"limit", t0.Add(-time.Hour), 2, []ihoprauth.Event{mine[3], mine[2]}},
			{"since is inclusive", t0.Add(2 * time.Second), 10, []ihoprauth.Event{mine[3], mine[2]}},
			{"zero limit", t0, 0, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := f.store.UserEvents(f.ctx, f.user.UserID, tt.since, tt.limit)
				if err != nil {
					t.Fatalf("UserEvents: got error %v, want nil", err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("UserEvents: got %d events %v, want %d %v", len(got), kinds(got), len(tt.want), kinds(tt.want))
				}
				for i := range got {
					t.Run(fmt.Sprint("event ", i+1), func(t *testing.T) { checkEqual(t, got[i], tt.want[i]) })
				}
			})
		}
	}
}

// erasable is what a user leaves in a store: its rows of every kind.
type erasable struct {
	user      ihoprauth.User
	account   string
	challenge ihoprauth.Challenge
	decoy     ihoprauth.Challenge // asked for the user's email, with no user
	code      ihoprauth.AuthCode
	token     ihoprauth.Token
	source    string
	event     ihoprauth.Event
	acted     ihoprauth.Event // of another user, with the user as its Actor
	identity  ihoprauth.Identity
}

// createErasable gives u one row of every kind the store keeps of a user.
func (f *fixture) createErasable(t *testing.T, u ihoprauth.User, label string) erasable {
	t.Helper()
	e := erasable{user: u, account: hash("account " + label), source: hash("source " + label)}
	add := func(c ihoprauth.Challenge, userID int64) ihoprauth.Challenge {
		c.UserID, c.ProjectID, c.AccountKey = userID, u.ProjectID, e.account
		if err := f.store.CreateChallenge(f.ctx, &c); err != nil {
			t.Fatalf("CreateChallenge: %v", err)
		}
		return c
	}
	e.challenge = add(f.newChallenge(ihoprauth.PurposeOTP, label), u.ID)
	e.decoy = add(f.newChallenge(ihoprauth.PurposeReset, label+" decoy"), 0)
	e.code = f.newAuthCode(label)
	e.code.UserID, e.code.ProjectID = u.ID, u.ProjectID
	if err := f.store.CreateAuthCode(f.ctx, &e.code); err != nil {
		t.Fatalf("CreateAuthCode: %v", err)
	}
	e.token = f.newToken(label, label, e.code.ID, u.ID)
	e.token.ProjectID = u.ProjectID
	if err := f.store.CreateToken(f.ctx, &e.token); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if err := f.store.RememberSource(f.ctx, e.account, e.source, t0); err != nil {
		t.Fatalf("RememberSource: %v", err)
	}
	e.event = f.recordEvent(t, ihoprauth.Event{Kind: ihoprauth.EventLogin, ProjectID: u.ProjectID, UserID: u.UserID,
		IP: "198.51.100.7", UserAgent: "Mozilla/5.0 " + label, Result: "ok", At: t0})
	e.acted = f.recordEvent(t, ihoprauth.Event{Kind: ihoprauth.EventUserDisabled, ProjectID: u.ProjectID,
		UserID: hash("target of " + label)[:32], IP: "198.51.100.8", UserAgent: "admin tool " + label, Result: "ok",
		Actor: u.UserID, At: t0})
	e.identity = f.createIdentity(t, u, "oidc", "subject of "+label)
	return e
}

// actedEvent returns the one event of e's target user.
func actedEvent(t *testing.T, f *fixture, e erasable) ihoprauth.Event {
	t.Helper()
	got, err := f.store.UserEvents(f.ctx, e.acted.UserID, time.Time{}, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("UserEvents of the user acted on: got %d events and error %v, want 1", len(got), err)
	}
	return got[0]
}

// checkErased checks that nothing of e can be found any more, and that
// its event keeps only pseudonym.
func checkErased(t *testing.T, f *fixture, e erasable, pseudonym string) {
	t.Helper()
	lookups := map[string]error{}
	_, lookups["UserByID"] = f.store.UserByID(f.ctx, e.user.ID)
	_, lookups["UserByUserID"] = f.store.UserByUserID(f.ctx, e.user.UserID)
	_, lookups["UserByEmail"] = f.store.UserByEmail(f.ctx, e.user.ProjectID, e.user.EmailKey)
	_, lookups["challenge"] = f.store.ChallengeByToken(f.ctx, e.challenge.Purpose, e.challenge.TokenHash)
	_, lookups["decoy challenge"] = f.store.ChallengeByToken(f.ctx, e.decoy.Purpose, e.decoy.TokenHash)
	_, lookups["AuthCodeByHash"] = f.store.AuthCodeByHash(f.ctx, e.code.Hash)
	_, _, lookups["TokenUser"] = f.store.TokenUser(f.ctx, e.token.AccessHash)
	_, lookups["TokenByRefreshHash"] = f.store.TokenByRefreshHash(f.ctx, e.token.RefreshHash)
	_, lookups["SourceLastSeen"] = f.store.SourceLastSeen(f.ctx, e.account, e.source)
	_, lookups["IdentityBySubject"] = f.store.IdentityBySubject(f.ctx, e.user.ProjectID, e.identity.Provider, e.identity.Subject)
	for name, err := range lookups {
		if !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("%s after DeleteUser: got error %v, want ErrNotFound", name, err)
		}
	}
	if got, err := f.store.UserEvents(f.ctx, e.user.UserID, time.Time{}, 10); err != nil || len(got) != 0 {
		t.Errorf("UserEvents of the deleted user_id: got %d events and error %v, want none", len(got), err)
	}
	want := e.event
	want.UserID, want.IP, want.UserAgent = pseudonym, "", ""
	got, err := f.store.UserEvents(f.ctx, pseudonym, time.Time{}, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("UserEvents of the pseudonym: got %d events and error %v, want 1", len(got), err)
	}
	checkEqual(t, got[0], want)
	acted := e.acted
	acted.Actor, acted.IP, acted.UserAgent = pseudonym, "", ""
	checkEqual(t, actedEvent(t, f, e), acted)
}

// checkKept checks that every row of e is still there.
func checkKept(t *testing.T, f *fixture, e erasable) {
	t.Helper()
	checkUser(t, f, e.user)
	checkChallenge(t, f, e.challenge)
	checkChallenge(t, f, e.decoy)
	checkAuthCode(t, f, e.code)
	checkToken(t, f, e.token)
	if _, err := f.store.SourceLastSeen(f.ctx, e.account, e.source); err != nil {
		t.Errorf("SourceLastSeen of a kept account: got error %v, want nil", err)
	}
	checkIdentities(t, f, e.user.ID, e.identity)
	got, err := f.store.UserEvents(f.ctx, e.user.UserID, time.Time{}, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("UserEvents of a kept user: got %d events and error %v, want 1", len(got), err)
	}
	checkEqual(t, got[0], e.event)
	checkEqual(t, actedEvent(t, f, e), e.acted)
}

// testDeleteUser deletes one of two users who have a row of every kind and
// checks that nothing of one remains and everything of the other does.
func testDeleteUser(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		gone := f.createErasable(t, f.user, "gone")
		kept := f.createErasable(t, f.createUser(t, newUser(f.project.ID, "kept@example.com")), "kept")
		const pseudonym = "deleted-0123456789abcdef01234567"
		if err := f.store.DeleteUser(f.ctx, gone.user.ID, gone.account, pseudonym); err != nil {
			t.Fatalf("DeleteUser: got error %v, want nil", err)
		}
		checkErased(t, f, gone, pseudonym)
		checkKept(t, f, kept)
	}
}

func testDeleteUserUnknown(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		err := f.store.DeleteUser(f.ctx, f.user.ID+1000, hash("account"), "deleted-0123456789abcdef01234567")
		if !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Fatalf("DeleteUser of an unknown id: got error %v, want ErrNotFound", err)
		}
		checkUser(t, f, f.user)
	}
}

// testDeleteProject deletes one of two projects whose users have a row of
// every kind: the other project and its rows stay.
func testDeleteProject(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		gone := f.createErasable(t, f.user, "gone")
		other := f.saveProject(t, newProject("other"))
		kept := f.createErasable(t, f.createUser(t, newUser(other.ID, f.user.EmailKey)), "kept")
		if err := f.store.DeleteProject(f.ctx, f.project.ID); err != nil {
			t.Fatalf("DeleteProject: got error %v, want nil", err)
		}
		if _, err := f.store.ProjectByID(f.ctx, f.project.ID); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("ProjectByID after DeleteProject: got error %v, want ErrNotFound", err)
		}
		if _, err := f.store.ProjectByClientID(f.ctx, f.project.ClientID); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("ProjectByClientID after DeleteProject: got error %v, want ErrNotFound", err)
		}
		for name, err := range map[string]error{
			"UserByID":     second(f.store.UserByID(f.ctx, gone.user.ID)),
			"challenge":    second(f.store.ChallengeByToken(f.ctx, gone.challenge.Purpose, gone.challenge.TokenHash)),
			"decoy":        second(f.store.ChallengeByToken(f.ctx, gone.decoy.Purpose, gone.decoy.TokenHash)),
			"auth code":    second(f.store.AuthCodeByHash(f.ctx, gone.code.Hash)),
			"token":        second(f.store.TokenByRefreshHash(f.ctx, gone.token.RefreshHash)),
			"identity":     second(f.store.IdentityBySubject(f.ctx, f.project.ID, gone.identity.Provider, gone.identity.Subject)),
			"project gone": f.store.DeleteProject(f.ctx, f.project.ID),
		} {
			if !errors.Is(err, ihoprauth.ErrNotFound) {
				t.Errorf("%s after DeleteProject: got error %v, want ErrNotFound", name, err)
			}
		}
		checkProject(t, f, other)
		checkKept(t, f, kept)
	}
}

// second returns the error of a lookup.
func second[T any](_ T, err error) error { return err }
