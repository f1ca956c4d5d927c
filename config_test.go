package ihoprauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/mailer"
)

// switchable are the Config fields whose default is on, which a negative
// value turns off (docs/design.md, D32; EventRetention: keep events forever).
var switchable = map[string]bool{
	"TokenCacheTTL": true, "RequestTimeout": true, "AccountLockAfter": true, "AccountFailureCeiling": true,
	"SignupsPerSourcePerHour": true, "IPFailureLimit": true, "CodeMailInterval": true, "CodeMailsPerHour": true,
	"CodeMailsPerIPPerHour": true, "EventRetention": true, "StepUpWindow": true,
}

var oidcProvider = ihoprauth.Provider{Name: "idp", Issuer: "https://idp.example", ClientID: "app"}

func withProviders(p ...ihoprauth.Provider) ihoprauth.Config {
	return ihoprauth.Config{PublicURL: "https://app.example", Providers: p}
}

// newAuth is New on a fresh store with cfg as it is.
func newAuth(t *testing.T, cfg ihoprauth.Config) (*ihoprauth.Auth, error) {
	t.Helper()
	a, err := ihoprauth.New(context.Background(), newStoreForTest(t), &mailer.Recorder{}, cfg)
	if err == nil {
		t.Cleanup(func() { a.Close(context.Background()) })
	}
	return a, err
}

// wantInvalid fails t unless err wraps ErrInvalidConfig and names every
// one of fields.
func wantInvalid(t *testing.T, err error, fields ...string) {
	t.Helper()
	if !errors.Is(err, ihoprauth.ErrInvalidConfig) {
		t.Fatalf("got error %v, want one wrapping ErrInvalidConfig", err)
	}
	for _, f := range fields {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("got error %q, want it to name %s", err, f)
		}
	}
}

// TestHashesLeaveOneCPU: by default one P of the Go scheduler stays free of
// password hashes for the app's requests, and there is always at least one
// hash slot; a value set is kept.
func TestHashesLeaveOneCPU(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for procs, want := range map[int]int{1: 1, 2: 1, 3: 2, 8: 7} {
		runtime.GOMAXPROCS(procs)
		a, err := newAuth(t, ihoprauth.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if got := ihoprauth.HashConcurrency(a); got != want {
			t.Errorf("GOMAXPROCS %d: got %d hash slots, want %d", procs, got, want)
		}
	}
	a, err := newAuth(t, ihoprauth.Config{MaxConcurrentHashes: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := ihoprauth.HashConcurrency(a); got != 3 {
		t.Errorf("MaxConcurrentHashes 3: got %d hash slots", got)
	}
}

// TestHashMemory: the memory budget of password hashing is the slots times
// the cost's memory, the default cost's 19 MiB included.
func TestHashMemory(t *testing.T) {
	a, err := newAuth(t, ihoprauth.Config{MaxConcurrentHashes: 3, Argon2: ihoprauth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.HashMemory(), int64(3<<20); got != want {
		t.Errorf("3 slots of 1 MiB: HashMemory %d, want %d", got, want)
	}
	a, err = newAuth(t, ihoprauth.Config{MaxConcurrentHashes: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.HashMemory(), int64(2*19456*1024); got != want {
		t.Errorf("2 slots of the default cost: HashMemory %d, want %d", got, want)
	}
}

// TestNewRefusesNegativeValues: every numeric Config field, those added
// later included, either turns off with a negative value (the switchable
// ones) or makes New fail naming it; none panics (a negative
// MaxConcurrentHashes used to).
func TestNewRefusesNegativeValues(t *testing.T) {
	typ := reflect.TypeFor[ihoprauth.Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if k := f.Type.Kind(); k < reflect.Int || k > reflect.Int64 {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			var cfg ihoprauth.Config
			reflect.ValueOf(&cfg).Elem().Field(i).SetInt(-1)
			_, err := newAuth(t, cfg)
			if switchable[f.Name] {
				if err != nil {
					t.Fatalf("got error %v, want -1 to turn %s off", err, f.Name)
				}
				return
			}
			wantInvalid(t, err, f.Name)
		})
	}
}

func TestNewRefusesInvalidConfig(t *testing.T) {
	tests := []struct {
		name   string
		cfg    ihoprauth.Config
		fields []string
	}{
		{"Argon2 partly set", ihoprauth.Config{Argon2: ihoprauth.Argon2Params{Memory: 64}}, []string{"Argon2"}},
		{"Argon2 without threads", ihoprauth.Config{Argon2: ihoprauth.Argon2Params{Memory: 64, Time: 1}}, []string{"Argon2"}},
		{"Argon2 too little memory", ihoprauth.Config{Argon2: ihoprauth.Argon2Params{Memory: 4, Time: 1, Threads: 1}}, []string{"Argon2"}},
		{"Argon2 too many passes", ihoprauth.Config{Argon2: ihoprauth.Argon2Params{Memory: 64, Time: 17, Threads: 1}}, []string{"Argon2"}},
		{"Argon2Engine unknown", ihoprauth.Config{Argon2Engine: ihoprauth.Argon2XCrypto + 1}, []string{"Argon2Engine"}},
		{"Argon2Engine negative", ihoprauth.Config{Argon2Engine: -1}, []string{"Argon2Engine"}},
		{"BasePath /", ihoprauth.Config{BasePath: "/"}, []string{"BasePath"}},
		{"BasePath //", ihoprauth.Config{BasePath: "//"}, []string{"BasePath"}},
		{"Secret of 31 bytes", ihoprauth.Config{Secret: make([]byte, 31)}, []string{"Secret"}},
		{"MinPasswordLength over the maximum", ihoprauth.Config{MinPasswordLength: 129}, []string{"MinPasswordLength"}},
		{"DefaultRole with a newline", ihoprauth.Config{DefaultRole: "user\nadmin"}, []string{"DefaultRole"}},
		{"TrustedProxies zero prefix", ihoprauth.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), {}}}, []string{"TrustedProxies[1]"}},
		{"two at once", ihoprauth.Config{MaxConcurrentHashes: -2, Secret: []byte("short")}, []string{"MaxConcurrentHashes", "Secret"}},
		{"provider without PublicURL", ihoprauth.Config{Providers: []ihoprauth.Provider{oidcProvider}}, []string{"PublicURL"}},
		{"provider name", withProviders(ihoprauth.Provider{Name: "Google", Issuer: "https://idp.example", ClientID: "x"}), []string{"Providers[0].Name"}},
		{"provider twice", withProviders(oidcProvider, oidcProvider), []string{"Providers[1].Name"}},
		{"provider without client_id", withProviders(ihoprauth.Provider{Name: "idp", Issuer: "https://idp.example"}), []string{"Providers[0].ClientID"}},
		{"provider both kinds", withProviders(ihoprauth.Provider{Name: "idp", Issuer: "https://idp.example", AuthURL: "https://idp.example/a", ClientID: "x"}), []string{"Providers[0]"}},
		{"plain provider without user info", withProviders(ihoprauth.Provider{Name: "gh", AuthURL: "https://gh.example/a", TokenURL: "https://gh.example/t", ClientID: "x"}), []string{"Providers[0]"}},
		{"project offers an unknown provider", ihoprauth.Config{PublicURL: "https://app.example", Providers: []ihoprauth.Provider{oidcProvider},
			OAuthProjects: map[string]ihoprauth.OAuthProject{"web": {Providers: []string{"nope"}, RedirectURIs: []string{"https://app.example/"}}}}, []string{`OAuthProjects["web"].Providers`}},
		{"project without redirect URIs", ihoprauth.Config{PublicURL: "https://app.example", Providers: []ihoprauth.Provider{oidcProvider},
			OAuthProjects: map[string]ihoprauth.OAuthProject{"web": {Providers: []string{"idp"}}}}, []string{`OAuthProjects["web"].RedirectURIs`}},
		{"relative redirect URI", ihoprauth.Config{PublicURL: "https://app.example", Providers: []ihoprauth.Provider{oidcProvider},
			OAuthProjects: map[string]ihoprauth.OAuthProject{"web": {Providers: []string{"idp"}, RedirectURIs: []string{"/signed-in"}}}}, []string{`OAuthProjects["web"].RedirectURIs`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newAuth(t, tt.cfg)
			wantInvalid(t, err, tt.fields...)
		})
	}
}

func TestNewTakesValidEdgeValues(t *testing.T) {
	tests := []struct {
		name string
		cfg  ihoprauth.Config
	}{
		{"Secret of 32 bytes", ihoprauth.Config{Secret: make([]byte, 32)}},
		{"empty Secret: generated", ihoprauth.Config{Secret: []byte{}}},
		{"BasePath without slashes", ihoprauth.Config{BasePath: "auth"}},
		{"Argon2 at its bounds", ihoprauth.Config{Argon2: ihoprauth.Argon2Params{Memory: 8, Time: 16, Threads: 16}}},
		{"MinPasswordLength 128", ihoprauth.Config{MinPasswordLength: 128}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newAuth(t, tt.cfg); err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
		})
	}
}

// TestNegativeTurnsOff: a negative value turns off what the field limits,
// where it used to break the server (a negative RequestTimeout answered
// every request 503 at once; a negative AccountLockAfter locked every
// account).
func TestNegativeTurnsOff(t *testing.T) {
	t.Run("RequestTimeout", func(t *testing.T) {
		e := newEnv(t, func(c *ihoprauth.Config) { c.RequestTimeout = -1 })
		tok := e.signupNone("no-timeout@example.com")
		want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
		want(t, e.do("GET", "/hello", tok, nil), 200)
	})
	t.Run("AccountLockAfter", func(t *testing.T) {
		e := newEnv(t, func(c *ihoprauth.Config) { c.AccountLockAfter = -1 })
		e.signupNone("no-lock@example.com")
		for range 8 {
			want(t, e.loginWith(e.none, "no-lock@example.com", "a wrong password"), 401)
		}
		want(t, e.loginWith(e.none, "no-lock@example.com", goodPassword), 200)
	})
	t.Run("IPFailureLimit", func(t *testing.T) {
		e := newEnv(t, func(c *ihoprauth.Config) { c.IPFailureLimit = -1 })
		for range 105 {
			want(t, e.post("/api/v1/api-tauth-token", with(e.none, "client_secret", "wrong", "code", "x")), 401)
		}
	})
	t.Run("SignupsPerSourcePerHour", func(t *testing.T) {
		e := newEnv(t, func(c *ihoprauth.Config) { c.SignupsPerSourcePerHour = -1 })
		for i := range 25 {
			want(t, e.post("/api/v1/signup", signupBody(e.none, fmt.Sprintf("signup%d@example.com", i))), 200)
		}
	})
	t.Run("CodeMailInterval and CodeMailsPerHour", func(t *testing.T) {
		e := newEnv(t, func(c *ihoprauth.Config) { c.CodeMailInterval, c.CodeMailsPerHour = -1, -1 })
		want(t, e.post("/api/v1/signup", signupBody(e.otp, "mails@example.com")), 200)
		e.mailedCode("mails@example.com")
		for range 7 {
			want(t, e.post("/api/v1/login", with(e.otp, "email", "mails@example.com")), 200)
			e.mailedCode("mails@example.com")
		}
	})
	t.Run("TokenCacheTTL", func(t *testing.T) {
		e := newEnv(t, func(c *ihoprauth.Config) { c.TokenCacheTTL = -1 })
		tok := e.signupNone("no-cache@example.com")
		want(t, e.do("GET", "/api/v1/user", tok, nil), 200)
		if got := ihoprauth.TokenCacheSize(e.auth); got != 0 {
			t.Errorf("got %d bytes cached, want the cache off", got)
		}
	})
	t.Run("EventRetention", func(t *testing.T) {
		e := newEnv(t, func(c *ihoprauth.Config) { c.EventRetention = -1 })
		e.signupNone("kept@example.com")
		before := e.countEvents()
		e.clock.Advance(10 * 365 * 24 * time.Hour)
		if _, err := e.auth.Cleanup(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := e.countEvents(); got != before || got == 0 {
			t.Errorf("after Cleanup: got %d events, want all %d kept", got, before)
		}
	})
}

func (e *env) countEvents() int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Raw("SELECT COUNT(*) FROM ihoprauth_events").Scan(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}
