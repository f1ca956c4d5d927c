package ihoprauth

import (
	"context"
	"errors"
	"time"
)

// Errors a Store returns. Implementations return them (possibly wrapped with
// %w) so that ihoprauth can tell "nothing there" from a broken database.
var (
	// ErrNotFound is returned by every lookup that matches no row.
	ErrNotFound = errors.New("ihoprauth: not found")
	// ErrDuplicate is returned when a write would break a uniqueness rule,
	// such as a second account with the same canonical email in one project.
	ErrDuplicate = errors.New("ihoprauth: already exists")
	// ErrUnavailable is wrapped by errors that mean the database could not
	// be reached or did not answer in time; requests then get 503 and may
	// be retried. Any other Store error is a 500.
	ErrUnavailable = errors.New("ihoprauth: database unavailable")
	// ErrConflict is returned by UpdateUser when the user changed since it
	// was read: the caller read a stale copy and must not overwrite.
	ErrConflict = errors.New("ihoprauth: changed concurrently")
)

// Store persists projects, users, one-time codes and tokens. The gorm-backed
// implementation in package store is the one most apps use; any other must
// pass the conformance suite in package storetest.
//
// Every method takes the request's context first and must stop when it is
// cancelled. Lookups return ErrNotFound (possibly wrapped) when nothing
// matches; any other error means the database could not answer. Errors of
// an unreachable server (refused or broken connections, timeouts) get 503
// rather than 500; a Store whose driver reports them otherwise wraps
// ErrUnavailable. Times are
// stored and returned in UTC with at least microsecond precision.
type Store interface {
	// InTx runs fn with a Store whose calls all belong to one transaction,
	// committed when fn returns nil and rolled back otherwise. Calling InTx
	// on the Store passed to fn runs fn in the same transaction.
	InTx(ctx context.Context, fn func(tx Store) error) error

	// SaveProject inserts p, or updates the project with the same ClientID,
	// and sets p.ID, p.CreatedAt and p.UpdatedAt from the stored row.
	SaveProject(ctx context.Context, p *Project) error
	// ProjectByClientID returns the project with that client_id.
	ProjectByClientID(ctx context.Context, clientID string) (Project, error)
	// ProjectByID returns the project with that ID.
	ProjectByID(ctx context.Context, id int64) (Project, error)

	// CreateUser inserts u and sets u.ID. It returns ErrDuplicate when the
	// project already has a user with the same EmailKey, or any user has the
	// same UserID.
	CreateUser(ctx context.Context, u *User) error
	// UserByEmail returns the project's user whose EmailKey equals emailKey
	// byte for byte.
	UserByEmail(ctx context.Context, projectID int64, emailKey string) (User, error)
	// UserByID returns the user with that internal ID.
	UserByID(ctx context.Context, id int64) (User, error)
	// UserByUserID returns the user with that public user_id.
	UserByUserID(ctx context.Context, userID string) (User, error)
	// UpdateUser writes u's mutable fields (names, mobile number, meta,
	// role, provider, password hash, UpdatedAt) to the row with u.ID, but
	// only if the stored Version still equals u.Version, and then sets both
	// to u.Version+1. It returns ErrConflict when the stored Version differs
	// (the user changed since u was read) and ErrNotFound when there is no
	// such row. Of concurrent updates from one version exactly one wins.
	UpdateUser(ctx context.Context, u *User) error

	// CreateChallenge inserts c and sets c.ID.
	CreateChallenge(ctx context.Context, c *Challenge) error
	// ChallengeByToken returns the challenge of that purpose whose TokenHash
	// equals tokenHash.
	ChallengeByToken(ctx context.Context, purpose Purpose, tokenHash string) (Challenge, error)
	// RecordChallengeFailure adds one to the challenge's Attempts.
	RecordChallengeFailure(ctx context.Context, id int64) error
	// ConsumeChallenge marks the challenge used at now, but only if it is
	// still unused and has fewer than maxAttempts failures. It reports
	// whether this call was the one that consumed it: of any number of
	// concurrent calls for one challenge, exactly one gets true.
	ConsumeChallenge(ctx context.Context, id int64, now time.Time, maxAttempts int) (bool, error)

	// CreateAuthCode inserts c and sets c.ID.
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// AuthCodeByHash returns the auth code whose Hash equals hash.
	AuthCodeByHash(ctx context.Context, hash string) (AuthCode, error)
	// ConsumeAuthCode marks the auth code used at now if it is unused and
	// reports whether this call did so; of concurrent calls exactly one
	// gets true.
	ConsumeAuthCode(ctx context.Context, id int64, now time.Time) (bool, error)

	// CreateToken inserts t and sets t.ID.
	CreateToken(ctx context.Context, t *Token) error
	// TokenByAccessHash returns the token whose AccessHash equals hash,
	// revoked or not.
	TokenByAccessHash(ctx context.Context, hash string) (Token, error)
	// TokenUser returns the token whose AccessHash equals hash, revoked or
	// not, together with its user, in one read: it is the lookup behind
	// every bearer check.
	TokenUser(ctx context.Context, hash string) (Token, User, error)
	// TokenByRefreshHash returns the token whose RefreshHash equals hash,
	// revoked or not.
	TokenByRefreshHash(ctx context.Context, hash string) (Token, error)
	// MarkTokenRefreshed sets RefreshedAt to now if the token is neither
	// refreshed nor revoked, and reports whether this call did so; of
	// concurrent calls exactly one gets true.
	MarkTokenRefreshed(ctx context.Context, id int64, now time.Time) (bool, error)
	// RevokeToken sets RevokedAt to now on the token with that ID unless it
	// is already revoked.
	RevokeToken(ctx context.Context, id int64, now time.Time) error
	// RevokeFamily revokes every unrevoked token of that family.
	RevokeFamily(ctx context.Context, familyID string, now time.Time) error
	// RevokeAuthCodeTokens revokes every unrevoked token issued for the
	// auth code with that ID.
	RevokeAuthCodeTokens(ctx context.Context, authCodeID int64, now time.Time) error
	// RevokeUserCodes marks used, at now, every unused auth code and
	// challenge of the user, so that none issued before a credential change
	// can be redeemed after it.
	RevokeUserCodes(ctx context.Context, userID int64, now time.Time) error
	// RevokeUserTokens revokes every unrevoked token of the user except
	// those of the family keepFamily (empty: keep none).
	RevokeUserTokens(ctx context.Context, userID int64, keepFamily string, now time.Time) error

	// Hit counts one event under key in a fixed window. When the counter's
	// window began at or before now-window, or there is no counter, the
	// count restarts at 1 and the window begins at now; otherwise the count
	// grows by one. LastAt becomes now either way. It returns the counter
	// after the hit; concurrent hits on one key are never lost.
	Hit(ctx context.Context, key string, now time.Time, window time.Duration) (Counter, error)
	// Counter returns the counter under key, or a Counter with Count 0 and
	// that Key when there is none (never ErrNotFound).
	Counter(ctx context.Context, key string) (Counter, error)
	// ResetCounter deletes the counter under key; it is not an error when
	// there is none.
	ResetCounter(ctx context.Context, key string) error

	// RecordEvent appends e to the audit trail and sets e.ID.
	RecordEvent(ctx context.Context, e *Event) error
	// Events returns the audit events at or after since, newest first, at
	// most limit of them.
	Events(ctx context.Context, since time.Time, limit int) ([]Event, error)

	// Purge deletes at most limit rows that can no longer be used as of
	// before: challenges and auth codes that expired before it, tokens whose
	// refresh tokens expired before it or that were revoked before it,
	// counters whose last hit was before it, and audit events older than
	// eventsBefore (zero: keep every event). It returns how many rows it
	// deleted; a caller deletes everything by calling it until it returns
	// less than limit. Each call is short, so it never holds a big table
	// locked for long.
	Purge(ctx context.Context, before, eventsBefore time.Time, limit int) (int, error)

	// Secret returns the value stored under name. When none is stored yet it
	// stores fresh and returns it; when instances race, all of them get the
	// value that was stored first.
	Secret(ctx context.Context, name string, fresh []byte) ([]byte, error)
}

// ProjectType decides how users of a project log in.
type ProjectType string

// The three project types of the iHopr API.
const (
	// TypeNone: login and signup return an auth code at once.
	TypeNone ProjectType = "none"
	// TypeTwoStep: login checks the password, then a mailed code.
	TypeTwoStep ProjectType = "two-step"
	// TypeOTP: login needs no password; the mailed code is the login.
	TypeOTP ProjectType = "otp"
)

// Valid reports whether t is one of the three project types.
func (t ProjectType) Valid() bool {
	return t == TypeNone || t == TypeTwoStep || t == TypeOTP
}

// Project is one client application: its users, codes and tokens belong to
// it and to nothing else.
type Project struct {
	ID       int64  // primary key, set by the Store
	ClientID string // client_id, unique
	// SecretHash is the keyed hash of the client secret, hex encoded; empty
	// for a public project that has no secret.
	SecretHash string
	Type       ProjectType // how users log in
	// Public marks a client that cannot keep a secret (SPA, mobile app): its
	// client_secret is optional and PKCE S256 is mandatory.
	Public    bool
	CreatedAt time.Time // when it was created, UTC
	UpdatedAt time.Time // when it last changed, UTC
}

// User is one account in one project. The same email in two projects is two
// users.
type User struct {
	// ID is the internal numeric id, shown as "id" in responses.
	ID int64
	// UserID is the public random id, shown as "user_id".
	UserID    string
	ProjectID int64 // the project it belongs to
	// Email is the address as the user gave it, trimmed.
	Email string
	// EmailKey is the canonical email: trimmed, ASCII letters lowercased.
	// Accounts are found and kept unique by it.
	EmailKey     string
	FirstName    string // first_name
	LastName     string // last_name
	MobileNumber string // mobile_number, as text
	// Meta is free text the client stored (often JSON); nil when unset.
	Meta     *string
	Role     string // role, as given
	Provider string // provider, "" for password accounts
	// PasswordHash is an argon2id PHC string or an imported bcrypt hash;
	// empty for a user who never set a password (otp projects). It is never
	// written to any response or log.
	PasswordHash string
	CreatedAt    time.Time // when it was created, UTC
	UpdatedAt    time.Time // when it last changed, UTC
	// Version counts the updates of the user; UpdateUser refuses to write
	// over a newer one.
	Version int64
}

// Purpose names what an emailed code is for.
type Purpose string

// Purposes of emailed codes.
const (
	PurposeOTP     Purpose = "otp"
	PurposeTwoStep Purpose = "two-step"
	PurposeReset   Purpose = "reset"
)

// Challenge is one emailed 6-digit code and the token the client holds to
// refer to it (otp_token, two_step_auth_token, reset_password_token).
type Challenge struct {
	ID        int64   // primary key, set by the Store
	Purpose   Purpose // what the code is for
	ProjectID int64   // the project it belongs to
	// UserID is 0 for a decoy issued for an unknown email: no code matches it.
	UserID int64
	// TokenHash is the SHA-256 of the token given to the client, hex encoded.
	TokenHash string
	// AccountKey is the throttle key of the account the code was asked for
	// (project and canonical email, hashed), set for decoys too, so wrong
	// guesses count against an unknown email exactly as against a known one.
	AccountKey string
	// CodeHash is the keyed hash of the code, hex encoded.
	CodeHash string
	// CodeChallenge and CodeChallengeMethod carry the login's PKCE challenge
	// to the auth code that the challenge yields.
	CodeChallenge       string
	CodeChallengeMethod string     // "S256" or "plain"; "" without a challenge
	Attempts            int        // wrong guesses so far
	ExpiresAt           time.Time  // when it stops working, UTC
	UsedAt              *time.Time // when it was used; nil while unused
	CreatedAt           time.Time  // when it was created, UTC
}

// AuthCode is the one-time "code" that api-tauth-token exchanges for tokens.
type AuthCode struct {
	ID int64 // primary key, set by the Store
	// Hash is the SHA-256 of the code, hex encoded.
	Hash                string
	ProjectID           int64      // the project it belongs to
	UserID              int64      // the internal id of its user
	CodeChallenge       string     // the PKCE code_challenge; "" without one
	CodeChallengeMethod string     // "S256" or "plain"; "" without a challenge
	ExpiresAt           time.Time  // when it stops working, UTC
	UsedAt              *time.Time // when it was used; nil while unused
	CreatedAt           time.Time  // when it was created, UTC
}

// Token is one access token and its refresh token. Tokens descended from one
// login share a FamilyID.
type Token struct {
	ID int64 // primary key, set by the Store
	// AccessHash and RefreshHash are SHA-256 hashes, hex encoded.
	AccessHash       string
	RefreshHash      string     // SHA-256 of the refresh token, hex
	FamilyID         string     // shared by every token rotated from one login
	ProjectID        int64      // the project it belongs to
	UserID           int64      // the internal id of its user
	AuthCodeID       int64      // the auth code it was issued for; 0 for none
	ExpiresAt        time.Time  // when it stops working, UTC
	RefreshExpiresAt time.Time  // absolute end of the refresh token, UTC
	RefreshedAt      *time.Time // when its refresh token was used; nil before
	RevokedAt        *time.Time // when it was revoked; nil while live
	CreatedAt        time.Time  // when it was created, UTC
}

// Counter is a throttle counter: how many events were counted under Key in
// the window that began at WindowStart, and when the last one was.
type Counter struct {
	// Key is at most 64 bytes; ihoprauth uses hex SHA-256 hashes.
	Key         string
	Count       int       // events counted in the window
	WindowStart time.Time // when the window began, UTC
	LastAt      time.Time // when the last event was, UTC
}

// Event is one entry of the audit trail: a security-relevant thing that
// happened, never with a password, code, token or secret in it.
type Event struct {
	ID int64 // primary key, set by the Store
	// Kind names what happened, such as "login", "login failed",
	// "token issued", "refresh token reused", "throttled".
	Kind      string
	ProjectID int64 // the project it belongs to
	// UserID is the public user_id, empty when no account is known.
	UserID    string
	IP        string // the client address
	UserAgent string // the client's User-Agent, cut to 255 bytes
	// Result is "ok" or why it failed.
	Result string
	At     time.Time // when it happened, UTC
}
