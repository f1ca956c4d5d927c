package ihoprauth_test

import (
	"context"
	"maps"
	"sync"
	"testing"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/store"
	"gorm.io/gorm"
)

// TestTwoInstancesShareOneDatabase runs two Auths, each with its own Store
// and connection pool, on one database, as two app instances behind a load
// balancer would: all they share is the database. On Galera the two are
// on different nodes of the cluster (testdb.Reopen).
func TestTwoInstancesShareOneDatabase(t *testing.T) {
	for _, backend := range testdb.All() {
		t.Run(backend, func(t *testing.T) {
			db := testdb.Open(t, backend)
			a := newEnvOn(t, db, nil)
			b := newEnvOn(t, testdb.Reopen(t, db), a.mail)
			testTwoInstances(t, a, b)
		})
	}
}

// newEnvOn is an env on an existing database, sending mail to rec (a new
// Recorder when nil); it saves the projects again, as every instance of an
// app does at start. On "pgreplica" its Store reads db's replica.
func newEnvOn(t *testing.T, db *gorm.DB, rec *mailer.Recorder) *env {
	t.Helper()
	st, err := store.New(context.Background(), db, store.Config{Replicas: testdb.Replicas(t, db)})
	if err != nil {
		t.Fatal(err)
	}
	e := buildEnv(t, st, rec)
	e.db = db
	return e
}

func testTwoInstances(t *testing.T, a, b *env) {
	t.Run("a token issued by A works on B", func(t *testing.T) {
		tok := a.signupNone("ab@example.com")
		want(t, b.do("GET", "/api/v1/user", tok, nil), 200)
		t.Run("logout on A ends it on B", func(t *testing.T) {
			want(t, a.do("POST", "/api/v1/logout", tok, nil), 200)
			b.poll() // what B's background reads do within 250 ms
			want(t, b.do("GET", "/api/v1/user", tok, nil), 401)
		})
	})
	t.Run("a reset on A ends tokens on B", func(t *testing.T) {
		tok := b.signupNone("reset-ab@example.com")
		r := a.post("/api/v1/send-reset-password-code", with(a.none, "email", "reset-ab@example.com"))
		want(t, a.post("/api/v1/reset-password", map[string]any{"reset_password_code": a.mailedCode("reset-ab@example.com"),
			"reset_password_token": r.str("reset_password_token"), "password": "A brand new passphrase"}), 200)
		b.poll()
		want(t, b.do("GET", "/api/v1/user", tok, nil), 401)
	})
	t.Run("a code mailed by A is accepted by B", func(t *testing.T) {
		r := a.post("/api/v1/signup", signupBody(a.otp, "code-ab@example.com"))
		v := b.post("/api/v1/otp-code", map[string]any{"otp_code": a.mailedCode("code-ab@example.com"), "otp_token": r.str("otp_token")})
		want(t, v, 200)
		b.exchange(b.otp, v.str("code"), "")
	})
	t.Run("20 concurrent redemptions across A and B", func(t *testing.T) {
		r := a.post("/api/v1/signup", signupBody(a.otp, "race-ab@example.com"))
		body := map[string]any{"otp_code": a.mailedCode("race-ab@example.com"), "otp_token": r.str("otp_token")}
		raceAcross(t, a, b, func(e *env) resp { return e.post("/api/v1/otp-code", body) })
	})
	t.Run("20 concurrent exchanges of one code across A and B", func(t *testing.T) {
		r := a.post("/api/v1/signup", signupBody(a.none, "exchange-ab@example.com"))
		want(t, r, 200)
		raceAcross(t, a, b, func(e *env) resp {
			return e.post("/api/v1/api-tauth-token", with(e.none, "code", r.str("code")))
		})
	})
	t.Run("one refresh token used 20 times at once across A and B", func(t *testing.T) {
		r := b.post("/api/v1/signup", signupBody(b.none, "refresh-ab@example.com"))
		rt := b.exchange(b.none, r.str("code"), "").str("refresh_token")
		raceAcross(t, a, b, func(e *env) resp {
			return e.post("/api/v1/refresh-token", with(e.none, "refresh_token", rt))
		})
	})
	t.Run("throttles are shared", func(t *testing.T) {
		for i := range 5 {
			e := []*env{a, b}[i%2]
			want(t, e.loginWith(e.none, "shared-lock@example.com", "wrong password"), 401)
		}
		want(t, a.loginWith(a.none, "shared-lock@example.com", "wrong password"), 429)
		want(t, b.loginWith(b.none, "shared-lock@example.com", "wrong password"), 429)
	})
	t.Run("a project changed on A is seen on B through the feed", func(t *testing.T) {
		old := a.project(ihoprauth.TypeNone, "rotating", "old-secret-0123456789", false)
		// B reads the project, and keeps it in its project cache.
		want(t, b.post("/api/v1/signup", signupBody(old, "rotating-1@example.com")), 200)
		renewed := a.project(ihoprauth.TypeNone, "rotating", "new-secret-0123456789", false)
		// A, which changed it, drops its own cache at once.
		want(t, a.post("/api/v1/signup", signupBody(old, "rotating-2@example.com")), 401)
		b.poll() // what B's background reads do within 250 ms
		want(t, b.post("/api/v1/signup", signupBody(old, "rotating-3@example.com")), 401)
		want(t, b.post("/api/v1/signup", signupBody(renewed, "rotating-4@example.com")), 200)
		if err := a.auth.DeleteProject(context.Background(), "rotating"); err != nil {
			t.Fatal(err)
		}
		b.poll()
		want(t, b.post("/api/v1/signup", signupBody(renewed, "rotating-5@example.com")), 401)
	})
	t.Run("both use one key", func(t *testing.T) {
		u, err := b.auth.UserByEmail(context.Background(), "web-none", "ab@example.com")
		if err != nil || u.Email != "ab@example.com" {
			t.Fatalf("got %v, %v; want B to see A's user", u, err)
		}
	})
}

// raceAcross sends 20 requests of f at once, half through a and half
// through b, and checks that exactly one succeeds and every other is
// refused with 401: single use holds across instances (and across the
// nodes of a cluster), and a conflict between their transactions is
// neither a 500 nor a 503.
func raceAcross(t *testing.T, a, b *env, f func(e *env) resp) {
	t.Helper()
	const n = 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		gate     = make(chan struct{})
	)
	for i := range n {
		e := []*env{a, b}[i%2]
		wg.Go(func() {
			<-gate
			r := f(e)
			mu.Lock()
			defer mu.Unlock()
			statuses[r.status]++
			if r.status != 200 && r.status != 401 {
				t.Errorf("got %s, want 200 or 401", r)
			}
		})
	}
	close(gate)
	wg.Wait()
	if want := map[int]int{200: 1, 401: n - 1}; !maps.Equal(statuses, want) {
		t.Errorf("answers by status: got %v, want %v", statuses, want)
		for _, err := range append(a.errs.all(), b.errs.all()...) {
			t.Logf("OnError: %v", err)
		}
	}
}
