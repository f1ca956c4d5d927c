package ihoprauth

import (
	"cmp"
	"context"
	"time"
)

// Kinds of audit events (Event.Kind).
const (
	EventSignup          = "signup"
	EventSignupTaken     = "signup of a taken email"
	EventLogin           = "login"
	EventLoginFailed     = "login failed"
	EventCodeSent        = "code sent"
	EventCodeVerified    = "code verified"
	EventCodeFailed      = "code failed"
	EventTokenIssued     = "token issued"
	EventTokenRefused    = "token refused"
	EventTokenRefreshed  = "token refreshed"
	EventTokenRevoked    = "token revoked"
	EventReuseDetected   = "reuse detected"
	EventPasswordReset   = "password reset"
	EventPasswordChanged = "password changed"
	EventPasswordRefused = "password change refused"
	EventRoleChanged     = "role changed"
	EventRoleRefused     = "role change refused"
	EventThrottled       = "throttled"
	EventSessionStarted  = "session started"
	EventUserDisabled    = "user disabled"
	EventUserEnabled     = "user enabled"
	EventLoginsEnded     = "logins ended"
	// EventUserDeleted carries the pseudonym that the deleted user's
	// events carry from then on, in place of the user_id.
	EventUserDeleted    = "user deleted"
	EventProjectDeleted = "project deleted"
	// EventAdminRefused is a request to the admin API by a login that
	// AdminPolicy does not admit, or by a key for another project; like
	// throttling, written at most once a minute per source.
	EventAdminRefused = "admin call refused"
	// EventAPIKeyCreated and EventAPIKeyDeleted name the server API key
	// in place of a user_id: "key:" and its ID, as Event.Actor does.
	EventAPIKeyCreated = "api key created"
	EventAPIKeyDeleted = "api key deleted"
	// Second factors (docs/design.md, D34-D36); Result names the method.
	EventFactorStarted  = "factor enrolment started"
	EventFactorAdded    = "factor added"
	EventFactorRemoved  = "factor removed"
	EventFactorVerified = "factor verified"
	EventFactorFailed   = "factor failed"
	// EventPasskeyCounter: a passkey's signature counter did not go
	// forward (a cloned authenticator or a replay); the login was refused.
	EventPasskeyCounter   = "passkey counter regression"
	EventRecoveryCodeUsed = "recovery code used"
	// EventRecoveryCodesReplaced: a new set ended the old one.
	EventRecoveryCodesReplaced = "recovery codes replaced"
	// EventStepUpRefused: a sensitive change without a recent login or a
	// second factor (docs/design.md, D38).
	EventStepUpRefused = "step-up refused"
	// Other providers (docs/design.md, D42 and D43); Result names the
	// provider, or for a failure the provider and why.
	EventProviderLogin       = "provider login"
	EventProviderLoginFailed = "provider login failed"
	EventIdentityLinked      = "identity linked"
	EventIdentityUnlinked    = "identity unlinked"
	// EventPasswordRemoved: a provider that verified the email signed in
	// to an account that never proved it; its password, second factors
	// and logins were removed (D43).
	EventPasswordRemoved = "password removed"
)

// event records a security event in the audit trail, logs it and hands it
// to Config.OnEvent. It never carries a password, code, token or secret.
func (a *Auth) event(ctx context.Context, kind string, projectID int64, userID, result string) {
	a.record(ctx, Event{Kind: kind, ProjectID: projectID, UserID: userID, Result: result})
}

// record completes e with the client and the time, then stores, logs and
// hands it on. The write outlives a client that hangs up, so no event is
// lost to it.
func (a *Auth) record(ctx context.Context, e Event) {
	c := clientFrom(ctx)
	e.IP, e.UserAgent, e.At, e.Count = c.ip, c.userAgent, a.now(), max(e.Count, 1)
	e.Actor = cmp.Or(e.Actor, c.actor)
	a.tel.event(ctx, e)
	a.log.InfoContext(ctx, "ihoprauth "+e.Kind, "project", e.ProjectID, "user", e.UserID, "ip", e.IP,
		"result", e.Result, "actor", e.Actor, "count", e.Count)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.store.RecordEvent(wctx, &e); err != nil {
		a.cfg.OnError(ctx, err)
	}
	if a.cfg.OnEvent != nil {
		a.cfg.OnEvent(ctx, e)
	}
}

// Events returns the audit events at or after since, newest first, at most
// limit of them.
func (a *Auth) Events(ctx context.Context, since time.Time, limit int) ([]Event, error) {
	return a.store.Events(ctx, since, limit)
}

// auditWindow is the least time between two throttling events of one
// source and reason.
const auditWindow = time.Minute

// throttled records a refusal in the audit trail, at most once per
// auditWindow for each source and reason (see recordRefusal).
func (a *Auth) throttled(ctx context.Context, projectID int64, reason string) {
	a.recordRefusal(ctx, Event{Kind: EventThrottled, ProjectID: projectID, Result: reason})
}

// recordRefusal records e, a refusal, in the audit trail at most once per
// auditWindow for each source, kind, result and actor (an admin caller
// refused: each is counted under their own name): the event written when a
// new window opens counts itself and the refusals of the last window that
// no event counted yet. So a flood of refusals costs two counter writes
// each, not an event row each.
func (a *Auth) recordRefusal(ctx context.Context, e Event) {
	a.tel.refusal(ctx, e)
	key := counterKey("audit", sourceOf(ctx), e.Kind, e.Result, clientFrom(ctx).actor)
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
	e.Count = 1
	if prev.Count > 1 && prev.WindowStart.Before(c.WindowStart) {
		e.Count += prev.Count - 1
	}
	a.record(ctx, e)
}
