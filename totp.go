package ihoprauth

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"image/png"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP follows RFC 6238 as authenticator apps implement it: SHA-1, 6
// digits, 30-second steps, a 160-bit secret from crypto/rand (pquerna/otp
// v1.5.0, the first release that generates secrets without bias). A code
// is accepted for the step before, the current one and the one after (±30
// s of clock drift), and only for a step later than the last one accepted:
// pquerna/otp answers only true or false, so the step is found here and
// stored with a conditional write (Store.UseFactorStep), and a code seen
// once is refused on every instance (docs/design.md, D34).

const (
	totpPeriod     = 30 // seconds per step
	totpSkew       = 1  // steps accepted before and after the current one
	totpSecretSize = 20 // bytes: 160 bits, as RFC 4226 recommends
	qrSize         = 256
)

var totpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpStep returns the step within the window around now whose code is
// code and which is later than after, and whether there is one. Every
// step of the window is computed and compared in constant time, whichever
// matches.
func totpStep(secret []byte, code string, now time.Time, after int64) (int64, bool) {
	encoded := base32NoPad.EncodeToString(secret)
	current := now.Unix() / totpPeriod
	var found int64
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		want, err := hotp.GenerateCodeCustom(encoded, uint64(step), totpOpts)
		match := err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
		if match && step > after && found == 0 {
			found = step
		}
	}
	return found, found != 0
}

// totpEnrolment is the answer that starts a TOTP enrolment: the secret, for
// typing in, the otpauth:// URI and a QR code of it. The secret is shown to
// its owner this once and kept only sealed.
type totpEnrolment struct {
	Status     string `json:"status"`
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRCode     string `json:"qr_code"`
}

var errFactorExists = &Error{Status: 409, Message: "An authenticator app is already set up; remove it first."}

// startTOTP stores a new, unconfirmed TOTP factor for u (replacing an
// unconfirmed one) and answers what the authenticator app needs.
func (a *Auth) startTOTP(ctx context.Context, u User) (totpEnrolment, error) {
	p, err := a.store.ProjectByID(ctx, u.ProjectID)
	if err != nil {
		return totpEnrolment{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: cmp.Or(a.cfg.TOTPIssuer, p.ClientID), AccountName: u.Email,
		Period: totpPeriod, SecretSize: totpSecretSize, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return totpEnrolment{}, err
	}
	secret, err := base32NoPad.DecodeString(key.Secret())
	if err != nil {
		return totpEnrolment{}, err
	}
	f := Factor{UserID: u.ID, Kind: FactorTOTP, Secret: a.seal(u.ID, FactorTOTP, secret), CreatedAt: a.now()}
	switch err := a.store.SaveFactor(ctx, &f); {
	case errors.Is(err, ErrDuplicate):
		return totpEnrolment{}, errFactorExists
	case err != nil:
		return totpEnrolment{}, err
	}
	qr, err := qrDataURI(key)
	if err != nil {
		return totpEnrolment{}, err
	}
	a.event(ctx, EventFactorStarted, u.ProjectID, u.UserID, string(FactorTOTP))
	return totpEnrolment{Status: "success", Secret: key.Secret(), OTPAuthURI: key.URL(), QRCode: qr}, nil
}

// qrDataURI is the QR code of key's URI as a PNG data: URI, for an <img>.
func qrDataURI(key *otp.Key) (string, error) {
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// recoveryCodesAnswer carries a new set of recovery codes, shown this once.
type recoveryCodesAnswer struct {
	Status        string   `json:"status"`
	RecoveryCodes []string `json:"recovery_codes"`
}

var (
	errNoEnrolment = &Error{Status: 409, Message: "There is no authenticator app being set up: start the enrolment first."}
	errBadTOTP     = fieldError("totp_code", "The totp_code is not the code the authenticator app shows.")
)

// confirmTOTP confirms u's unconfirmed TOTP factor with its first code and
// answers the user's first set of recovery codes.
func (a *Auth) confirmTOTP(ctx context.Context, u User, code string) (recoveryCodesAnswer, error) {
	factors, err := a.store.Factors(ctx, u.ID)
	if err != nil {
		return recoveryCodesAnswer{}, err
	}
	i := indexFactor(factors, FactorTOTP, false)
	if i < 0 {
		return recoveryCodesAnswer{}, errNoEnrolment
	}
	secret, err := a.open(factors[i])
	if err != nil {
		return recoveryCodesAnswer{}, err
	}
	step, ok := totpStep(secret, code, a.now(), 0)
	if !ok {
		return recoveryCodesAnswer{}, errBadTOTP
	}
	var codes []string
	err = a.store.InTx(ctx, func(tx Store) error {
		won, err := tx.ConfirmFactor(ctx, factors[i].ID, step, a.now())
		if err != nil || !won {
			return cmpErr(err, errNoEnrolment)
		}
		codes, err = a.newRecoveryCodes(ctx, tx, u.ID)
		return err
	})
	if err != nil {
		return recoveryCodesAnswer{}, err
	}
	a.event(ctx, EventFactorAdded, u.ProjectID, u.UserID, string(FactorTOTP))
	return recoveryCodesAnswer{Status: "success", RecoveryCodes: codes}, nil
}

// cmpErr is err, or def when err is nil.
func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// indexFactor returns the index of the factor of kind in factors that is
// confirmed (or, with confirmed false, unconfirmed), or -1.
func indexFactor(factors []Factor, kind FactorKind, confirmed bool) int {
	for i, f := range factors {
		if f.Kind == kind && (f.ConfirmedAt != nil) == confirmed {
			return i
		}
	}
	return -1
}
