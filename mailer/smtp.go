package mailer

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"

	"github.com/ihoprauth/ihoprauth"
)

// defaultTimeout is SMTPConfig.Timeout's default.
const defaultTimeout = 10 * time.Second

// ErrInvalidMessage is wrapped by the error SMTP.Send returns for a message
// it refuses to send: one that would never be accepted, so retrying it is
// pointless.
var ErrInvalidMessage = errors.New("mailer: invalid message")

// SMTPConfig configures SMTP. Host and From are required; NewSMTP sets the
// default of every other field.
type SMTPConfig struct {
	// Host is the SMTP server's host name or IP address, and the name its
	// certificate must carry unless TLSConfig.ServerName says otherwise.
	// Required.
	Host string
	// Port is the server's TCP port. Zero means the usual port of TLS: 587
	// for TLSStartTLS, 465 for TLSImplicit and 25 for TLSOpportunistic and
	// TLSNone.
	Port int
	// From is the sender, an RFC 5322 address such as
	// "Example <no-reply@example.com>", whose address is also the envelope
	// sender. The address must be ASCII: write an international domain in
	// its xn-- form. Required.
	From string
	// Username, with Password, logs in with SMTP AUTH: PLAIN or LOGIN when
	// the server offers one, else the strongest mechanism go-mail knows
	// among those it offers. Set both or neither; empty means no AUTH, and
	// then a server that requires it refuses the mail. PLAIN and LOGIN send
	// the password itself, so they are refused on a connection without TLS
	// unless Host is localhost, 127.0.0.1 or ::1.
	Username string
	// Password is Username's password; see Username. It never appears in
	// an error.
	Password string
	// TLS says how the connection is protected. The zero value is
	// TLSStartTLS: STARTTLS, required.
	TLS TLSMode
	// TLSConfig, when not nil, is used for the TLS handshake, for example to
	// trust a private CA through RootCAs. NewSMTP copies it and fills an
	// empty ServerName with Host and a zero MinVersion with TLS 1.2. Nil
	// means the system's roots. TLSNone ignores it.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP command with its reply. Zero
	// means 10 seconds. The context given to Send can end a delivery sooner.
	Timeout time.Duration
}

// SMTP is an ihoprauth.Mailer that sends through an SMTP server with
// go-mail, one connection per message. It is safe for concurrent use. Create
// it with NewSMTP; the zero value is not usable.
type SMTP struct {
	host     string
	addr     string
	from     *mail.Address
	implicit *tls.Config // non-nil for TLSImplicit
	// opts configure a go-mail client, credentials included; they are kept
	// as functions so that printing an SMTP does not print the password.
	opts []gomail.Option
}

// NewSMTP returns an SMTP that sends as cfg says, or an error naming the
// first field of cfg that is invalid. It does not connect to the server.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if err := checkHost(cfg.Host); err != nil {
		return nil, err
	}
	from, err := parseFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	port, err := cfg.port()
	if err != nil {
		return nil, err
	}
	opts, err := cfg.options()
	if err != nil {
		return nil, err
	}
	tlsConfig := cfg.tlsConfig()
	s := &SMTP{
		host: cfg.Host,
		addr: net.JoinHostPort(cfg.Host, strconv.Itoa(port)),
		from: from,
		opts: append(opts, gomail.WithPort(port), gomail.WithTLSConfig(tlsConfig)),
	}
	if cfg.TLS == TLSImplicit {
		s.implicit = tlsConfig
	}
	return s, nil
}

func checkHost(host string) error {
	if host == "" || checkHeader(host) != nil || strings.ContainsAny(host, " /") {
		return errors.New("mailer: SMTPConfig.Host must be a host name or IP address")
	}
	if strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return errors.New("mailer: SMTPConfig.Host must not include a port: set Port")
	}
	return nil
}

func parseFrom(from string) (*mail.Address, error) {
	if err := checkHeader(from); err != nil {
		return nil, fmt.Errorf("mailer: SMTPConfig.From: %w", err)
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mailer: SMTPConfig.From: %w", err)
	}
	if !isASCII(addr.Address) {
		return nil, errors.New("mailer: SMTPConfig.From: the address must be ASCII")
	}
	return addr, nil
}

func (cfg SMTPConfig) port() (int, error) {
	switch {
	case cfg.Port < 0 || cfg.Port > 65535:
		return 0, fmt.Errorf("mailer: SMTPConfig.Port %d is not a TCP port", cfg.Port)
	case cfg.Port != 0:
		return cfg.Port, nil
	case cfg.TLS == TLSStartTLS:
		return 587, nil
	case cfg.TLS == TLSImplicit:
		return 465, nil
	}
	return 25, nil
}

// options returns the go-mail options for cfg's TLS mode, timeout and
// credentials.
func (cfg SMTPConfig) options() ([]gomail.Option, error) {
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	if timeout < 0 {
		return nil, fmt.Errorf("mailer: SMTPConfig.Timeout %v is negative", timeout)
	}
	opts := []gomail.Option{gomail.WithTimeout(timeout)}
	switch cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("mailer: SMTPConfig.TLS: unknown %v", cfg.TLS)
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return nil, errors.New("mailer: set both SMTPConfig.Username and Password, or neither")
	}
	if cfg.Username != "" {
		opts = append(opts,
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	return opts, nil
}

func (cfg SMTPConfig) tlsConfig() *tls.Config {
	c := &tls.Config{}
	if cfg.TLSConfig != nil {
		c = cfg.TLSConfig.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = cfg.Host
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// Send delivers msg through the server, or returns an error saying why it
// could not. Errors never contain the message's body or the password.
//
// Send refuses, without connecting, a message whose To is not one RFC 5322
// address or whose To or Subject holds a control character: a CR or LF there
// would let whoever chose the value add headers or recipients (header
// injection, CWE-93). Such errors wrap ErrInvalidMessage.
//
// Send stops when ctx is done, at any stage of the delivery; the error then
// wraps ctx.Err().
func (s *SMTP) Send(ctx context.Context, msg ihoprauth.Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mailer: smtp: %w", err)
	}
	m, err := s.compose(msg)
	if err != nil {
		return err
	}
	d := &dialer{ctx: ctx, addr: s.addr, tls: s.implicit}
	defer d.close()
	opts := slices.Concat(s.opts, []gomail.Option{gomail.WithDialContextFunc(d.dial)})
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("mailer: smtp: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, m); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("mailer: smtp: %w: %w", ctxErr, err)
		}
		return fmt.Errorf("mailer: smtp: %w", err)
	}
	return nil
}

// compose builds the MIME message: text/plain alone, or
// multipart/alternative with text/html when msg.HTML is not empty.
func (s *SMTP) compose(msg ihoprauth.Message) (*gomail.Msg, error) {
	if err := checkHeader(msg.To); err != nil {
		return nil, fmt.Errorf("%w: To: %w", ErrInvalidMessage, err)
	}
	to, err := mail.ParseAddress(msg.To)
	if err != nil {
		return nil, fmt.Errorf("%w: To: %w", ErrInvalidMessage, err)
	}
	if err := checkHeader(msg.Subject); err != nil {
		return nil, fmt.Errorf("%w: Subject: %w", ErrInvalidMessage, err)
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(s.from)
	m.ToMailAddress(to)
	m.Subject(msg.Subject)
	m.SetDate()
	m.SetMessageIDWithValue(s.messageID())
	m.SetBodyString(gomail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	}
	return m, nil
}

// messageID returns a new Message-ID in the sender's domain. go-mail's
// default uses the local host name, which would disclose it.
func (s *SMTP) messageID() string {
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	return rand.Text() + "@" + domain
}

// checkHeader refuses a header value that is not UTF-8 or holds a control
// character, CR and LF included.
func checkHeader(value string) error {
	if !utf8.ValidString(value) {
		return errors.New("not valid UTF-8")
	}
	if strings.ContainsFunc(value, unicode.IsControl) {
		return errors.New("contains a control character")
	}
	return nil
}

func isASCII(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r >= utf8.RuneSelf })
}
