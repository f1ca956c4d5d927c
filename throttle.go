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
//     flight from one address see 429.
//   - per source: SignupsPerSourcePerHour signups, checked before hashing.
//   - per account and purpose: one code mail per CodeMailInterval while the
//     previous code is unused, and CodeMailsPerHour in an hour; a known
//     source may send one more a minute, up to 10 an hour. The notice of a
//     signup with a taken email has its own budget of one a day.

const (
	// pairWindow bounds how long failures of a pair are remembered without
	// a success.
	pairWindow = 24 * time.Hour
	// slowWindow is how often an unknown source may try an account that is
	// over its failure ceiling.
	slowWindow = time.Minute
	// knownMailsPerHour caps the extra code mails of a known source.
	knownMailsPerHour = 10
	// auditWindow is the least time between two throttling events of one
	// source and reason.
	auditWindow = time.Minute
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
func (a *Auth) ipGuarded(h handler) handler {
	return func(r *http.Request, in *input) (any, error) {
		ctx := r.Context()
		if err := a.takeSourceSlot(ctx); err != nil {
			return nil, err
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

// takeSourceSlot counts one attempt against the source's cap and answers
// 429 when the cap is spent.
func (a *Auth) takeSourceSlot(ctx context.Context) error {
	c, err := a.store.Hit(ctx, sourceOf(ctx), a.now(), a.cfg.IPFailureWindow)
	if err != nil {
		return err
	}
	if c.Count > a.cfg.IPFailureLimit {
		return a.sourceOverCap(ctx, c)
	}
	return nil
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
	epoch, err := a.epoch(ctx, account)
	return counterKey("pair", account, sourceOf(ctx), epoch), err
}

// allowAttempt answers 429 when the request's source may not try a
// password or code on account now: its pair is locked, or the account is
// over its failure ceiling and the source, unknown to it, tried within the
// last minute. It counts nothing against the pair, so concurrent attempts
// with the right password all pass.
func (a *Auth) allowAttempt(ctx context.Context, projectID int64, account string) error {
	if err := a.checkPair(ctx, projectID, account); err != nil {
		return err
	}
	c, err := a.store.Counter(ctx, counterKey("failures", account))
	if err != nil {
		return err
	}
	if c.Count < a.cfg.AccountFailureCeiling || !a.now().Before(c.WindowStart.Add(time.Hour)) {
		return nil
	}
	known, err := a.knownSource(ctx, account)
	if err != nil || known {
		return err
	}
	slow, err := a.store.Hit(ctx, counterKey("slow", account, sourceOf(ctx)), a.now(), slowWindow)
	if err != nil {
		return err
	}
	if slow.Count > 1 {
		a.throttled(ctx, projectID, "account under attack: unknown source slowed")
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

func mailKeys(account string, purpose Purpose) (minute, hour string) {
	return counterKey("mail-minute", account, string(purpose)), counterKey("mail-hour", account, string(purpose))
}

// allowMail counts a code mail for the account and purpose, and answers 429
// when one was sent within CodeMailInterval (and not used since) or
// CodeMailsPerHour were sent this hour, unless the source is known to the
// account and within its own budget (one a minute, knownMailsPerHour an
// hour). Nothing is mailed then.
func (a *Auth) allowMail(ctx context.Context, projectID int64, account string, purpose Purpose) error {
	minuteKey, hourKey := mailKeys(account, purpose)
	wait, err := a.spendMailBudget(ctx, minuteKey, hourKey, a.cfg.CodeMailInterval, a.cfg.CodeMailsPerHour)
	if err != nil {
		return err
	}
	if wait > 0 {
		known, err := a.knownSource(ctx, account)
		if err != nil {
			return err
		}
		if !known {
			return a.mailThrottled(ctx, projectID, wait)
		}
		knownMinute, knownHour := mailKeys(counterKey("known", account, sourceOf(ctx)), purpose)
		if wait, err := a.spendMailBudget(ctx, knownMinute, knownHour, time.Minute, knownMailsPerHour); err != nil || wait > 0 {
			if err != nil {
				return err
			}
			return a.mailThrottled(ctx, projectID, wait)
		}
	}
	return a.allowMailFromIP(ctx, projectID)
}

// spendMailBudget counts a mail against a budget of one per interval and
// perHour an hour, and returns how long to wait when it is spent (0: the
// mail may go).
func (a *Auth) spendMailBudget(ctx context.Context, minuteKey, hourKey string, interval time.Duration, perHour int) (time.Duration, error) {
	now := a.now()
	c, err := a.store.Hit(ctx, minuteKey, now, interval)
	if err != nil {
		return 0, err
	}
	if c.Count > 1 {
		return c.WindowStart.Add(interval).Sub(now), nil
	}
	if c, err = a.store.Hit(ctx, hourKey, now, time.Hour); err != nil {
		return 0, err
	}
	if c.Count > perHour {
		return c.WindowStart.Add(time.Hour).Sub(now), nil
	}
	return 0, nil
}

// mailBudgetSpent reports, without spending anything, whether a code mail
// for the account and purpose would be refused now, and how long to wait.
func (a *Auth) mailBudgetSpent(ctx context.Context, account string, purpose Purpose) (time.Duration, error) {
	minuteKey, hourKey := mailKeys(account, purpose)
	now := a.now()
	for _, b := range []struct {
		key    string
		window time.Duration
		limit  int
	}{{minuteKey, a.cfg.CodeMailInterval, 1}, {hourKey, time.Hour, a.cfg.CodeMailsPerHour}} {
		c, err := a.store.Counter(ctx, b.key)
		if err != nil {
			return 0, err
		}
		if end := c.WindowStart.Add(b.window); c.Count >= b.limit && now.Before(end) {
			return end.Sub(now), nil
		}
	}
	return 0, nil
}

// allowNotice counts the notice of a signup with a taken email against its
// own budget, one a day per account, and reports whether it may be mailed.
func (a *Auth) allowNotice(ctx context.Context, account string) (bool, error) {
	c, err := a.store.Hit(ctx, counterKey("notice", account), a.now(), 24*time.Hour)
	return err == nil && c.Count <= 1, err
}

// allowMailFromIP caps the code mails one client address may cause in an
// hour over all accounts, so that nobody mails every account, or fills the
// mail queue with signups, from one address.
func (a *Auth) allowMailFromIP(ctx context.Context, projectID int64) error {
	return a.spendSourceBudget(ctx, projectID, "mail-ip", a.cfg.CodeMailsPerIPPerHour,
		"code mails from one address", "Too many codes were asked for from your address.")
}

func (a *Auth) mailThrottled(ctx context.Context, projectID int64, wait time.Duration) error {
	a.throttled(ctx, projectID, "code mail limit")
	return tooMany("A code was sent recently. Try again in "+seconds(wait)+".", wait)
}

// codeUsed lets the next code of that purpose be mailed at once.
func (a *Auth) codeUsed(ctx context.Context, account string, purpose Purpose) error {
	minuteKey, _ := mailKeys(account, purpose)
	return a.store.ResetCounter(ctx, minuteKey)
}

// throttled records a refusal in the audit trail, at most once per
// auditWindow for each source and reason: the event written when a new
// window opens counts itself and the refusals of the last window that no
// event counted yet. So a flood of refusals costs two counter writes each,
// not an event row each.
func (a *Auth) throttled(ctx context.Context, projectID int64, reason string) {
	key := counterKey("audit", sourceOf(ctx), reason)
	prev, err := a.store.Counter(ctx, key)
	if err != nil {
		a.cfg.OnError(ctx, err)
		return
	}
	c, err := a.store.Hit(ctx, key, a.now(), auditWindow)
	if err != nil {
		a.cfg.OnError(ctx, err)
		return
	}
	if c.Count != 1 {
		return
	}
	count := 1
	if prev.Count > 1 && prev.WindowStart.Before(c.WindowStart) {
		count += prev.Count - 1
	}
	a.record(ctx, Event{Kind: EventThrottled, ProjectID: projectID, Result: reason, Count: count})
}

func seconds(d time.Duration) string {
	n := int(math.Ceil(d.Seconds()))
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}
