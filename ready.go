package ihoprauth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotReady is wrapped by the errors of Ready.
var ErrNotReady = errors.New("ihoprauth: not ready")

// pinger is a Store that can tell whether its database answers; package
// store's does. Other Stores are asked a lookup that finds nothing.
type pinger interface {
	Ping(ctx context.Context) error
}

// ping asks st whether its database answers: st's own Ping when it has
// one, else a lookup that finds nothing.
func ping(ctx context.Context, st Store) error {
	if p, ok := st.(pinger); ok {
		return p.Ping(ctx)
	}
	if _, err := st.ProjectByClientID(ctx, ""); !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// Ready reports whether this Auth can serve: its database answers within
// ctx (and within RequestTimeout), its key is loaded, it has not been
// closed, and its mail queue is moving (mail waits while no worker has
// taken one for longer than MailAttempts tries of MailTimeout each and the
// waits between them). It returns nil, or an error wrapping ErrNotReady
// that says what is wrong in a few words, without secrets, hosts or
// names (the database's own error goes to OnError). It is what a readiness probe
// asks (the example's /readyz); it never changes anything.
func (a *Auth) Ready(ctx context.Context) error {
	ctx, cancel := a.bounded(ctx)
	defer cancel()
	switch {
	case len(a.key) == 0:
		return fmt.Errorf("%w: no key", ErrNotReady)
	case a.mail.closed():
		return fmt.Errorf("%w: closed", ErrNotReady)
	case a.mail.stuck(time.Now()):
		return fmt.Errorf("%w: the mail queue is stuck (%d waiting): is the mail server answering?", ErrNotReady, len(a.mail.ch))
	}
	if err := ping(ctx, a.store); err != nil {
		// The detail (hosts, user and database names) goes to OnError; the
		// answer, which a probe endpoint may show anyone, only says which.
		a.cfg.OnError(ctx, fmt.Errorf("ihoprauth: readiness: the database: %w", err))
		return fmt.Errorf("%w: the database does not answer", ErrNotReady)
	}
	return nil
}
