package ihoprauth

import (
	"context"
	"errors"
)

// Mailer delivers mail. Package mailer has an SMTP implementation, a
// development mailer that prints and a recorder for tests.
//
// Send delivers msg or returns an error saying why it could not; it must
// stop when ctx is done. ihoprauth calls Send from a background queue, never
// while a client waits, and reports every error through Config.OnError.
type Mailer interface {
	Send(ctx context.Context, msg Message) error
}

// MailKind says what a message is about.
type MailKind string

// The kinds of mail ihoprauth sends.
const (
	MailOTP             MailKind = "otp"
	MailTwoStep         MailKind = "two-step"
	MailReset           MailKind = "reset"
	MailAccountExists   MailKind = "account-exists"
	MailPasswordChanged MailKind = "password-changed"
	// MailRecoveryCodeUsed tells the owner that a recovery code was used.
	MailRecoveryCodeUsed MailKind = "recovery-code-used"
)

// Message is one mail to one recipient, already rendered. The sender address
// belongs to the Mailer.
type Message struct {
	Kind    MailKind // what the mail is about
	To      string   // the stored address of the account
	Subject string   // the rendered subject line
	// Text is the plain-text body; HTML, when not empty, is the HTML
	// alternative of the same content.
	Text string
	HTML string // the HTML alternative; empty: text only
}

// mailCode renders and queues the mail of kind for user.
func (a *Auth) mailCode(ctx context.Context, kind MailKind, p Project, user User, code string) {
	a.mailCodeTo(ctx, kind, p, user, user.Email, code)
}

// mailCodeTo is mailCode for a user that may not exist (ID 0): then the
// mail is rendered for email as if it would go, dropped, and recorded as
// not sent, so that a known and an unknown email cost the same render and
// the same write (docs/design.md, D29).
func (a *Auth) mailCodeTo(ctx context.Context, kind MailKind, p Project, user User, email, code string) {
	if user.ID == 0 {
		user = User{Email: email}
	}
	lang := clientFrom(ctx).language
	tmpl, err := a.template(kind, p.ClientID, lang)
	var msg Message
	if err == nil {
		a.renders.Add(1)
		msg, err = tmpl.render(kind, user.Email, MailData{
			Code: code, Email: user.Email, FirstName: user.FirstName, Project: p.ClientID,
			ValidMinutes: int(a.cfg.CodeTTL.Minutes()), Language: lang,
		})
	}
	if err != nil {
		a.cfg.OnError(ctx, errors.Join(ErrMailNotSent, err))
		return
	}
	if user.ID == 0 {
		a.mail.enqueueDecoy(ctx, msg)
		a.event(ctx, EventCodeSent, p.ID, "", "not sent: no account")
		return
	}
	a.mail.enqueue(ctx, msg)
	if code != "" {
		a.event(ctx, EventCodeSent, p.ID, user.UserID, string(kind))
	}
}

// notifyPasswordChanged tells the account owner that their password changed, so
// a takeover does not go unnoticed.
func (a *Auth) notifyPasswordChanged(ctx context.Context, u User) {
	p, err := a.store.ProjectByID(ctx, u.ProjectID)
	if err != nil {
		a.cfg.OnError(ctx, errors.Join(ErrMailNotSent, err))
		return
	}
	a.mailCode(ctx, MailPasswordChanged, p, u, "")
}
