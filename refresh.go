package ihoprauth

import (
	"context"
	"errors"
	"net/http"
)

// Refresh tokens rotate on every use (RFC 9700 §4.14.2): each refresh
// answers a new access and refresh token in the same family and retires
// the refresh token it was given. Presenting a retired refresh token means
// that two parties hold it, so the whole family is revoked.
//
// A refresh also ends the access token it replaces (docs/design.md, D31),
// so that a client refreshing in a loop cannot pile up live access tokens
// (and cache entries): at once without Config.RefreshGrace, otherwise when
// the grace has passed or the new access token is first used, whichever
// comes first. The refresh writes the first bound into the replaced token's
// ExpiresAt, in its own transaction, so every instance's plain expiry check
// enforces it; the second is endReplaced in the bearer check. Only the
// access token ends early: the refresh token keeps its one extra use within
// the grace, for clients that refresh from several tabs at once.

// errRefreshReused says a refresh token was presented after its rotation.
var errRefreshReused = errors.New("ihoprauth: refresh token reused")

// handleRefresh exchanges a refresh token for a new token pair.
func (a *Auth) handleRefresh(r *http.Request, in *input) (any, error) {
	client, refresh := readClient(in), in.str("refresh_token", true, maxOpaque)
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.refresh(r.Context(), client, refresh)
}

// refresh rotates the refresh token of the client's project: a new access
// and refresh token in the same family, the old refresh token retired and
// its access token ended. A retired refresh token presented again revokes
// the whole family.
func (a *Auth) refresh(ctx context.Context, client clientCreds, refresh string) (tokenAnswer, error) {
	// The token is read first, so that a request past its address's cap
	// can pass it (passCap) before the client's secret is checked.
	t, terr := a.store.TokenByRefreshHash(ctx, sha256Hex(refresh))
	if terr != nil && !errors.Is(terr, ErrNotFound) {
		return tokenAnswer{}, terr
	}
	if err := a.passCapOf(ctx, t.UserID); err != nil {
		return tokenAnswer{}, err
	}
	p, err := a.authClient(ctx, client)
	if err != nil {
		return tokenAnswer{}, err
	}
	switch {
	case terr != nil:
		return tokenAnswer{}, errBadRefresh
	case t.ProjectID != p.ID || !a.now().Before(t.RefreshExpiresAt):
		return tokenAnswer{}, errBadRefresh
	case t.RevokedAt != nil && t.RefreshedAt == nil:
		return tokenAnswer{}, errBadRefresh // ended by a logout or a credential change
	}
	var answer tokenAnswer
	err = a.revokeInTx(ctx, t.UserID, func(tx Store) error {
		if t.RevokedAt != nil {
			return errRefreshReused // rotated, then presented again
		}
		if err := a.retireRefreshToken(ctx, tx, t); err != nil {
			return err
		}
		answer, err = a.issueTokens(ctx, tx, t.UserID, t.AuthCodeID, t.FamilyID, t.RefreshExpiresAt, loginAuth{t.AAL, t.AuthAt})
		return err
	})
	if err == errDisabled {
		return tokenAnswer{}, errBadRefresh
	}
	if errors.Is(err, errRefreshReused) {
		if err := a.revokeNow(ctx, revocation{userID: t.UserID, family: t.FamilyID}); err != nil {
			return tokenAnswer{}, err
		}
		a.event(ctx, EventReuseDetected, p.ID, a.publicID(ctx, t.UserID), "refresh token: family revoked")
		return tokenAnswer{}, errBadRefresh
	}
	if err != nil {
		return tokenAnswer{}, err
	}
	a.event(ctx, EventTokenRefreshed, p.ID, answer.User.UserID, "ok")
	return answer, nil
}

// retireRefreshToken marks t refreshed and ends its access token
// Config.RefreshGrace from now (at once without a grace). A token already
// refreshed is a reuse, unless RefreshGrace allows one second refresh
// shortly after the first (for clients that refresh from several tabs at
// once): that second use also revokes t, so a third is refused and nobody
// can branch the family more than once.
func (a *Auth) retireRefreshToken(ctx context.Context, tx Store, t Token) error {
	won, err := tx.MarkTokenRefreshed(ctx, t.ID, a.now())
	if err != nil {
		return err
	}
	if won {
		return a.revoke(ctx, tx, revocation{userID: t.UserID, family: t.FamilyID, replacedUntil: a.now().Add(a.cfg.RefreshGrace)})
	}
	if a.cfg.RefreshGrace > 0 {
		again, err := tx.TokenByRefreshHash(ctx, t.RefreshHash)
		if err != nil {
			return err
		}
		if again.RevokedAt == nil && again.RefreshedAt != nil && a.now().Sub(*again.RefreshedAt) <= a.cfg.RefreshGrace {
			return a.revoke(ctx, tx, revocation{userID: t.UserID, token: t.ID})
		}
	}
	return errRefreshReused
}
