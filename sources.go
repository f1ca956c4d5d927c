package ihoprauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// A source is known to an account when it completed a login to it within
// KnownSourceTTL, so that the owner gets through whatever strangers do to
// the account (docs/design.md, D24). Two kinds count:
//
//   - the device cookie, ihoprauth_device: a random id signed with the
//     library's key, set by every answer that completes a login (one that
//     carries a login's code). It is HttpOnly, its Path is BasePath, and it
//     is Secure on TLS requests (or when a trusted proxy says
//     X-Forwarded-Proto: https). Browsers keep it; curl and most mobile HTTP
//     clients do not, and get only the address rule.
//   - the address, when it completed a login to the account. This rule does
//     not apply to loopback or private peer addresses unless TrustedProxies
//     is set, since behind an unconfigured local proxy every client would
//     share the proxy's address and look known.

// deviceCookieName is the name of the device cookie.
const deviceCookieName = "ihoprauth_device"

// deviceIDBytes is the size of a device id before hex encoding.
const deviceIDBytes = 16

// requestState is what a request's handlers share besides its context's
// values: what the answer must carry besides its body, and what they read
// of the request's sources.
type requestState struct {
	device string // a device id to set in the device cookie
	// known holds whether a source (a device or address key) is known to
	// an account (knownKey), as read by this request: the checks of one
	// attempt (its pair's lock, the account's ceiling, the recheck once a
	// hash slot is taken, clearing the pair) read each from the store once.
	known map[string]bool
}

// knownKey is the key of requestState.known for source on account.
func knownKey(account, source string) string { return account + " " + source }

// deviceOf returns the device id of r's device cookie, or "" when it has
// none or its signature is wrong.
func (a *Auth) deviceOf(r *http.Request) string {
	c, err := r.Cookie(deviceCookieName)
	if err != nil {
		return ""
	}
	id, sig, ok := strings.Cut(c.Value, ".")
	if !ok || len(id) != 2*deviceIDBytes {
		return ""
	}
	valid := hmac.Equal([]byte(sig), []byte(deviceSignature(a.key, id)))
	for _, k := range a.otherKeys() {
		valid = hmac.Equal([]byte(sig), []byte(deviceSignature(k, id))) || valid
	}
	if !valid {
		return ""
	}
	return id
}

// deviceSignature signs a device id with key. A cookie signed with a
// previous key (Config.PreviousSecrets) is signed again with the current
// one by the next answer that sets it.
func deviceSignature(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("device:" + id))
	return hex.EncodeToString(m.Sum(nil))
}

// deviceCookie is the cookie that carries the device id.
func (a *Auth) deviceCookie(r *http.Request, id string) *http.Cookie {
	return &http.Cookie{
		Name: deviceCookieName, Value: id + "." + deviceSignature(a.key, id), Path: a.cfg.BasePath,
		MaxAge: int((400 * 24 * time.Hour).Seconds()), HttpOnly: true, Secure: a.overTLS(r),
		SameSite: http.SameSiteLaxMode,
	}
}

// overTLS reports whether the client reached us over TLS: the connection
// is, or a trusted proxy says so in X-Forwarded-Proto.
func (a *Auth) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	peer, err := netip.ParseAddr(host)
	return err == nil && a.trusted(peer.Unmap()) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// addressRuleApplies reports whether a login from ip makes ip known.
func (a *Auth) addressRuleApplies(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	local := addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsUnspecified()
	return !local || len(a.cfg.TrustedProxies) > 0
}

// knownSource reports whether the request's device or address completed a
// login to account within KnownSourceTTL.
func (a *Auth) knownSource(ctx context.Context, account string) (bool, error) {
	c := clientFrom(ctx)
	var sources []string
	if c.device != "" {
		sources = append(sources, counterKey("device", c.device))
	}
	if a.addressRuleApplies(c.ip) {
		sources = append(sources, ipKey(c.ip))
	}
	for _, source := range sources {
		if known, err := a.sourceKnownTo(ctx, account, source); known || err != nil {
			return known, err
		}
	}
	return false, nil
}

// sourceKnownTo reports whether source (a device or address key) completed
// a login to account within KnownSourceTTL.
// A request reads each from the store once (requestState.known).
func (a *Auth) sourceKnownTo(ctx context.Context, account, source string) (bool, error) {
	st := clientFrom(ctx).state
	if known, ok := st.lookup(account, source); ok {
		return known, nil
	}
	at, err := a.store.SourceLastSeen(ctx, account, source)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return false, err
	}
	known := err == nil && a.now().Sub(at) < KnownSourceTTL
	st.remember(account, source, known)
	return known, nil
}

// lookup returns what the request read of source on account, if it did.
func (st *requestState) lookup(account, source string) (known, ok bool) {
	if st == nil {
		return false, false
	}
	known, ok = st.known[knownKey(account, source)]
	return known, ok
}

// remember keeps what the request read or made of source on account.
func (st *requestState) remember(account, source string, known bool) {
	if st == nil {
		return
	}
	if st.known == nil {
		st.known = map[string]bool{}
	}
	st.known[knownKey(account, source)] = known
}

// loginCompleted makes the request's sources known to account and has the
// answer set the device cookie (a new device id when the request brought
// none).
func (a *Auth) loginCompleted(ctx context.Context, account string) error {
	c := clientFrom(ctx)
	device := c.device
	if device == "" {
		device = newOpaque(deviceIDBytes)
	}
	sources := []string{counterKey("device", device)}
	if a.addressRuleApplies(c.ip) {
		sources = append(sources, ipKey(c.ip))
	}
	for _, source := range sources {
		if err := a.store.RememberSource(ctx, account, source, a.now()); err != nil {
			return err
		}
		c.state.remember(account, source, true)
	}
	if c.state != nil {
		c.state.device = device
	}
	return nil
}
