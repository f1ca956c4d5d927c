package ihoprauth

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// The user's own passkeys, behind a bearer token (docs/design.md, D40):
// register one (start, then confirm with the authenticator's answer), list
// them, remove one. A passkey logs in alone, so registering one is a
// sensitive change like a new password: it needs a recent login or a
// current factor (D38), for users without a factor too. Removal follows
// D35: a current factor or a recent login.

const maxPasskeyName = 64

var errStepUpPasskey = &Error{Status: http.StatusForbidden,
	Message: "Registering a passkey needs a recent login or a second factor: log in again, or send totp_code or recovery_code with the request."}

func (a *Auth) handleStartPasskey(r *http.Request, in *input) (any, error) {
	u, login, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	pr := readOptionalProof(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	// Off for the project: say so before a proof is spent for nothing.
	if _, err := a.relyingParty(r.Context(), u.ProjectID); err != nil {
		return nil, err
	}
	if err := a.stepUpForPasskey(r.Context(), u, login, pr); err != nil {
		return nil, err
	}
	return a.startPasskey(r.Context(), u)
}

// stepUpForPasskey lets u register a passkey when the login is recent or
// pr is a current second factor (spent here), whether or not u has one.
func (a *Auth) stepUpForPasskey(ctx context.Context, u User, login Token, pr *proof) error {
	switch {
	case pr != nil:
		return a.withProof(ctx, u, *pr, nil)
	case a.recentLogin(login) || a.cfg.StepUpWindow < 0:
		return nil
	}
	a.event(ctx, EventStepUpRefused, u.ProjectID, u.UserID, "no recent login")
	return errStepUpPasskey
}

// startPasskey stores a registration ceremony for u and answers its token
// and the options for navigator.credentials.create, which exclude the
// user's passkeys.
func (a *Auth) startPasskey(ctx context.Context, u User) (passkeyOptions, error) {
	rp, err := a.relyingParty(ctx, u.ProjectID)
	if err != nil {
		return passkeyOptions{}, err
	}
	keys, err := a.store.Passkeys(ctx, u.ID)
	if err != nil {
		return passkeyOptions{}, err
	}
	user := passkeyUser{u, keys}
	exclude := make([]protocol.CredentialDescriptor, len(keys))
	for i, c := range user.WebAuthnCredentials() {
		exclude[i] = c.Descriptor()
	}
	token := newOpaque(tokenBytes)
	c := Challenge{Purpose: PurposePasskeyRegister, ProjectID: u.ProjectID, UserID: u.ID, TokenHash: sha256Hex(token),
		AccountKey: accountKey(u.ProjectID, u.EmailKey), CodeHash: newOpaque(tokenBytes), ExpiresAt: a.now().Add(a.cfg.PasskeyTimeout)}
	opts, _, err := rp.BeginRegistration(user, webauthn.WithExclusions(exclude))
	if err != nil {
		return passkeyOptions{}, err
	}
	opts.Response.Challenge = a.ceremonyChallenge(c.TokenHash)
	if err := a.store.CreateChallenge(ctx, &c); err != nil {
		return passkeyOptions{}, err
	}
	a.event(ctx, EventFactorStarted, u.ProjectID, u.UserID, MethodWebAuthn)
	return passkeyOptions{Status: "success", PasskeyToken: token, PasskeyExpiresAt: c.ExpiresAt.Format(plainFormat), Options: opts}, nil
}

// passkeyAnswer carries one passkey of the user.
type passkeyAnswer struct {
	Status  string      `json:"status"`
	Passkey passkeyJSON `json:"passkey"`
}

func (a *Auth) handleConfirmPasskey(r *http.Request, in *input) (any, error) {
	u, _, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	token := in.str("passkey_token", true, maxOpaque)
	name := in.str("name", false, maxPasskeyName)
	raw := in.object("passkey_credential")
	if err := in.err(); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(raw)
	if err != nil {
		return nil, errBadCredential
	}
	return a.confirmPasskey(r.Context(), u, token, cmp.Or(name, "Passkey"), parsed)
}

var (
	errBadCredential = fieldError("passkey_credential",
		"The passkey_credential is not an answer to this registration (a PublicKeyCredential as JSON, made with the options given).")
	errNoCeremony = &Error{Status: http.StatusConflict,
		Message: "There is no passkey registration with that passkey_token: it was used, has expired or is another user's; start again."}
)

// confirmPasskey spends u's registration ceremony behind token, checks the
// authenticator's answer against it and stores the passkey with its
// counter and backup flags.
func (a *Auth) confirmPasskey(ctx context.Context, u User, token, name string, parsed *protocol.ParsedCredentialCreationData) (passkeyAnswer, error) {
	c, err := a.store.ChallengeByToken(ctx, PurposePasskeyRegister, sha256Hex(token))
	switch {
	case errors.Is(err, ErrNotFound):
		return passkeyAnswer{}, errNoCeremony
	case err != nil:
		return passkeyAnswer{}, err
	case c.UserID != u.ID || c.UsedAt != nil || !a.now().Before(c.ExpiresAt):
		return passkeyAnswer{}, errNoCeremony
	}
	if err := a.consumeChallenge(ctx, a.store, c); err != nil {
		return passkeyAnswer{}, cmpErr(ignoreBadCode(err), errNoCeremony)
	}
	rp, err := a.relyingParty(ctx, u.ProjectID)
	if err != nil {
		return passkeyAnswer{}, err
	}
	user := passkeyUser{u: u}
	session := webauthn.SessionData{Challenge: a.ceremonyChallenge(c.TokenHash).String(), RelyingPartyID: rp.Config.RPID,
		UserID: user.WebAuthnID(), UserVerification: protocol.VerificationRequired, CredParams: webauthn.CredentialParametersDefault()}
	cred, err := rp.CreateCredential(user, session, parsed)
	if err != nil {
		return passkeyAnswer{}, errBadCredential
	}
	k := Passkey{UserID: u.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, AAGUID: cred.Authenticator.AAGUID,
		Transports: transports(cred.Transport), Name: name, CreatedAt: a.now()}
	switch err := a.store.SavePasskey(ctx, &k); {
	case errors.Is(err, ErrDuplicate):
		return passkeyAnswer{}, errPasskeyTaken
	case err != nil:
		return passkeyAnswer{}, err
	}
	a.event(ctx, EventFactorAdded, u.ProjectID, u.UserID, MethodWebAuthn)
	return passkeyAnswer{Status: "success", Passkey: passkeyOf(k)}, nil
}

// transports joins the transport hints that fit the stored column: at
// most six, each of at most 16 bytes, without a comma (the separator) or a
// control character (PostgreSQL refuses a NUL).
func transports(ts []protocol.AuthenticatorTransport) string {
	var list []string
	for _, t := range ts {
		if s := string(t); len(s) <= 16 && len(list) < 6 && !strings.Contains(s, ",") && !hasControl(s) {
			list = append(list, s)
		}
	}
	return strings.Join(list, ",")
}

// passkeysAnswer lists the user's passkeys.
type passkeysAnswer struct {
	Status   string        `json:"status"`
	Passkeys []passkeyJSON `json:"passkeys"`
}

func (a *Auth) handlePasskeys(r *http.Request, _ *input) (any, error) {
	u, _, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	keys, err := a.store.Passkeys(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	ans := passkeysAnswer{Status: "success", Passkeys: []passkeyJSON{}}
	for _, k := range keys {
		ans.Passkeys = append(ans.Passkeys, passkeyOf(k))
	}
	return ans, nil
}

func (a *Auth) handleRemovePasskey(r *http.Request, in *input) (any, error) {
	u, login, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	id := readID(in, "passkey_id")
	pr := readOptionalProof(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	err = a.withStepUp(r.Context(), u, login, pr, true, func(tx Store) error {
		if err := a.passkeyNotLastWayIn(r.Context(), tx, u.ID, id); err != nil {
			return err
		}
		return tx.DeletePasskey(r.Context(), u.ID, id)
	})
	if errors.Is(err, ErrNotFound) {
		return nil, errNoPasskey
	}
	if errors.Is(err, ErrLastWayIn) {
		return nil, errLastWayIn
	}
	if err != nil {
		return nil, err
	}
	a.event(r.Context(), EventFactorRemoved, u.ProjectID, u.UserID, MethodWebAuthn)
	return ok, nil
}

// readID reads a required positive integer field, sent as a JSON number or
// a string of digits.
func readID(in *input, name string) int64 {
	s, sent := in.value(name, true)
	id, err := strconv.ParseInt(s, 10, 64)
	if !sent || err != nil || id <= 0 {
		in.fail(name, "The "+name+" field is required, as a positive integer.")
		return 0
	}
	return id
}

// passkeyNotLastWayIn returns ErrLastWayIn when the user's passkey id is
// the account's last way in, as unlink refuses an identity's (D43): no
// password, not an otp project, no identity and no other passkey.
func (a *Auth) passkeyNotLastWayIn(ctx context.Context, st Store, userID, id int64) error {
	u, err := st.UserByID(ctx, userID)
	if err != nil || u.PasswordHash != "" {
		return err
	}
	proj, err := st.ProjectByID(ctx, u.ProjectID)
	if err != nil || proj.Type == TypeOTP {
		return err
	}
	ids, err := st.Identities(ctx, userID)
	if err != nil || len(ids) > 0 {
		return err
	}
	keys, err := st.Passkeys(ctx, userID)
	if err != nil {
		return err
	}
	if len(keys) == 1 && keys[0].ID == id {
		return ErrLastWayIn
	}
	return nil
}
