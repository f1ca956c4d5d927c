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

// Store persists projects, users, one-time codes, tokens, throttle
// counters and the audit trail. The gorm-backed implementation in package
// store is the one most apps use; any other must pass the conformance suite
// in package storetest.
//
// Every method takes the request's context first and must stop when it is
// cancelled. Lookups return ErrNotFound (possibly wrapped) when nothing
// matches. An error that means the database cannot answer now (unreachable,
// out of connections, busy, timed out) wraps ErrUnavailable, so that the
// request gets 503 and may be retried; any other error is a 500. Times are
// stored and returned in UTC with at least microsecond precision.
//
// The methods are grouped by concern in the embedded interfaces, so that
// code which needs only one concern can ask for just that.
type Store interface {
	ProjectStore
	UserStore
	CodeStore
	TokenStore
	CounterStore
	SourceStore
	ChangeStore
	EventStore
	APIKeyStore
	FactorStore
	PasskeyStore
	IdentityStore

	// InTx runs fn with a Store whose calls all belong to one transaction,
	// committed when fn returns nil and rolled back otherwise. Calling InTx
	// on the Store passed to fn runs fn in the same transaction.
	InTx(ctx context.Context, fn func(tx Store) error) error

	// Purge deletes at most limit rows that can no longer be used as of
	// before: challenges and auth codes that expired before it, tokens whose
	// refresh tokens expired before it or that were revoked before it,
	// counters whose last hit was before it, known sources last seen more
	// than KnownSourceTTL before it, changes of the feed appended before it,
	// and audit events older than
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

// ProjectStore keeps the projects (client applications).
type ProjectStore interface {
	// SaveProject inserts p, or updates the project with the same ClientID,
	// and sets p.ID, p.CreatedAt and p.UpdatedAt from the stored row.
	SaveProject(ctx context.Context, p *Project) error
	// ProjectByClientID returns the project with that client_id.
	ProjectByClientID(ctx context.Context, clientID string) (Project, error)
	// SetProjectSecretHash sets the SecretHash of the project with that ID
	// to hash if it is still old, or returns ErrConflict when it is not
	// (the secret was changed meanwhile) and ErrNotFound when there is no
	// such project.
	SetProjectSecretHash(ctx context.Context, id int64, old, hash string) error
	// ProjectByID returns the project with that ID.
	ProjectByID(ctx context.Context, id int64) (Project, error)
	// DeleteProject deletes, in one transaction, the project with that ID
	// and every user, challenge, auth code, token and identity that belongs
	// to it, and its users' second factors, recovery codes and passkeys.
	// It returns ErrNotFound when there is no such project. Auth deletes
	// each user with DeleteUser first, so that their audit events are
	// pseudonymised and their known sources erased; this catches the rest.
	DeleteProject(ctx context.Context, id int64) error
}

// UserStore keeps the accounts of every project.
type UserStore interface {
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
	// role, provider, password hash, DisabledAt, UpdatedAt) to the row with
	// u.ID, but only if the stored Version still equals u.Version, and then
	// sets both
	// to u.Version+1. It returns ErrConflict when the stored Version differs
	// (the user changed since u was read) and ErrNotFound when there is no
	// such row. Of concurrent updates from one version exactly one wins.
	UpdateUser(ctx context.Context, u *User) error
	// ListUsers returns the users that q selects, by ascending ID, at most
	// q.Limit of them; an empty slice (not ErrNotFound) when none match.
	ListUsers(ctx context.Context, q UserQuery) ([]User, error)
	// MarkEmailVerified sets EmailVerifiedAt of the user with internal ID
	// id to at, unless it is set already (the first proof counts), and
	// changes nothing else, Version and UpdatedAt included. It returns
	// ErrNotFound when there is no such user.
	MarkEmailVerified(ctx context.Context, id int64, at time.Time) error
	// DeleteUser erases the user with internal ID id, in one transaction:
	// it deletes the user's row, tokens, auth codes and challenges, the
	// challenges and known sources whose account key is account (decoys
	// asked for the same email included), their second factors,
	// recovery codes and passkeys, their identities at other providers,
	// and whatever else of theirs the
	// Store keeps (package store: the cookie sessions that hold one of
	// their tokens); and in every audit event of theirs, and every one
	// whose Actor they are, it replaces that UserID or Actor with
	// pseudonym and empties IP and UserAgent. It returns ErrNotFound
	// when there is no such user. Throttle counters are left to expire.
	DeleteUser(ctx context.Context, id int64, account, pseudonym string) error
}

// CodeStore keeps the one-time items: emailed codes (challenges) and the auth codes that login answers.
type CodeStore interface {
	// CreateChallenge inserts c and sets c.ID.
	CreateChallenge(ctx context.Context, c *Challenge) error
	// ChallengeByToken returns the challenge of that purpose whose TokenHash
	// equals tokenHash.
	ChallengeByToken(ctx context.Context, purpose Purpose, tokenHash string) (Challenge, error)
	// TakeChallengeAttempt adds one to the challenge's Attempts if it is
	// unused and has fewer than maxAttempts, and reports whether it did; of
	// concurrent calls at most maxAttempts-Attempts get true. A code is
	// compared only after its attempt is taken.
	TakeChallengeAttempt(ctx context.Context, id int64, maxAttempts int) (bool, error)
	// ConsumeChallenge marks the challenge used at now if it is still
	// unused. It reports whether this call was the one that consumed it: of
	// any number of concurrent calls for one challenge, exactly one gets
	// true.
	ConsumeChallenge(ctx context.Context, id int64, now time.Time) (bool, error)

	// CreateAuthCode inserts c and sets c.ID.
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// AuthCodeByHash returns the auth code whose Hash equals hash.
	AuthCodeByHash(ctx context.Context, hash string) (AuthCode, error)
	// ConsumeAuthCode marks the auth code used at now if it is unused and
	// reports whether this call did so; of concurrent calls exactly one
	// gets true.
	ConsumeAuthCode(ctx context.Context, id int64, now time.Time) (bool, error)
}

// TokenStore keeps access and refresh tokens and revokes them.
type TokenStore interface {
	// CreateToken inserts t and sets t.ID.
	CreateToken(ctx context.Context, t *Token) error
	// TokenUser returns the token whose AccessHash equals hash, revoked or
	// not, together with its user, in one read: it is the lookup behind
	// every bearer check. The token's RefreshHash and the user's
	// PasswordHash are left empty: no bearer check needs them, and the
	// token cache then keeps no hash of another credential. The user's
	// EmailVerifiedAt is left nil.
	TokenUser(ctx context.Context, hash string) (Token, User, error)
	// TokenByRefreshHash returns the token whose RefreshHash equals hash,
	// revoked or not.
	TokenByRefreshHash(ctx context.Context, hash string) (Token, error)
	// MarkTokenRefreshed sets RefreshedAt to now if the token is neither
	// refreshed nor revoked, and reports whether this call did so; of
	// concurrent calls exactly one gets true.
	MarkTokenRefreshed(ctx context.Context, id int64, now time.Time) (bool, error)
	// ExpireReplacedAccess sets ExpiresAt to at on every token of the
	// family whose refresh token has been used (RefreshedAt set) and whose
	// ExpiresAt is later than at: it ends, at the latest at at, the access
	// tokens that refreshes replaced. Refresh tokens, RefreshedAt and
	// RevokedAt stay as they are.
	ExpireReplacedAccess(ctx context.Context, familyID string, at time.Time) error
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
}

// CounterStore keeps the throttle counters.
type CounterStore interface {
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
	// Unhit takes back one hit under key: the count goes down by one unless
	// it is 0 or there is no counter. Throttles reserve a slot with Hit
	// before a check and give it back with Unhit when the check succeeds.
	Unhit(ctx context.Context, key string) error
}

// EventStore keeps the audit trail.
type EventStore interface {
	// RecordEvent appends e to the audit trail and sets e.ID; a Count
	// below 1 is stored (and set in e) as 1.
	RecordEvent(ctx context.Context, e *Event) error
	// Events returns the audit events at or after since, newest first, at
	// most limit of them.
	Events(ctx context.Context, since time.Time, limit int) ([]Event, error)
	// UserEvents returns the audit events at or after since whose UserID
	// equals userID, newest first, at most limit of them.
	UserEvents(ctx context.Context, userID string, since time.Time, limit int) ([]Event, error)
}

// APIKeyStore keeps the server API keys of the admin API.
type APIKeyStore interface {
	// CreateAPIKey inserts k and sets k.ID. It returns ErrDuplicate when a
	// key with the same KeyHash exists.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByHash returns the key whose KeyHash is hash.
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// APIKeys returns every key, oldest first.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// DeleteAPIKey deletes the key with that ID, or returns ErrNotFound.
	DeleteAPIKey(ctx context.Context, id int64) error
	// UpdateAPIKey writes the KeyHash and ClientIDs of k over those of the
	// key with k's ID (a key hashed again under a new key, or one whose
	// project was deleted), or returns ErrNotFound.
	UpdateAPIKey(ctx context.Context, k APIKey) error
}

// IdentityStore keeps the links between users and their accounts at other
// providers (docs/design.md, D43).
type IdentityStore interface {
	// CreateIdentity inserts id and sets its ID. It returns ErrDuplicate
	// when the project already has an identity with the same Provider and
	// Subject (linked to this user or another).
	CreateIdentity(ctx context.Context, id *Identity) error
	// IdentityBySubject returns the project's identity of that provider
	// and subject, compared byte for byte.
	IdentityBySubject(ctx context.Context, projectID int64, provider, subject string) (Identity, error)
	// Identities returns the user's identities by ascending ID; an empty
	// slice (not ErrNotFound) when there are none.
	Identities(ctx context.Context, userID int64) ([]Identity, error)
	// DeleteIdentity deletes the identity with that ID if it belongs to
	// the user, and returns ErrNotFound otherwise.
	DeleteIdentity(ctx context.Context, userID, id int64) error
}

// KnownSourceTTL is how long a source (a device or an address) stays known
// to an account after its last completed login.
const KnownSourceTTL = 30 * 24 * time.Hour

// SourceStore remembers the sources that completed a login to an account
// (docs/design.md, D24). A source is an opaque key that
// ihoprauth makes from a signed device id or a client address.
type SourceStore interface {
	// RememberSource records that source completed a login to the account
	// at: it inserts the pair, or moves its LastAt forward to at.
	RememberSource(ctx context.Context, account, source string, at time.Time) error
	// SourceLastSeen returns when source last completed a login to the
	// account, or ErrNotFound when it never did (or was purged).
	SourceLastSeen(ctx context.Context, account, source string) (time.Time, error)
}

// ChangeStore keeps the change feed that keeps every instance's token and
// project caches right (docs/design.md, D7): whatever ends a user's logins,
// changes the user or changes a project appends a change in the same
// transaction, and every instance reads the recent ones and drops what they
// name from its caches.
type ChangeStore interface {
	// AppendChange records c (its UserID or its ProjectID), stamped with
	// the database's own clock (not the caller's), so that instances with
	// skewed clocks agree on the order. It sets neither c.ID nor c.At.
	AppendChange(ctx context.Context, c Change) error
	// Changes returns the changes stamped at or after since, in the order
	// of their IDs, and the database's clock now, read in the same call.
	Changes(ctx context.Context, since time.Time) ([]Change, time.Time, error)
}

// Change is one entry of the change feed: the user whose logins or row
// changed, or the project whose row changed, and when, by the database's
// clock.
type Change struct {
	ID        int64     // set by the Store, increasing
	UserID    int64     // the internal ID of the user; 0 for a project's change
	ProjectID int64     // the internal ID of the project; 0 for a user's change
	At        time.Time // the database's clock when it was appended, UTC
}

// FactorStore keeps users' second factors and recovery codes
// (docs/design.md, D34-D36). Every one-time use is decided by one
// conditional write, so that instances sharing the database agree on which
// of concurrent uses wins.
type FactorStore interface {
	// SaveFactor inserts f, an unconfirmed factor, and sets f.ID. An
	// unconfirmed factor of the same user and kind is replaced; when the
	// user already has a confirmed one of that kind it returns ErrDuplicate
	// and stores nothing.
	SaveFactor(ctx context.Context, f *Factor) error
	// Factors returns the user's factors, confirmed or not, by ascending
	// ID; an empty slice (not ErrNotFound) when there are none.
	Factors(ctx context.Context, userID int64) ([]Factor, error)
	// ConfirmFactor marks the unconfirmed factor with that ID confirmed at
	// now, with step as its last used step, and reports whether it did; of
	// concurrent calls at most one gets true.
	ConfirmFactor(ctx context.Context, id, step int64, now time.Time) (bool, error)
	// UseFactorStep sets the LastStep of the confirmed factor with that ID
	// to step if its LastStep is less than step, and reports whether it
	// did: of concurrent calls with one step exactly one gets true, and a
	// step at or before the last used one never does.
	UseFactorStep(ctx context.Context, id, step int64) (bool, error)
	// DeleteFactors deletes every factor and recovery code of the user; it
	// is not an error when there are none.
	DeleteFactors(ctx context.Context, userID int64) error

	// ReplaceRecoveryCodes deletes every recovery code of the user and
	// stores one unused code for each of hashes, in one transaction.
	ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string, now time.Time) error
	// RecoveryCodes returns the user's unused recovery codes, by ascending
	// ID; an empty slice when there are none.
	RecoveryCodes(ctx context.Context, userID int64) ([]RecoveryCode, error)
	// UseRecoveryCode marks the recovery code with that ID used at now if it
	// is unused, and reports whether this call did so; of concurrent calls
	// exactly one gets true.
	UseRecoveryCode(ctx context.Context, id int64, now time.Time) (bool, error)
}

// PasskeyStore keeps users' passkeys (docs/design.md, D40). A use is
// decided by one conditional write, so that instances sharing the database
// agree on the signature counter.
type PasskeyStore interface {
	// SavePasskey inserts p and sets p.ID. It returns ErrDuplicate when a
	// passkey with the same CredentialID exists (of any user).
	SavePasskey(ctx context.Context, p *Passkey) error
	// Passkeys returns the user's passkeys by ascending ID; an empty slice
	// (not ErrNotFound) when there are none.
	Passkeys(ctx context.Context, userID int64) ([]Passkey, error)
	// PasskeyByCredentialID returns the passkey with that CredentialID.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (Passkey, error)
	// UsePasskey records a login with the passkey with that ID: it sets
	// SignCount to count, BackupState to backupState and LastUsedAt to now,
	// but only if the stored SignCount is less than count, or both are 0
	// (an authenticator that does not count), and reports whether it did.
	// Of concurrent calls with one count exactly one gets true, and a
	// count at or below a non-zero stored one never does.
	UsePasskey(ctx context.Context, id int64, count uint32, backupState bool, now time.Time) (bool, error)
	// DeletePasskey deletes the user's passkey with that ID, or returns
	// ErrNotFound when the user has none with that ID.
	DeletePasskey(ctx context.Context, userID, id int64) error
}
