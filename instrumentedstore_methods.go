package ihoprauth

import (
	"context"
	"time"
)

// The methods below are one per Store method, all alike: each times the
// call, counts its outcome and wraps it in a span (see instrumentedstore.go).
// The compiler checks that instrumentedStore is a whole Store; a method
// missing here would pass through unobserved.

func (s instrumentedStore) InTx(ctx context.Context, fn func(tx Store) error) (err error) {
	ctx, done := s.start(ctx, "InTx")
	defer func() { done(err) }()
	return s.Store.InTx(ctx, func(tx Store) error { return fn(instrumentedStore{tx, s.tel}) })
}

func (s instrumentedStore) Purge(ctx context.Context, before, eventsBefore time.Time, limit int) (r0 int, err error) {
	ctx, done := s.start(ctx, "Purge")
	defer func() { done(err) }()
	return s.Store.Purge(ctx, before, eventsBefore, limit)
}

func (s instrumentedStore) Secret(ctx context.Context, name string, fresh []byte) (r0 []byte, err error) {
	ctx, done := s.start(ctx, "Secret")
	defer func() { done(err) }()
	return s.Store.Secret(ctx, name, fresh)
}

func (s instrumentedStore) SaveProject(ctx context.Context, p *Project) (err error) {
	ctx, done := s.start(ctx, "SaveProject")
	defer func() { done(err) }()
	return s.Store.SaveProject(ctx, p)
}

func (s instrumentedStore) ProjectByClientID(ctx context.Context, clientID string) (r0 Project, err error) {
	ctx, done := s.start(ctx, "ProjectByClientID")
	defer func() { done(err) }()
	return s.Store.ProjectByClientID(ctx, clientID)
}

func (s instrumentedStore) SetProjectSecretHash(ctx context.Context, id int64, old, hash string) (err error) {
	ctx, done := s.start(ctx, "SetProjectSecretHash")
	defer func() { done(err) }()
	return s.Store.SetProjectSecretHash(ctx, id, old, hash)
}

func (s instrumentedStore) ProjectByID(ctx context.Context, id int64) (r0 Project, err error) {
	ctx, done := s.start(ctx, "ProjectByID")
	defer func() { done(err) }()
	return s.Store.ProjectByID(ctx, id)
}

func (s instrumentedStore) DeleteProject(ctx context.Context, id int64) (err error) {
	ctx, done := s.start(ctx, "DeleteProject")
	defer func() { done(err) }()
	return s.Store.DeleteProject(ctx, id)
}

func (s instrumentedStore) CreateUser(ctx context.Context, u *User) (err error) {
	ctx, done := s.start(ctx, "CreateUser")
	defer func() { done(err) }()
	return s.Store.CreateUser(ctx, u)
}

func (s instrumentedStore) UserByEmail(ctx context.Context, projectID int64, emailKey string) (r0 User, err error) {
	ctx, done := s.start(ctx, "UserByEmail")
	defer func() { done(err) }()
	return s.Store.UserByEmail(ctx, projectID, emailKey)
}

func (s instrumentedStore) UserByID(ctx context.Context, id int64) (r0 User, err error) {
	ctx, done := s.start(ctx, "UserByID")
	defer func() { done(err) }()
	return s.Store.UserByID(ctx, id)
}

func (s instrumentedStore) UserByUserID(ctx context.Context, userID string) (r0 User, err error) {
	ctx, done := s.start(ctx, "UserByUserID")
	defer func() { done(err) }()
	return s.Store.UserByUserID(ctx, userID)
}

func (s instrumentedStore) UpdateUser(ctx context.Context, u *User) (err error) {
	ctx, done := s.start(ctx, "UpdateUser")
	defer func() { done(err) }()
	return s.Store.UpdateUser(ctx, u)
}

func (s instrumentedStore) ListUsers(ctx context.Context, q UserQuery) (r0 []User, err error) {
	ctx, done := s.start(ctx, "ListUsers")
	defer func() { done(err) }()
	return s.Store.ListUsers(ctx, q)
}

func (s instrumentedStore) DeleteUser(ctx context.Context, id int64, account, pseudonym string) (err error) {
	ctx, done := s.start(ctx, "DeleteUser")
	defer func() { done(err) }()
	return s.Store.DeleteUser(ctx, id, account, pseudonym)
}

func (s instrumentedStore) CreateChallenge(ctx context.Context, c *Challenge) (err error) {
	ctx, done := s.start(ctx, "CreateChallenge")
	defer func() { done(err) }()
	return s.Store.CreateChallenge(ctx, c)
}

func (s instrumentedStore) ChallengeByToken(ctx context.Context, purpose Purpose, tokenHash string) (r0 Challenge, err error) {
	ctx, done := s.start(ctx, "ChallengeByToken")
	defer func() { done(err) }()
	return s.Store.ChallengeByToken(ctx, purpose, tokenHash)
}

func (s instrumentedStore) TakeChallengeAttempt(ctx context.Context, id int64, maxAttempts int) (r0 bool, err error) {
	ctx, done := s.start(ctx, "TakeChallengeAttempt")
	defer func() { done(err) }()
	return s.Store.TakeChallengeAttempt(ctx, id, maxAttempts)
}

func (s instrumentedStore) ConsumeChallenge(ctx context.Context, id int64, now time.Time) (r0 bool, err error) {
	ctx, done := s.start(ctx, "ConsumeChallenge")
	defer func() { done(err) }()
	return s.Store.ConsumeChallenge(ctx, id, now)
}

func (s instrumentedStore) CreateAuthCode(ctx context.Context, c *AuthCode) (err error) {
	ctx, done := s.start(ctx, "CreateAuthCode")
	defer func() { done(err) }()
	return s.Store.CreateAuthCode(ctx, c)
}

func (s instrumentedStore) AuthCodeByHash(ctx context.Context, hash string) (r0 AuthCode, err error) {
	ctx, done := s.start(ctx, "AuthCodeByHash")
	defer func() { done(err) }()
	return s.Store.AuthCodeByHash(ctx, hash)
}

func (s instrumentedStore) ConsumeAuthCode(ctx context.Context, id int64, now time.Time) (r0 bool, err error) {
	ctx, done := s.start(ctx, "ConsumeAuthCode")
	defer func() { done(err) }()
	return s.Store.ConsumeAuthCode(ctx, id, now)
}

func (s instrumentedStore) CreateToken(ctx context.Context, t *Token) (err error) {
	ctx, done := s.start(ctx, "CreateToken")
	defer func() { done(err) }()
	return s.Store.CreateToken(ctx, t)
}

func (s instrumentedStore) TokenUser(ctx context.Context, hash string) (r0 Token, r1 User, err error) {
	ctx, done := s.start(ctx, "TokenUser")
	defer func() { done(err) }()
	return s.Store.TokenUser(ctx, hash)
}

func (s instrumentedStore) TokenByRefreshHash(ctx context.Context, hash string) (r0 Token, err error) {
	ctx, done := s.start(ctx, "TokenByRefreshHash")
	defer func() { done(err) }()
	return s.Store.TokenByRefreshHash(ctx, hash)
}

func (s instrumentedStore) MarkTokenRefreshed(ctx context.Context, id int64, now time.Time) (r0 bool, err error) {
	ctx, done := s.start(ctx, "MarkTokenRefreshed")
	defer func() { done(err) }()
	return s.Store.MarkTokenRefreshed(ctx, id, now)
}

func (s instrumentedStore) ExpireReplacedAccess(ctx context.Context, familyID string, at time.Time) (err error) {
	ctx, done := s.start(ctx, "ExpireReplacedAccess")
	defer func() { done(err) }()
	return s.Store.ExpireReplacedAccess(ctx, familyID, at)
}

func (s instrumentedStore) RevokeToken(ctx context.Context, id int64, now time.Time) (err error) {
	ctx, done := s.start(ctx, "RevokeToken")
	defer func() { done(err) }()
	return s.Store.RevokeToken(ctx, id, now)
}

func (s instrumentedStore) RevokeFamily(ctx context.Context, familyID string, now time.Time) (err error) {
	ctx, done := s.start(ctx, "RevokeFamily")
	defer func() { done(err) }()
	return s.Store.RevokeFamily(ctx, familyID, now)
}

func (s instrumentedStore) RevokeAuthCodeTokens(ctx context.Context, authCodeID int64, now time.Time) (err error) {
	ctx, done := s.start(ctx, "RevokeAuthCodeTokens")
	defer func() { done(err) }()
	return s.Store.RevokeAuthCodeTokens(ctx, authCodeID, now)
}

func (s instrumentedStore) RevokeUserCodes(ctx context.Context, userID int64, now time.Time) (err error) {
	ctx, done := s.start(ctx, "RevokeUserCodes")
	defer func() { done(err) }()
	return s.Store.RevokeUserCodes(ctx, userID, now)
}

func (s instrumentedStore) RevokeUserTokens(ctx context.Context, userID int64, keepFamily string, now time.Time) (err error) {
	ctx, done := s.start(ctx, "RevokeUserTokens")
	defer func() { done(err) }()
	return s.Store.RevokeUserTokens(ctx, userID, keepFamily, now)
}

func (s instrumentedStore) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (r0 Counter, err error) {
	ctx, done := s.start(ctx, "Hit")
	defer func() { done(err) }()
	return s.Store.Hit(ctx, key, now, window)
}

func (s instrumentedStore) Counter(ctx context.Context, key string) (r0 Counter, err error) {
	ctx, done := s.start(ctx, "Counter")
	defer func() { done(err) }()
	return s.Store.Counter(ctx, key)
}

func (s instrumentedStore) ResetCounter(ctx context.Context, key string) (err error) {
	ctx, done := s.start(ctx, "ResetCounter")
	defer func() { done(err) }()
	return s.Store.ResetCounter(ctx, key)
}

func (s instrumentedStore) Unhit(ctx context.Context, key string) (err error) {
	ctx, done := s.start(ctx, "Unhit")
	defer func() { done(err) }()
	return s.Store.Unhit(ctx, key)
}

func (s instrumentedStore) RecordEvent(ctx context.Context, e *Event) (err error) {
	ctx, done := s.start(ctx, "RecordEvent")
	defer func() { done(err) }()
	return s.Store.RecordEvent(ctx, e)
}

func (s instrumentedStore) Events(ctx context.Context, since time.Time, limit int) (r0 []Event, err error) {
	ctx, done := s.start(ctx, "Events")
	defer func() { done(err) }()
	return s.Store.Events(ctx, since, limit)
}

func (s instrumentedStore) UserEvents(ctx context.Context, userID string, since time.Time, limit int) (r0 []Event, err error) {
	ctx, done := s.start(ctx, "UserEvents")
	defer func() { done(err) }()
	return s.Store.UserEvents(ctx, userID, since, limit)
}

func (s instrumentedStore) CreateAPIKey(ctx context.Context, k *APIKey) (err error) {
	ctx, done := s.start(ctx, "CreateAPIKey")
	defer func() { done(err) }()
	return s.Store.CreateAPIKey(ctx, k)
}

func (s instrumentedStore) APIKeyByHash(ctx context.Context, hash string) (r0 APIKey, err error) {
	ctx, done := s.start(ctx, "APIKeyByHash")
	defer func() { done(err) }()
	return s.Store.APIKeyByHash(ctx, hash)
}

func (s instrumentedStore) APIKeys(ctx context.Context) (r0 []APIKey, err error) {
	ctx, done := s.start(ctx, "APIKeys")
	defer func() { done(err) }()
	return s.Store.APIKeys(ctx)
}

func (s instrumentedStore) DeleteAPIKey(ctx context.Context, id int64) (err error) {
	ctx, done := s.start(ctx, "DeleteAPIKey")
	defer func() { done(err) }()
	return s.Store.DeleteAPIKey(ctx, id)
}

func (s instrumentedStore) UpdateAPIKey(ctx context.Context, k APIKey) (err error) {
	ctx, done := s.start(ctx, "UpdateAPIKey")
	defer func() { done(err) }()
	return s.Store.UpdateAPIKey(ctx, k)
}

func (s instrumentedStore) RememberSource(ctx context.Context, account, source string, at time.Time) (err error) {
	ctx, done := s.start(ctx, "RememberSource")
	defer func() { done(err) }()
	return s.Store.RememberSource(ctx, account, source, at)
}

func (s instrumentedStore) SourceLastSeen(ctx context.Context, account, source string) (r0 time.Time, err error) {
	ctx, done := s.start(ctx, "SourceLastSeen")
	defer func() { done(err) }()
	return s.Store.SourceLastSeen(ctx, account, source)
}

func (s instrumentedStore) AppendChange(ctx context.Context, c Change) (err error) {
	ctx, done := s.start(ctx, "AppendChange")
	defer func() { done(err) }()
	return s.Store.AppendChange(ctx, c)
}

func (s instrumentedStore) Changes(ctx context.Context, since time.Time) (r0 []Change, r1 time.Time, err error) {
	ctx, done := s.start(ctx, "Changes")
	defer func() { done(err) }()
	return s.Store.Changes(ctx, since)
}

func (s instrumentedStore) SaveFactor(ctx context.Context, f *Factor) (err error) {
	ctx, done := s.start(ctx, "SaveFactor")
	defer func() { done(err) }()
	return s.Store.SaveFactor(ctx, f)
}

func (s instrumentedStore) Factors(ctx context.Context, userID int64) (r0 []Factor, err error) {
	ctx, done := s.start(ctx, "Factors")
	defer func() { done(err) }()
	return s.Store.Factors(ctx, userID)
}

func (s instrumentedStore) ConfirmFactor(ctx context.Context, id, step int64, now time.Time) (r0 bool, err error) {
	ctx, done := s.start(ctx, "ConfirmFactor")
	defer func() { done(err) }()
	return s.Store.ConfirmFactor(ctx, id, step, now)
}

func (s instrumentedStore) UseFactorStep(ctx context.Context, id, step int64) (r0 bool, err error) {
	ctx, done := s.start(ctx, "UseFactorStep")
	defer func() { done(err) }()
	return s.Store.UseFactorStep(ctx, id, step)
}

func (s instrumentedStore) DeleteFactors(ctx context.Context, userID int64) (err error) {
	ctx, done := s.start(ctx, "DeleteFactors")
	defer func() { done(err) }()
	return s.Store.DeleteFactors(ctx, userID)
}

func (s instrumentedStore) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string, now time.Time) (err error) {
	ctx, done := s.start(ctx, "ReplaceRecoveryCodes")
	defer func() { done(err) }()
	return s.Store.ReplaceRecoveryCodes(ctx, userID, hashes, now)
}

func (s instrumentedStore) RecoveryCodes(ctx context.Context, userID int64) (r0 []RecoveryCode, err error) {
	ctx, done := s.start(ctx, "RecoveryCodes")
	defer func() { done(err) }()
	return s.Store.RecoveryCodes(ctx, userID)
}

func (s instrumentedStore) UseRecoveryCode(ctx context.Context, id int64, now time.Time) (r0 bool, err error) {
	ctx, done := s.start(ctx, "UseRecoveryCode")
	defer func() { done(err) }()
	return s.Store.UseRecoveryCode(ctx, id, now)
}

func (s instrumentedStore) SavePasskey(ctx context.Context, p *Passkey) (err error) {
	ctx, done := s.start(ctx, "SavePasskey")
	defer func() { done(err) }()
	return s.Store.SavePasskey(ctx, p)
}

func (s instrumentedStore) Passkeys(ctx context.Context, userID int64) (r0 []Passkey, err error) {
	ctx, done := s.start(ctx, "Passkeys")
	defer func() { done(err) }()
	return s.Store.Passkeys(ctx, userID)
}

func (s instrumentedStore) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (r0 Passkey, err error) {
	ctx, done := s.start(ctx, "PasskeyByCredentialID")
	defer func() { done(err) }()
	return s.Store.PasskeyByCredentialID(ctx, credentialID)
}

func (s instrumentedStore) UsePasskey(ctx context.Context, id int64, count uint32, backupState bool, now time.Time) (r0 bool, err error) {
	ctx, done := s.start(ctx, "UsePasskey")
	defer func() { done(err) }()
	return s.Store.UsePasskey(ctx, id, count, backupState, now)
}

func (s instrumentedStore) DeletePasskey(ctx context.Context, userID, id int64) (err error) {
	ctx, done := s.start(ctx, "DeletePasskey")
	defer func() { done(err) }()
	return s.Store.DeletePasskey(ctx, userID, id)
}

func (s instrumentedStore) MarkEmailVerified(ctx context.Context, id int64, at time.Time) (err error) {
	ctx, done := s.start(ctx, "MarkEmailVerified")
	defer func() { done(err) }()
	return s.Store.MarkEmailVerified(ctx, id, at)
}

func (s instrumentedStore) CreateIdentity(ctx context.Context, id *Identity) (err error) {
	ctx, done := s.start(ctx, "CreateIdentity")
	defer func() { done(err) }()
	return s.Store.CreateIdentity(ctx, id)
}

func (s instrumentedStore) IdentityBySubject(ctx context.Context, projectID int64, provider, subject string) (r0 Identity, err error) {
	ctx, done := s.start(ctx, "IdentityBySubject")
	defer func() { done(err) }()
	return s.Store.IdentityBySubject(ctx, projectID, provider, subject)
}

func (s instrumentedStore) Identities(ctx context.Context, userID int64) (r0 []Identity, err error) {
	ctx, done := s.start(ctx, "Identities")
	defer func() { done(err) }()
	return s.Store.Identities(ctx, userID)
}

func (s instrumentedStore) DeleteIdentity(ctx context.Context, userID, id int64) (err error) {
	ctx, done := s.start(ctx, "DeleteIdentity")
	defer func() { done(err) }()
	return s.Store.DeleteIdentity(ctx, userID, id)
}
