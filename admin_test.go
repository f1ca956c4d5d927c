package ihoprauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// adminEnv is an env with an admin and two users in the none project, and
// one user in the two-step project.
type adminEnv struct {
	*env
	admin, adminID string // the admin's access token and user_id
	user, userID   string // a plain user's
	other          string // the user_id of another user of the project
	stranger       string // the user_id of a user of the two-step project
}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	e := &adminEnv{env: newEnv(t)}
	ctx := context.Background()
	userID := func(clientID, email string) string {
		u, err := e.auth.UserByEmail(ctx, clientID, email)
		if err != nil {
			t.Fatal(err)
		}
		return u.UserID
	}
	e.admin = e.signupNone("admin@example.com")
	e.adminID = userID("web-none", "admin@example.com")
	if _, err := e.auth.SetRole(ctx, e.adminID, "Admin"); err != nil {
		t.Fatal(err)
	}
	e.user = e.signupNone("user@example.com")
	e.userID = userID("web-none", "user@example.com")
	e.signupNone("other@example.com")
	e.other = userID("web-none", "other@example.com")
	want(t, e.post("/api/v1/signup", signupBody(e.two, "stranger@example.com")), 200)
	e.stranger = userID("web-two", "stranger@example.com")
	return e
}

// lastEvent returns the newest audit event of kind, failing without one.
func (e *adminEnv) lastEvent(kind string) ihoprauth.Event {
	e.t.Helper()
	events, err := e.auth.Events(context.Background(), time.Time{}, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Kind == kind {
			return ev
		}
	}
	e.t.Fatalf("no %q event", kind)
	return ihoprauth.Event{}
}

func TestAdminAPIAdmitsOnlyAdmins(t *testing.T) {
	e := newAdminEnv(t)
	paths := []struct{ method, path string }{
		{"GET", "/api/v1/admin/users"},
		{"GET", "/api/v1/admin/users/" + e.other},
		{"DELETE", "/api/v1/admin/users/" + e.other},
		{"POST", "/api/v1/admin/users/" + e.other + "/disable"},
		{"POST", "/api/v1/admin/users/" + e.other + "/logout"},
		{"GET", "/api/v1/admin/users/" + e.other + "/events"},
	}
	for _, p := range paths {
		want(t, e.do(p.method, p.path, "", nil), 401)
		want(t, e.do(p.method, p.path, "not-a-token", nil), 401)
		want(t, e.do(p.method, p.path, "ihoprauth_sk_not-a-key", nil), 401)
		want(t, e.do(p.method, p.path, e.user, nil), 403)
	}
	want(t, e.do("PUT", "/api/v1/admin/users/"+e.other+"/role", e.user, map[string]any{"role": "admin"}), 403)
	if r := e.lastEvent(ihoprauth.EventAdminRefused); r.Actor != e.userID || r.Result != "not an admin" {
		t.Errorf("refusal event: got actor %q, result %q; want the user and not an admin", r.Actor, r.Result)
	}
	// Nothing was done.
	u, err := e.auth.UserByUserID(context.Background(), e.other)
	if err != nil || u.Disabled() || u.Role != "user" {
		t.Fatalf("the other user after refused calls: got %+v, %v", u, err)
	}
	want(t, e.do("GET", "/api/v1/user", e.user, nil), 200)

	// An admin reaches only their own project.
	want(t, e.do("GET", "/api/v1/admin/users/"+e.stranger, e.admin, nil), 404)
	want(t, e.do("POST", "/api/v1/admin/users/"+e.stranger+"/disable", e.admin, nil), 404)
	want(t, e.do("GET", "/api/v1/admin/users?client_id=web-two", e.admin, nil), 403)
	want(t, e.do("GET", "/api/v1/admin/users?client_id=web-none", e.admin, nil), 200)
	want(t, e.do("DELETE", "/api/v1/admin/projects/web-none", e.admin, nil), 403)
	want(t, e.do("GET", "/api/v1/admin/users/no-such-user", e.admin, nil), 404)
	want(t, e.do("GET", "/api/v1/admin/nothing", e.admin, nil), 404)
	want(t, e.do("PATCH", "/api/v1/admin/users", e.admin, nil), 405)
}

func TestAdminAPIManagesUsers(t *testing.T) {
	e := newAdminEnv(t)
	t.Run("list", func(t *testing.T) {
		r := e.do("GET", "/api/v1/admin/users?limit=2", e.admin, nil)
		want(t, r, 200)
		users, _ := r.body["users"].([]any)
		if len(users) != 2 || r.str("next_cursor") == "" {
			t.Fatalf("first page: got %s, want 2 users and a cursor", r)
		}
		next := e.do("GET", "/api/v1/admin/users?limit=2&cursor="+url.QueryEscape(r.str("next_cursor")), e.admin, nil)
		want(t, next, 200)
		if users, _ := next.body["users"].([]any); len(users) != 1 || next.body["next_cursor"] != nil {
			t.Fatalf("last page: got %s, want the third user and no cursor", next)
		}
		if strings.Contains(r.raw+next.raw, "argon2") || strings.Contains(r.raw, "password") {
			t.Fatalf("a listing shows a password hash: %s", r.raw)
		}
		byEmail := e.do("GET", "/api/v1/admin/users?email_prefix=USER%40", e.admin, nil)
		if users, _ := byEmail.body["users"].([]any); len(users) != 1 || !strings.Contains(byEmail.raw, e.userID) {
			t.Fatalf("by email prefix: got %s, want the user only", byEmail)
		}
		want(t, e.do("GET", "/api/v1/admin/users?created_from=yesterday", e.admin, nil), 422)
		want(t, e.do("GET", "/api/v1/admin/users?limit=0", e.admin, nil), 422)
		want(t, e.do("GET", "/api/v1/admin/users?cursor=-1", e.admin, nil), 422)
		if ev := e.lastEvent(ihoprauth.EventAdminListed); ev.Actor != e.adminID {
			t.Errorf("listing event: got actor %q, want the admin %q", ev.Actor, e.adminID)
		}
	})
	t.Run("disable and enable", func(t *testing.T) {
		r := e.do("POST", "/api/v1/admin/users/"+e.userID+"/disable", e.admin, nil)
		want(t, r, 200)
		if r.obj("user")["disabled_at"] == nil {
			t.Fatalf("got %s, want disabled_at set", r)
		}
		want(t, e.do("GET", "/api/v1/user", e.user, nil), 401)
		want(t, e.loginWith(e.none, "user@example.com", goodPassword), 401)
		ev := e.lastEvent(ihoprauth.EventUserDisabled)
		if ev.UserID != e.userID || ev.Actor != e.adminID {
			t.Errorf("disable event: got user %q, actor %q; want %q by %q", ev.UserID, ev.Actor, e.userID, e.adminID)
		}
		r = e.do("POST", "/api/v1/admin/users/"+e.userID+"/enable", e.admin, nil)
		want(t, r, 200)
		if r.obj("user")["disabled_at"] != nil {
			t.Fatalf("got %s, want disabled_at null", r)
		}
		want(t, e.loginWith(e.none, "user@example.com", goodPassword), 200)
	})
	t.Run("role", func(t *testing.T) {
		want(t, e.do("PUT", "/api/v1/admin/users/"+e.other+"/role", e.admin, map[string]any{}), 422)
		r := e.do("PUT", "/api/v1/admin/users/"+e.other+"/role", e.admin, map[string]any{"role": "editor"})
		want(t, r, 200)
		if r.obj("user")["role"] != "editor" {
			t.Fatalf("got %s, want role editor", r)
		}
		if ev := e.lastEvent(ihoprauth.EventRoleChanged); ev.UserID != e.other || ev.Actor != e.adminID {
			t.Errorf("role event: got user %q, actor %q", ev.UserID, ev.Actor)
		}
	})
	t.Run("end logins", func(t *testing.T) {
		tok := e.exchange(e.none, e.loginWith(e.none, "other@example.com", goodPassword).str("code"), "").str("access_token")
		want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
		want(t, e.do("POST", "/api/v1/admin/users/"+e.other+"/logout", e.admin, nil), 200)
		want(t, e.do("GET", "/api/v1/user", tok, nil), 401)
	})
	t.Run("events", func(t *testing.T) {
		r := e.do("GET", "/api/v1/admin/users/"+e.other+"/events?limit=50", e.admin, nil)
		want(t, r, 200)
		events, _ := r.body["events"].([]any)
		kinds := map[string]string{}
		for _, ev := range events {
			m := ev.(map[string]any)
			kinds[m["kind"].(string)] = m["actor"].(string)
		}
		if actor, ok := kinds[ihoprauth.EventLoginsEnded]; !ok || actor != e.adminID {
			t.Errorf("events: got %v, want logins ended by the admin", kinds)
		}
		if _, ok := kinds[ihoprauth.EventSignup]; !ok {
			t.Errorf("events: got %v, want the signup", kinds)
		}
		want(t, e.do("GET", "/api/v1/admin/users/"+e.other+"/events?since=now", e.admin, nil), 422)
	})
	t.Run("delete", func(t *testing.T) {
		want(t, e.do("DELETE", "/api/v1/admin/users/"+e.other, e.admin, nil), 200)
		want(t, e.do("GET", "/api/v1/admin/users/"+e.other, e.admin, nil), 404)
		if _, err := e.auth.UserByUserID(context.Background(), e.other); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Fatalf("after the delete: got %v, want ErrNotFound", err)
		}
		if ev := e.lastEvent(ihoprauth.EventUserDeleted); ev.Actor != e.adminID || !strings.HasPrefix(ev.UserID, "deleted-") {
			t.Errorf("delete event: got user %q, actor %q", ev.UserID, ev.Actor)
		}
	})
	t.Run("a deleted admin leaves a pseudonym as the actor", func(t *testing.T) {
		if err := e.auth.DeleteUser(context.Background(), e.adminID); err != nil {
			t.Fatal(err)
		}
		events, err := e.auth.Events(context.Background(), time.Time{}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		acted := 0
		for _, ev := range events {
			if ev.Actor == e.adminID || ev.UserID == e.adminID {
				t.Fatalf("an event still names the deleted admin: %+v", ev)
			}
			if strings.HasPrefix(ev.Actor, "deleted-") {
				acted++
				if ev.IP != "" || ev.UserAgent != "" {
					t.Errorf("an event of the deleted admin keeps their address: %+v", ev)
				}
			}
		}
		if acted < 5 {
			t.Errorf("got %d events with the deleted admin's pseudonym as actor, want every change they made", acted)
		}
	})
}

func TestAdminAPIWithServerKeys(t *testing.T) {
	e := newAdminEnv(t)
	ctx := context.Background()
	if _, _, err := e.auth.CreateAPIKey(ctx, "back office", []string{"no-such-project"}); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Fatalf("a key for an unknown project: got %v, want ErrNotFound", err)
	}
	key, k, err := e.auth.CreateAPIKey(ctx, "back office", []string{"web-none"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "ihoprauth_sk_") || len(key) < 50 || strings.Contains(k.KeyHash, key) {
		t.Fatalf("got key %q (hash %q), want a long ihoprauth_sk_ key stored as a hash", key, k.KeyHash)
	}
	want(t, e.do("GET", "/api/v1/admin/users", key, nil), 422) // which project?
	want(t, e.do("GET", "/api/v1/admin/users?client_id=web-two", key, nil), 403)
	r := e.do("GET", "/api/v1/admin/users?client_id=web-none", key, nil)
	want(t, r, 200)
	if users, _ := r.body["users"].([]any); len(users) != 3 {
		t.Fatalf("got %s, want the 3 users of web-none", r)
	}
	want(t, e.do("POST", "/api/v1/admin/users/"+e.stranger+"/disable?client_id=web-none", key, nil), 404)
	want(t, e.do("POST", "/api/v1/admin/users/"+e.userID+"/disable?client_id=web-none", key, nil), 200)
	if ev := e.lastEvent(ihoprauth.EventUserDisabled); ev.Actor != "key:"+strconv.FormatInt(k.ID, 10) {
		t.Errorf("disable event: got actor %q, want the key", ev.Actor)
	}
	want(t, e.do("DELETE", "/api/v1/admin/projects/web-two", key, nil), 403)

	// A key for both projects deletes one of them.
	both, _, err := e.auth.CreateAPIKey(ctx, "erasure job", []string{"web-none", "web-two"})
	if err != nil {
		t.Fatal(err)
	}
	want(t, e.do("DELETE", "/api/v1/admin/projects/web-two", both, nil), 200)
	want(t, e.post("/api/v1/login", with(e.two, "email", "stranger@example.com", "password", goodPassword)), 401)
	if _, err := e.auth.UserByUserID(ctx, e.stranger); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Fatalf("a user of the deleted project: got %v, want ErrNotFound", err)
	}
	want(t, e.do("DELETE", "/api/v1/admin/projects/web-two", both, nil), 403) // the key left the project with it

	// A deleted key stops working at once.
	keys, err := e.auth.APIKeys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("APIKeys: got %v, %v", keys, err)
	}
	if err := e.auth.DeleteAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	want(t, e.do("GET", "/api/v1/admin/users?client_id=web-none", key, nil), 401)
	want(t, e.do("GET", "/api/v1/admin/users?client_id=web-none", both, nil), 200)
}

// TestAdminAPIReviewFixes covers what an attack review of the admin API
// found: cross-site reads with an admin's cookie, refusals counted under
// the wrong caller, keys that outlived their project, and events missing
// for a project's users and for keys.
func TestAdminAPIReviewFixes(t *testing.T) {
	t.Run("a cross-site read with the admin's cookie is refused", func(t *testing.T) {
		s := newSessionEnv(t)
		tok := s.signupNone("boss@example.com")
		u, _ := s.auth.UserByEmail(context.Background(), "web-none", "boss@example.com")
		if _, err := s.auth.SetRole(context.Background(), u.UserID, "admin"); err != nil {
			t.Fatal(err)
		}
		s.startSession(tok)
		if status, _ := s.visit("GET", "/api/v1/admin/users", "", http.Header{"Sec-Fetch-Site": {"cross-site"}}); status != 403 {
			t.Errorf("cross-site GET with the cookie: got %d, want 403", status)
		}
		if status, body := s.visit("GET", "/api/v1/admin/users", "", http.Header{"Sec-Fetch-Site": {"same-origin"}}); status != 200 {
			t.Errorf("same-origin GET with the cookie: got %d %s, want 200", status, body)
		}
	})
	t.Run("each refused caller is recorded under their own name", func(t *testing.T) {
		e := newAdminEnv(t)
		other := e.exchange(e.none, e.loginWith(e.none, "other@example.com", goodPassword).str("code"), "").str("access_token")
		want(t, e.do("GET", "/api/v1/admin/users", e.user, nil), 403)
		for range 3 {
			want(t, e.do("GET", "/api/v1/admin/users", other, nil), 403)
		}
		events, err := e.auth.Events(context.Background(), time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		actors := map[string]bool{}
		for _, ev := range events {
			if ev.Kind == ihoprauth.EventAdminRefused {
				actors[ev.Actor] = true
			}
		}
		if !actors[e.userID] || !actors[e.other] {
			t.Errorf("refusal events by actor: got %v, want one for each of %s and %s", actors, e.userID, e.other)
		}
	})
	t.Run("a deleted project leaves its keys", func(t *testing.T) {
		e := newAdminEnv(t)
		ctx := context.Background()
		only, _, _ := e.auth.CreateAPIKey(ctx, "web-two only", []string{"web-two"})
		both, bothKey, _ := e.auth.CreateAPIKey(ctx, "both", []string{"web-none", "web-two"})
		want(t, e.do("DELETE", "/api/v1/admin/projects/web-two", only, nil), 200)
		// A new project under the old client_id is a new tenant.
		e.project(ihoprauth.TypeTwoStep, "web-two", "another-secret-0123456789", false)
		want(t, e.do("GET", "/api/v1/admin/users?client_id=web-two", only, nil), 401)
		want(t, e.do("GET", "/api/v1/admin/users?client_id=web-two", both, nil), 403)
		want(t, e.do("GET", "/api/v1/admin/users?client_id=web-none", both, nil), 200)
		keys, _ := e.auth.APIKeys(ctx)
		if len(keys) != 1 || keys[0].ID != bothKey.ID || !slices.Equal(keys[0].ClientIDs, []string{"web-none"}) {
			t.Errorf("keys after the delete: got %+v, want only %q for web-none", keys, "both")
		}
		deleted, created, keyDeleted := 0, 0, 0
		events, _ := e.auth.Events(ctx, time.Time{}, 1000)
		for _, ev := range events {
			switch ev.Kind {
			case ihoprauth.EventUserDeleted:
				deleted++
			case ihoprauth.EventAPIKeyCreated:
				created++
			case ihoprauth.EventAPIKeyDeleted:
				keyDeleted++
			}
		}
		if deleted != 1 || created != 2 || keyDeleted != 1 {
			t.Errorf("events: %d user deleted (want 1, the stranger), %d keys created (want 2), %d deleted (want 1)",
				deleted, created, keyDeleted)
		}
	})
}
