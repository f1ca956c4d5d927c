package ihoprauth

import (
	"strings"
	"testing"
)

// TestCommonPasswords checks the index against the list it indexes: every
// line is found, and strings next to lines (a prefix, an extension, the
// empty string, another case) are not.
func TestCommonPasswords(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(commonPasswordList), "\n")
	if len(commonPasswords()) != len(lines) || len(lines) != 30000 {
		t.Fatalf("index of %d lines, list of %d: want 30000 each", len(commonPasswords()), len(lines))
	}
	listed := make(map[string]bool, len(lines))
	for _, l := range lines {
		listed[l] = true
		if !isCommonPassword(l) {
			t.Fatalf("%q is in the list but not found", l)
		}
	}
	for _, s := range []string{"", "password", "123456", "qwerty"} {
		if got := isCommonPassword(s); got != listed[s] {
			t.Errorf("isCommonPassword(%q) = %v, want %v", s, got, listed[s])
		}
	}
	// Neighbours of listed lines that are not lines themselves.
	checked := 0
	for _, l := range lines[:2000] {
		for _, s := range []string{l[:len(l)-1], l + "~", l + "\n", "\n" + l, strings.ToUpper(l)} {
			if listed[s] {
				continue
			}
			checked++
			if isCommonPassword(s) {
				t.Fatalf("isCommonPassword(%q) = true; it is not in the list", s)
			}
		}
	}
	if checked < 5000 {
		t.Fatalf("only %d neighbours checked", checked)
	}
	if passwordProblem("Password", "", 8) == "" {
		t.Error(`passwordProblem("Password") = "", want the common-password problem`)
	}
}
