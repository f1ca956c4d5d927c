package ihoprauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/ihoprauth/ihoprauth/internal/argon2id"
)

// Argon2Params are the argon2id cost parameters of new password hashes.
// Hashes made with other parameters still verify and are rehashed at the
// next successful login.
type Argon2Params struct {
	// Memory in KiB. Default 19456 (19 MiB), the OWASP minimum.
	Memory uint32
	// Time is the number of passes. Default 2.
	Time uint32
	// Threads is the parallelism. Default 1.
	Threads uint8
}

const (
	argonSaltLen     = 16
	argonKeyLen      = 32
	maxPasswordRunes = 128
	maxPasswordBytes = 512
	bcryptMaxBytes   = 72
)

// Argon2Engine is the implementation of argon2id that hashes passwords.
// Both give the same hashes, so an app may switch at any time.
type Argon2Engine int

const (
	// Argon2Kept, the default, is ihoprauth's own argon2id
	// (internal/argon2id): pure Go, checked against x/crypto's, and its
	// memory kept between hashes (at most MaxConcurrentHashes sets of
	// Argon2.Memory KiB, let go after a minute without a login). A login
	// then allocates almost nothing, and the garbage collector does not
	// run once per login. It hashes about as fast as x/crypto's on the
	// hosts of BENCHMARKS.md, and clears its memory after each hash, which
	// holds what would test a guess of the password cheaply. Its lanes run
	// one after another, so with Threads above 1 a hash takes longer than
	// x/crypto's, which runs them at once.
	Argon2Kept Argon2Engine = iota
	// Argon2XCrypto is golang.org/x/crypto/argon2, with SSE4.1 assembly on
	// amd64. It allocates Argon2.Memory KiB afresh for every hash: under a
	// memory limit that keeps the process small, a collection per login,
	// paid in mark assists by the app's own requests during a login storm.
	Argon2XCrypto
)

// hasher hashes and verifies passwords, at most MaxConcurrentHashes at a
// time so a burst of logins cannot take all memory (argon2id holds Memory
// KiB each), in the order hashSlots decides.
type hasher struct {
	params Argon2Params
	// key is the argon2id of Config.Argon2Engine.
	key   func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
	slots *hashSlots
	dummy string
	tel   *telemetry // nil: no metrics
	// verified counts verifications, the dummy ones included, so tests can
	// see that an unknown email costs a hash like a known one.
	verified atomic.Int64
	// hashed counts new hashes, for the same reason.
	hashed atomic.Int64
	// trace, when set (by tests), is told the algorithm and cost of every
	// hash computed, the dummy ones included.
	trace func(string)

	mu      sync.Mutex
	dummies map[int]string // dummy bcrypt hashes by cost
}

func newHasher(p Argon2Params, concurrency int, engine Argon2Engine, timeout time.Duration) *hasher {
	h := &hasher{params: p, slots: newHashSlots(concurrency), key: argon2.IDKey}
	h.slots.timeout = max(timeout, 0)
	if engine == Argon2Kept {
		h.key = argon2id.NewMemory(concurrency, p.Memory, time.Minute).Key
	}
	h.dummy = h.encode(randomBytes(argonSaltLen), randomBytes(argonSaltLen))
	return h
}

// hash returns the argon2id PHC string of password; account, when not
// empty, is the account the request has shown it belongs to, which puts
// it ahead of strangers' hashes (see hashSlots).
func (h *hasher) hash(ctx context.Context, password string, account string) (string, error) {
	asked := time.Now()
	if err := h.slots.acquire(ctx, account); err != nil {
		return "", err
	}
	began := time.Now()
	held := time.Duration(0)
	defer func() { h.slots.release(held) }()
	defer h.tel.hashed(ctx, "hash", asked, began)
	h.hashed.Add(1)
	encoded := h.encode([]byte(password), randomBytes(argonSaltLen))
	held = time.Since(began)
	return encoded, nil
}

func (h *hasher) encode(password, salt []byte) string {
	p := h.params
	key := h.key(password, salt, p.Time, p.Memory, p.Threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// verify reports whether password matches encoded, and whether encoded
// should be replaced by a fresh hash (bcrypt, or other argon2 parameters).
// An empty encoded (unknown user, or a user without a password) is checked
// against a dummy hash so that it costs the same time and never matches.
// bcryptCosts is the project's Project.BcryptCosts: when not zero, every
// verification runs one argon2id and one bcrypt at each imported cost, the
// stored hash where it is of that kind and cost and dummies for the rest,
// so that imported users of any cost, native users and unknown emails cost
// the same (docs/design.md, D29); projects without imports pay nothing
// extra. account, when not empty, puts the verification ahead of
// strangers' (see hashSlots and hash).
// gate, when not nil, runs once a hashing slot is free, and its
// error ends the verification (a lock that engaged while the request
// waited); done, when not nil, is told the result while the slot is still
// held, so that a failure it records is seen by the gate of every
// verification after it: of concurrent wrong guesses, at most the number of
// slots pass a gate that the failures before them should have closed.
func (h *hasher) verify(ctx context.Context, encoded, password string, bcryptCosts int, account string, gate func() error, done func(ok bool) error) (ok, rehash bool, err error) {
	asked := time.Now()
	if err := h.slots.acquire(ctx, account); err != nil {
		return false, false, err
	}
	began := time.Now()
	held := time.Duration(0) // 0 while no hash ran: see hashSlots.release
	defer func() { h.slots.release(held) }()
	defer h.tel.hashed(ctx, "verify", asked, began)
	if gate != nil {
		if err := gate(); err != nil {
			return false, false, err
		}
	}
	ok, rehash = h.check(encoded, password, bcryptCosts)
	if done != nil {
		err = done(ok)
	}
	held = time.Since(began)
	if err != nil {
		return false, false, err
	}
	return ok, rehash, nil
}

// check is verify's comparison, run while a hashing slot is held.
func (h *hasher) check(encoded, password string, bcryptCosts int) (ok, rehash bool) {
	h.verified.Add(1)
	argonHash := encoded
	if encoded == "" || isBcrypt(encoded) {
		argonHash = h.dummy
	}
	ok, params := h.verifyArgon2(argonHash, password)
	rehash = ok && params != h.params
	if argonHash == h.dummy {
		ok, rehash = false, false
	}
	userCost := -1
	if isBcrypt(encoded) {
		userCost, _ = bcrypt.Cost([]byte(encoded))
		bcryptCosts |= 1 << userCost // an import from before its cost was marked
	}
	for cost := bcrypt.MinCost; cost <= bcrypt.MaxCost; cost++ {
		if bcryptCosts&(1<<cost) == 0 {
			continue
		}
		if cost != userCost {
			h.verifyBcrypt(h.dummyBcrypt(cost), password)
			continue
		}
		// bcrypt reads only 72 bytes: a longer password would match a hash
		// of its prefix, so it never verifies (docs/design.md, D4), after
		// the same work.
		ok = h.verifyBcrypt(encoded, password) && len(password) <= bcryptMaxBytes
		rehash = ok
	}
	return ok, rehash
}

// verifyBcrypt compares password with a bcrypt hash, cut to the 72 bytes
// bcrypt reads so that a longer password costs the same as any other.
func (h *hasher) verifyBcrypt(hash, password string) bool {
	if len(password) > bcryptMaxBytes {
		password = password[:bcryptMaxBytes]
	}
	if h.trace != nil {
		cost, _ := bcrypt.Cost([]byte(hash))
		h.trace(fmt.Sprintf("bcrypt cost=%d", cost))
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummyBcrypt returns a bcrypt hash of cost that no password matches,
// made once per cost.
func (h *hasher) dummyBcrypt(cost int) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d, ok := h.dummies[cost]; ok {
		return d
	}
	d, err := bcrypt.GenerateFromPassword(randomBytes(bcryptMaxBytes/2), min(max(cost, bcrypt.MinCost), bcrypt.MaxCost))
	if err != nil {
		panic("ihoprauth: bcrypt of a random password: " + err.Error()) // only for a cost out of range, bounded above
	}
	if h.dummies == nil {
		h.dummies = map[int]string{}
	}
	h.dummies[cost] = string(d)
	return string(d)
}

// sane bounds the parameters a stored hash may ask for, so that a hash
// imported or planted with, say, 4 TiB of memory cannot take the server
// down at login: at most 1 GiB, 16 passes, 16 threads.
func sane(p Argon2Params) bool {
	return p.Memory >= 8 && p.Memory <= 1<<20 && p.Time >= 1 && p.Time <= 16 && p.Threads >= 1 && p.Threads <= 16
}

func isBcrypt(encoded string) bool {
	return strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") || strings.HasPrefix(encoded, "$2y$")
}

func (h *hasher) verifyArgon2(encoded, password string) (bool, Argon2Params) {
	var p Argon2Params
	var version int
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, p
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, p
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, p
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	// RFC 9106 §3.1: a tag of at least 4 bytes (a 1-byte tag would take one
	// password in 256) and a salt of at least 8.
	if err1 != nil || err2 != nil || len(want) < 4 || len(want) > 1024 || len(salt) < 8 || !sane(p) {
		return false, p
	}
	if h.trace != nil {
		h.trace(fmt.Sprintf("argon2id m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads))
	}
	got := h.key([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, p
}

//go:embed common-passwords.txt
var commonPasswordList string

// commonPasswords indexes the 30,000 most common passwords of the zxcvbn
// frequency list, lowercased (see LICENSE-common-passwords.txt): where each
// line of commonPasswordList starts and ends, sorted by line. Offsets keep
// the index free of pointers, unlike a map of 30,000 strings, about a
// megabyte that the garbage collector would mark on every cycle, and a
// login storm runs a cycle for about every password hash (BENCHMARKS.md).
// It is built on the first password check (about 5 ms), not when the
// package is initialized.
var commonPasswords = sync.OnceValue(func() []commonLine {
	lines := make([]commonLine, 0, 30000)
	for start := 0; start < len(commonPasswordList); {
		end := len(commonPasswordList)
		if i := strings.IndexByte(commonPasswordList[start:], '\n'); i >= 0 {
			end = start + i
		}
		if end > start {
			lines = append(lines, commonLine{uint32(start), uint32(end)})
		}
		start = end + 1
	}
	slices.SortFunc(lines, func(a, b commonLine) int { return strings.Compare(a.String(), b.String()) })
	return lines
})

// commonLine is where a line of commonPasswordList starts and ends.
type commonLine struct{ start, end uint32 }

func (l commonLine) String() string { return commonPasswordList[l.start:l.end] }

// isCommonPassword reports whether lower, a lowercased password, is one
// of commonPasswords.
func isCommonPassword(lower string) bool {
	_, found := slices.BinarySearchFunc(commonPasswords(), lower, func(l commonLine, target string) int {
		return strings.Compare(l.String(), target)
	})
	return found
}

// passwordProblem returns why password may not be set for the account with
// that email, or "" when it may. The rules follow NIST SP 800-63B §3.1.1.2:
// a length range, no composition rules, no common or context-specific
// passwords. email may be empty when it is not known yet.
func passwordProblem(password, email string, minLen int) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minLen:
		return fmt.Sprintf("The password must be at least %d characters.", minLen)
	case n > maxPasswordRunes || len(password) > maxPasswordBytes:
		return fmt.Sprintf("The password may not be greater than %d characters.", maxPasswordRunes)
	}
	lower := strings.ToLower(password)
	if isCommonPassword(lower) {
		return "The password is one of the most common passwords; choose another."
	}
	if email != "" && lower == strings.ToLower(email) {
		return "The password must not be the same as the email."
	}
	return ""
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// HashMemory is the most memory, in bytes, that password hashing holds at
// once: MaxConcurrentHashes hashes of Config.Argon2.Memory each (an
// imported hash of a higher cost holds its own cost while it runs). It is
// the budget of a login storm, whatever the number of logins, because
// logins beyond the slots wait in bounded queues (see MaxConcurrentHashes).
//
// With the default Argon2Engine that memory is kept between hashes (for a
// minute after the last), so a storm makes no garbage of hashes. With
// Argon2XCrypto each hash allocates its memory anew, and Go's collector
// lets the heap grow to twice what is live before it collects, so during
// a storm the garbage of finished hashes can hold as much again. Either
// way, a soft memory limit of the runtime (GOMEMLIMIT, or
// runtime/debug.SetMemoryLimit) of HashMemory plus what the app itself
// needs keeps the rest of the heap collected (BENCHMARKS.md, "Login
// storms"); the example sets one by default (its -memory-limit flag).
func (a *Auth) HashMemory() int64 {
	return int64(a.cfg.MaxConcurrentHashes) * int64(a.cfg.Argon2.Memory) * 1024
}
