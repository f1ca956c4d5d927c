package ihoprauth

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Passkeys are WebAuthn credentials (github.com/go-webauthn/webauthn),
// used as the second factor of a login (a webauthn_assertion at mfa-code)
// or as its only factor (usernameless, with discoverable credentials:
// passkey-login, then passkey-code). Each ceremony is a Challenge row, so
// every instance agrees on it: it works PasskeyTimeout (the mfa_token's
// life at mfa-code), once. Its WebAuthn challenge is not stored but derived
// from the row's token hash by an HMAC under the library's key, so that
// nothing beyond the row is kept. go-webauthn only warns of a signature
// counter that does not go forward; here such a login is refused, and the
// counter moves forward by a conditional write in the login's transaction
// (docs/design.md, D40 and D41).

// MethodWebAuthn is the method of the second step that a passkey passes.
const MethodWebAuthn = "webauthn"

// PasskeyRP is a WebAuthn relying party: the site that passkeys belong to.
type PasskeyRP struct {
	// ID is the relying party id: the site's domain or a registrable
	// suffix of it ("example.com" serves login.example.com), never an IP
	// address; "localhost" for development. Empty: no passkeys.
	ID string
	// Name is shown by authenticators beside the account. Default: ID.
	Name string
	// Origins are the origins of the pages that may use the passkeys, such
	// as "https://login.example.com". Default: "https://" + ID.
	Origins []string
}

var (
	errNoPasskeys   = &Error{Status: http.StatusConflict, Message: "Passkeys are not enabled for this project."}
	errBadPasskey   = &Error{Status: http.StatusUnauthorized, Message: "The passkey could not be verified."}
	errPasskeyTaken = &Error{Status: http.StatusConflict, Message: "This passkey is already registered."}
	errNoPasskey    = &Error{Status: http.StatusNotFound, Message: "There is no passkey with that passkey_id."}
)

// checkPasskeys reports each relying party of c that cannot work.
func (c Config) checkPasskeys() []error {
	var errs []error
	check := func(field string, rp PasskeyRP) {
		if rp.ID == "" && len(rp.Origins) == 0 && rp.Name == "" {
			return
		}
		if _, err := newRelyingParty(rp, 0); err != nil {
			errs = append(errs, invalidField(field, "%v", err))
		}
	}
	check("Passkeys", c.Passkeys)
	for id, rp := range c.ProjectPasskeys {
		check(fmt.Sprintf("ProjectPasskeys[%q]", id), rp)
	}
	return errs
}

// newRelyingParty returns the go-webauthn relying party of rp. Registration
// asks for a discoverable credential with user verification (a passkey)
// and no attestation; timeouts are enforced by the ceremony's Challenge
// row, with the library's clock, not by go-webauthn.
func newRelyingParty(rp PasskeyRP, timeout time.Duration) (*webauthn.WebAuthn, error) {
	if rp.ID == "" {
		return nil, errors.New("needs an ID (the relying party id)")
	}
	if net.ParseIP(strings.Trim(rp.ID, "[]")) != nil {
		return nil, fmt.Errorf("ID %q is an IP address; a relying party id must be a domain name", rp.ID)
	}
	origins := rp.Origins
	if len(origins) == 0 {
		origins = []string{"https://" + rp.ID}
	}
	t := webauthn.TimeoutConfig{Timeout: timeout, TimeoutUVD: timeout}
	return webauthn.New(&webauthn.Config{
		RPID: rp.ID, RPDisplayName: cmp.Or(rp.Name, rp.ID), RPOrigins: origins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(), UserVerification: protocol.VerificationRequired},
		Timeouts: webauthn.TimeoutsConfig{Login: t, Registration: t},
	})
}

// relyingParties builds the relying party of Config.Passkeys (nil when it
// is unset) and of each project of Config.ProjectPasskeys.
func (a *Auth) relyingParties() error {
	timeout := a.cfg.PasskeyTimeout
	if a.cfg.Passkeys.ID != "" {
		rp, err := newRelyingParty(a.cfg.Passkeys, timeout)
		if err != nil {
			return err
		}
		a.rp = rp
	}
	a.projectRPs = map[string]*webauthn.WebAuthn{}
	for id, cfg := range a.cfg.ProjectPasskeys {
		rp, err := newRelyingParty(cfg, timeout)
		if err != nil {
			return err
		}
		a.projectRPs[id] = rp
	}
	return nil
}

// relyingParty returns the relying party of the project with that ID, or
// errNoPasskeys when passkeys are off for it.
func (a *Auth) relyingParty(ctx context.Context, projectID int64) (*webauthn.WebAuthn, error) {
	p, err := a.store.ProjectByID(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if rp, ok := a.projectRPs[p.ClientID]; ok {
		return rp, nil
	}
	if a.rp == nil {
		return nil, errNoPasskeys
	}
	return a.rp, nil
}

// ceremonyChallenge is the WebAuthn challenge of the ceremony whose
// Challenge row has that token hash: 256 bits that only the key's holder
// can compute, so the row alone keeps the ceremony.
func (a *Auth) ceremonyChallenge(tokenHash string) protocol.URLEncodedBase64 {
	b, _ := hex.DecodeString(a.keyed("webauthn challenge", tokenHash))
	return b
}

// passkeyUser is a user with their passkeys, as go-webauthn sees them. The
// user handle is the public user_id: random, and no personal data.
type passkeyUser struct {
	u    User
	keys []Passkey
}

func (p passkeyUser) WebAuthnID() []byte   { return []byte(p.u.UserID) }
func (p passkeyUser) WebAuthnName() string { return p.u.Email }
func (p passkeyUser) WebAuthnDisplayName() string {
	return cmp.Or(strings.TrimSpace(p.u.FirstName+" "+p.u.LastName), p.u.Email)
}

func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	creds := make([]webauthn.Credential, len(p.keys))
	for i, k := range p.keys {
		creds[i] = webauthn.Credential{ID: k.CredentialID, PublicKey: k.PublicKey,
			Flags:         webauthn.CredentialFlags{BackupEligible: k.BackupEligible, BackupState: k.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount}}
	}
	return creds
}

// readAssertion reads a WebAuthn assertion (a PublicKeyCredential as JSON,
// an object or a string holding one) from the field name.
func readAssertion(in *input, name string) *protocol.ParsedCredentialAssertionData {
	raw := in.object(name)
	if raw == nil {
		return nil
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		in.fail(name, "The "+name+" is not a WebAuthn assertion (a PublicKeyCredential as JSON).")
		return nil
	}
	return parsed
}

// object returns a field that holds a JSON object, as sent or inside a JSON
// string (the only way a form can carry one); nil, with the field failed,
// when it is missing or not an object.
func (in *input) object(name string) json.RawMessage {
	raw, ok := in.json[name]
	if in.form != nil {
		var s string
		s, ok = in.form[name]
		raw = json.RawMessage(s)
	} else if ok && len(raw) > 0 && raw[0] == '"' {
		var s string
		ok = json.Unmarshal(raw, &s) == nil
		raw = json.RawMessage(s)
	}
	if !ok || !json.Valid(raw) || len(raw) == 0 || raw[0] != '{' {
		in.fail(name, "The "+name+" field is required, as a JSON object.")
		return nil
	}
	return raw
}

// assertionCheck is a verified assertion of a passkey, not yet spent.
type assertionCheck struct {
	key      Passkey
	count    uint32
	backedUp bool
	verified bool // the authenticator verified the user (the UV flag)
}

// spend moves the passkey's counter forward inside tx; false means a
// concurrent login, on any instance, used that count first.
func (ac assertionCheck) spend(a *Auth) spend {
	return func(ctx context.Context, tx Store) (bool, error) {
		return tx.UsePasskey(ctx, ac.key.ID, ac.count, ac.backedUp, a.now())
	}
}

// verifyAssertion checks parsed, an assertion for the ceremony whose
// Challenge row has tokenHash, against u's passkeys. ok is false for any
// assertion that does not verify, and for a signature counter that did not
// go forward (a cloned authenticator, or a replay): go-webauthn only warns
// of it. It writes nothing but the audit event of such a counter.
func (a *Auth) verifyAssertion(ctx context.Context, rp *webauthn.WebAuthn, u User, tokenHash string,
	parsed *protocol.ParsedCredentialAssertionData, uv protocol.UserVerificationRequirement) (assertionCheck, bool, error) {
	keys, err := a.store.Passkeys(ctx, u.ID)
	if err != nil {
		return assertionCheck{}, false, err
	}
	ac, ok, stored := a.checkAssertion(rp, u, keys, tokenHash, parsed, uv)
	if !ok && stored != nil {
		a.event(ctx, EventPasskeyCounter, u.ProjectID, u.UserID, fmt.Sprintf("counter %d after %d", ac.count, *stored))
	}
	return ac, ok, nil
}

// checkAssertion is verifyAssertion on the passkeys keys, without the
// store. When the signature verified but the counter did not go forward,
// it returns the stored count too.
func (a *Auth) checkAssertion(rp *webauthn.WebAuthn, u User, keys []Passkey, tokenHash string,
	parsed *protocol.ParsedCredentialAssertionData, uv protocol.UserVerificationRequirement) (assertionCheck, bool, *uint32) {
	user := passkeyUser{u, keys}
	session := webauthn.SessionData{Challenge: a.ceremonyChallenge(tokenHash).String(), RelyingPartyID: rp.Config.RPID,
		UserID: user.WebAuthnID(), UserVerification: uv}
	cred, err := rp.ValidateLogin(user, session, parsed)
	if err != nil {
		return assertionCheck{}, false, nil
	}
	i := indexPasskey(keys, cred.ID)
	if i < 0 {
		return assertionCheck{}, false, nil
	}
	data := parsed.Response.AuthenticatorData
	ac := assertionCheck{key: keys[i], count: data.Counter, backedUp: data.Flags.HasBackupState(),
		verified: data.Flags.HasUserVerified()}
	if stored := keys[i].SignCount; (stored != 0 || data.Counter != 0) && data.Counter <= stored {
		return ac, false, &stored
	}
	return ac, true, nil
}

func indexPasskey(keys []Passkey, credentialID []byte) int {
	for i, k := range keys {
		if string(k.CredentialID) == string(credentialID) {
			return i
		}
	}
	return -1
}

// passkeyJSON is a passkey as its owner sees it: never its key.
type passkeyJSON struct {
	ID             int64    `json:"id"`
	Name           string   `json:"name"`
	BackupEligible bool     `json:"backup_eligible"`
	BackupState    bool     `json:"backup_state"`
	Transports     []string `json:"transports"`
	CreatedAt      string   `json:"created_at"`
	LastUsedAt     *string  `json:"last_used_at"`
}

func passkeyOf(k Passkey) passkeyJSON {
	p := passkeyJSON{ID: k.ID, Name: k.Name, BackupEligible: k.BackupEligible, BackupState: k.BackupState,
		Transports: []string{}, CreatedAt: k.CreatedAt.Format(createdFormat)}
	if k.Transports != "" {
		p.Transports = strings.Split(k.Transports, ",")
	}
	if k.LastUsedAt != nil {
		s := k.LastUsedAt.Format(createdFormat)
		p.LastUsedAt = &s
	}
	return p
}
