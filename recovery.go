package ihoprauth

import (
	"context"
	"encoding/base32"
	"errors"
	"strconv"
	"strings"
)

// Recovery codes stand in for a lost authenticator: recoveryCodeCount of
// them, each 80 random bits written as 16 base32 letters and digits in
// four groups (abcd-efgh-ijkl-mnop), shown once and stored only as keyed
// hashes (HMAC-SHA256 under the library's key, bound to the user), so that
// checking a guess costs one read of the user's unused codes and one HMAC,
// not a slow hash per stored code: 80 random bits need no slow hash. Every
// stored hash is compared, in constant time, and a match is spent by a
// conditional write, so a code works once on every instance; each use is
// audited and mailed to the owner (docs/design.md, D36).

const (
	recoveryCodeCount = 10
	recoveryCodeBytes = 10 // 80 bits
)

var recoveryEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newRecoveryCode returns a fresh code in its display form.
func newRecoveryCode() string {
	s := recoveryEncoding.EncodeToString(randomBytes(recoveryCodeBytes))
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// normalRecoveryCode is code as it is hashed: without dashes and spaces,
// lowercased, so that "ABCD EFGH…" is the same code as "abcd-efgh-…".
func normalRecoveryCode(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
}

func (a *Auth) recoveryHash(userID int64, code string) string {
	return a.keyed("recovery", strconv.FormatInt(userID, 10)+":"+normalRecoveryCode(code))
}

// newRecoveryCodes replaces the user's recovery codes with a fresh set in
// st, ending the old set, and returns the new codes.
func (a *Auth) newRecoveryCodes(ctx context.Context, st Store, userID int64) ([]string, error) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([]string, recoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = a.recoveryHash(userID, codes[i])
	}
	if err := st.ReplaceRecoveryCodes(ctx, userID, hashes, a.now()); err != nil {
		return nil, err
	}
	return codes, nil
}

// matchRecoveryCode returns the unused recovery code of the user that code
// is, comparing it with every one in constant time; ok is false when none
// matches.
func (a *Auth) matchRecoveryCode(ctx context.Context, userID int64, code string) (rc RecoveryCode, ok bool, err error) {
	codes, err := a.store.RecoveryCodes(ctx, userID)
	if err != nil {
		return RecoveryCode{}, false, err
	}
	// The code's hash under each key that verifies, made once, compared
	// with every stored code in constant time.
	value := strconv.FormatInt(userID, 10) + ":" + normalRecoveryCode(code)
	hashes := []string{a.keyed("recovery", value)}
	for _, k := range a.otherKeys() {
		hashes = append(hashes, keyedWith(k, "recovery", value))
	}
	found := -1
	for i, c := range codes {
		for _, h := range hashes {
			if equalHex(h, c.Hash) && found < 0 {
				found = i
			}
		}
	}
	if found < 0 {
		return RecoveryCode{}, false, nil
	}
	return codes[found], true, nil
}

// recoveryCodeUsed audits the use of a recovery code and mails the owner,
// so that a stolen code does not go unnoticed.
func (a *Auth) recoveryCodeUsed(ctx context.Context, u User) {
	left, err := a.store.RecoveryCodes(ctx, u.ID)
	if err != nil {
		a.cfg.OnError(ctx, err)
	}
	a.event(ctx, EventRecoveryCodeUsed, u.ProjectID, u.UserID, strconv.Itoa(len(left))+" left")
	p, err := a.store.ProjectByID(ctx, u.ProjectID)
	if err != nil {
		a.cfg.OnError(ctx, errors.Join(ErrMailNotSent, err))
		return
	}
	a.mailCode(ctx, MailRecoveryCodeUsed, p, u, "")
}
