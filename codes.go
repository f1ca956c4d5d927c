package ihoprauth

import (
	"context"
	"errors"
	"net/http"
)

// Emailed codes (otp, two-step, reset) follow ASVS 6.5 and NIST 63B §3.1.3:
// six random digits, valid CodeTTL, single use, dead after MaxCodeAttempts
// wrong guesses, stored only as a keyed hash bound to their token.

// newChallenge stores a challenge for user (a decoy that no code matches
// when user.ID is 0) asked for with the canonical email emailKey, and
// returns the token for the client and the code to mail. The caller mails
// the code once its transaction has committed.
func (a *Auth) newChallenge(ctx context.Context, st Store, p Project, user User, emailKey string, purpose Purpose, pk pkce) (token, code string, err error) {
	token, code = newOpaque(tokenBytes), newCode()
	c := Challenge{
		Purpose: purpose, ProjectID: p.ID, UserID: user.ID, TokenHash: sha256Hex(token),
		AccountKey:    accountKey(p.ID, emailKey),
		CodeChallenge: pk.challenge, CodeChallengeMethod: pk.method, ExpiresAt: a.now().Add(a.cfg.CodeTTL),
	}
	c.CodeHash = a.codeHash(c.TokenHash, code)
	if user.ID == 0 {
		c.CodeHash = newOpaque(tokenBytes)
	}
	if err := st.CreateChallenge(ctx, &c); err != nil {
		return "", "", err
	}
	return token, code, nil
}

func (a *Auth) codeHash(tokenHash, code string) string {
	return a.keyed("code", tokenHash+":"+code)
}

// checkChallenge returns the live challenge behind token if code is its
// code. Each comparison first takes one of the challenge's
// MaxCodeAttempts, so concurrent guesses cannot buy more; a wrong login
// code also counts against the source's lock on the account. An unknown
// token, a used, expired or dead challenge and a wrong code all give the
// same 401. A source locked out of the account gets 429 before its code is
// compared; reset codes are never locked out (docs/design.md, D18).
func (a *Auth) checkChallenge(ctx context.Context, purpose Purpose, token, code string) (Challenge, error) {
	c, err := a.store.ChallengeByToken(ctx, purpose, sha256Hex(token))
	if errors.Is(err, ErrNotFound) {
		return Challenge{}, errBadCode
	}
	if err != nil {
		return Challenge{}, err
	}
	if c.UsedAt != nil || !a.now().Before(c.ExpiresAt) || c.Attempts >= a.cfg.MaxCodeAttempts {
		return Challenge{}, errBadCode
	}
	login := purpose != PurposeReset
	if login {
		if _, err := a.allowAttempt(ctx, c.ProjectID, c.AccountKey, c.Attempts == 0); err != nil {
			return Challenge{}, err
		}
	}
	taken, err := a.store.TakeChallengeAttempt(ctx, c.ID, a.cfg.MaxCodeAttempts)
	if err != nil {
		return Challenge{}, err
	}
	if !taken {
		return Challenge{}, errBadCode // its attempts ran out meanwhile: nothing compared
	}
	if ok, _ := a.matchKeyed("code", c.TokenHash+":"+code, c.CodeHash); ok && c.UserID != 0 {
		return c, nil
	}
	if login {
		if err := a.attemptFailed(ctx, c.AccountKey); err != nil {
			return Challenge{}, err
		}
	}
	a.event(ctx, EventCodeFailed, c.ProjectID, a.publicID(ctx, c.UserID), string(purpose))
	return Challenge{}, errBadCode
}

// publicID returns the user_id of the user with that internal id, for the
// audit trail; "" for a decoy or when it cannot be read.
func (a *Auth) publicID(ctx context.Context, id int64) string {
	if id == 0 {
		return ""
	}
	u, err := a.store.UserByID(ctx, id)
	if err != nil {
		return ""
	}
	return u.UserID
}

// challengeRedeemed clears what a used code leaves behind: the source's
// failures on the account and the wait before the next code mail.
func (a *Auth) challengeRedeemed(ctx context.Context, c Challenge) error {
	if err := a.attemptSucceeded(ctx, c.AccountKey); err != nil {
		return err
	}
	return a.codeUsed(ctx, c.AccountKey, c.Purpose)
}

// consumeChallenge marks c used inside tx; of concurrent redemptions exactly one
// gets through. A mailed code (otp, two-step, reset) proves that its user
// reads the mail of the account's email (docs/design.md, D43).
func (a *Auth) consumeChallenge(ctx context.Context, tx Store, c Challenge) error {
	won, err := tx.ConsumeChallenge(ctx, c.ID, a.now())
	if err != nil {
		return err
	}
	if !won {
		return errBadCode
	}
	if c.UserID != 0 && (c.Purpose == PurposeOTP || c.Purpose == PurposeTwoStep || c.Purpose == PurposeReset) {
		if err := a.dropUnprovedIdentities(ctx, tx, c.UserID); err != nil {
			return err
		}
		return tx.MarkEmailVerified(ctx, c.UserID, a.now())
	}
	return nil
}

// dropUnprovedIdentities removes, in tx, the identities linked to the user
// while their email was never proved, and ends their logins, when a mailed
// code proves the email for the first time. None of those identities
// proved the address (one that did would have marked it proved): whoever
// made the account with a provider that does not verify emails may not own
// the address, and must keep no way in once its owner takes it over
// (pre-account takeover; the counterpart of autoLink's squatter rule, D43).
func (a *Auth) dropUnprovedIdentities(ctx context.Context, tx Store, userID int64) error {
	u, err := tx.UserByID(ctx, userID)
	if err != nil || u.EmailVerifiedAt != nil {
		return err
	}
	ids, err := tx.Identities(ctx, userID)
	if err != nil || len(ids) == 0 {
		return err
	}
	for _, id := range ids {
		if err := tx.DeleteIdentity(ctx, userID, id.ID); err != nil {
			return err
		}
	}
	defer a.cache.forgetUser(userID)
	return a.revoke(ctx, tx, revocation{userID: userID, allTokens: true})
}

// codeAnswer is the answer of otp-code, two-step-auth-code and mfa-code:
// the login's code, or, when the user has a second factor (otp-code and
// two-step-auth-code only), the mfa_token of the step still to come.
type codeAnswer struct {
	Status      string      `json:"status"`
	Code        string      `json:"code,omitempty"`
	Message     string      `json:"message,omitempty"`
	ProjectType ProjectType `json:"project_type,omitempty"`
	*mfaStep
}

func (a *Auth) handleOTPCode(r *http.Request, in *input) (any, error) {
	return a.handleLoginCode(r, in, PurposeOTP, "otp_code", "otp_token")
}

func (a *Auth) handleTwoStepCode(r *http.Request, in *input) (any, error) {
	return a.handleLoginCode(r, in, PurposeTwoStep, "two_step_auth_code", "two_step_auth_token")
}

// codeRequest is an emailed code and the token it goes with.
type codeRequest struct {
	token, code string
}

// handleLoginCode reads a login code from the fields of its endpoint.
func (a *Auth) handleLoginCode(r *http.Request, in *input, purpose Purpose, codeField, tokenField string) (any, error) {
	req := codeRequest{code: in.code(codeField), token: in.str(tokenField, true, maxOpaque)}
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.redeemLoginCode(r.Context(), purpose, req)
}

// redeemLoginCode turns a right otp or two-step code into an auth code that
// carries the login's PKCE challenge.
func (a *Auth) redeemLoginCode(ctx context.Context, purpose Purpose, req codeRequest) (codeAnswer, error) {
	c, err := a.checkChallenge(ctx, purpose, req.token, req.code)
	if err != nil {
		return codeAnswer{}, err
	}
	methods, err := a.factorMethods(ctx, c.UserID)
	if err != nil {
		return codeAnswer{}, err
	}
	pk := pkce{c.CodeChallenge, c.CodeChallengeMethod}
	var authCode string
	var step *mfaStep
	err = a.store.InTx(ctx, func(tx Store) error {
		if err := a.consumeChallenge(ctx, tx, c); err != nil {
			return err
		}
		if len(methods) > 0 {
			step, err = a.newMFAStep(ctx, tx, pendingLogin{c.ProjectID, c.UserID, c.AccountKey, pk, ""}, methods)
			return err
		}
		authCode, err = a.newAuthCode(ctx, tx, c.ProjectID, c.UserID, pk, AAL1, "")
		return err
	})
	if err != nil {
		return codeAnswer{}, err
	}
	if step != nil {
		return a.codeRedeemedForMFA(ctx, c, step)
	}
	if err := a.challengeRedeemed(ctx, c); err != nil {
		return codeAnswer{}, err
	}
	if err := a.loginCompleted(ctx, c.AccountKey); err != nil {
		return codeAnswer{}, err
	}
	a.event(ctx, EventCodeVerified, c.ProjectID, a.publicID(ctx, c.UserID), string(purpose))
	return codeAnswer{Status: "success", Code: authCode}, nil
}

// codeRedeemedForMFA answers a right login code whose user has a second
// factor: the code's mail wait is over, but the pair's failures stay until
// the second factor passes (docs/design.md, D34).
func (a *Auth) codeRedeemedForMFA(ctx context.Context, c Challenge, step *mfaStep) (codeAnswer, error) {
	if err := a.codeUsed(ctx, c.AccountKey, c.Purpose); err != nil {
		return codeAnswer{}, err
	}
	a.event(ctx, EventCodeVerified, c.ProjectID, a.publicID(ctx, c.UserID), string(c.Purpose))
	typ := TypeOTP
	if c.Purpose == PurposeTwoStep {
		typ = TypeTwoStep
	}
	return codeAnswer{Status: "success", Message: mfaMessage, ProjectType: typ, mfaStep: step}, nil
}
