package ihoprauth

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// client is who sent a request, as far as it can be known.
type client struct {
	ip        string
	userAgent string
	// language is the first language the client asked for, lowercased.
	language string
	// device is the id of the request's signed device cookie, "" for none.
	device string
	// state is shared by the request's handlers (see requestState).
	state *requestState
	// actor is the admin making the request through the admin API (see
	// Event.Actor); "" elsewhere.
	actor string
}

type clientKey struct{}

func withClient(ctx context.Context, c client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

func clientFrom(ctx context.Context) client {
	c, _ := ctx.Value(clientKey{}).(client)
	return c
}

// clientOf reads the client's address and user agent from r. The address
// is the connection's peer; X-Forwarded-For and X-Real-IP are believed only
// when that peer is one of Config.TrustedProxies, since anyone else can
// write them (and would then dodge the per-address limits).
func (a *Auth) clientOf(r *http.Request) client {
	ua := r.UserAgent()
	if len(ua) > 255 {
		ua = ua[:255]
	}
	return client{ip: a.clientIP(r), userAgent: strings.ToValidUTF8(ua, ""), language: firstLanguage(r),
		device: a.deviceOf(r), state: &requestState{}}
}

// firstLanguage returns the first tag of r's Accept-Language, lowercased,
// if it looks like a language tag ("fr", "pt-br"); "" otherwise.
func firstLanguage(r *http.Request) string {
	tag, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	tag, _, _ = strings.Cut(tag, ";")
	tag = strings.ToLower(strings.TrimSpace(tag))
	if len(tag) < 2 || len(tag) > 35 {
		return ""
	}
	for _, c := range tag {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return ""
		}
	}
	return tag
}

func (a *Auth) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !a.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if hop = hop.Unmap(); !a.trusted(hop) {
			return hop.String()
		}
	}
	if real, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); err == nil {
		return real.Unmap().String()
	}
	return peer.String()
}

func (a *Auth) trusted(ip netip.Addr) bool {
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
