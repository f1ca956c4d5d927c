package mailer_test

import (
	"context"
	"fmt"
	"os"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/mailer"
)

func ExampleDev() {
	m := mailer.NewDev(os.Stdout)
	err := m.Send(context.Background(), ihoprauth.Message{
		Kind:    ihoprauth.MailOTP,
		To:      "alice@example.com",
		Subject: "Your login code",
		Text:    "Your login code is 493817.",
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// mailer: WARNING: no SMTP server is configured, so mails, login codes included, are written here instead of being sent
	// --- mail (otp)
	// To: alice@example.com
	// Subject: Your login code
	//
	// Your login code is 493817.
	// --- end of mail
}

func ExampleRecorder() {
	var m mailer.Recorder
	go func() {
		// In a test, the code under test sends this mail.
		_ = m.Send(context.Background(), ihoprauth.Message{
			Kind:    ihoprauth.MailOTP,
			To:      "alice@example.com",
			Subject: "Your login code",
			Text:    "Your login code is 493817.",
		})
	}()
	msg, err := m.Await(context.Background(), "Alice@example.com")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg.Kind, msg.Subject)
	// Output:
	// otp Your login code
}

func ExampleParseTLSMode() {
	for _, s := range []string{"", "TLS", "none", "ssl"} {
		mode, err := mailer.ParseTLSMode(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%q means %v\n", s, mode)
	}
	// Output:
	// "" means starttls
	// "TLS" means tls
	// "none" means none
	// mailer: unknown TLS mode "ssl", want none, starttls, tls or opportunistic
}
