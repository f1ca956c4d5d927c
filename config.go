package ihoprauth

import (
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"cmp"
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Config holds the optional settings of an Auth. The zero value of every
// field means its default, and every default is the secure choice; New sets
// them all in one place (withDefaults). A field whose default is on takes a
// negative value for off, as its doc says; New refuses any other negative
// value, and the few others named in the docs, with an error wrapping
// ErrInvalidConfig that names the field (docs/design.md, D32).
type Config struct {
	// BasePath is where the API is mounted. Default "/api/v1". The Auth
	// routes on the request's full URL path, so mount it at this prefix
	// without stripping it. "/" is refused: the API needs a path of its own.
	BasePath string

	// Secret keys the hashes of emailed codes, recovery codes and client
	// secrets, and seals the secrets of authenticator apps. Default:
	// 32 random bytes generated once and stored in the database, so every
	// instance sharing the database agrees with no setup. Setting it keeps
	// the key out of the database; changing it invalidates codes in flight,
	// every client secret (save projects again), every recovery code and
	// every authenticator app (their secrets are sealed under a key derived
	// from it). It must have at least 32 bytes; an empty one is unset.
	Secret []byte
	// PreviousSecrets are keys that Secret replaced: hashes and cookies
	// made with one of them still verify, and client secrets and API keys
	// are hashed again with Secret when they are next used. They never
	// make anything new. Each must have at least 32 bytes, and they need
	// Secret. See "Rotating the key" in the README for the steps with many
	// instances. Default none.
	PreviousSecrets [][]byte
	// NextSecrets are keys about to replace Secret, for the first rollout
	// of a rotation: what they make verifies, but nothing is hashed again,
	// neither to them nor from them. Each must have at least 32 bytes, and
	// they need Secret. Default none.
	NextSecrets [][]byte

	// AccessTokenTTL is how long an access token works. Default 1 hour.
	AccessTokenTTL time.Duration
	// Sessions, when set, turns on cookie sessions for server-rendered apps
	// (see NewSessionManager): POST /api/v1/session moves a bearer login
	// into a session cookie, and Authenticate (so authmw.RequireUser)
	// accepts the cookie. The API loads and saves sessions itself, so a
	// failing session store answers in the API's error shape; the manager's
	// ErrorFunc is left as the app set it. Default nil: bearer tokens only.
	Sessions *scs.SessionManager
	// TokenCacheTTL is how long a validated access token is kept in memory,
	// so that most bearer checks skip the database (never past the token's
	// expiry). A token this instance revokes (logout, reset, password or
	// role change, a refresh that replaces it) is dropped at once; one that
	// another instance revokes is dropped here within a second, through
	// the change feed that every instance reads four times a second, and
	// an instance whose feed has not been read for 750 ms reads the
	// database instead of its cache (docs/design.md, D7). Default 5
	// minutes; a negative value turns the cache (and the feed reads) off.
	TokenCacheTTL time.Duration
	// TokenCacheBytes bounds the memory of the token cache: an entry counts
	// its user's strings, meta included. Past it, random entries make room;
	// a login bigger than the whole budget is not cached. Default 16 MiB.
	TokenCacheBytes int64
	// RefreshTokenTTL is the absolute lifetime of a refresh token. Default
	// 30 days.
	RefreshTokenTTL time.Duration
	// RefreshGrace lets a refresh token that was just rotated be used again
	// within this window (for clients that refresh from several tabs at
	// once) instead of counting as theft. Default 0: off, every reuse
	// revokes the family.
	RefreshGrace time.Duration
	// CodeTTL is how long an emailed code works. Default 10 minutes.
	CodeTTL time.Duration
	// AuthCodeTTL is how long the auth code of login works. Default 5
	// minutes.
	AuthCodeTTL time.Duration
	// MaxCodeAttempts is how many wrong guesses kill an emailed code, and
	// an mfa_token. Default 5.
	MaxCodeAttempts int
	// MFATokenTTL is how long the mfa_token works that a login answers in
	// place of its code when the user has a second factor. Default 5
	// minutes.
	MFATokenTTL time.Duration
	// StepUpWindow is how recent a login must be for a user who has a
	// second factor to change the password, the role or the factors
	// without sending a current factor (totp_code or recovery_code) with
	// the request: a stolen access token alone cannot take the account
	// over. Users without a second factor keep today's rules. Default 10
	// minutes; negative: no step-up.
	StepUpWindow time.Duration
	// TOTPIssuer names the service in authenticator apps (the issuer of
	// the otpauth:// URI). Default: the project's client_id.
	TOTPIssuer string
	// Passkeys is the WebAuthn relying party of every project that
	// ProjectPasskeys does not name (docs/design.md, D40). Default: the
	// zero value, no passkeys: their endpoints answer 409.
	Passkeys PasskeyRP
	// ProjectPasskeys gives projects, by client_id, a relying party of
	// their own in place of Passkeys. Default nil.
	ProjectPasskeys map[string]PasskeyRP
	// PasskeyTimeout is how long a passkey ceremony (a registration, or a
	// login with a passkey alone) works, and the timeout its options give
	// the browser. Default 5 minutes.
	PasskeyTimeout time.Duration

	// Argon2 sets the cost of new password hashes. Default
	// {Memory: 19456, Time: 2, Threads: 1} (OWASP). Tests may lower it. Set
	// all three or none; Memory is 8 KiB to 1 GiB, Time and Threads 1 to 16.
	Argon2 Argon2Params
	// Argon2Engine is the argon2id that hashes passwords: Argon2Kept
	// (the default), ihoprauth's own, which keeps its memory between
	// hashes, or Argon2XCrypto, x/crypto's, faster per hash but a garbage
	// collection per login under a memory limit (see Argon2Engine).
	Argon2Engine Argon2Engine
	// MaxConcurrentHashes bounds how many password hashes run at once;
	// each holds Argon2.Memory (19 MiB by default) while it runs, so it
	// also bounds the memory of hashing. Default: one
	// fewer than runtime.GOMAXPROCS(0) at New, at least 1, so that during a
	// login storm one CPU stays free for the app's own requests: a request
	// that finds every CPU hashing waits for the Go scheduler to preempt a
	// hash, 10 ms or more. The price is login throughput where CPUs are
	// few: on 2 CPUs the default hashes one password at a time, about half
	// the logins per second of 2. Set it to runtime.GOMAXPROCS(0) where the
	// most logins per second matter more than the latency of the app's
	// requests during a storm. Strangers' logins queue for a hash up to 64
	// per slot (at least 128), then get 503 with Retry-After.
	MaxConcurrentHashes int
	// MinPasswordLength is the least number of characters (code points) of
	// a new password. Default 8. NIST suggests 15 where a password is the
	// only factor. At most 128, the longest password taken.
	MinPasswordLength int
	// SkipCurrentPassword lets PUT /user/update change a password without
	// current_password. Default false: the current password is required
	// once the user has one.
	SkipCurrentPassword bool

	// AllowPlainPKCE accepts code_challenge_method "plain". Default false:
	// only S256 (RFC 9700 §2.1.1).
	AllowPlainPKCE bool

	// DefaultRole is the role of new users. Default "user".
	DefaultRole string
	// NewUserRole, when set, picks the role of each new user instead of
	// DefaultRole; email is the canonical email. Default nil.
	NewUserRole func(ctx context.Context, project Project, email string) string
	// RolePolicy decides whether user may change their own role to role
	// through the API. Default: only users whose role is "admin"
	// (case-insensitive). Setting the role a user already has is always
	// allowed. The app changes roles freely through Auth.SetRole.
	RolePolicy func(ctx context.Context, user User, role string) bool
	// AdminPolicy decides whether user, logged in with a bearer token or a
	// cookie session, may call the admin API (BasePath/admin/) on the
	// users of their own project; a login never reaches another project's
	// users. Default: IsAdmin (role "admin", case-insensitive). It does not
	// govern the iHopr endpoints, which RolePolicy does. Server API keys
	// (CreateAPIKey) are admitted by the projects they name instead.
	AdminPolicy func(ctx context.Context, user User) bool

	// Providers are the other sign-in providers (OpenID Connect issuers and
	// plain OAuth2 providers) that projects may offer; OAuthProjects says
	// which project offers which (docs/design.md, D42). Default none.
	Providers []Provider
	// OAuthProjects maps a project's client_id to how it offers
	// Providers: which ones, the client's redirect URIs, and whether a
	// provider identity may link itself to an account of the same email.
	// A project not in it offers none. Default none.
	OAuthProjects map[string]OAuthProject
	// PublicURL is the app's public origin, such as
	// "https://app.example.com": a provider sends the browser back to
	// PublicURL + BasePath + "/oauth/{name}/callback", which must be
	// registered at the provider. Required with Providers. Its scheme
	// decides the Secure attribute of the sign-in's state cookie: Secure
	// unless PublicURL is http:// (development on localhost).
	PublicURL string
	// OAuthHTTPClient makes the calls to Providers (discovery, keys,
	// tokens, user info). Default: a client with a 10-second timeout.
	OAuthHTTPClient *http.Client

	// Templates override the mail of some kinds; kinds not in the map use
	// the built-in templates.
	Templates map[MailKind]MailTemplate
	// TemplateFor, when set, may give the template of a mail kind for a
	// project (its client_id) and language (the first of the request's
	// Accept-Language, lowercased, "" when none): ok false falls back to
	// Templates and the built-in templates. Default nil.
	TemplateFor func(kind MailKind, clientID, language string) (t MailTemplate, ok bool)
	// MailAttempts is how many times a mail is tried before its failure is
	// reported. Default 3.
	MailAttempts int
	// MailTimeout bounds one try of sending a mail. Default 30 seconds.
	MailTimeout time.Duration

	// AccountLockAfter is how many consecutive failed passwords or wrong
	// otp/two-step codes from one source (an address, IPv6 per /64) lock
	// that source out of the account; other sources are not locked.
	// Default 5; negative: no lock.
	AccountLockAfter int
	// AccountLockBase is the first lock's length; each further failure
	// doubles it. Default 30 seconds.
	AccountLockBase time.Duration
	// AccountLockMax caps a lock's length. Default 1 hour.
	AccountLockMax time.Duration
	// AccountFailureCeiling is how many checked failures within an hour,
	// over all sources, put an account under attack: each source that has
	// not completed a login to it within 30 days may then try it once a
	// minute. Known sources are not slowed. Default 100; negative: never.
	AccountFailureCeiling int
	// SignupsPerSourcePerHour caps the signups from one address in an hour,
	// over all projects, checked before the password is hashed. Default 20;
	// negative: no cap.
	SignupsPerSourcePerHour int
	// IPFailureLimit is how many failed credential or code checks one
	// client address may make within IPFailureWindow. Each request to an
	// endpoint that checks credentials or codes takes a slot before it
	// checks and gives it back unless it fails, so more than this many
	// requests in flight from one address also get 429. Default 100;
	// negative: no cap.
	IPFailureLimit int
	// IPFailureWindow is the window of IPFailureLimit. Default 10 minutes.
	IPFailureWindow time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Real-IP headers name the client. Default none: the connection's
	// peer is the client.
	TrustedProxies []netip.Prefix
	// CodeMailInterval is the least time between two code mails of one
	// purpose to one account while the earlier code is unused. Default 1
	// minute; negative: none.
	CodeMailInterval time.Duration
	// CodeMailsPerHour caps the code mails of one purpose to one account in
	// an hour. Default 5; negative: no cap.
	CodeMailsPerHour int
	// CodeMailsPerIPPerHour caps the code mails that requests from one
	// client address may cause in an hour, over all accounts (signups,
	// logins, resets). Default 50; negative: no cap.
	CodeMailsPerIPPerHour int

	// RequestTimeout bounds the work of one request, database queries
	// included: a database that does not answer in time gives 503. Default
	// 10 seconds; negative: no timeout.
	RequestTimeout time.Duration

	// MaxBodyBytes caps request bodies. Default 64 KiB.
	MaxBodyBytes int64

	// Logger receives structured records of auth events and failures. They
	// never carry a password, code, token or secret. Default slog.Default().
	Logger *slog.Logger
	// OnError is called with every error that is not the client's fault: a
	// database failure behind a 500, a mail that could not be sent. Default:
	// logged at level Error through Logger.
	OnError func(ctx context.Context, err error)

	// EventRetention is how long Cleanup keeps audit events. Default 90
	// days; negative: forever.
	EventRetention time.Duration
	// OnEvent, when set, receives every audit event after it is stored.
	OnEvent func(ctx context.Context, e Event)
	// MeterProvider, when set, receives ihoprauth's metrics through the
	// OpenTelemetry API (requests, audit events, refusals, hash and store
	// latency, mail, token cache; the README lists them). Default nil:
	// none are recorded.
	MeterProvider metric.MeterProvider
	// TracerProvider, when set, receives a span for every API request and,
	// inside it, one for every Store call. Default nil: no spans.
	TracerProvider trace.TracerProvider

	// Now returns the current time. Default time.Now. Tests inject a clock.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	c.BasePath = "/" + strings.Trim(cmp.Or(c.BasePath, "/api/v1"), "/")
	c.AccessTokenTTL = cmp.Or(c.AccessTokenTTL, time.Hour)
	c.TokenCacheTTL = cmp.Or(c.TokenCacheTTL, 5*time.Minute)
	c.TokenCacheBytes = cmp.Or(c.TokenCacheBytes, 16<<20)
	c.RefreshTokenTTL = cmp.Or(c.RefreshTokenTTL, 30*24*time.Hour)
	c.CodeTTL = cmp.Or(c.CodeTTL, 10*time.Minute)
	c.AuthCodeTTL = cmp.Or(c.AuthCodeTTL, 5*time.Minute)
	c.MaxCodeAttempts = cmp.Or(c.MaxCodeAttempts, 5)
	c.MFATokenTTL = cmp.Or(c.MFATokenTTL, 5*time.Minute)
	c.StepUpWindow = cmp.Or(c.StepUpWindow, 10*time.Minute)
	c.PasskeyTimeout = cmp.Or(c.PasskeyTimeout, 5*time.Minute)
	c.Argon2 = cmp.Or(c.Argon2, Argon2Params{Memory: 19456, Time: 2, Threads: 1})
	c.MaxConcurrentHashes = cmp.Or(c.MaxConcurrentHashes, defaultHashes())
	c.MinPasswordLength = cmp.Or(c.MinPasswordLength, 8)
	c.DefaultRole = cmp.Or(c.DefaultRole, "user")
	if c.RolePolicy == nil {
		c.RolePolicy = AdminOnly
	}
	if c.AdminPolicy == nil {
		c.AdminPolicy = IsAdmin
	}
	if c.OAuthHTTPClient == nil {
		c.OAuthHTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	c.MailAttempts = cmp.Or(c.MailAttempts, 3)
	c.MailTimeout = cmp.Or(c.MailTimeout, 30*time.Second)
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, 64<<10)
	c.RequestTimeout = cmp.Or(c.RequestTimeout, 10*time.Second)
	c.AccountLockAfter = limit(cmp.Or(c.AccountLockAfter, 5))
	c.AccountLockBase = cmp.Or(c.AccountLockBase, 30*time.Second)
	c.AccountLockMax = cmp.Or(c.AccountLockMax, time.Hour)
	c.AccountFailureCeiling = limit(cmp.Or(c.AccountFailureCeiling, 100))
	c.SignupsPerSourcePerHour = limit(cmp.Or(c.SignupsPerSourcePerHour, 20))
	c.EventRetention = cmp.Or(c.EventRetention, 90*24*time.Hour)
	c.IPFailureLimit = limit(cmp.Or(c.IPFailureLimit, 100))
	c.IPFailureWindow = cmp.Or(c.IPFailureWindow, 10*time.Minute)
	c.CodeMailInterval = max(cmp.Or(c.CodeMailInterval, time.Minute), 0)
	c.CodeMailsPerHour = limit(cmp.Or(c.CodeMailsPerHour, 5))
	c.CodeMailsPerIPPerHour = limit(cmp.Or(c.CodeMailsPerIPPerHour, 50))
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.OnError == nil {
		log := c.Logger
		c.OnError = func(ctx context.Context, err error) {
			log.ErrorContext(ctx, "ihoprauth", "err", err)
		}
	}
	return c
}

// defaultHashes is the default of MaxConcurrentHashes: one fewer than the
// Go scheduler's Ps, at least one, so that one P is free for requests
// while the others hash (see MaxConcurrentHashes).
func defaultHashes() int {
	return max(1, runtime.GOMAXPROCS(0)-1)
}

// limit is a count limit as the throttles apply it: a negative one, which
// turns the limit off, becomes one that no count reaches. (A negative
// CodeMailInterval becomes 0, a window that restarts at every mail.)
func limit(n int) int {
	if n < 0 {
		return math.MaxInt
	}
	return n
}

// IsAdmin is the default AdminPolicy: users whose role is "admin"
// (case-insensitive) may manage their project's users.
func IsAdmin(_ context.Context, user User) bool {
	return strings.EqualFold(user.Role, "admin")
}

// AdminOnly is the default RolePolicy: a user may change their own role only
// while their role is "admin".
func AdminOnly(_ context.Context, user User, _ string) bool {
	return strings.EqualFold(user.Role, "admin")
}
