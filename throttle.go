package ihoprauth

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// Throttles slow down guessing (ASVS 6.3, NIST SP 800-63B §3.2.2) without
// letting a stranger turn them against an account's owner (docs/design.md,
// D24-D28). Their counters live in the Store, so every instance sharing
// the database shares them, and they are keyed by project and canonical
// email whether or not the account exists, so a throttle never tells who
// has an account. A source is a client address, IPv6 counted per /64.
//
//   - per account and source (the pair): AccountLockAfter failed passwords
//     or wrong otp/two-step codes lock that pair for AccountLockBase,
//     doubling with each further failure up to AccountLockMax. Other
//     sources are not locked; a success or a completed reset clears it.
//   - per account: after AccountFailureCeiling checked failures within an
//     hour, over all sources, each source that is not known to the account
//     (see knownSource) gets one attempt a minute on it. Known sources pass.
//   - per source: every request to an endpoint that checks credentials or
//     codes reserves a slot of IPFailureLimit per IPFailureWindow before it
//     checks anything, and gives it back unless it answers 401 or is refused
//     by a lock: concurrency cannot pass the cap, and more than the cap in
//     flight from one address see 429. On the endpoints of a login, a
//     device known to the account passes its address's spent cap
//     (ownerGuarded).
//   - per source: SignupsPerSourcePerHour signups, checked before hashing.
//
// The code-mail budgets are in mailbudget.go.

const (
	// pairWindow bounds how long failures of a pair are remembered without
	// a success.
	pairWindow = 24 * time.Hour
	// slowWindow is how often an unknown source may try an account that is
	// over its failure ceiling.
	slowWindow = time.Minute
)

func accountKey(projectID int64, emailKey string) string {
	return sha256Hex("account:" + strconv.FormatInt(projectID, 10) + ":" + emailKey)
}

// ipKey is the counter key of a client address, which is also its source
// key. An IPv6 client is keyed by its /64, the smallest network a provider
// hands out, since it can pick any of the 2^64 addresses in it.
func ipKey(ip string) string {
	if addr, err := netip.ParseAddr(ip); err == nil && addr.Is6() && !addr.Is4In6() {
		ip = netip.PrefixFrom(addr, 64).Masked().String()
	}
	return sha256Hex("ip:" + ip)
}

// sourceOf is the source key of the request in ctx: its address.
func sourceOf(ctx context.Context) string { return ipKey(clientFrom(ctx).ip) }

// counterKey names a counter: what it counts and the keys it is about.
func counterKey(kind string, parts ...string) string {
	s := kind
	for _, p := range parts {
		s += ":" + p
	}
	return sha256Hex(s)
}

// tooMany is the 429 answer, with Retry-After rounded up to a second.
func tooMany(msg string, wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Message: msg, RetryAfter: int(math.Ceil(wait.Seconds()))}
}

// lockedOut is the 429 of a lock. Unlike other 429s it counts against the
// source's cap, so that hammering a locked account still fills it.
func lockedOut(wait time.Duration) *Error {
	e := tooMany("Too many failed attempts. Try again in "+seconds(wait)+".", wait)
	e.failure = true
	return e
}

// failed reports whether err is a refusal that keeps its source slot: a
// 401 from a credential or code check, or a 429 from a lock.
func failed(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusUnauthorized || e.failure)
}

// ipGuarded wraps the handler of an endpoint that checks credentials or
// codes: it takes a slot of the source's failure cap before the handler
// runs (429 when none is left) and gives it back unless the handler's
// answer is a failure (or a database failure).
func (a *Auth) ipGuarded(h handler) handler { return a.guarded(h, false) }

// ownerGuarded is ipGuarded for the endpoints of a login (password, codes,
// second factors, the token exchange and refresh): there a request from an
// address whose cap is spent goes on when it presents a device cookie, and
// gets through only once its handler has found that device known to the
// account it tries (passCap). A neighbour behind the owner's NAT who spends
// the address's cap so cannot shut out the owner's known device (D24).
func (a *Auth) ownerGuarded(h handler) handler { return a.guarded(h, true) }

func (a *Auth) guarded(h handler, devicesPass bool) handler {
	return func(r *http.Request, in *input) (any, error) {
		ctx := r.Context()
		c, spent, err := a.takeSourceSlot(ctx)
		switch {
		case err != nil:
			return nil, err
		case spent && devicesPass && clientFrom(ctx).device != "":
			return a.pastSpentCap(h, r, in, c)
		case spent:
			return nil, a.sourceOverCap(ctx, c)
		}
		body, err := h(r, in)
		// A request the database could not answer keeps its slot: giving
		// it back would wait for the same database, delaying the 503.
		if !failed(err) && !unavailable(err) {
			a.releaseSourceSlot(ctx)
		}
		return body, err
	}
}

// capPass is what ownerGuarded knows of a request from an address whose
// cap, counted by counter, is spent: the account whose known device it
// presented, once passCap found one.
type capPass struct {
	counter Counter
	account string
}

type capPassKey struct{}

// pastSpentCap runs h for a request whose address's cap is spent and which
// presents a device cookie. It holds no slot of the spent cap, so its
// failures count only against its pair (account, device). Every such
// handler passes the device (passCap) before it checks or changes
// anything: the account comes from what it reads first, the email and
// client_id of a login, the row of a code or token. Should one not, the
// answer is still the cap's 429 whatever it found.
func (a *Auth) pastSpentCap(h handler, r *http.Request, in *input, c Counter) (any, error) {
	pass := &capPass{counter: c}
	ctx := context.WithValue(r.Context(), capPassKey{}, pass)
	body, err := h(r.WithContext(ctx), in)
	if pass.account == "" && !unavailable(err) {
		return nil, a.sourceOverCap(ctx, c)
	}
	return body, err
}

// passCap lets a request from an address whose cap is spent go on to check
// a password or code of account when its device is known to account, and
// stops it otherwise (errCapSpent). It does nothing for other requests.
func (a *Auth) passCap(ctx context.Context, account string) error {
	pass, _ := ctx.Value(capPassKey{}).(*capPass)
	if pass == nil || pass.account == account {
		return nil
	}
	known, err := a.sourceKnownTo(ctx, account, counterKey("device", clientFrom(ctx).device))
	if err != nil || !known {
		return cmpErr(err, errCapSpent)
	}
	pass.account = account
	return nil
}

// errCapSpent stops a request that passCap did not let past its address's
// spent cap; pastSpentCap answers it with the cap's 429.
var errCapSpent = errors.New("ihoprauth: the address's failure cap is spent")

// pastCap reports whether the request's address has spent its cap and
// the request must pass it (passCap) before it checks anything.
func pastCap(ctx context.Context) bool { return ctx.Value(capPassKey{}) != nil }

// passCapOf is passCap for the account of the user with that internal id.
func (a *Auth) passCapOf(ctx context.Context, userID int64) error {
	if !pastCap(ctx) {
		return nil
	}
	u, err := a.store.UserByID(ctx, userID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return a.passCap(ctx, accountKey(u.ProjectID, u.EmailKey))
}

// passCapAsLogin is passCap for a login to email in the project of
// clientID, before the client's secret is checked: a request past its
// address's cap learns nothing of the secret, not even from the time of
// its 429.
func (a *Auth) passCapAsLogin(ctx context.Context, clientID, email string) error {
	if !pastCap(ctx) {
		return nil
	}
	p, err := a.project(ctx, clientID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return a.passCap(ctx, accountKey(p.ID, CanonicalEmail(email)))
}

// takeSourceSlot counts one attempt against the source's cap and reports
// whether the cap is spent. A request refused so gives its slot back at
// once: it checked nothing, so it is no failure, and were it kept, each
// burst of correct logins past the cap (more than the cap in flight at
// once) would leave its excess counted, until bursts of correct logins
// alone shut their address out.
func (a *Auth) takeSourceSlot(ctx context.Context) (c Counter, spent bool, err error) {
	c, err = a.store.Hit(ctx, sourceOf(ctx), a.now(), a.cfg.IPFailureWindow)
	if err != nil {
		return c, false, err
	}
	if c.Count > a.cfg.IPFailureLimit {
		a.releaseSourceSlot(ctx)
		return c, true, nil
	}
	return c, false, nil
}

// checkSourceCap answers 429 while the source's cap is spent, without
// counting: for checks behind a bearer token, which count only failures.
func (a *Auth) checkSourceCap(ctx context.Context) error {
	c, err := a.store.Counter(ctx, sourceOf(ctx))
	if err != nil {
		return err
	}
	if c.Count >= a.cfg.IPFailureLimit && a.now().Before(c.WindowStart.Add(a.cfg.IPFailureWindow)) {
		return a.sourceOverCap(ctx, c)
	}
	return nil
}

func (a *Auth) sourceOverCap(ctx context.Context, c Counter) error {
	wait := c.WindowStart.Add(a.cfg.IPFailureWindow).Sub(a.now())
	a.throttled(ctx, 0, "address over the failure cap")
	return tooMany("Too many failed attempts from your address. Try again later.", wait)
}

// releaseSourceSlot gives back the slot takeSourceSlot took. It outlives a
// client that hangs up, so an abandoned request is not counted as a
// failure; if it cannot be written, the slot stays spent.
func (a *Auth) releaseSourceSlot(ctx context.Context) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.store.Unhit(wctx, sourceOf(ctx)); err != nil {
		a.cfg.OnError(ctx, err)
	}
}

// sourceFailed counts one failure against the source's cap, for checks that
// did not take a slot first.
func (a *Auth) sourceFailed(ctx context.Context) error {
	_, err := a.store.Hit(ctx, sourceOf(ctx), a.now(), a.cfg.IPFailureWindow)
	return err
}

// epoch is the number of completed resets of the account, which names the
// generation of its pair locks: a reset starts a new one, clearing every
// lock of the account at once.
func (a *Auth) epoch(ctx context.Context, account string) (string, error) {
	c, err := a.store.Counter(ctx, counterKey("epoch", account))
	return strconv.Itoa(c.Count), err
}

// pairKey is the key of the failures of the request's source on account.
func (a *Auth) pairKey(ctx context.Context, account string) (string, error) {
	source, err := a.pairSource(ctx, account)
	if err != nil {
		return "", err
	}
	epoch, err := a.epoch(ctx, account)
	return counterKey("pair", account, source, epoch), err
}

// pairSource is the source whose failures on account lock it: the device,
// when the request presents a device cookie known to the account, else the
// address. So a stranger who shares the owner's address (a NAT, a carrier
// NAT, the same IPv6 /64) and guesses wrong locks that address, not the
// owner's known device; a stolen cookie that guesses wrong locks itself.
func (a *Auth) pairSource(ctx context.Context, account string) (string, error) {
	if c := clientFrom(ctx); c.device != "" {
		device := counterKey("device", c.device)
		if known, err := a.sourceKnownTo(ctx, account, device); known || err != nil {
			return device, err
		}
	}
	return sourceOf(ctx), nil
}

// attempt is what allowAttempt learned of a source's try at an account.
type attempt struct {
	projectID int64
	account   string
	known     bool // the source is known to the account: never slowed
	slowed    bool // it took its one attempt a minute on an account under attack
}

// allowAttempt answers 429 when the request's source may not try a
// password or code on account now: its pair is locked, or the account is
// over its failure ceiling and the source, unknown to it, tried within the
// last minute. It counts nothing against the pair, so concurrent attempts
// with the right password all pass. firstOfCode skips the ceiling for the
// first try of an emailed code, whose login already took its turn.
func (a *Auth) allowAttempt(ctx context.Context, projectID int64, account string, firstOfCode bool) (*attempt, error) {
	at := &attempt{projectID: projectID, account: account}
	if err := a.passCap(ctx, account); err != nil {
		return nil, err
	}
	if err := a.checkPair(ctx, projectID, account); err != nil {
		return nil, err
	}
	known, err := a.knownSource(ctx, account)
	if err != nil {
		return nil, err
	}
	at.known = known
	if known || firstOfCode {
		return at, nil
	}
	return at, a.slowIfUnderAttack(ctx, at)
}

// recheck runs allowAttempt's checks again once a hash slot is taken, so
// that guesses queued behind others meet the lock and the ceiling that
// the failures before them set, not those they saw on arrival.
func (a *Auth) recheck(ctx context.Context, at *attempt) error {
	if err := a.checkPair(ctx, at.projectID, at.account); err != nil {
		return err
	}
	if at.known || at.slowed {
		return nil
	}
	return a.slowIfUnderAttack(ctx, at)
}

// slowIfUnderAttack gives the source its one attempt a minute when the
// account had AccountFailureCeiling checked failures within the hour.
func (a *Auth) slowIfUnderAttack(ctx context.Context, at *attempt) error {
	c, err := a.store.Counter(ctx, counterKey("failures", at.account))
	if err != nil {
		return err
	}
	if c.Count < a.cfg.AccountFailureCeiling || !a.now().Before(c.WindowStart.Add(time.Hour)) {
		return nil
	}
	at.slowed = true
	slow, err := a.store.Hit(ctx, counterKey("slow", at.account, sourceOf(ctx)), a.now(), slowWindow)
	if err != nil {
		return err
	}
	if slow.Count > 1 {
		a.throttled(ctx, at.projectID, "account under attack: unknown source slowed")
		return lockedOut(slow.WindowStart.Add(slowWindow).Sub(a.now()))
	}
	return nil
}

// checkPair answers 429 while the request's source is locked out of
// account.
func (a *Auth) checkPair(ctx context.Context, projectID int64, account string) error {
	key, err := a.pairKey(ctx, account)
	if err != nil {
		return err
	}
	c, err := a.store.Counter(ctx, key)
	if err != nil || c.Count < a.cfg.AccountLockAfter {
		return err
	}
	until := c.LastAt.Add(a.lockDelay(c.Count))
	if !a.now().Before(until) {
		return nil
	}
	a.throttled(ctx, projectID, "account locked for this source")
	return lockedOut(until.Sub(a.now()))
}

// attemptFailed counts a checked wrong password or code on account: against
// the pair and toward the account's ceiling.
func (a *Auth) attemptFailed(ctx context.Context, account string) error {
	key, err := a.pairKey(ctx, account)
	if err != nil {
		return err
	}
	if _, err := a.store.Hit(ctx, key, a.now(), pairWindow); err != nil {
		return err
	}
	_, err = a.store.Hit(ctx, counterKey("failures", account), a.now(), time.Hour)
	return err
}

// attemptSucceeded clears the failures of the request's source on account.
func (a *Auth) attemptSucceeded(ctx context.Context, account string) error {
	key, err := a.pairKey(ctx, account)
	if err != nil {
		return err
	}
	return a.store.ResetCounter(ctx, key)
}

// resetCompleted clears every lock of account: a new epoch for its pairs,
// and its failure ceiling.
func (a *Auth) resetCompleted(ctx context.Context, account string) error {
	if _, err := a.store.Hit(ctx, counterKey("epoch", account), a.now(), 100*365*24*time.Hour); err != nil {
		return err
	}
	return a.store.ResetCounter(ctx, counterKey("failures", account))
}

// lockDelay is AccountLockBase after the failure that reaches the limit,
// doubling with each further failure, at most AccountLockMax.
func (a *Auth) lockDelay(failures int) time.Duration {
	d := a.cfg.AccountLockBase
	for n := a.cfg.AccountLockAfter; n < failures && d < a.cfg.AccountLockMax; n++ {
		d *= 2
	}
	return min(d, a.cfg.AccountLockMax)
}

// allowSignup counts a signup against the source's hourly budget, before
// its password is hashed.
func (a *Auth) allowSignup(ctx context.Context, projectID int64) error {
	return a.spendSourceBudget(ctx, projectID, "signup", a.cfg.SignupsPerSourcePerHour,
		"signups from one address", "Too many signups from your address.")
}

// spendSourceBudget counts one request of kind against the source's budget
// of perHour an hour, and answers 429 with msg, and an audit event for
// reason, when it is spent.
func (a *Auth) spendSourceBudget(ctx context.Context, projectID int64, kind string, perHour int, reason, msg string) error {
	c, err := a.store.Hit(ctx, counterKey(kind, sourceOf(ctx)), a.now(), time.Hour)
	if err != nil {
		return err
	}
	if c.Count > perHour {
		wait := c.WindowStart.Add(time.Hour).Sub(a.now())
		a.throttled(ctx, projectID, reason)
		return tooMany(msg+" Try again in "+seconds(wait)+".", wait)
	}
	return nil
}

func seconds(d time.Duration) string {
	n := int(math.Ceil(d.Seconds()))
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}
