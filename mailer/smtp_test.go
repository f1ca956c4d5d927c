package mailer_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/mailer"
)

var (
	_ ihoprauth.Mailer = (*mailer.SMTP)(nil)
	_ ihoprauth.Mailer = (*mailer.Dev)(nil)
	_ ihoprauth.Mailer = (*mailer.Recorder)(nil)
)

const (
	testFrom     = "Example Sender <no-reply@example.com>"
	testUser     = "smtp-user"
	testPassword = "smtp-password-7f3a"
	testCode     = "493817"
)

// testMessage returns a message with a non-ASCII subject, several lines of
// text with a long one, and html when withHTML is set.
func testMessage(withHTML bool) ihoprauth.Message {
	msg := ihoprauth.Message{
		Kind:    ihoprauth.MailOTP,
		To:      "alice@example.com",
		Subject: "Your login code – Grüße",
		Text: "Hello Alice,\n\nyour login code is " + testCode + ".\n\n" +
			strings.Repeat("A long line that needs soft line breaks. ", 5) + "\n",
	}
	if withHTML {
		msg.HTML = "<p>Hello Alice,</p><p>your login code is <b>" + testCode + "</b>.</p>"
	}
	return msg
}

// newSMTP returns an SMTP for a test server on port with the given TLS mode
// and the test's defaults for the other fields, changed by edit when not nil.
func newSMTP(t *testing.T, port int, mode mailer.TLSMode, edit func(*mailer.SMTPConfig)) *mailer.SMTP {
	t.Helper()
	cfg := mailer.SMTPConfig{Host: "127.0.0.1", Port: port, From: testFrom, TLS: mode}
	if edit != nil {
		edit(&cfg)
	}
	m, err := mailer.NewSMTP(cfg)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return m
}

func TestSMTPDelivers(t *testing.T) {
	tests := []struct {
		name    string
		server  serverMode
		mode    mailer.TLSMode
		auth    bool
		html    bool
		wantTLS bool
	}{
		{name: "plain", server: plainServer, mode: mailer.TLSNone, html: true},
		{name: "plain, text only", server: plainServer, mode: mailer.TLSNone},
		{name: "starttls", server: startTLSServer, mode: mailer.TLSStartTLS, html: true, wantTLS: true},
		{name: "implicit tls", server: implicitServer, mode: mailer.TLSImplicit, html: true, wantTLS: true},
		{name: "opportunistic, offered", server: startTLSServer, mode: mailer.TLSOpportunistic, html: true, wantTLS: true},
		{name: "opportunistic, not offered", server: plainServer, mode: mailer.TLSOpportunistic, html: true},
		{name: "auth plain to loopback", server: plainServer, mode: mailer.TLSNone, auth: true, html: true},
		{name: "auth plain over starttls", server: startTLSServer, mode: mailer.TLSStartTLS, auth: true, html: true, wantTLS: true},
		{name: "auth plain over implicit tls", server: implicitServer, mode: mailer.TLSImplicit, auth: true, html: true, wantTLS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			if tt.auth {
				s.user, s.pass = testUser, testPassword
			}
			port, roots := startServer(t, tt.server, s)
			m := newSMTP(t, port, tt.mode, func(cfg *mailer.SMTPConfig) {
				cfg.TLSConfig = &tls.Config{RootCAs: roots}
				if tt.auth {
					cfg.Username, cfg.Password = testUser, testPassword
				}
			})
			msg := testMessage(tt.html)

			if err := m.Send(context.Background(), msg); err != nil {
				t.Fatalf("Send: got error %v, want nil", err)
			}

			mails, _ := s.received()
			if len(mails) != 1 {
				t.Fatalf("got %d mails, want 1", len(mails))
			}
			got := mails[0]
			if got.from != "no-reply@example.com" {
				t.Errorf("MAIL FROM: got %q, want %q", got.from, "no-reply@example.com")
			}
			if !slices.Equal(got.to, []string{msg.To}) {
				t.Errorf("RCPT TO: got %q, want %q", got.to, []string{msg.To})
			}
			if got.tls != tt.wantTLS {
				t.Errorf("delivered over TLS: got %v, want %v", got.tls, tt.wantTLS)
			}
			checkMail(t, parseMail(t, got.data), msg)

		})
	}
}

// TestSMTPDeliversOverIPv6 checks that an IPv6 literal Host works: go-mail
// joins host and port without the brackets the literal needs.
func TestSMTPDeliversOverIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	s := &sink{user: testUser, pass: testPassword}
	port, roots := serve(t, ln, startTLSServer, s)
	m := newSMTP(t, port, mailer.TLSStartTLS, func(cfg *mailer.SMTPConfig) {
		cfg.Host = "::1"
		cfg.TLSConfig = &tls.Config{RootCAs: roots}
		cfg.Username, cfg.Password = testUser, testPassword
	})

	if err := m.Send(context.Background(), testMessage(true)); err != nil {
		t.Fatalf("Send: got error %v, want nil", err)
	}
	if mails, _ := s.received(); len(mails) != 1 || !mails[0].tls {
		t.Errorf("got %d mails, want 1 over TLS", len(mails))
	}
}

func TestSMTPFails(t *testing.T) {
	tests := []struct {
		name       string
		server     serverMode
		serverAuth bool // server wants testUser and testPassword
		mode       mailer.TLSMode
		untrusted  bool // client does not trust the server's certificate
		user, pass string
	}{
		{name: "starttls required, not offered", server: plainServer, mode: mailer.TLSStartTLS},
		{name: "implicit tls, plain server", server: plainServer, mode: mailer.TLSImplicit},
		{name: "starttls, untrusted certificate", server: startTLSServer, mode: mailer.TLSStartTLS, untrusted: true},
		{name: "implicit tls, untrusted certificate", server: implicitServer, mode: mailer.TLSImplicit, untrusted: true},
		{name: "wrong password", server: startTLSServer, serverAuth: true, mode: mailer.TLSStartTLS, user: testUser, pass: "wrong-password-9c1e"},
		{name: "wrong username", server: startTLSServer, serverAuth: true, mode: mailer.TLSStartTLS, user: "mallory", pass: testPassword},
		{name: "credentials, server without AUTH", server: startTLSServer, mode: mailer.TLSStartTLS, user: testUser, pass: testPassword},
		{name: "server wants AUTH, none configured", server: startTLSServer, serverAuth: true, mode: mailer.TLSStartTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			if tt.serverAuth {
				s.user, s.pass = testUser, testPassword
			}
			port, roots := startServer(t, tt.server, s)
			m := newSMTP(t, port, tt.mode, func(cfg *mailer.SMTPConfig) {
				if !tt.untrusted {
					cfg.TLSConfig = &tls.Config{RootCAs: roots}
				}
				cfg.Username, cfg.Password = tt.user, tt.pass
			})

			err := m.Send(context.Background(), testMessage(true))

			if err == nil {
				t.Fatal("Send: got nil error, want one")
			}
			for _, secret := range []string{testCode, testPassword, tt.pass} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains secret %q", err, secret)
				}
			}
			if mails, _ := s.received(); len(mails) != 0 {
				t.Errorf("got %d mails delivered, want 0", len(mails))
			}
		})
	}
}

func TestSMTPStopsWithContext(t *testing.T) {
	tests := []struct {
		name    string
		mode    mailer.TLSMode
		serve   func(t *testing.T, s *sink) (port int)
		ctx     func(t *testing.T) context.Context
		wantErr error
	}{
		{
			name:    "cancelled before Send",
			mode:    mailer.TLSNone,
			serve:   serveMail,
			ctx:     cancelled,
			wantErr: context.Canceled,
		},
		{
			name:    "server never greets",
			mode:    mailer.TLSNone,
			serve:   serveSilence,
			ctx:     shortDeadline,
			wantErr: context.DeadlineExceeded,
		},
		{
			name:    "server never completes the tls handshake",
			mode:    mailer.TLSImplicit,
			serve:   serveSilence,
			ctx:     shortDeadline,
			wantErr: context.DeadlineExceeded,
		},
		{
			name:    "server never answers DATA",
			mode:    mailer.TLSNone,
			serve:   serveHangingData,
			ctx:     shortDeadline,
			wantErr: context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			port := tt.serve(t, s)
			// Only the context can end Send before this timeout.
			const timeout = time.Minute
			m := newSMTP(t, port, tt.mode, func(cfg *mailer.SMTPConfig) { cfg.Timeout = timeout })

			start := time.Now()
			err := m.Send(tt.ctx(t), testMessage(true))
			elapsed := time.Since(start)

			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Send: got error %v, want %v", err, tt.wantErr)
			}
			if elapsed > timeout/4 {
				t.Errorf("Send returned after %v, want well before the %v timeout", elapsed, timeout)
			}
			if mails, _ := s.received(); len(mails) != 0 {
				t.Errorf("got %d mails delivered, want 0", len(mails))
			}
		})
	}
}

func serveMail(t *testing.T, s *sink) int {
	port, _ := startServer(t, plainServer, s)
	return port
}

func serveSilence(t *testing.T, _ *sink) int {
	return silentServer(t)
}

func serveHangingData(t *testing.T, s *sink) int {
	s.hang = make(chan struct{})
	t.Cleanup(func() { close(s.hang) })
	port, _ := startServer(t, plainServer, s)
	return port
}

func cancelled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

func shortDeadline(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

func TestSMTPRefusesInvalidMessage(t *testing.T) {
	tests := []struct {
		name        string
		to, subject string
	}{
		{name: "CRLF in To", to: "alice@example.com\r\nBcc: eve@example.com", subject: "Your code"},
		{name: "LF in To", to: "alice@example.com\nBcc: eve@example.com", subject: "Your code"},
		{name: "CR in To", to: "alice@example.com\rBcc: eve@example.com", subject: "Your code"},
		{name: "CRLF in Subject", to: "alice@example.com", subject: "Your code\r\nBcc: eve@example.com"},
		{name: "LF in Subject", to: "alice@example.com", subject: "Your code\nBcc: eve@example.com"},
		{name: "CR in Subject", to: "alice@example.com", subject: "Your code\rBcc: eve@example.com"},
		{name: "NUL in Subject", to: "alice@example.com", subject: "Your code\x00"},
		{name: "NEL in Subject", to: "alice@example.com", subject: "Your code\u0085Bcc: eve@example.com"},
		{name: "invalid UTF-8 in Subject", to: "alice@example.com", subject: "Your code \xff"},
		{name: "two recipients", to: "alice@example.com, eve@example.com", subject: "Your code"},
		{name: "no address", to: "alice", subject: "Your code"},
		{name: "empty To", to: "", subject: "Your code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			port, _ := startServer(t, plainServer, s)
			m := newSMTP(t, port, mailer.TLSNone, nil)
			msg := testMessage(true)
			msg.To, msg.Subject = tt.to, tt.subject

			err := m.Send(context.Background(), msg)

			if !errors.Is(err, mailer.ErrInvalidMessage) {
				t.Errorf("Send: got error %v, want %v", err, mailer.ErrInvalidMessage)
			}
			if mails, sessions := s.received(); len(mails) != 0 || sessions != 0 {
				t.Errorf("got %d mails in %d sessions, want none", len(mails), sessions)
			}
		})
	}
}

func TestNewSMTPRejectsConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*mailer.SMTPConfig)
	}{
		{name: "no Host", edit: func(c *mailer.SMTPConfig) { c.Host = "" }},
		{name: "CRLF in Host", edit: func(c *mailer.SMTPConfig) { c.Host = "smtp.example.com\r\n" }},
		{name: "port in Host", edit: func(c *mailer.SMTPConfig) { c.Host = "smtp.example.com:587" }},
		{name: "URL as Host", edit: func(c *mailer.SMTPConfig) { c.Host = "smtp://smtp.example.com" }},
		{name: "no From", edit: func(c *mailer.SMTPConfig) { c.From = "" }},
		{name: "From not an address", edit: func(c *mailer.SMTPConfig) { c.From = "no-reply" }},
		{name: "CRLF in From", edit: func(c *mailer.SMTPConfig) { c.From = "no-reply@example.com\r\nBcc: eve@example.com" }},
		{name: "From not ASCII", edit: func(c *mailer.SMTPConfig) { c.From = "no-reply@exämple.com" }},
		{name: "negative Port", edit: func(c *mailer.SMTPConfig) { c.Port = -1 }},
		{name: "Port too large", edit: func(c *mailer.SMTPConfig) { c.Port = 65536 }},
		{name: "negative Timeout", edit: func(c *mailer.SMTPConfig) { c.Timeout = -time.Second }},
		{name: "Username without Password", edit: func(c *mailer.SMTPConfig) { c.Username = testUser }},
		{name: "Password without Username", edit: func(c *mailer.SMTPConfig) { c.Password = testPassword }},
		{name: "unknown TLS mode", edit: func(c *mailer.SMTPConfig) { c.TLS = mailer.TLSNone + 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mailer.SMTPConfig{Host: "smtp.example.com", From: testFrom}
			tt.edit(&cfg)

			m, err := mailer.NewSMTP(cfg)

			if err == nil {
				t.Fatalf("NewSMTP: got %v, nil error, want an error", m)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		cfg := mailer.SMTPConfig{Host: "smtp.example.com", From: testFrom, Username: testUser, Password: testPassword}
		if _, err := mailer.NewSMTP(cfg); err != nil {
			t.Errorf("NewSMTP: got error %v, want nil", err)
		}
	})
}
