package mailer

import (
	"fmt"
	"strings"
)

// TLSMode says how SMTP protects the connection to the server. The zero
// value is TLSStartTLS, so a configuration that names no mode never sends
// mail, login codes or credentials in clear text.
type TLSMode int

// The TLS modes of SMTPConfig.TLS.
const (
	// TLSStartTLS connects in clear text and upgrades with STARTTLS (RFC
	// 3207); a server that does not offer STARTTLS gets nothing. This is the
	// zero value and the mode of the submission port 587.
	TLSStartTLS TLSMode = iota
	// TLSImplicit speaks TLS from the first byte (SMTPS, RFC 8314), as on
	// port 465.
	TLSImplicit
	// TLSOpportunistic upgrades with STARTTLS when the server offers it and
	// sends in clear text otherwise, so an attacker on the path can strip
	// it: use it only where TLSStartTLS cannot be.
	TLSOpportunistic
	// TLSNone never encrypts. It is meant for a mail sink on loopback
	// (Mailpit, MailHog); AUTH PLAIN and LOGIN, which send the password
	// itself, still refuse any Host but localhost, 127.0.0.1 and ::1.
	TLSNone
)

var tlsModeNames = [...]string{
	TLSStartTLS:      "starttls",
	TLSImplicit:      "tls",
	TLSOpportunistic: "opportunistic",
	TLSNone:          "none",
}

// String returns the name ParseTLSMode accepts for m: "starttls", "tls",
// "opportunistic" or "none".
func (m TLSMode) String() string {
	if m < 0 || int(m) >= len(tlsModeNames) {
		return fmt.Sprintf("TLSMode(%d)", int(m))
	}
	return tlsModeNames[m]
}

// ParseTLSMode returns the TLSMode named s, one of "none", "starttls", "tls"
// and "opportunistic", ignoring case, so that it can be read from a flag or an
// environment variable. The empty string means the default, TLSStartTLS.
func ParseTLSMode(s string) (TLSMode, error) {
	if s == "" {
		return TLSStartTLS, nil
	}
	for m, name := range tlsModeNames {
		if strings.EqualFold(s, name) {
			return TLSMode(m), nil
		}
	}
	return 0, fmt.Errorf("mailer: unknown TLS mode %q, want none, starttls, tls or opportunistic", s)
}
