package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/mailer"
)

// newMailer returns the SMTP mailer -smtp asks for, or, with no -smtp, the
// development inbox, which writes every mail to stderr and keeps the last
// ones for /dev/inbox (docs/design.md, D13). The inbox is nil with -smtp.
func newMailer(o options, stderr io.Writer) (ihoprauth.Mailer, *inbox, error) {
	if o.smtp == "" {
		in := newInbox(stderr)
		return in, in, nil
	}
	host, portText, err := net.SplitHostPort(o.smtp)
	if err != nil {
		return nil, nil, fmt.Errorf("-smtp %q: %w", o.smtp, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, nil, fmt.Errorf("-smtp %q: bad port", o.smtp)
	}
	mode := mailer.TLSStartTLS
	if o.smtpTLS != "" {
		if mode, err = mailer.ParseTLSMode(o.smtpTLS); err != nil {
			return nil, nil, err
		}
	} else if isLoopback(host) {
		mode = mailer.TLSNone
	}
	m, err := mailer.NewSMTP(mailer.SMTPConfig{
		Host: host, Port: port, From: o.smtpFrom, TLS: mode,
		Username: os.Getenv("IHOPRAUTH_SMTP_USER"), Password: os.Getenv("IHOPRAUTH_SMTP_PASSWORD"),
	})
	if err != nil {
		return nil, nil, err
	}
	return m, nil, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
