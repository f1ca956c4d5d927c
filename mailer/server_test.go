package mailer_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// serverMode says how a test SMTP server offers TLS.
type serverMode int

const (
	plainServer    serverMode = iota // no TLS at all
	startTLSServer                   // STARTTLS offered
	implicitServer                   // TLS from the first byte
)

// received is one mail as a test SMTP server got it.
type received struct {
	from string
	to   []string
	data []byte
	tls  bool
}

// sink is the backend of a test SMTP server: it records every mail. When
// user is set, it offers AUTH PLAIN and refuses MAIL before a login with user
// and pass. When hang is not nil, it answers no DATA until hang is closed.
type sink struct {
	user, pass string
	hang       chan struct{}

	mu       sync.Mutex
	sessions int
	mails    []received
}

func (s *sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions++
	return &session{sink: s, conn: c}, nil
}

// received returns the mails recorded so far and how many sessions (EHLO)
// the server saw.
func (s *sink) received() ([]received, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.mails...), s.sessions
}

type session struct {
	sink   *sink
	conn   *smtp.Conn
	authed bool
	mail   received
}

func (s *session) AuthMechanisms() []string {
	if s.sink.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.sink.user || pass != s.sink.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.mail = received{from: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mail.to = append(s.mail.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.sink.hang != nil {
		<-s.sink.hang
		return errors.New("hung up")
	}
	s.mail.data = data
	_, s.mail.tls = s.conn.TLSConnectionState()
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	s.sink.mails = append(s.sink.mails, s.mail)
	return nil
}

func (s *session) Reset() { s.mail = received{} }

func (s *session) Logout() error { return nil }

// startServer runs a go-smtp server for s on a free port of 127.0.0.1 until
// the test ends. It returns the port and a pool that trusts the server's
// certificate.
func startServer(t *testing.T, mode serverMode, s *sink) (int, *x509.CertPool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, ln, mode, s)
}

// serve runs a go-smtp server for s on ln until the test ends, like
// startServer.
func serve(t *testing.T, ln net.Listener, mode serverMode, s *sink) (int, *x509.CertPool) {
	t.Helper()
	cert, roots := selfSigned(t)
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	switch mode {
	case startTLSServer:
		srv.TLSConfig = tlsConfig
	case implicitServer:
		ln = tls.NewListener(ln, tlsConfig)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		ln.Close() // in case Serve has not registered it with srv yet
		if err := <-served; err != nil {
			t.Errorf("smtp server: %v", err)
		}
	})
	return ln.Addr().(*net.TCPAddr).Port, roots
}

// selfSigned returns a certificate for 127.0.0.1, ::1 and localhost and a
// pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailer test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// silentServer accepts connections on a free loopback port and never
// answers, until the test ends. It returns the port.
func silentServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, conn := range conns {
			conn.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}
