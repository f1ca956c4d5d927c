package ihoprauth

import (
	"context"
	"time"
)

// Revocation has one path. Whatever ends tokens or codes (logout, a reused
// refresh token or auth code, a refresh, a reset, a password change) names
// what it ends in a revocation and runs it with revoke inside revokeInTx,
// which appends the change to the feed in the same transaction (so every
// other instance drops its cached logins within a second; see feed.go) and
// drops the user's cached logins here once the transaction is over, so the
// token cache never needs a call of its own at the places that revoke. A
// change of the user that cached copies must not outlive (a role, a name)
// runs through revokeInTx too, with nothing to revoke.

// revocation names what to end; zero fields end nothing.
type revocation struct {
	// userID is the user whose tokens are ended; its cached logins go.
	userID int64
	// token ends one token, by ID.
	token int64
	// family ends every token of one login.
	family string
	// authCode ends every token issued for one auth code.
	authCode int64
	// allTokens ends every token of the user except those of keepFamily.
	allTokens  bool
	keepFamily string
	// codes ends every unused code of the user, so that nothing issued
	// before a credential change is redeemed after it (ASVS 7.4).
	codes bool
	// replacedUntil, when not zero, ends at that time the access tokens of
	// family that a refresh replaced (docs/design.md, D31).
	replacedUntil time.Time
}

// revoke writes r in st.
func (a *Auth) revoke(ctx context.Context, st Store, r revocation) error {
	now := a.now()
	steps := []struct {
		when bool
		do   func() error
	}{
		{r.token != 0, func() error { return st.RevokeToken(ctx, r.token, now) }},
		{r.family != "" && r.replacedUntil.IsZero(), func() error { return st.RevokeFamily(ctx, r.family, now) }},
		{r.family != "" && !r.replacedUntil.IsZero(), func() error { return st.ExpireReplacedAccess(ctx, r.family, r.replacedUntil) }},
		{r.authCode != 0, func() error { return st.RevokeAuthCodeTokens(ctx, r.authCode, now) }},
		{r.allTokens, func() error { return st.RevokeUserTokens(ctx, r.userID, r.keepFamily, now) }},
		{r.codes, func() error { return st.RevokeUserCodes(ctx, r.userID, now) }},
	}
	for _, s := range steps {
		if s.when {
			if err := s.do(); err != nil {
				return err
			}
		}
	}
	return nil
}

// revokeInTx runs fn in one transaction and then, whether it committed or
// not, drops the cached logins of userID: no cached copy outlives what fn
// revoked or changed, and one that was dropped needlessly only costs a
// read.
func (a *Auth) revokeInTx(ctx context.Context, userID int64, fn func(tx Store) error) error {
	defer a.cache.forgetUser(userID)
	return a.store.InTx(ctx, func(tx Store) error {
		if err := fn(tx); err != nil {
			return err
		}
		return tx.AppendChange(ctx, Change{UserID: userID})
	})
}

// revokeNow runs r in a transaction of its own.
func (a *Auth) revokeNow(ctx context.Context, r revocation) error {
	return a.revokeInTx(ctx, r.userID, func(tx Store) error { return a.revoke(ctx, tx, r) })
}
