package ihoprauth

import (
	"net/mail"
	"strings"
)

// CanonicalEmail returns the form by which accounts are found and kept
// unique: trimmed, with ASCII letters lowercased and nothing else changed
// (no Unicode case folding; docs/design.md, D16).
func CanonicalEmail(email string) string {
	b := []byte(strings.TrimSpace(email))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// readEmail reads and checks an email field, returning it trimmed.
func readEmail(in *input, name string) string {
	raw, ok := in.value(name, false)
	if hasControl(raw) {
		in.fail(name, "The "+name+" must not contain control characters.")
		return ""
	}
	e := in.check(name, strings.TrimSpace(raw), ok, true, maxEmail)
	if e == "" {
		return ""
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || addr.Name != "" {
		in.fail(name, "The "+name+" must be a valid email address.")
		return ""
	}
	return e
}
