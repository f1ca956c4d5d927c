package ihoprauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/argon2id"
	"github.com/ihoprauth/ihoprauth/internal/memmetrics"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
)

// The endpoint benchmarks drive Auth.ServeHTTP with httptest.NewRecorder (no
// network) on a real SQLite store in b.TempDir(). Every request carries
// valid credentials, so no throttle fires (docs/design.md, D15). Items that a
// request consumes (auth codes, emailed codes, tokens) are made for all b.N
// iterations before the timer starts.

var (
	// prodArgon2 is the zero value: New applies the production default,
	// m=19456 KiB, t=2, p=1.
	prodArgon2 = ihoprauth.Argon2Params{}
	// cheapArgon2 makes the hash nearly free, so what is left is the
	// overhead around it.
	cheapArgon2 = ihoprauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}
)

// benchEnv is an Auth on a fresh SQLite file with a project of each type.
type benchEnv struct {
	b      *testing.B
	auth   *ihoprauth.Auth
	st     *store.Store
	mail   *codeMailer
	errs   atomic.Int64
	none   map[string]any
	two    map[string]any
	otp    map[string]any
	emails atomic.Int64
	calls  atomic.Int64
}

func newBenchEnv(b *testing.B, argon ihoprauth.Argon2Params, tweak ...func(*ihoprauth.Config)) *benchEnv {
	b.Helper()
	return newBenchEnvOn(b, testdb.SQLite, argon, tweak...)
}

// newBenchEnvOn is newBenchEnv on a fresh database of backend (see
// package testdb).
func newBenchEnvOn(b *testing.B, backend string, argon ihoprauth.Argon2Params, tweak ...func(*ihoprauth.Config)) *benchEnv {
	b.Helper()
	st, err := store.New(context.Background(), testdb.Open(b, backend), store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEnv{b: b, st: st, mail: &codeMailer{boxes: map[string]chan string{}}}
	cfg := ihoprauth.Config{
		Argon2:       argon,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnError:      func(context.Context, error) { e.errs.Add(1) },
		MailAttempts: 1,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	if e.auth, err = ihoprauth.New(context.Background(), st, e.mail, cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		e.auth.Close(context.Background())
		if n := e.errs.Load(); n > 0 {
			b.Errorf("got %d errors reported to OnError, want none", n)
		}
	})
	e.none = e.saveProject(ihoprauth.TypeNone, "bench-none")
	e.two = e.saveProject(ihoprauth.TypeTwoStep, "bench-two")
	e.otp = e.saveProject(ihoprauth.TypeOTP, "bench-otp")
	return e
}

func (e *benchEnv) saveProject(typ ihoprauth.ProjectType, id string) map[string]any {
	e.b.Helper()
	secret := id + "-secret-0123456789"
	spec := ihoprauth.ProjectSpec{ClientID: id, ClientSecret: secret, Type: typ}
	if _, err := e.auth.SaveProject(context.Background(), spec); err != nil {
		e.b.Fatal(err)
	}
	return map[string]any{"client_id": id, "client_secret": secret}
}

// newEmail returns an address no earlier call returned.
func (e *benchEnv) newEmail() string {
	return fmt.Sprintf("user%d@example.com", e.emails.Add(1))
}

// call sends one request through ServeHTTP and returns the answer's JSON,
// failing the benchmark unless it is a 200. body is sent as JSON. Each
// call comes from the next address of 198.18.0.0/15 (RFC 2544's range for
// benchmarks), as requests of many users would, so the per-address cap on
// code mails (Config.CodeMailsPerIPPerHour) counts each user's own.
func (e *benchEnv) call(method, path, token string, body []byte) []byte {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	n := e.calls.Add(1)
	req.RemoteAddr = fmt.Sprintf("198.%d.%d.%d:1234", 18+n>>16&1, n>>8&255, n&255)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	e.auth.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		e.b.Fatalf("%s %s: got %d %s, want 200", method, path, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// field calls and returns the string field name of the answer.
func (e *benchEnv) field(name, method, path, token string, body []byte) string {
	var answer map[string]any
	if err := json.Unmarshal(e.call(method, path, token, body), &answer); err != nil {
		e.b.Fatal(err)
	}
	s, _ := answer[name].(string)
	if s == "" {
		e.b.Fatalf("%s %s: got no %s in the answer", method, path, name)
	}
	return s
}

// signup signs a new user up in the none project and returns its email.
func (e *benchEnv) signup() string {
	email := e.newEmail()
	e.call("POST", "/api/v1/signup", "", mustJSON(e.b, signupBody(e.none, email)))
	return email
}

// login logs email in to the none project and returns the auth code.
func (e *benchEnv) login(email string) string {
	body := mustJSON(e.b, with(e.none, "email", email, "password", goodPassword))
	return e.field("code", "POST", "/api/v1/login", "", body)
}

// tokens exchanges an auth code of the none project for its token pair.
func (e *benchEnv) tokens(code string) (access, refresh string) {
	var answer struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	raw := e.call("POST", "/api/v1/api-tauth-token", "", mustJSON(e.b, with(e.none, "code", code)))
	if err := json.Unmarshal(raw, &answer); err != nil || answer.AccessToken == "" {
		e.b.Fatalf("api-tauth-token: got %s, want tokens", raw)
	}
	return answer.AccessToken, answer.RefreshToken
}

func mustJSON(b *testing.B, v any) []byte {
	b.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// codeMailer keeps the code of every code mail, by recipient.
type codeMailer struct {
	mu    sync.Mutex
	boxes map[string]chan string
	// discard drops every mail, for benchmarks that read no code, after
	// waiting a millisecond as a send to an SMTP server on the network
	// would (waiting, not computing); set it before the first request.
	discard bool
}

func (m *codeMailer) Send(_ context.Context, msg ihoprauth.Message) error {
	if m.discard {
		time.Sleep(time.Millisecond)
		return nil
	}
	switch msg.Kind {
	case ihoprauth.MailOTP, ihoprauth.MailTwoStep, ihoprauth.MailReset:
		m.box(msg.To) <- sixDigits.FindString(msg.Text)
	}
	return nil
}

func (m *codeMailer) box(to string) chan string {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := strings.ToLower(to)
	if m.boxes[key] == nil {
		m.boxes[key] = make(chan string, 8)
	}
	return m.boxes[key]
}

// code waits for the next code mailed to to.
func (m *codeMailer) code(b *testing.B, to string) string {
	b.Helper()
	select {
	case c := <-m.box(to):
		return c
	case <-time.After(10 * time.Second):
		b.Fatalf("no code mailed to %s", to)
		return ""
	}
}

// eachPrepared runs prep for all b.N iterations, then times run over them.
func eachPrepared[T any](b *testing.B, prep func() T, run func(T)) {
	b.Helper()
	items := make([]T, b.N)
	for i := range items {
		items[i] = prep()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, it := range items {
		run(it)
	}
}

// BenchmarkArgon2id is one production password hash alone, the floor of
// login and signup.
func BenchmarkArgon2id(b *testing.B) {
	salt := bytes.Repeat([]byte{1}, 16)
	b.ReportAllocs()
	for b.Loop() {
		argon2.IDKey([]byte(goodPassword), salt, 2, 19456, 1, 32)
	}
}

// BenchmarkArgon2idParallel runs bare production hashes (x/crypto's
// argon2.IDKey, no ihoprauth around them) n at once, for n the default of
// MaxConcurrentHashes (one fewer than GOMAXPROCS, at least one) and, where
// it differs, GOMAXPROCS (every CPU hashing): its ns/op is the inverse of
// the hashes per second at that concurrency, the ceiling of logins with it
// (BENCHMARKS.md compares the logins of the example with it).
func BenchmarkArgon2idParallel(b *testing.B) {
	salt := bytes.Repeat([]byte{1}, 16)
	benchHashes(b, func() { argon2.IDKey([]byte(goodPassword), salt, 2, 19456, 1, 32) })
}

// BenchmarkArgon2idKeptParallel is BenchmarkArgon2idParallel with the
// default engine, Argon2Kept: ihoprauth's own argon2id, its memory kept
// between hashes (internal/argon2id). It is the ceiling of logins with
// that engine, as BenchmarkArgon2idParallel is with Argon2XCrypto.
func BenchmarkArgon2idKeptParallel(b *testing.B) {
	salt := bytes.Repeat([]byte{1}, 16)
	m := argon2id.NewMemory(runtime.GOMAXPROCS(0), 19456, time.Minute)
	benchHashes(b, func() { m.Key([]byte(goodPassword), salt, 2, 19456, 1, 32) })
}

// benchHashes runs hash n at once, as BenchmarkArgon2idParallel says.
func benchHashes(b *testing.B, hash func()) {
	for _, n := range slices.Compact([]int{ihoprauth.DefaultHashConcurrency(), runtime.GOMAXPROCS(0)}) {
		b.Run(fmt.Sprintf("hashes=%d", n), func(b *testing.B) {
			var next atomic.Int64
			b.ReportAllocs()
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						hash()
					}
				})
			}
			wg.Wait()
		})
	}
}

// BenchmarkLogin is POST /login of a none project, answered with an auth
// code, with the production and with cheap argon2id parameters; parallel
// runs GOMAXPROCS logins at once (its ns/op is the inverse of throughput).
func BenchmarkLogin(b *testing.B) {
	for _, c := range []struct {
		name  string
		argon ihoprauth.Argon2Params
	}{{"argon2id=prod", prodArgon2}, {"argon2id=cheap", cheapArgon2}} {
		b.Run(c.name, func(b *testing.B) {
			e := newBenchEnv(b, c.argon)
			body := mustJSON(b, with(e.none, "email", e.signup(), "password", goodPassword))
			b.ReportAllocs()
			for b.Loop() {
				e.call("POST", "/api/v1/login", "", body)
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			e := newBenchEnv(b, c.argon)
			body := mustJSON(b, with(e.none, "email", e.signup(), "password", goodPassword))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					req := httptest.NewRequest("POST", "/api/v1/login", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					e.auth.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Errorf("login: got %d %s, want 200", rec.Code, rec.Body)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSignup is POST /signup of a new user in a none project.
func BenchmarkSignup(b *testing.B) {
	for _, c := range []struct {
		name  string
		argon ihoprauth.Argon2Params
	}{{"argon2id=prod", prodArgon2}, {"argon2id=cheap", cheapArgon2}} {
		b.Run(c.name, func(b *testing.B) {
			e := newBenchEnv(b, c.argon)
			eachPrepared(b, func() []byte { return mustJSON(b, signupBody(e.none, e.newEmail())) },
				func(body []byte) { e.call("POST", "/api/v1/signup", "", body) })
		})
	}
}

// BenchmarkSQLiteDrivers is a signup, a login and a bearer-checked GET
// /user (token cache off) of a none project, with cheap argon2id
// parameters so that the database's share shows, on each SQLite driver:
// "sqlite" is store/sqlite (mattn/go-sqlite3, cgo), "puresqlite" is
// store/puresqlite (modernc, pure Go). go test -count repeats each
// sub-benchmark back to back; BENCHMARKS.md runs the test binary -count 1
// in a loop instead, so that the two take turns and the machine's noise
// falls on both alike.
func BenchmarkSQLiteDrivers(b *testing.B) {
	for _, backend := range []string{testdb.SQLite, testdb.PureSQLite} {
		b.Run(backend+"/signup", func(b *testing.B) {
			e := newBenchEnvOn(b, backend, cheapArgon2)
			eachPrepared(b, func() []byte { return mustJSON(b, signupBody(e.none, e.newEmail())) },
				func(body []byte) { e.call("POST", "/api/v1/signup", "", body) })
		})
		b.Run(backend+"/login", func(b *testing.B) {
			e := newBenchEnvOn(b, backend, cheapArgon2)
			body := mustJSON(b, with(e.none, "email", e.signup(), "password", goodPassword))
			b.ReportAllocs()
			for b.Loop() {
				e.call("POST", "/api/v1/login", "", body)
			}
		})
		b.Run(backend+"/user", func(b *testing.B) {
			e := newBenchEnvOn(b, backend, cheapArgon2, func(c *ihoprauth.Config) { c.TokenCacheTTL = -1 })
			access, _ := e.tokens(e.login(e.signup()))
			b.ReportAllocs()
			for b.Loop() {
				e.call("GET", "/api/v1/user", access, nil)
			}
		})
	}
}

// BenchmarkEndpoint is every other endpoint, with cheap argon2id parameters
// where one hashes.
func BenchmarkEndpoint(b *testing.B) {
	b.Run("api-tauth-token", benchToken)
	b.Run("two-step-auth-code", func(b *testing.B) { benchLoginCode(b, "two", "two-step-auth-code") })
	b.Run("otp-code", func(b *testing.B) { benchLoginCode(b, "otp", "otp-code") })
	b.Run("send-reset-password-code", benchSendReset)
	b.Run("reset-password", benchReset)
	// GET /user without the token cache, with the default one, and with it
	// and the example's metrics; named apart, so that -bench selects one.
	b.Run("user-uncached", func(b *testing.B) { benchGetUser(b, -1) })
	b.Run("user-cached", func(b *testing.B) { benchGetUser(b, 0) })
	b.Run("user-cached-metrics", func(b *testing.B) {
		benchGetUser(b, 0, func(c *ihoprauth.Config) { c.MeterProvider = memmetrics.New() })
	})
	b.Run("user/update", benchUpdate)
	b.Run("user/update/role", benchUpdateRole)
	b.Run("refresh-token", benchRefresh)
	b.Run("logout", benchLogout)
}

func benchToken(b *testing.B) {
	e := newBenchEnv(b, cheapArgon2)
	email := e.signup()
	eachPrepared(b, func() []byte { return mustJSON(b, with(e.none, "code", e.login(email))) },
		func(body []byte) { e.call("POST", "/api/v1/api-tauth-token", "", body) })
}

// benchLoginCode redeems the code mailed at signup in a two-step or otp
// project.
func benchLoginCode(b *testing.B, project, path string) {
	e := newBenchEnv(b, cheapArgon2)
	creds, codeField, tokenField := e.two, "two_step_auth_code", "two_step_auth_token"
	if project == "otp" {
		creds, codeField, tokenField = e.otp, "otp_code", "otp_token"
	}
	eachPrepared(b, func() []byte {
		email := e.newEmail()
		token := e.field(tokenField, "POST", "/api/v1/signup", "", mustJSON(b, signupBody(creds, email)))
		return mustJSON(b, map[string]any{codeField: e.mail.code(b, email), tokenField: token})
	}, func(body []byte) { e.call("POST", "/api/v1/"+path, "", body) })
}

func benchSendReset(b *testing.B) {
	e := newBenchEnv(b, cheapArgon2)
	eachPrepared(b, func() []byte { return mustJSON(b, with(e.none, "email", e.signup())) },
		func(body []byte) { e.call("POST", "/api/v1/send-reset-password-code", "", body) })
}

func benchReset(b *testing.B) {
	e := newBenchEnv(b, cheapArgon2)
	eachPrepared(b, func() []byte {
		email := e.signup()
		token := e.field("reset_password_token", "POST", "/api/v1/send-reset-password-code", "",
			mustJSON(b, with(e.none, "email", email)))
		return mustJSON(b, map[string]any{"reset_password_token": token,
			"reset_password_code": e.mail.code(b, email), "password": "Another horse battery 10"})
	}, func(body []byte) { e.call("POST", "/api/v1/reset-password", "", body) })
}

// benchGetUser is GET /user, without the token cache (ttl -1) or with the
// default one (ttl 0, docs/design.md D32: on by default).
// With tweaks, such as the example's in-memory metrics, on top.
func benchGetUser(b *testing.B, ttl time.Duration, tweaks ...func(*ihoprauth.Config)) {
	e := newBenchEnv(b, cheapArgon2, append(tweaks, func(c *ihoprauth.Config) { c.TokenCacheTTL = ttl })...)
	access, _ := e.tokens(e.login(e.signup()))
	b.ReportAllocs()
	for b.Loop() {
		e.call("GET", "/api/v1/user", access, nil)
	}
}

// benchUpdate changes first_name back and forth, so every call writes.
func benchUpdate(b *testing.B) {
	benchToggle(b, "/api/v1/user/update", `{"first_name":"Augusta"}`, `{"first_name":"Ada"}`)
}

// benchUpdateRole changes the role back and forth under a policy that
// allows it, so every call writes.
func benchUpdateRole(b *testing.B) {
	benchToggle(b, "/api/v1/user/update/role", `{"role":"editor"}`, `{"role":"user"}`, func(c *ihoprauth.Config) {
		c.RolePolicy = func(context.Context, ihoprauth.User, string) bool { return true }
	})
}

// benchToggle PUTs the two bodies to path in turn as one signed-in user.
func benchToggle(b *testing.B, path, first, second string, tweak ...func(*ihoprauth.Config)) {
	e := newBenchEnv(b, cheapArgon2, tweak...)
	access, _ := e.tokens(e.login(e.signup()))
	bodies := [][]byte{[]byte(first), []byte(second)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.call("PUT", path, access, bodies[i%2])
		i++
	}
}

// benchRefresh rotates one refresh token after another; the time includes
// decoding each answer for the next refresh token.
func benchRefresh(b *testing.B) {
	e := newBenchEnv(b, cheapArgon2)
	_, refresh := e.tokens(e.login(e.signup()))
	b.ReportAllocs()
	for b.Loop() {
		refresh = e.field("refresh_token", "POST", "/api/v1/refresh-token", "",
			mustJSON(b, with(e.none, "refresh_token", refresh)))
	}
}

func benchLogout(b *testing.B) {
	e := newBenchEnv(b, cheapArgon2)
	email := e.signup()
	eachPrepared(b, func() string { access, _ := e.tokens(e.login(email)); return access },
		func(access string) { e.call("POST", "/api/v1/logout", access, nil) })
}

// BenchmarkWebAuthnAssertion is the cost of checking one passkey assertion
// without the database (issue 13): parsing the browser's JSON, the checks
// of go-webauthn (client data, relying party, flags) with its ECDSA P-256
// signature verify, and the counter check. A login with it adds the reads
// of the ceremony and the passkeys and the conditional UPDATE of the
// counter, like a mailed code's redemption.
func BenchmarkWebAuthnAssertion(b *testing.B) {
	auth := newBenchEnv(b, cheapArgon2, func(c *ihoprauth.Config) {
		c.Passkeys = ihoprauth.PasskeyRP{ID: testRPID, Origins: []string{testOrigin}}
	}).auth
	k := newSoftKey(b)
	k.userHandle = []byte("0123456789abcdef0123456789abcdef")
	u := ihoprauth.User{ID: 1, UserID: string(k.userHandle), Email: "bench@example.com"}
	keys := []ihoprauth.Passkey{{ID: 1, UserID: 1, CredentialID: k.credID, PublicKey: k.publicKey(),
		BackupEligible: true, BackupState: true}}
	const ceremony = "ceremony token hash"
	options := map[string]any{"publicKey": map[string]any{"challenge": ihoprauth.CeremonyChallenge(auth, ceremony)}}
	assertion, err := json.Marshal(k.get(options))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := ihoprauth.CheckAssertion(auth, u, keys, ceremony, assertion); !ok || err != nil {
			b.Fatalf("got %v, %v, want a valid assertion", ok, err)
		}
	}
}
