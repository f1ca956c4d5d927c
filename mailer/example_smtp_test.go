package mailer_test

import (
	"fmt"

	"github.com/ihoprauth/ihoprauth/mailer"
)

// Send mail through a provider's submission port with STARTTLS and SMTP
// AUTH; pass the result to ihoprauth.New.
func ExampleNewSMTP() {
	m, err := mailer.NewSMTP(mailer.SMTPConfig{
		Host: "smtp.example.com", Port: 587, From: "Auth <auth@example.com>",
		Username: "auth@example.com", Password: "app-password", TLS: mailer.TLSStartTLS,
	})
	fmt.Println(m != nil, err)
	// Output: true <nil>
}
