package ihoprauth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ihoprauth/ihoprauth"
)

func TestMailTemplatesByProjectAndLanguage(t *testing.T) {
	french := ihoprauth.MailTemplate{Subject: "Votre code", Text: "Votre code est {{.Code}}, valable {{.ValidMinutes}} minutes ({{.Language}}).\n"}
	e := newEnv(t, func(c *ihoprauth.Config) {
		c.TemplateFor = func(kind ihoprauth.MailKind, clientID, lang string) (ihoprauth.MailTemplate, bool) {
			return french, kind == ihoprauth.MailOTP && clientID == "web-otp" && strings.HasPrefix(lang, "fr")
		}
	})
	e.header = http.Header{"Accept-Language": {"fr-CA,fr;q=0.9,en;q=0.5"}}
	want(t, e.post("/api/v1/signup", signupBody(e.otp, "fr@example.com")), 200)
	msg := e.awaitMail("fr@example.com")
	if msg.Subject != "Votre code" || !strings.Contains(msg.Text, "valable 10 minutes (fr-ca)") || msg.HTML != "" {
		t.Errorf("got %q / %q / html %q, want the French template for fr-CA", msg.Subject, msg.Text, msg.HTML)
	}

	e.header = http.Header{"Accept-Language": {"en-US"}}
	want(t, e.post("/api/v1/signup", signupBody(e.otp, "en@example.com")), 200)
	msg = e.awaitMail("en@example.com")
	if msg.Subject != "Your login code" || !strings.Contains(msg.Text, "for 10 minutes, for your web-otp account") ||
		!strings.Contains(msg.HTML, "<p style") || !strings.Contains(msg.HTML, sixDigits.FindString(msg.Text)) {
		t.Errorf("got %q / %q, want the built-in template naming the project and validity, with an HTML part", msg.Subject, msg.Text)
	}
}
