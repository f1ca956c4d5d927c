package ihoprauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
)

// Equal time (docs/design.md, D29): for an email with no account, every
// endpoint that takes an email does the same work as for one with an
// account, imported bcrypt accounts included. The test asserts the work,
// not the wall time: the same database statements, the same mail renders
// and password hashes of the same algorithm and cost. BenchmarkEqualTime
// prints the times.

// work is what one request made the server do.
type work struct {
	statements []string // table and operation of each statement, sorted
	renders    int64
	hashes     []string // algorithm and cost of each hash, sorted
}

func (w work) String() string {
	return fmt.Sprintf("statements %v, renders %d, hashes %v", w.statements, w.renders, w.hashes)
}

// workLog records the work of an env's requests.
type workLog struct {
	mu         sync.Mutex
	statements []string
	hashes     []string
}

// recordWork registers GORM callbacks on db that log each statement's
// table and operation, and traces the Auth's hashes.
func recordWork(t *testing.T, db *gorm.DB, auth *ihoprauth.Auth) *workLog {
	t.Helper()
	l := &workLog{}
	logAs := func(op string) func(*gorm.DB) {
		return func(tx *gorm.DB) {
			what := tx.Statement.Table
			if what == "" { // raw SQL: its first words say enough
				what = strings.Join(strings.Fields(tx.Statement.SQL.String())[:min(4, len(strings.Fields(tx.Statement.SQL.String())))], " ")
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			l.statements = append(l.statements, op+" "+what)
		}
	}
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("test:work", logAs("create")),
		cb.Query().After("gorm:query").Register("test:work", logAs("query")),
		cb.Update().After("gorm:update").Register("test:work", logAs("update")),
		cb.Delete().After("gorm:delete").Register("test:work", logAs("delete")),
		cb.Raw().After("gorm:raw").Register("test:work", logAs("raw")),
		cb.Row().After("gorm:row").Register("test:work", logAs("row")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	ihoprauth.TraceHashes(auth, func(h string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.hashes = append(l.hashes, h)
	})
	return l
}

// measure runs send and returns the work it caused.
func (l *workLog) measure(auth *ihoprauth.Auth, send func()) work {
	l.mu.Lock()
	l.statements, l.hashes = nil, nil
	l.mu.Unlock()
	renders := ihoprauth.Renders(auth)
	send()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := work{statements: slices.Sorted(slices.Values(l.statements)), renders: ihoprauth.Renders(auth) - renders,
		hashes: slices.Sorted(slices.Values(l.hashes))}
	return w
}

// importBcrypt imports a user of project clientID with a bcrypt hash of
// goodPassword at cost.
func importBcrypt(t testing.TB, auth *ihoprauth.Auth, clientID, email string, cost int) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(goodPassword), cost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.ImportUser(context.Background(), clientID, ihoprauth.ImportedUser{
		Email: email, PasswordHash: strings.Replace(string(hash), "$2a$", "$2y$", 1)}); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownEmailsDoTheSameWork(t *testing.T) {
	e := newEnv(t)
	log := recordWork(t, e.db, e.auth)
	importBcrypt(t, e.auth, "web-none", "imported@example.com", bcrypt.MinCost)
	importBcrypt(t, e.auth, "web-none", "imported-costlier@example.com", bcrypt.MinCost+1)
	e.signupNone("native@example.com")
	want(t, e.post("/api/v1/signup", signupBody(e.otp, "otp-native@example.com")), 200)
	e.clock.Advance(time.Hour) // past every code-mail limit of the signups

	long := strings.Repeat("long password ", 6) // 84 bytes: over bcrypt's 72
	tests := []struct {
		name  string
		kinds map[string]func() resp
	}{
		{"login, wrong password", map[string]func() resp{
			"native":   func() resp { return e.loginWith(e.none, "native@example.com", "wrong password") },
			"unknown":  func() resp { return e.loginWith(e.none, "nobody@example.com", "wrong password") },
			"imported": func() resp { return e.loginWith(e.none, "imported@example.com", "wrong password") },
			"imported at another cost": func() resp {
				return e.loginWith(e.none, "imported-costlier@example.com", "wrong password")
			},
		}},
		{"login, password over 72 bytes", map[string]func() resp{
			"native":   func() resp { return e.loginWith(e.none, "native@example.com", long) },
			"unknown":  func() resp { return e.loginWith(e.none, "nobody@example.com", long) },
			"imported": func() resp { return e.loginWith(e.none, "imported@example.com", long) },
		}},
		{"otp login", map[string]func() resp{
			"native":  func() resp { return e.post("/api/v1/login", with(e.otp, "email", "otp-native@example.com")) },
			"unknown": func() resp { return e.post("/api/v1/login", with(e.otp, "email", "otp-nobody@example.com")) },
		}},
		{"send reset code", map[string]func() resp{
			"native": func() resp {
				return e.post("/api/v1/send-reset-password-code", with(e.none, "email", "native@example.com"))
			},
			"unknown": func() resp {
				return e.post("/api/v1/send-reset-password-code", with(e.none, "email", "nobody@example.com"))
			},
			"imported": func() resp {
				return e.post("/api/v1/send-reset-password-code", with(e.none, "email", "imported@example.com"))
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			works := map[string]work{}
			statuses := map[string]int{}
			for _, kind := range slices.Sorted(func(yield func(string) bool) {
				for k := range tt.kinds {
					if !yield(k) {
						return
					}
				}
			}) {
				var r resp
				works[kind] = log.measure(e.auth, func() { r = tt.kinds[kind]() })
				statuses[kind] = r.status
			}
			ref := works["native"]
			if len(ref.statements) == 0 || (len(ref.hashes) == 0 && strings.HasPrefix(tt.name, "login")) {
				t.Fatalf("native: got %v, want statements and, for logins, hashes", ref)
			}
			for kind, w := range works {
				if statuses[kind] != statuses["native"] {
					t.Errorf("%s: got status %d, want %d as for native", kind, statuses[kind], statuses["native"])
				}
				if w.String() != ref.String() {
					t.Errorf("%s: got %v\nwant %v (as for native)", kind, w, ref)
				}
			}
		})
	}
}

// TestProjectsWithoutImportsPayNoBcrypt: a login in a project that never
// imported a bcrypt hash runs argon2id only.
func TestProjectsWithoutImportsPayNoBcrypt(t *testing.T) {
	e := newEnv(t)
	log := recordWork(t, e.db, e.auth)
	importBcrypt(t, e.auth, "web-two", "elsewhere@example.com", bcrypt.MinCost)
	e.signupNone("plain@example.com")
	w := log.measure(e.auth, func() { want(t, e.loginWith(e.none, "plain@example.com", "wrong password"), 401) })
	if len(w.hashes) != 1 || !strings.HasPrefix(w.hashes[0], "argon2id") {
		t.Errorf("got hashes %v, want one argon2id", w.hashes)
	}
}

// BenchmarkEqualTime prints the median time of login, OTP login, reset and
// signup for a known, an unknown and an imported email side by side, on
// the production argon2id cost and imported hashes of bcrypt cost 10, and
// whether each pair differs by less than 5%. Each iteration sends one
// request of every case, interleaved, so that noise hits all alike: run it
// with -benchtime=41x or more (BENCHMARKS.md).
func BenchmarkEqualTime(b *testing.B) {
	e := newBenchEnv(b, prodArgon2, func(c *ihoprauth.Config) {
		c.SignupsPerSourcePerHour, c.AccountFailureCeiling = 1<<30, 1<<30
		c.CodeMailsPerHour, c.CodeMailsPerIPPerHour, c.CodeMailInterval = 1<<30, 1<<30, time.Nanosecond
	})
	e.mail.discard = true
	importBcrypt(b, e.auth, "bench-none", "imported@example.com", 10)
	importBcrypt(b, e.auth, "bench-two", "imported-two@example.com", 10)
	e.call("POST", "/api/v1/signup", "", e.body(e.none, "email", "known@example.com", "password", goodPassword,
		"first_name", "A", "last_name", "B", "mobile_number", "1"))
	e.call("POST", "/api/v1/signup", "", e.body(e.otp, "email", "known-otp@example.com",
		"first_name", "A", "last_name", "B", "mobile_number", "1"))
	e.call("POST", "/api/v1/signup", "", e.body(e.two, "email", "known-two@example.com", "password", goodPassword,
		"first_name", "A", "last_name", "B", "mobile_number", "1"))
	type request struct {
		project map[string]any
		path    string
		kv      []any
	}
	signup := func(p map[string]any, email string) request {
		return request{p, "/api/v1/signup", []any{"email", email, "password", goodPassword,
			"first_name", "A", "last_name", "B", "mobile_number", "1"}}
	}
	cases := []struct {
		endpoint string
		kinds    map[string]func(i int) request
	}{
		{"login", map[string]func(int) request{
			"known": func(int) request {
				return request{e.none, "/api/v1/login", []any{"email", "known@example.com", "password", "wrong password"}}
			},
			"unknown": func(int) request {
				return request{e.none, "/api/v1/login", []any{"email", "nobody@example.com", "password", "wrong password"}}
			},
			"imported": func(int) request {
				return request{e.none, "/api/v1/login", []any{"email", "imported@example.com", "password", "wrong password"}}
			},
		}},
		{"otp login", map[string]func(int) request{
			"known":   func(int) request { return request{e.otp, "/api/v1/login", []any{"email", "known-otp@example.com"}} },
			"unknown": func(int) request { return request{e.otp, "/api/v1/login", []any{"email", "nobody-otp@example.com"}} },
		}},
		{"reset", map[string]func(int) request{
			"known": func(int) request {
				return request{e.none, "/api/v1/send-reset-password-code", []any{"email", "known@example.com"}}
			},
			"unknown": func(int) request {
				return request{e.none, "/api/v1/send-reset-password-code", []any{"email", "nobody@example.com"}}
			},
			"imported": func(int) request {
				return request{e.none, "/api/v1/send-reset-password-code", []any{"email", "imported@example.com"}}
			},
		}},
		{"signup (two-step)", map[string]func(int) request{
			"taken":          func(int) request { return signup(e.two, "known-two@example.com") },
			"new":            func(i int) request { return signup(e.two, fmt.Sprintf("new%d@example.com", i)) },
			"taken imported": func(int) request { return signup(e.two, "imported-two@example.com") },
		}},
	}
	samples := map[string][]time.Duration{}
	for i := 0; b.Loop(); i++ {
		for _, c := range cases {
			for kind, make := range c.kinds {
				r := make(i)
				start := time.Now()
				code, body := e.send("POST", r.path, e.body(r.project, r.kv...))
				samples[c.endpoint+"|"+kind] = append(samples[c.endpoint+"|"+kind], time.Since(start))
				if code != http.StatusOK && code != http.StatusUnauthorized {
					b.Fatalf("%s %s: got %d %s", c.endpoint, kind, code, body)
				}
			}
		}
	}
	b.StopTimer()
	var out strings.Builder
	fmt.Fprintf(&out, "\nmedians over %d samples each (ms):\n", b.N)
	for _, c := range cases {
		kinds := slices.Sorted(func(yield func(string) bool) {
			for k := range c.kinds {
				if !yield(k) {
					return
				}
			}
		})
		var meds []float64
		fmt.Fprintf(&out, "  %-18s", c.endpoint)
		for _, k := range kinds {
			m := median(samples[c.endpoint+"|"+k])
			meds = append(meds, m)
			fmt.Fprintf(&out, "  %s %.2f", k, m)
		}
		spread := (slices.Max(meds) - slices.Min(meds)) / slices.Min(meds) * 100
		verdict := "under 5%"
		if spread >= 5 {
			verdict = "NOT under 5%"
		}
		fmt.Fprintf(&out, "  largest pair difference %.1f%% (%s)\n", spread, verdict)
	}
	b.Log(out.String())
}

// median returns the median of ds in milliseconds.
func median(ds []time.Duration) float64 {
	s := slices.Sorted(slices.Values(ds))
	if len(s) == 0 {
		return 0
	}
	return float64(s[len(s)/2]) / float64(time.Millisecond)
}

// body is the JSON of project's credentials and the key/value pairs kv.
func (e *benchEnv) body(project map[string]any, kv ...any) []byte {
	m := map[string]any{}
	for k, v := range project {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	raw, err := json.Marshal(m)
	if err != nil {
		e.b.Fatal(err)
	}
	return raw
}

// send is call for answers that need not be 200: it returns the status and
// the body. Like call's, each request comes from the next address.
func (e *benchEnv) send(method, path string, body []byte) (int, string) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	n := e.calls.Add(1)
	req.RemoteAddr = fmt.Sprintf("198.%d.%d.%d:1234", 18+n>>16&1, n>>8&255, n&255)
	req.Header.Set("Content-Type", "application/json")
	e.auth.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}
