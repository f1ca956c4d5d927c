package ihoprauth

import (
	"slices"
	"strconv"
	"time"
)

// ProjectType decides how users of a project log in.
type ProjectType string

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
	Public bool
	// BcryptCosts has bit k set when bcrypt hashes of cost k were imported
	// into the project (ImportUser); 0 when none were. While it is set, every
	// password verification in the project runs one argon2id and one bcrypt
	// at each of these costs (the real hash where it matches, dummies for
	// the rest), so that imported users of any cost, native users and
	// unknown emails take the same time. Stores keep every bit they were
	// given (a bitwise OR): saving a project with 0 clears nothing.
	BcryptCosts int
	CreatedAt   time.Time // when it was created, UTC
	UpdatedAt   time.Time // when it last changed, UTC
}

// User is one account in one project. The same email in two projects is two
// users. json.Marshal shows its public fields only (not PasswordHash,
// EmailKey or Version), so an app may encode a User it got from ihoprauth
// as it is; the API itself answers a view of its own.
type User struct {
	// ID is the internal numeric id, shown as "id" in responses.
	ID int64
	// UserID is the public random id, shown as "user_id".
	UserID    string
	ProjectID int64 // the project it belongs to
	// Email is the address as the user gave it, trimmed.
	Email string
	// EmailKey is the canonical email: trimmed, ASCII letters lowercased.
	// Accounts are found and kept unique by it. Internal: json.Marshal
	// leaves it out.
	EmailKey     string `json:"-"`
	FirstName    string // first_name
	LastName     string // last_name
	MobileNumber string // mobile_number, as text
	// Meta is free text the client stored (often JSON); nil when unset.
	Meta     *string
	Role     string // role, as given
	Provider string // provider, "" for password accounts
	// PasswordHash is an argon2id PHC string or an imported bcrypt hash;
	// empty for a user who never set a password (otp projects). It is never
	// written to any response or log, json.Marshal leaves it out, and the
	// user that Auth.Authenticate (so authmw.UserFrom) gives has it empty.
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time // when it was created, UTC
	UpdatedAt    time.Time // when it last changed, UTC
	// DisabledAt is when Auth.DisableUser disabled the user, UTC; nil while
	// the user is enabled. A disabled user cannot log in, and no token or
	// session of theirs works.
	DisabledAt *time.Time
	// Version counts the updates of the user; UpdateUser refuses to write
	// over a newer one. Internal: json.Marshal leaves it out.
	Version int64 `json:"-"`
	// EmailVerifiedAt is when the user first proved the email theirs: a
	// mailed code of theirs was entered, or a provider that asserts the
	// email verified signed them in (docs/design.md, D43); nil while never.
	// Store.MarkEmailVerified sets it; UpdateUser leaves it alone, and the
	// user of a bearer check (Store.TokenUser) has it nil.
	EmailVerifiedAt *time.Time
}

// Disabled reports whether u is disabled (DisabledAt is set).
func (u User) Disabled() bool { return u.DisabledAt != nil }

// UserQuery selects users of one project for Store.ListUsers, in the order
// of their internal IDs. Its zero fields select everything.
type UserQuery struct {
	ProjectID int64 // the project; required
	// EmailPrefix keeps the users whose EmailKey starts with it, byte for
	// byte; "" keeps all.
	EmailPrefix string
	// Role keeps the users whose Role equals it exactly; "" keeps all.
	Role string
	// CreatedFrom keeps the users created at or after it; zero: no bound.
	CreatedFrom time.Time
	// CreatedBefore keeps the users created before it; zero: no bound.
	CreatedBefore time.Time
	// AfterID keeps the users whose ID is greater: the cursor of the next
	// page is the ID of the last user of the previous one. 0 starts at the
	// first.
	AfterID int64
	// Limit is the most users returned; the Store returns none when it is
	// not positive.
	Limit int
}

// Purpose names what an emailed code is for.
type Purpose string

// Purposes of emailed codes.
const (
	PurposeOTP     Purpose = "otp"
	PurposeTwoStep Purpose = "two-step"
	PurposeReset   Purpose = "reset"
	// PurposeMFA is the mfa_token of a login that still needs its second
	// factor; no code is mailed for it.
	PurposeMFA Purpose = "mfa"
	// PurposePasskeyRegister is the ceremony of a passkey registration
	// (docs/design.md, D41); no code is mailed for it.
	PurposePasskeyRegister Purpose = "passkey-register"
	// PurposePasskeyLogin is the ceremony of a login with a passkey as
	// its first factor (docs/design.md, D41); no code is mailed for it.
	PurposePasskeyLogin Purpose = "passkey-login"
	// PurposeOAuth is the state of a sign-in with another provider, from
	// its start to its callback (docs/design.md, D42); no code is mailed.
	PurposeOAuth Purpose = "oauth"
	// PurposeLink is the link_token with which a logged-in user starts
	// linking another provider (docs/design.md, D43); no code is mailed.
	PurposeLink Purpose = "link"
	// PurposeLinkConfirm is the link_code with which the user who started
	// a link confirms it (docs/design.md, D43); no code is mailed.
	PurposeLinkConfirm Purpose = "link-confirm"
)

// The three project types of the iHopr API.
const (
	// TypeNone: login and signup return an auth code at once.
	TypeNone ProjectType = "none"
	// TypeTwoStep: login checks the password, then a mailed code.
	TypeTwoStep ProjectType = "two-step"
	// TypeOTP: login needs no password; the mailed code is the login.
	TypeOTP ProjectType = "otp"
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
	// Provider is, for an mfa_token or the state of a sign-in with another
	// provider, the Provider's Name; "" otherwise. At most 32 bytes.
	Provider string
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
	// AAL is how the login was authenticated; its tokens inherit it. A
	// Store keeps AAL1 for 0.
	AAL AssuranceLevel
	// Provider is the Name of the Provider that signed the user in, which
	// the token answer shows as user.provider; "" for a login by password
	// or mailed code. At most 32 bytes.
	Provider string
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
	// AAL is how the login of the family was authenticated, kept across
	// refreshes. A Store keeps AAL1 for 0.
	AAL AssuranceLevel
	// AuthAt is when the login of the family checked its credentials (its
	// auth code was issued), kept across refreshes, UTC; zero for tokens
	// from before it was kept. Step-up asks how recent it is.
	AuthAt time.Time
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
	// Actor is who made the change through the admin API, when it was not
	// the user themself: the user_id of an admin, or "key:" and the ID of
	// a server API key. Empty for everything else.
	Actor string
	// Count is how many requests the event stands for: 1, or more for a
	// throttling event, which is written at most once a minute per source
	// and reason and counts the refusals since the last one.
	Count int
	At    time.Time // when it happened, UTC
}

// APIKey is a server API key of the app, for the admin API
// (Auth.CreateAPIKey). Only a keyed hash of the key is stored.
type APIKey struct {
	ID   int64  // primary key, set by the Store
	Name string // what the app calls it, for its own lists
	// ClientIDs are the projects whose users the key may manage.
	ClientIDs []string
	KeyHash   string `json:"-"` // keyed hash of the key; never shown
	CreatedAt time.Time
}

// Allows reports whether k may manage the project with that client_id.
func (k APIKey) Allows(clientID string) bool { return slices.Contains(k.ClientIDs, clientID) }

// FactorKind names a kind of second factor.
type FactorKind string

// The kinds of second factor.
const (
	// FactorTOTP is an authenticator app (RFC 6238: SHA-1, 6 digits, 30 s).
	FactorTOTP FactorKind = "totp"
)

// Factor is one second factor of a user. A factor counts only once it is
// confirmed (ConfirmedAt set): enrolment stores it unconfirmed, and the
// first valid code confirms it.
type Factor struct {
	ID     int64      // primary key, set by the Store
	UserID int64      // the internal id of its user
	Kind   FactorKind // what kind of factor it is
	// Secret is the factor's secret sealed with AES-256-GCM under a key
	// derived from the library's key; never the plain secret.
	Secret []byte
	// LastStep is the last TOTP time step (Unix time / 30) a code of this
	// factor was accepted for; a code of that step or an earlier one is
	// refused, so each code works once. 0 before the first.
	LastStep    int64
	ConfirmedAt *time.Time // when its first code was accepted; nil before
	CreatedAt   time.Time  // when it was created, UTC
}

// RecoveryCode is one single-use code that stands in for a second factor.
type RecoveryCode struct {
	ID     int64 // primary key, set by the Store
	UserID int64 // the internal id of its user
	// Hash is the keyed hash (HMAC-SHA256) of the code, hex encoded.
	Hash      string
	UsedAt    *time.Time // when it was used; nil while unused
	CreatedAt time.Time  // when it was created, UTC
}

// Passkey is one WebAuthn credential of a user (docs/design.md, D40). Its
// public key is not a secret; the private key never leaves the
// authenticator.
type Passkey struct {
	ID     int64 // primary key, set by the Store
	UserID int64 // the internal id of its user
	// CredentialID is the credential's id as the authenticator made it (at
	// most 1023 bytes), unique over every user.
	CredentialID []byte
	PublicKey    []byte // the COSE public key
	// SignCount is the authenticator's signature counter at the last use;
	// 0 for authenticators that do not count (most synced passkeys).
	SignCount      uint32
	BackupEligible bool   // the credential may be synced (the BE flag)
	BackupState    bool   // it is synced now (the BS flag, as last seen)
	AAGUID         []byte // the authenticator model, 16 bytes (zeros when not told)
	Transports     string // comma-separated hints: "internal,hybrid"
	Name           string // the owner's label for it
	CreatedAt      time.Time
	LastUsedAt     *time.Time // nil until its first login
}

// AssuranceLevel tells how strongly a login was authenticated, after the
// authentication assurance levels of NIST SP 800-63B-4 (supabase/auth's
// aal1 and aal2).
type AssuranceLevel int

// The assurance levels of a login.
const (
	// AAL1: one factor: a password, or a mailed code (an otp login; a
	// two-step login's mailed code is not an authenticator of its own in
	// NIST's sense, so password and mail together are still AAL1).
	AAL1 AssuranceLevel = 1
	// AAL2: a second factor too, a TOTP code, a recovery code or a
	// passkey, at mfa-code; or a passkey with user verification alone
	// (docs/design.md, D40).
	AAL2 AssuranceLevel = 2
)

// String returns "aal1" or "aal2", as supabase/auth names them.
func (l AssuranceLevel) String() string {
	return "aal" + strconv.Itoa(int(l))
}

// Identity links a user to an account at another provider (a Provider of
// Config.Providers): who the provider says signed in, and which user of the
// project that is (docs/design.md, D43). A project has at most one
// identity per provider and subject.
type Identity struct {
	ID        int64  // primary key, set by the Store
	ProjectID int64  // the project of its user
	UserID    int64  // the internal id of its user
	Provider  string // the Provider's Name, at most 32 bytes
	// Subject is the provider's id of the account (an OpenID Connect
	// "sub"), at most 255 bytes.
	Subject string
	// Email is the address the provider gave when the identity was linked,
	// at most 320 bytes; "" when it gave none.
	Email     string
	CreatedAt time.Time // when it was linked, UTC
}
