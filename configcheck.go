package ihoprauth

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ErrInvalidConfig is wrapped by the error New returns for a Config that
// cannot work; the message names each field at fault (docs/design.md, D32).
var ErrInvalidConfig = errors.New("ihoprauth: invalid Config")

// switchable are the Config fields whose default is on: a negative value
// turns them off (docs/design.md, D32), and for EventRetention means
// keeping events forever. Any other numeric field must not be negative.
var switchable = map[string]bool{
	"TokenCacheTTL":           true,
	"RequestTimeout":          true,
	"AccountLockAfter":        true,
	"AccountFailureCeiling":   true,
	"SignupsPerSourcePerHour": true,
	"IPFailureLimit":          true,
	"CodeMailInterval":        true,
	"CodeMailsPerHour":        true,
	"CodeMailsPerIPPerHour":   true,
	"EventRetention":          true,
	"StepUpWindow":            true,
}

// check reports every value of c that New cannot work with, each error
// naming its field, so that a typo fails at start instead of giving a
// server that panics, locks everyone out or refuses every password.
func (c Config) check() error {
	errs := append(c.checkSigns(), c.checkProviders()...)
	if c.BasePath != "" && strings.Trim(c.BasePath, "/") == "" {
		errs = append(errs, invalidField("BasePath", "%q leaves the API no path of its own; leave it empty for /api/v1", c.BasePath))
	}
	if n := len(c.Secret); n > 0 && n < 32 {
		errs = append(errs, invalidField("Secret", "has %d bytes, want at least 32 (or none, to use a generated key)", n))
	}
	for _, f := range []struct {
		name string
		keys [][]byte
	}{{"PreviousSecrets", c.PreviousSecrets}, {"NextSecrets", c.NextSecrets}} {
		name, keys := f.name, f.keys
		for i, k := range keys {
			if len(k) < 32 {
				errs = append(errs, invalidField(fmt.Sprintf("%s[%d]", name, i), "has %d bytes, want at least 32", len(k)))
			}
		}
		if len(keys) > 0 && len(c.Secret) == 0 {
			errs = append(errs, invalidField(name, "needs Secret"))
		}
	}
	if p := c.Argon2; p != (Argon2Params{}) {
		if p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
			errs = append(errs, invalidField("Argon2", "%+v: set Memory, Time and Threads together, or none for the defaults", p))
		} else if !sane(p) {
			errs = append(errs, invalidField("Argon2", "%+v: want Memory 8 to 1048576 KiB, Time 1 to 16, Threads 1 to 16", p))
		}
	}
	if c.Argon2Engine > Argon2XCrypto {
		errs = append(errs, invalidField("Argon2Engine", "%d is neither Argon2Kept nor Argon2XCrypto", c.Argon2Engine))
	}
	if c.MinPasswordLength > maxPasswordRunes {
		errs = append(errs, invalidField("MinPasswordLength", "%d is over the longest password taken, %d", c.MinPasswordLength, maxPasswordRunes))
	}
	if r := c.DefaultRole; len(r) > maxRole || hasControl(r) {
		errs = append(errs, invalidField("DefaultRole", "want at most %d printable characters", maxRole))
	}
	errs = append(errs, c.checkPasskeys()...)
	for i, p := range c.TrustedProxies {
		if !p.IsValid() {
			errs = append(errs, invalidField(fmt.Sprintf("TrustedProxies[%d]", i), "is not a valid prefix"))
		}
	}
	return errors.Join(errs...)
}

// checkSigns refuses a negative value in every numeric field that is not
// switchable, fields added later included.
func (c Config) checkSigns() []error {
	var errs []error
	v := reflect.ValueOf(c)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		switch f := v.Field(i); f.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if f.Int() < 0 && !switchable[name] {
				errs = append(errs, invalidField(name, "%v is negative: want 0 for the default or a positive value", f.Interface()))
			}
		}
	}
	return errs
}

func invalidField(name, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidConfig, name, fmt.Sprintf(format, args...))
}
