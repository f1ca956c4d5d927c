package mailer

import (
	"context"
	"crypto/tls"
	"net"
)

// dialer connects one SMTP.Send to the server. go-mail honours the context
// only while dialling and then waits up to its timeout for each reply, so the
// dialer closes the connection as soon as the Send's context ends. close also
// closes it when the Send is over: go-mail leaves it open when the greeting,
// STARTTLS or AUTH fails.
type dialer struct {
	ctx   context.Context // the Send's
	addr  string
	tls   *tls.Config // non-nil for TLSImplicit
	conns []net.Conn
	stops []func() bool
}

// dial is a go-mail DialContextFunc. It dials d.addr rather than the address
// go-mail passes, which lacks the brackets around an IPv6 literal.
func (d *dialer) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, err
	}
	d.conns = append(d.conns, conn)
	d.stops = append(d.stops, context.AfterFunc(d.ctx, func() { conn.Close() }))
	if d.tls == nil {
		return conn, nil
	}
	tlsConn := tls.Client(conn, d.tls)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tlsConn, nil
}

func (d *dialer) close() {
	for i, conn := range d.conns {
		d.stops[i]()
		conn.Close()
	}
}
