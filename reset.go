package ihoprauth

import (
	"context"
	"net/http"
)

// resetAnswer is the answer of send-reset-password-code.
type resetAnswer struct {
	Status             string `json:"status"`
	Message            string `json:"message"`
	ResetPasswordToken string `json:"reset_password_token"`
}

func (a *Auth) handleSendResetCode(r *http.Request, in *input) (any, error) {
	client, email := readClient(in), readEmail(in, "email")
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.sendResetCode(r.Context(), client, email)
}

// sendResetCode mails a reset code to a known email. An unknown email, or
// a disabled user's, gets
// a token no code matches and no mail, with the same work, so neither the
// answer nor its time reveals whether the account exists (OWASP Forgot
// Password cheat sheet; docs/design.md, D2 and D29).
func (a *Auth) sendResetCode(ctx context.Context, client clientCreds, email string) (resetAnswer, error) {
	p, err := a.authClient(ctx, client)
	if err != nil {
		return resetAnswer{}, err
	}
	emailKey := CanonicalEmail(email)
	u, err := a.enabledUser(ctx, p.ID, emailKey)
	if err != nil {
		return resetAnswer{}, err
	}
	if err := a.allowMail(ctx, p.ID, accountKey(p.ID, emailKey), PurposeReset); err != nil {
		return resetAnswer{}, err
	}
	token, code, err := a.newChallenge(ctx, a.store, p, u, emailKey, PurposeReset, pkce{})
	if err != nil {
		return resetAnswer{}, err
	}
	a.mailCodeTo(ctx, MailReset, p, u, email, code)
	return resetAnswer{Status: "success", Message: "Reset Password code sent successfully.", ResetPasswordToken: token}, nil
}

func (a *Auth) handleResetPassword(r *http.Request, in *input) (any, error) {
	req := resetRequest{codeRequest: codeRequest{code: in.code("reset_password_code"),
		token: in.str("reset_password_token", true, maxOpaque)}, password: in.secret("password", true)}
	if err := in.err(); err != nil {
		return nil, err
	}
	if err := a.resetPassword(r.Context(), req); err != nil {
		return nil, err
	}
	return ok, nil
}

// resetRequest is a reset code, its token and the new password.
type resetRequest struct {
	codeRequest
	password string
}

// resetPassword sets a new password with a mailed reset code and ends every
// login of the user (ASVS 7.4) and every lock of the account.
func (a *Auth) resetPassword(ctx context.Context, req resetRequest) error {
	token, code, password := req.token, req.code, req.password
	if why := passwordProblem(password, "", a.cfg.MinPasswordLength); why != "" {
		return fieldError("password", why)
	}
	c, err := a.checkChallenge(ctx, PurposeReset, token, code)
	if err != nil {
		return err
	}
	u, err := a.store.UserByID(ctx, c.UserID)
	if err != nil {
		return err
	}
	if u.Disabled() {
		return errBadCode // disabled after the code was mailed
	}
	if why := passwordProblem(password, u.Email, a.cfg.MinPasswordLength); why != "" {
		return fieldError("password", why)
	}
	if u.PasswordHash, err = a.hasher.hash(ctx, password, accountKey(u.ProjectID, u.EmailKey)); err != nil { // a verified reset code
		return err
	}
	u.UpdatedAt = a.now()
	err = a.revokeInTx(ctx, u.ID, func(tx Store) error {
		if err := a.consumeChallenge(ctx, tx, c); err != nil {
			return err
		}
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		return a.revoke(ctx, tx, revocation{userID: u.ID, allTokens: true, codes: true})
	})
	if err != nil {
		return err
	}
	if err := a.challengeRedeemed(ctx, c); err != nil {
		return err
	}
	if err := a.resetCompleted(ctx, c.AccountKey); err != nil {
		return err
	}
	a.notifyPasswordChanged(ctx, u)
	a.event(ctx, EventPasswordReset, u.ProjectID, u.UserID, "ok")
	return nil
}
