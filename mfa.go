package ihoprauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
)

// The second step of a login (docs/design.md, D34). When a user has a
// confirmed second factor, the answer that would carry the login's code
// (login in a none project, otp-code, two-step-auth-code) carries an
// mfa_token instead: a Challenge of PurposeMFA that keeps the login's
// project, user, account key and PKCE challenge, works MFATokenTTL and at
// most MaxCodeAttempts guesses. POST mfa-code takes it with one proof (a
// TOTP code, a recovery code or a WebAuthn assertion of a passkey, D41)
// and answers the code. Users without a factor never see any of this.
//
// Guesses of a proof are throttled exactly as mailed codes are: each takes
// one of the token's attempts before it is compared, a wrong one counts
// against the pair lock and the account's ceiling of D24 and the source's
// cap of D25, and the first factor's success does not clear the pair's
// failures while the second is pending, so that a new mfa_token (a new
// login with the password) buys no new guesses.

// The methods of the second step, as "methods" lists them.
const (
	MethodTOTP         = "totp"
	MethodRecoveryCode = "recovery_code"
)

const mfaMessage = "Second factor required."

// mfaStep is what a login answers in place of its code while the second
// factor is pending.
type mfaStep struct {
	MFAToken     string   `json:"mfa_token"`
	MFAExpiresAt string   `json:"mfa_expires_at"`
	Methods      []string `json:"methods"`
}

// pendingLogin is a login whose first factor (and mailed code) passed;
// provider is the Provider that signed the user in, "" for none.
type pendingLogin struct {
	projectID, userID int64
	account           string
	pk                pkce
	provider          string
}

// factorMethods returns the methods by which the user can pass the second
// step; none when the user has no confirmed factor (a confirmed
// authenticator app, or a passkey).
func (a *Auth) factorMethods(ctx context.Context, userID int64) ([]string, error) {
	factors, err := a.store.Factors(ctx, userID)
	if err != nil {
		return nil, err
	}
	keys, err := a.store.Passkeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	var methods []string
	if indexFactor(factors, FactorTOTP, true) >= 0 {
		methods = append(methods, MethodTOTP)
	}
	if len(keys) > 0 {
		methods = append(methods, MethodWebAuthn)
	}
	if len(methods) == 0 {
		return nil, nil
	}
	codes, err := a.store.RecoveryCodes(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(codes) > 0 {
		methods = append(methods, MethodRecoveryCode)
	}
	return methods, nil
}

// newMFAStep stores the mfa_token of l in st and returns the step to
// answer. It writes through st alone: it runs inside transactions.
func (a *Auth) newMFAStep(ctx context.Context, st Store, l pendingLogin, methods []string) (*mfaStep, error) {
	token := newOpaque(tokenBytes)
	c := Challenge{
		Purpose: PurposeMFA, ProjectID: l.projectID, UserID: l.userID, TokenHash: sha256Hex(token),
		AccountKey: l.account, CodeHash: newOpaque(tokenBytes), // no code: the proof is checked against the user's factors
		CodeChallenge: l.pk.challenge, CodeChallengeMethod: l.pk.method, ExpiresAt: a.now().Add(a.cfg.MFATokenTTL), Provider: l.provider,
	}
	if err := st.CreateChallenge(ctx, &c); err != nil {
		return nil, err
	}
	return &mfaStep{MFAToken: token, MFAExpiresAt: c.ExpiresAt.Format(plainFormat), Methods: methods}, nil
}

// proof is a second factor that a request presents: a code, or a WebAuthn
// assertion for the ceremony whose Challenge row has the token hash
// ceremony (the mfa_token's).
type proof struct {
	method, code string
	assertion    *protocol.ParsedCredentialAssertionData
	ceremony     string
}

// maxRecoveryCode bounds the recovery_code field: 19 characters with
// dashes, some room for spaces.
const maxRecoveryCode = 64

// readProof reads the one proof a request may carry: totp_code or
// recovery_code.
func readProof(in *input) proof {
	totp, rec := in.has("totp_code"), in.has("recovery_code")
	switch {
	case totp && rec:
		in.fail("recovery_code", "Send either totp_code or recovery_code, not both.")
		return proof{}
	case rec:
		return proof{method: MethodRecoveryCode, code: in.str("recovery_code", true, maxRecoveryCode)}
	case !totp:
		in.fail("totp_code", "The totp_code field (or recovery_code) is required.")
		return proof{}
	}
	return proof{method: MethodTOTP, code: in.code("totp_code")}
}

// readMFAProof reads the one proof that mfa-code takes: totp_code,
// recovery_code or webauthn_assertion.
func readMFAProof(in *input) proof {
	if !in.has("webauthn_assertion") {
		return readProof(in)
	}
	if in.has("totp_code") || in.has("recovery_code") {
		in.fail("webauthn_assertion", "Send one of totp_code, recovery_code or webauthn_assertion, not more.")
		return proof{}
	}
	return proof{method: MethodWebAuthn, assertion: readAssertion(in, "webauthn_assertion")}
}

// readOptionalProof reads a proof when the request carries one, and
// returns nil when it carries neither totp_code nor recovery_code.
func readOptionalProof(in *input) *proof {
	if !in.has("totp_code") && !in.has("recovery_code") {
		return nil
	}
	pr := readProof(in)
	return &pr
}

// spend marks a checked proof used inside tx and reports whether this call
// did: false means a concurrent request, on any instance, used it first.
type spend func(ctx context.Context, tx Store) (bool, error)

// checkProof reports whether pr is a live second factor of u and returns
// how to spend it. It writes nothing.
func (a *Auth) checkProof(ctx context.Context, u User, pr proof) (spend, bool, error) {
	if pr.method == MethodWebAuthn {
		return a.checkPasskeyProof(ctx, u, pr)
	}
	if pr.method == MethodRecoveryCode {
		rc, ok, err := a.matchRecoveryCode(ctx, u.ID, pr.code)
		if err != nil || !ok {
			return nil, false, err
		}
		return func(ctx context.Context, tx Store) (bool, error) { return tx.UseRecoveryCode(ctx, rc.ID, a.now()) }, true, nil
	}
	factors, err := a.store.Factors(ctx, u.ID)
	if err != nil {
		return nil, false, err
	}
	i := indexFactor(factors, FactorTOTP, true)
	if i < 0 {
		return nil, false, nil
	}
	secret, err := a.open(factors[i])
	if err != nil {
		return nil, false, err
	}
	step, ok := totpStep(secret, pr.code, a.now(), factors[i].LastStep)
	if !ok {
		return nil, false, nil
	}
	id := factors[i].ID
	return func(ctx context.Context, tx Store) (bool, error) { return tx.UseFactorStep(ctx, id, step) }, true, nil
}

// errProofSpent says a concurrent request used the proof first.
var errProofSpent = errors.New("ihoprauth: second factor already used")

// proofFailed counts a wrong, used or replayed proof against the pair lock
// and the account's ceiling, as a wrong mailed code is, and returns err.
func (a *Auth) proofFailed(ctx context.Context, u User, account string, pr proof, err error) error {
	if ferr := a.attemptFailed(ctx, account); ferr != nil {
		return ferr
	}
	a.event(ctx, EventFactorFailed, u.ProjectID, u.UserID, pr.method)
	return err
}

// mfaRequest is what mfa-code reads.
type mfaRequest struct {
	token string
	proof proof
}

func (a *Auth) handleMFACode(r *http.Request, in *input) (any, error) {
	req := mfaRequest{token: in.str("mfa_token", true, maxOpaque), proof: readMFAProof(in)}
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.redeemMFA(r.Context(), req)
}

// redeemMFA turns an mfa_token and a right proof into the login's code.
func (a *Auth) redeemMFA(ctx context.Context, req mfaRequest) (codeAnswer, error) {
	c, u, err := a.liveMFAToken(ctx, req.token)
	if err != nil {
		return codeAnswer{}, err
	}
	req.proof.ceremony = c.TokenHash
	use, ok, err := a.checkProof(ctx, u, req.proof)
	if err != nil {
		return codeAnswer{}, err
	}
	if !ok {
		return codeAnswer{}, a.proofFailed(ctx, u, c.AccountKey, req.proof, errBadCode)
	}
	var code string
	err = a.store.InTx(ctx, func(tx Store) error {
		won, err := use(ctx, tx)
		if err != nil || !won {
			return cmpErr(err, errProofSpent)
		}
		if err := a.consumeChallenge(ctx, tx, c); err != nil {
			return err
		}
		code, err = a.newAuthCode(ctx, tx, c.ProjectID, c.UserID, pkce{c.CodeChallenge, c.CodeChallengeMethod}, AAL2, c.Provider)
		return err
	})
	if errors.Is(err, errProofSpent) {
		return codeAnswer{}, a.proofFailed(ctx, u, c.AccountKey, req.proof, errBadCode)
	}
	if err != nil {
		return codeAnswer{}, err
	}
	return codeAnswer{Status: "success", Code: code}, a.mfaPassed(ctx, u, c.AccountKey, req.proof)
}

// liveMFAToken returns the live mfa challenge behind token and its user,
// once the request's source may try it and one of its attempts is taken.
// An unknown, used, expired or dead token, and a disabled user, give the
// 401 of a wrong code.
func (a *Auth) liveMFAToken(ctx context.Context, token string) (Challenge, User, error) {
	c, err := a.store.ChallengeByToken(ctx, PurposeMFA, sha256Hex(token))
	switch {
	case errors.Is(err, ErrNotFound):
		return Challenge{}, User{}, errBadCode
	case err != nil:
		return Challenge{}, User{}, err
	case c.UsedAt != nil || !a.now().Before(c.ExpiresAt) || c.Attempts >= a.cfg.MaxCodeAttempts:
		return Challenge{}, User{}, errBadCode
	}
	if _, err := a.allowAttempt(ctx, c.ProjectID, c.AccountKey, c.Attempts == 0); err != nil {
		return Challenge{}, User{}, err
	}
	taken, err := a.store.TakeChallengeAttempt(ctx, c.ID, a.cfg.MaxCodeAttempts)
	if err != nil || !taken {
		return Challenge{}, User{}, cmpErr(err, errBadCode)
	}
	u, err := a.store.UserByID(ctx, c.UserID)
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && u.Disabled()):
		return Challenge{}, User{}, errBadCode
	case err != nil:
		return Challenge{}, User{}, err
	}
	return c, u, nil
}

// mfaPassed completes a login whose second factor passed: the pair's
// failures are cleared, the source becomes known, and a recovery code's
// use is audited and mailed.
func (a *Auth) mfaPassed(ctx context.Context, u User, account string, pr proof) error {
	if err := a.attemptSucceeded(ctx, account); err != nil {
		return err
	}
	if err := a.loginCompleted(ctx, account); err != nil {
		return err
	}
	a.event(ctx, EventFactorVerified, u.ProjectID, u.UserID, pr.method)
	if pr.method == MethodRecoveryCode {
		a.recoveryCodeUsed(ctx, u)
	}
	return nil
}
