package ihoprauth

import "context"

// endLogins ends what a credential change must end (ASVS 7.4): every token
// of the user except those of the family keep, and every code issued
// before it, so that nothing obtained with the old password survives.
func (a *Auth) endLogins(ctx context.Context, tx Store, userID int64, keep string) error {
	if err := tx.RevokeUserTokens(ctx, userID, keep, a.now()); err != nil {
		return err
	}
	return tx.RevokeUserCodes(ctx, userID, a.now())
}
