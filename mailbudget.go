package ihoprauth

import (
	"context"
	"time"
)

// Mail budgets (docs/design.md, D9, D17, D27): how many code mails an
// account may get for one purpose, how many an address may cause, and the
// separate budget of the notice mailed when someone signs up with a taken
// email. Like the other throttles, they are keyed by project and canonical
// email whether or not the account exists.

// knownMailsPerHour caps the extra code mails of a known source.
const knownMailsPerHour = 10

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
	if wait, err := a.spendPace(ctx, minuteKey, interval); wait > 0 || err != nil {
		return wait, err
	}
	now := a.now()
	c, err := a.store.Hit(ctx, hourKey, now, time.Hour)
	if err != nil {
		return 0, err
	}
	if c.Count > perHour {
		return c.WindowStart.Add(time.Hour).Sub(now), nil
	}
	return 0, nil
}

// spendPace counts one use of a pace of one per interval under key, and
// returns how long to wait when it was used already (0: go ahead).
func (a *Auth) spendPace(ctx context.Context, key string, interval time.Duration) (time.Duration, error) {
	now := a.now()
	c, err := a.store.Hit(ctx, key, now, interval)
	if err != nil || c.Count <= 1 {
		return 0, err
	}
	return c.WindowStart.Add(interval).Sub(now), nil
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
