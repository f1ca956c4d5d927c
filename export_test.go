package ihoprauth

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/pquerna/otp/totp"
)

// Verifications returns how many password verifications a has run, dummy
// ones included. It exists for tests only.
func Verifications(a *Auth) int64 { return a.hasher.verified.Load() }

// Hashes returns how many new password hashes a has made. It exists for
// tests only.
func Hashes(a *Auth) int64 { return a.hasher.hashed.Load() }

// HashConcurrency returns how many password hashes a runs at once
// (Config.MaxConcurrentHashes after defaults). It exists for tests only.
func HashConcurrency(a *Auth) int { return a.cfg.MaxConcurrentHashes }

// DefaultHashConcurrency is the default of Config.MaxConcurrentHashes at
// the current GOMAXPROCS, for the benchmark of that many bare hashes at
// once. It exists for tests only.
func DefaultHashConcurrency() int { return defaultHashes() }

// Renders returns how many mails a has rendered, those rendered for unknown
// emails and dropped included. It exists for tests only.
func Renders(a *Auth) int64 { return a.renders.Load() }

// TraceHashes has a call trace with the algorithm and cost of every
// password hash a computes from now on. It exists for tests only; set it
// before requests are served.
func TraceHashes(a *Auth, trace func(string)) { a.hasher.trace = trace }

// TokenCacheSize returns the bytes the token cache counts for its entries.
// It exists for tests only.
func TokenCacheSize(a *Auth) int64 { return a.cache.size() }

// The domain functions below are the rules behind the endpoints, reached
// without HTTP: each takes the client's address (its source) and plain
// values, so that tests can table the rules. They exist for tests only.

// withSource is ctx as a request from ip would have it.
func withSource(ctx context.Context, ip string) context.Context {
	return withClient(ctx, client{ip: ip, state: &requestState{}})
}

// LogIn checks a login to the project clientID/secret from ip and returns
// the auth code (none) or the token of the mailed code (two-step, otp).
func LogIn(ctx context.Context, a *Auth, ip, clientID, secret, email, password string) (string, error) {
	ans, err := a.logIn(withSource(ctx, ip), loginRequest{client: clientCreds{clientID, secret}, email: email, password: password})
	return ans.Code + ans.TwoStepAuthToken + ans.OTPToken, err
}

// SignUp signs email up in the project clientID/secret from ip and returns
// what login would.
func SignUp(ctx context.Context, a *Auth, ip, clientID, secret, email, password string) (string, error) {
	ans, err := a.signUp(withSource(ctx, ip), signupRequest{client: clientCreds{clientID, secret}, email: email,
		password: password, firstName: "Ada", lastName: "Lovelace", mobile: "1"})
	return ans.Code + ans.TwoStepAuthToken + ans.OTPToken, err
}

// RedeemCode redeems an otp or two-step code from ip and returns the auth
// code.
func RedeemCode(ctx context.Context, a *Auth, ip string, purpose Purpose, token, code string) (string, error) {
	ans, err := a.redeemLoginCode(withSource(ctx, ip), purpose, codeRequest{token: token, code: code})
	return ans.Code, err
}

// UpdateNames sets the first name, and the role when role is not empty, of
// the user with that email in the project clientID, and returns the names
// of the fields the answer lists as updated.
func UpdateNames(ctx context.Context, a *Auth, clientID, email, firstName, role string) ([]string, error) {
	u, err := a.UserByEmail(ctx, clientID, email)
	if err != nil {
		return nil, err
	}
	up := update{firstName: &firstName}
	if role != "" {
		up.role = &role
	}
	ans, err := a.updateUser(withSource(ctx, "192.0.2.1"), u, Token{FamilyID: "family"}, up)
	var fields []string
	if ans.Updated != nil {
		raw, _ := json.Marshal(ans.Updated)
		var m map[string]any
		json.Unmarshal(raw, &m)
		fields = slices.Sorted(maps.Keys(m))
	}
	return fields, err
}

// NewPolled is New without the background reads of the change feed: tests
// read it with PollFeed when they choose, so that what the cache knows
// does not depend on a real ticker. It exists for tests only.
func NewPolled(ctx context.Context, st Store, m Mailer, cfg Config) (*Auth, error) {
	return newAuth(ctx, st, m, cfg)
}

// PollFeed reads the change feed once, as the background reads do. It
// exists for tests only.
func PollFeed(ctx context.Context, a *Auth) error { return a.pollFeed(ctx) }

// AppendChangeLate appends a change of the user in a transaction that stays
// open while during runs, and commits after it: a change stamped before
// during, seen only after. It exists for tests only.
func AppendChangeLate(ctx context.Context, a *Auth, userID int64, during func()) error {
	return a.store.InTx(ctx, func(tx Store) error {
		if err := tx.AppendChange(ctx, Change{UserID: userID}); err != nil {
			return err
		}
		during()
		return nil
	})
}

// DeviceOf returns the device id of r's signed device cookie, "" when it
// has none or its signature is wrong. It exists for tests only.
func DeviceOf(a *Auth, r *http.Request) string { return a.deviceOf(r) }

// StoreOf returns the Store a uses. It exists for tests only.
func StoreOf(a *Auth) Store { return a.store }

// TOTPCode returns the code of secret (base32, as the enrolment answers it)
// at t: what an authenticator app shows. It exists for tests only.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
}

// CeremonyChallenge is the WebAuthn challenge, base64url, of the ceremony
// whose token hash is tokenHash. It exists for tests only.
func CeremonyChallenge(a *Auth, tokenHash string) string {
	return a.ceremonyChallenge(tokenHash).String()
}

// CheckAssertion parses assertion (a PublicKeyCredential as JSON) and
// checks it, as a login does, against keys of u for the ceremony of
// tokenHash under Config.Passkeys, without the store. It exists for
// benchmarks only.
func CheckAssertion(a *Auth, u User, keys []Passkey, tokenHash string, assertion []byte) (bool, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(assertion)
	if err != nil {
		return false, err
	}
	_, ok, _ := a.checkAssertion(a.rp, u, keys, tokenHash, parsed, protocol.VerificationRequired)
	return ok, nil
}

// SourceSlots returns how many slots of its failure cap the address ip
// holds now. It exists for tests only.
func SourceSlots(a *Auth, ip string) int {
	c, err := a.store.Counter(context.Background(), ipKey(ip))
	if err != nil || !a.now().Before(c.WindowStart.Add(a.cfg.IPFailureWindow)) {
		return 0
	}
	return c.Count
}
