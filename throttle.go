package ihoprauth

import (
	"context"
	"errors"
	"math"
	"net/http"
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

func ipKey(ip string) string { return sha256Hex("ip:" + ip) }

func mailKeys(accountKey string, purpose Purpose) (minute, hour string) {
	return sha256Hex("mail-minute:" + accountKey + ":" + string(purpose)),
		sha256Hex("mail-hour:" + accountKey + ":" + string(purpose))
}

// tooMany is the 429 answer, with Retry-After rounded up to a second.
func tooMany(msg string, wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Message: msg, RetryAfter: int(math.Ceil(wait.Seconds()))}
}

// guarded wraps the handler of an endpoint that checks credentials or codes:
// an address over the failure cap gets 429 before anything is checked, and
// every 401 it answers counts against the address.
func (a *Auth) guarded(h handler) handler {
	return func(r *http.Request, in *input) (any, error) {
		ctx := r.Context()
		key := ipKey(clientFrom(ctx).ip)
		c, err := a.store.Counter(ctx, key)
		if err != nil {
			return nil, err
		}
		if end := c.WindowStart.Add(a.cfg.IPFailureWindow); c.Count >= a.cfg.IPFailureLimit && a.now().Before(end) {
			a.event(ctx, EventThrottled, 0, "", "address over the failure cap")
			return nil, tooMany("Too many failed attempts from your address. Try again later.", end.Sub(a.now()))
		}
		body, err := h(r, in)
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			if _, herr := a.store.Hit(ctx, key, a.now(), a.cfg.IPFailureWindow); herr != nil {
				return nil, herr
			}
		}
		return body, err
	}
}

// checkAccount answers 429 while the account behind key is locked.
func (a *Auth) checkAccount(ctx context.Context, projectID int64, key string) error {
	c, err := a.store.Counter(ctx, key)
	if err != nil || c.Count < a.cfg.AccountLockAfter {
		return err
	}
	until := c.LastAt.Add(a.lockDelay(c.Count))
	if !a.now().Before(until) {
		return nil
	}
	a.event(ctx, EventThrottled, projectID, "", "account locked")
	return tooMany("Too many failed attempts. Try again in "+seconds(until.Sub(a.now()))+".", until.Sub(a.now()))
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

func (a *Auth) accountFailed(ctx context.Context, key string) error {
	_, err := a.store.Hit(ctx, key, a.now(), accountWindow)
	return err
}

func (a *Auth) accountSucceeded(ctx context.Context, key string) error {
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
