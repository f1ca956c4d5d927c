package ihoprauth

import (
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
)

// event records a security event in the audit trail, logs it and hands it
// to Config.OnEvent. It never carries a password, code, token or secret.
// The write outlives a client that hangs up, so no event is lost to it.
func (a *Auth) event(ctx context.Context, kind string, projectID int64, userID, result string) {
	c := clientFrom(ctx)
	e := Event{Kind: kind, ProjectID: projectID, UserID: userID, IP: c.ip, UserAgent: c.userAgent,
		Result: result, At: a.now()}
	a.log.InfoContext(ctx, "ihoprauth "+kind, "project", projectID, "user", userID, "ip", c.ip, "result", result)
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
