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

// Throttles slow down guessing (ASVS 6.3, NIST 63B §3.2.2). Their counters
// live in the Store, so every instance sharing the database shares them,
// and they are keyed by project and canonical email whether or not the
// account exists, so a throttle never tells who has an account.
//
//   - per account: after AccountLockAfter consecutive failed passwords or
//     wrong otp/two-step codes, 429 for AccountLockBase, doubling with each
//     further failure up to AccountLockMax; a success clears it, and so
//     does a completed password reset (the reset path is never locked).
//   - per client address: IPFailureLimit failed credential or code checks
//     within IPFailureWindow, over any accounts, give 429 on every endpoint
//     that checks credentials or codes until the window ends.
//   - per account and purpose: one code mail per CodeMailInterval while the
//     previous code is unused, and CodeMailsPerHour in an hour.

// accountWindow bounds how long failures are remembered without a success.
const accountWindow = 24 * time.Hour

func accountKey(projectID int64, emailKey string) string {
	return sha256Hex("account:" + strconv.FormatInt(projectID, 10) + ":" + emailKey)
}

// ipKey is the counter key of a client address. An IPv6 client is keyed by
// its /64, the smallest network a provider hands out, since it can pick any
// of the 2^64 addresses in it.
func ipKey(ip string) string {
	if addr, err := netip.ParseAddr(ip); err == nil && addr.Is6() && !addr.Is4In6() {
		ip = netip.PrefixFrom(addr, 64).Masked().String()
	}
	return sha256Hex("ip:" + ip)
}

func mailKeys(accountKey string, purpose Purpose) (minute, hour string) {
	return sha256Hex("mail-minute:" + accountKey + ":" + string(purpose)),
		sha256Hex("mail-hour:" + accountKey + ":" + string(purpose))
}

// tooMany is the 429 answer, with Retry-After rounded up to a second.
func tooMany(msg string, wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Message: msg, RetryAfter: int(math.Ceil(wait.Seconds()))}
}

// ipGuarded wraps the handler of an endpoint that checks credentials or codes:
// an address over the failure cap gets 429 before anything is checked, and
// every 401 it answers counts against the address.
func (a *Auth) ipGuarded(h handler) handler {
	return func(r *http.Request, in *input) (any, error) {
		ctx := r.Context()
		if err := a.checkIP(ctx); err != nil {
			return nil, err
		}
		body, err := h(r, in)
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			if herr := a.ipFailed(ctx); herr != nil {
				return nil, herr
			}
		}
		return body, err
	}
}

// checkIP answers 429 while the client's address is over the failure cap.
// It runs before a request is handled and again once a password hash may
// start, so that a burst of requests queued for hashing is cut off as soon
// as the failures before it reach the cap.
func (a *Auth) checkIP(ctx context.Context) error {
	c, err := a.store.Counter(ctx, ipKey(clientFrom(ctx).ip))
	if err != nil {
		return err
	}
	if end := c.WindowStart.Add(a.cfg.IPFailureWindow); c.Count >= a.cfg.IPFailureLimit && a.now().Before(end) {
		a.event(ctx, EventThrottled, 0, "", "address over the failure cap")
		return tooMany("Too many failed attempts from your address. Try again later.", end.Sub(a.now()))
	}
	return nil
}

// ipFailed counts one failed credential or code check of the client.
func (a *Auth) ipFailed(ctx context.Context) error {
	_, err := a.store.Hit(ctx, ipKey(clientFrom(ctx).ip), a.now(), a.cfg.IPFailureWindow)
	return err
}

// checkAccount answers 429 while the account behind key is locked.
func (a *Auth) checkAccount(ctx context.Context, projectID int64, key string) error {
	c, err := a.store.Counter(ctx, key)
	if err != nil {
		return err
	}
	return a.lockedBy(ctx, projectID, c)
}

// lockedBy answers 429 when the failures c counts lock the account now.
func (a *Auth) lockedBy(ctx context.Context, projectID int64, c Counter) error {
	if c.Count < a.cfg.AccountLockAfter {
		return nil
	}
	until := c.LastAt.Add(a.lockDelay(c.Count))
	if !a.now().Before(until) {
		return nil
	}
	return a.accountLocked(ctx, projectID, until.Sub(a.now()))
}

func (a *Auth) accountLocked(ctx context.Context, projectID int64, wait time.Duration) error {
	a.event(ctx, EventThrottled, projectID, "", "account locked")
	return tooMany("Too many failed attempts. Try again in "+seconds(wait)+".", wait)
}

// countAccountFailure takes one attempt at the account behind key: 429 while it is
// locked; otherwise the attempt is counted as a failure before the
// credential is checked (clearAccountFailures clears it), so that attempts sent
// all at once cannot slip past the lock: of concurrent attempts only as
// many as the lock allows get through.
func (a *Auth) countAccountFailure(ctx context.Context, projectID int64, key string) error {
	prev, err := a.store.Counter(ctx, key)
	if err != nil {
		return err
	}
	if err := a.lockedBy(ctx, projectID, prev); err != nil {
		return err
	}
	c, err := a.store.Hit(ctx, key, a.now(), accountWindow)
	if err != nil {
		return err
	}
	if c.Count > a.cfg.AccountLockAfter && c.Count > prev.Count+1 {
		return a.accountLocked(ctx, projectID, a.lockDelay(c.Count))
	}
	return nil
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

func (a *Auth) clearAccountFailures(ctx context.Context, key string) error {
	return a.store.ResetCounter(ctx, key)
}

// allowMail counts a code mail for the account and purpose, and answers 429
// when one was sent within CodeMailInterval (and not used since) or
// CodeMailsPerHour were sent this hour. Nothing is mailed then.
func (a *Auth) allowMail(ctx context.Context, projectID int64, account string, purpose Purpose) error {
	minuteKey, hourKey := mailKeys(account, purpose)
	now := a.now()
	c, err := a.store.Hit(ctx, minuteKey, now, a.cfg.CodeMailInterval)
	if err != nil {
		return err
	}
	if c.Count > 1 {
		return a.mailThrottled(ctx, projectID, c.WindowStart.Add(a.cfg.CodeMailInterval).Sub(now))
	}
	if c, err = a.store.Hit(ctx, hourKey, now, time.Hour); err != nil {
		return err
	}
	if c.Count > a.cfg.CodeMailsPerHour {
		return a.mailThrottled(ctx, projectID, c.WindowStart.Add(time.Hour).Sub(now))
	}
	return a.allowMailFromIP(ctx, projectID)
}

// allowMailFromIP caps the code mails one client address may cause in an
// hour over all accounts, so that nobody mails every account, or fills the
// mail queue with signups, from one address.
func (a *Auth) allowMailFromIP(ctx context.Context, projectID int64) error {
	key := sha256Hex("mail-ip:" + ipKey(clientFrom(ctx).ip))
	c, err := a.store.Hit(ctx, key, a.now(), time.Hour)
	if err != nil {
		return err
	}
	if c.Count > a.cfg.CodeMailsPerIPPerHour {
		wait := c.WindowStart.Add(time.Hour).Sub(a.now())
		a.event(ctx, EventThrottled, projectID, "", "code mails from one address")
		return tooMany("Too many codes were asked for from your address. Try again in "+seconds(wait)+".", wait)
	}
	return nil
}

func (a *Auth) mailThrottled(ctx context.Context, projectID int64, wait time.Duration) error {
	a.event(ctx, EventThrottled, projectID, "", "code mail limit")
	return tooMany("A code was sent recently. Try again in "+seconds(wait)+".", wait)
}

// codeUsed lets the next code of that purpose be mailed at once.
func (a *Auth) codeUsed(ctx context.Context, account string, purpose Purpose) error {
	minuteKey, _ := mailKeys(account, purpose)
	return a.store.ResetCounter(ctx, minuteKey)
}

func seconds(d time.Duration) string {
	n := int(math.Ceil(d.Seconds()))
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}
