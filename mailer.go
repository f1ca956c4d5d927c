package ihoprauth

import "context"

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
