package ihoprauth

// Verifications returns how many password verifications a has run, dummy
// ones included. It exists for tests only.
func Verifications(a *Auth) int64 { return a.hasher.verified.Load() }

// Hashes returns how many new password hashes a has made. It exists for
// tests only.
func Hashes(a *Auth) int64 { return a.hasher.hashed.Load() }

// Renders returns how many mails a has rendered, those rendered for unknown
// emails and dropped included. It exists for tests only.
func Renders(a *Auth) int64 { return a.renders.Load() }

// TraceHashes has a call trace with the algorithm and cost of every
// password hash a computes from now on. It exists for tests only; set it
// before requests are served.
func TraceHashes(a *Auth, trace func(string)) { a.hasher.trace = trace }
