package ihoprauth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/store"
	"gorm.io/gorm"
)

const goodPassword = "Correct horse battery 9"

// clock is an injected time source that only moves when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one Auth on a fresh SQLite file, served over httptest, with the
// three project types and a recording mailer.
type env struct {
	t     *testing.T
	auth  *ihoprauth.Auth
	srv   *httptest.Server
	mail  *mailer.Recorder
	clock *clock
	errs  *errorLog
	db    *gorm.DB
	// header is added to every request the env sends.
	header http.Header
	none   map[string]any
	two    map[string]any
	otp    map[string]any
	public map[string]any
}

// errorLog collects what reaches Config.OnError.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) add(_ context.Context, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// newEnv builds an env on a fresh database; tweak may change the Config
// before New.
func newEnv(t *testing.T, tweak ...func(*ihoprauth.Config)) *env {
	t.Helper()
	db, st := openStore(t)
	e := buildEnv(t, st, nil, tweak...)
	e.db = db
	return e
}

// buildEnv serves an Auth on st over httptest, mailing to rec (a new
// Recorder when nil), with the test projects saved.
func buildEnv(t *testing.T, st ihoprauth.Store, rec *mailer.Recorder, tweak ...func(*ihoprauth.Config)) *env {
	t.Helper()
	if rec == nil {
		rec = &mailer.Recorder{}
	}
	e := &env{t: t, mail: rec, clock: &clock{now: time.Date(2026, 3, 17, 11, 43, 58, 123456000, time.UTC)},
		errs: &errorLog{}}
	cfg := ihoprauth.Config{
		Argon2: ihoprauth.Argon2Params{Memory: 64, Time: 1, Threads: 1},
		Now:    e.clock.Now, OnError: e.errs.add, MailAttempts: 1,
		Logger: e.quietLogger(),
		// Every test client is 127.0.0.1; tests of the signup limit set
		// it back to the default (0).
		SignupsPerSourcePerHour: 1000,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	// The change feed is read when a test says so (e.poll), not by a
	// ticker, so that what a cache knows does not depend on timing.
	auth, err := ihoprauth.NewPolled(context.Background(), st, e.mail, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.auth = auth
	t.Cleanup(func() { e.auth.Close(context.Background()) })
	e.none = e.project(ihoprauth.TypeNone, "web-none", "none-secret-0123456789", false)
	e.two = e.project(ihoprauth.TypeTwoStep, "web-two", "two-secret-0123456789", false)
	e.otp = e.project(ihoprauth.TypeOTP, "web-otp", "otp-secret-0123456789", false)
	e.public = e.project(ihoprauth.TypeNone, "spa", "", true)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", e.auth)
	mux.Handle("GET /hello", authmw.RequireUser(e.auth)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := authmw.UserFrom(r.Context())
		io.WriteString(w, "hello "+u.Email)
	})))
	mux.Handle("GET /admin", authmw.RequireRole(e.auth, "admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "admin area")
	})))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// openStore opens a fresh, empty store for one test, on the backend that
// IHOPRAUTH_TEST_BACKEND names (SQLite by default; see internal/testdb).
func openStore(t *testing.T) (*gorm.DB, *store.Store) {
	t.Helper()
	db := testdb.Open(t, testdb.Backend())
	st, err := store.New(context.Background(), db, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return db, st
}

func newStoreForTest(t *testing.T) *store.Store {
	_, st := openStore(t)
	return st
}

func (e *env) quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (e *env) project(typ ihoprauth.ProjectType, id, secret string, public bool) map[string]any {
	e.t.Helper()
	_, err := e.auth.SaveProject(context.Background(), ihoprauth.ProjectSpec{ClientID: id, ClientSecret: secret, Type: typ, Public: public})
	if err != nil {
		e.t.Fatal(err)
	}
	creds := map[string]any{"client_id": id}
	if secret != "" {
		creds["client_secret"] = secret
	}
	return creds
}

// resp is an answer as a client sees it.
type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r resp) str(k string) string { s, _ := r.body[k].(string); return s }

func (r resp) obj(k string) map[string]any { m, _ := r.body[k].(map[string]any); return m }

func (r resp) String() string { return strconv.Itoa(r.status) + " " + r.raw }

func (e *env) post(path string, body any) resp { return e.do("POST", path, "", body) }

func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	return e.doWith(e.header, method, path, token, body)
}

// doWith is do with the extra request headers hdr instead of e.header, for
// requests sent concurrently from different clients.
func (e *env) doWith(hdr http.Header, method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(raw), "application/json"
	}
	return e.sendWith(hdr, method, path, token, ctype, rd)
}

func (e *env) send(method, path, token, ctype string, body io.Reader) resp {
	e.t.Helper()
	return e.sendWith(e.header, method, path, token, ctype, body)
}

func (e *env) sendWith(hdr http.Header, method, path, token, ctype string, body io.Reader) resp {
	e.t.Helper()
	var sent []byte
	if body != nil {
		sent, _ = io.ReadAll(body)
		body = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	checkOpenAPI(e.t, req, sent, res, raw)
	r := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	json.Unmarshal(raw, &r.body)
	return r
}

// with copies base and sets the key/value pairs kv.
func with(base map[string]any, kv ...any) map[string]any {
	m := map[string]any{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func signupBody(project map[string]any, email string, kv ...any) map[string]any {
	m := with(project, "email", email, "password", goodPassword, "first_name", "Ada",
		"last_name", "Lovelace", "mobile_number", 11223344)
	return with(m, kv...)
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// mailedCode waits for the next mail to to and returns the code in it.
func (e *env) mailedCode(to string) string {
	e.t.Helper()
	msg := e.awaitMail(to)
	code := sixDigits.FindString(msg.Text)
	if code == "" {
		e.t.Fatalf("no code in the %s mail to %s: %q", msg.Kind, to, msg.Text)
	}
	return code
}

func (e *env) awaitMail(to string) ihoprauth.Message {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := e.mail.Await(ctx, to)
	if err != nil {
		e.t.Fatalf("no mail to %s: %v", to, err)
	}
	return msg
}

// mailsTo counts the mails sent to exactly the address to (byte for byte)
// once the queue has drained.
func (e *env) mailsTo(to string) int {
	e.auth.Close(context.Background())
	n := 0
	for _, m := range e.mail.Messages() {
		if m.To == to {
			n++
		}
	}
	return n
}

// want fails the test unless r has the status, reporting the body.
func want(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %s, want status %d", r, status)
	}
}

// signupNone signs up in the none project and returns an access token.
func (e *env) signupNone(email string) string {
	e.t.Helper()
	r := e.post("/api/v1/signup", signupBody(e.none, email))
	want(e.t, r, 200)
	return e.exchange(e.none, r.str("code"), "").str("access_token")
}

// exchange trades code for tokens and checks the answer's shape.
func (e *env) exchange(project map[string]any, code, verifier string) resp {
	e.t.Helper()
	body := with(project, "code", code)
	if verifier != "" {
		body["code_verifier"] = verifier
	}
	r := e.post("/api/v1/api-tauth-token", body)
	want(e.t, r, 200)
	return r
}

// pkcePair returns a verifier and its S256 challenge.
func pkcePair(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 43/len(seed)+1)[:43]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// poll reads the change feed of e's Auth once, as its background reads
// would within 250 ms.
func (e *env) poll() {
	e.t.Helper()
	if err := ihoprauth.PollFeed(context.Background(), e.auth); err != nil {
		e.t.Fatal(err)
	}
}
