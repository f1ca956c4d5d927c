package ihoprauth

import (
	"context"
	"errors"
	"net/http"
)

// The user's own second factors, behind a bearer token: list them, set up
// an authenticator app (start, then confirm with its first code, which
// answers the first set of recovery codes), make a new set of recovery
// codes, and remove the authenticator. The last two need a current factor
// (a TOTP code or an unused recovery code), checked and throttled as at
// login, so a stolen access token alone cannot take the factor away or
// read new codes (docs/design.md, D34-D36).

var (
	errNoFactor = &Error{Status: http.StatusConflict, Message: "There is no authenticator app set up."}
	errBadProof = &Error{Status: http.StatusForbidden, Message: "The second factor is wrong or was already used."}
	errStepUp   = &Error{Status: http.StatusForbidden,
		Message: "This change needs a recent login or a second factor: log in again, or send totp_code or recovery_code with the request."}
)

// factorsAnswer lists the user's second factors.
type factorsAnswer struct {
	Status            string       `json:"status"`
	Factors           []factorJSON `json:"factors"`
	RecoveryCodesLeft int          `json:"recovery_codes_left"`
}

type factorJSON struct {
	Type      FactorKind `json:"type"`
	Confirmed bool       `json:"confirmed"`
	CreatedAt string     `json:"created_at"`
}

func (a *Auth) handleFactors(r *http.Request, _ *input) (any, error) {
	u, _, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	factors, err := a.store.Factors(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	codes, err := a.store.RecoveryCodes(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	ans := factorsAnswer{Status: "success", Factors: []factorJSON{}, RecoveryCodesLeft: len(codes)}
	for _, f := range factors {
		ans.Factors = append(ans.Factors, factorJSON{Type: f.Kind, Confirmed: f.ConfirmedAt != nil, CreatedAt: f.CreatedAt.Format(createdFormat)})
	}
	return ans, nil
}

func (a *Auth) handleStartTOTP(r *http.Request, _ *input) (any, error) {
	u, _, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	return a.startTOTP(r.Context(), u)
}

func (a *Auth) handleConfirmTOTP(r *http.Request, in *input) (any, error) {
	u, _, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	code := in.code("totp_code")
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.confirmTOTP(r.Context(), u, code)
}

func (a *Auth) handleRemoveTOTP(r *http.Request, in *input) (any, error) {
	u, login, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	pr := readOptionalProof(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	// A user with passkeys alone has factors but no app to remove.
	factors, err := a.store.Factors(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	if indexFactor(factors, FactorTOTP, true) < 0 {
		return nil, errNoFactor
	}
	err = a.withStepUp(r.Context(), u, login, pr, true, func(tx Store) error { return tx.DeleteFactors(r.Context(), u.ID) })
	if err != nil {
		return nil, err
	}
	a.event(r.Context(), EventFactorRemoved, u.ProjectID, u.UserID, string(FactorTOTP))
	return ok, nil
}

func (a *Auth) handleNewRecoveryCodes(r *http.Request, in *input) (any, error) {
	u, login, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	pr := readOptionalProof(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	var codes []string
	err = a.withStepUp(r.Context(), u, login, pr, true, func(tx Store) error {
		codes, err = a.newRecoveryCodes(r.Context(), tx, u.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.event(r.Context(), EventRecoveryCodesReplaced, u.ProjectID, u.UserID, "ok")
	return recoveryCodesAnswer{Status: "success", RecoveryCodes: codes}, nil
}

// withStepUp runs fn (nil: nothing), in one transaction with the spending
// of the proof pr when there is one, once u may make a sensitive change (docs/design.md,
// D38): a user without a confirmed factor may when factorless is false
// (today's rules) and gets 409 when it is true (the change is of the
// factors); otherwise pr must be a current second factor (a wrong or used
// one is a 403, counted like a wrong login code; a locked source gets 429)
// or, without pr, the login must have checked its credentials within
// StepUpWindow (403 otherwise, saying what to do).
func (a *Auth) withStepUp(ctx context.Context, u User, login Token, pr *proof, factorless bool, fn func(tx Store) error) error {
	methods, err := a.factorMethods(ctx, u.ID)
	if err != nil {
		return err
	}
	switch {
	case len(methods) == 0 && factorless:
		return errNoFactor
	case len(methods) == 0 || (pr == nil && a.recentLogin(login)) || (pr == nil && a.cfg.StepUpWindow < 0):
		if fn == nil {
			return nil
		}
		return a.store.InTx(ctx, fn)
	case pr == nil:
		a.event(ctx, EventStepUpRefused, u.ProjectID, u.UserID, "no recent login")
		return errStepUp
	}
	return a.withProof(ctx, u, *pr, fn)
}

// recentLogin reports whether login checked its credentials within
// StepUpWindow.
func (a *Auth) recentLogin(login Token) bool {
	return !login.AuthAt.IsZero() && a.now().Sub(login.AuthAt) <= a.cfg.StepUpWindow
}

// withProof runs fn in one transaction with the spending of pr, a current
// second factor of u, once the request's source may try it: a wrong or
// used proof is a 403 (counted like a wrong login code), a locked source
// gets 429.
func (a *Auth) withProof(ctx context.Context, u User, pr proof, fn func(tx Store) error) error {
	account := accountKey(u.ProjectID, u.EmailKey)
	if _, err := a.allowAttempt(ctx, u.ProjectID, account, false); err != nil {
		return err
	}
	use, found, err := a.checkProof(ctx, u, pr)
	if err != nil {
		return err
	}
	if !found {
		return a.proofFailed(ctx, u, account, pr, errBadProof)
	}
	err = a.store.InTx(ctx, func(tx Store) error {
		won, err := use(ctx, tx)
		if err != nil || !won {
			return cmpErr(err, errProofSpent)
		}
		if fn == nil {
			return nil
		}
		return fn(tx)
	})
	if errors.Is(err, errProofSpent) {
		return a.proofFailed(ctx, u, account, pr, errBadProof)
	}
	if err != nil {
		return err
	}
	if pr.method == MethodRecoveryCode {
		a.recoveryCodeUsed(ctx, u)
	}
	return a.attemptSucceeded(ctx, account)
}
