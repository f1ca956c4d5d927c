package ihoprauth

// Verifications returns how many password verifications a has run, dummy
// ones included. It exists for tests only.
func Verifications(a *Auth) int64 { return a.hasher.verified.Load() }

// Hashes returns how many new password hashes a has made. It exists for
// tests only.
func Hashes(a *Auth) int64 { return a.hasher.hashed.Load() }
