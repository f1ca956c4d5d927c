package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// passkey uses the page's Security card in web-none with a virtual
// authenticator of the Chrome DevTools Protocol (a platform passkey that
// verifies the user): it sets up an authenticator app from the QR code's
// secret, registers a passkey, signs in with the passkey alone, then logs
// in with the password and passes the second step with the passkey. The
// page is opened at http://localhost:PORT: the example's relying party is
// localhost (-passkey-rp), and a relying-party id cannot be an IP address.
func (e *browserEnv) passkey(t *testing.T) {
	base := strings.Replace(e.base, "127.0.0.1", "localhost", 1)
	app, _ := e.openAt(t, base, "web-none", virtualAuthenticator())
	const email = "hedy@example.com"
	app.signUp(email, password, "Hedy", "Lamarr")
	app.waitSignedIn(email)

	app.do("set up an authenticator app", chromedp.Click(chromedp.CSS("#totp-start")))
	app.waitVisible("#totp-qr")
	secret := value(app, "read the secret", chromedp.Text(chromedp.CSS("#totp-secret")))
	app.do("confirm it with its code",
		chromedp.SendKeys(chromedp.CSS(`#totp-form [name=code]`), totpCode(t, secret, time.Now())),
		chromedp.Click(chromedp.CSS(`#totp-form button[type=submit]`)),
	)
	app.waitNotice("success", "Authenticator app set up")
	app.waitVisible("#recovery-list")

	app.do("add a passkey", chromedp.Click(chromedp.CSS("#passkey-add")))
	app.waitNotice("success", "Passkey added")
	app.waitVisible("#passkey-list li")
	app.logOut()

	app.do("sign in with the passkey",
		chromedp.Click(chromedp.CSS(`.tabs [data-tab="login"]`)),
		chromedp.Click(chromedp.CSS("#passkey-login")),
	)
	app.waitSignedIn(email)
	app.logOut()

	app.do("log in with the password",
		chromedp.SendKeys(chromedp.CSS(`#login-form [name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`#login-form [name=password]`), password),
		chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)),
	)
	app.waitVisible("#mfa-passkey")
	app.do("pass the second step with the passkey", chromedp.Click(chromedp.CSS("#mfa-passkey")))
	app.waitSignedIn(email)
	app.logOut()
}

// virtualAuthenticator enables the WebAuthn domain on the tab and adds a
// CTAP2 platform authenticator with resident keys that verifies the user.
func virtualAuthenticator() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return fmt.Errorf("WebAuthn.enable: %w", err)
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		if err != nil {
			return fmt.Errorf("WebAuthn.addVirtualAuthenticator: %w", err)
		}
		return nil
	})
}

// totpCode is the code an authenticator app shows at now for the base32
// secret (RFC 6238: SHA-1, 6 digits, 30-second steps).
func totpCode(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimSpace(secret))
	if err != nil {
		t.Fatalf("the secret %q: %v", secret, err)
	}
	mac := hmac.New(sha1.New, key)
	binary.Write(mac, binary.BigEndian, uint64(now.Unix()/30))
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", n%1_000_000)
}
