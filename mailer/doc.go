// Package mailer implements ihoprauth.Mailer three ways. This program sends
// through SMTP when SMTP_HOST is set, and prints the mail otherwise:
//
//	package main
//
//	import (
//		"context"
//		"log"
//		"os"
//
//		"github.com/ihoprauth/ihoprauth"
//		"github.com/ihoprauth/ihoprauth/mailer"
//	)
//
//	func main() {
//		var m ihoprauth.Mailer = mailer.NewDev(os.Stderr)
//		if host := os.Getenv("SMTP_HOST"); host != "" {
//			mode, err := mailer.ParseTLSMode(os.Getenv("SMTP_TLS"))
//			if err != nil {
//				log.Fatal(err)
//			}
//			m, err = mailer.NewSMTP(mailer.SMTPConfig{
//				Host:     host,
//				From:     "Example <no-reply@example.com>",
//				Username: os.Getenv("SMTP_USERNAME"),
//				Password: os.Getenv("SMTP_PASSWORD"),
//				TLS:      mode,
//			})
//			if err != nil {
//				log.Fatal(err)
//			}
//		}
//		err := m.Send(context.Background(), ihoprauth.Message{
//			Kind:    ihoprauth.MailOTP,
//			To:      "alice@example.com",
//			Subject: "Your login code",
//			Text:    "Your login code is 123456.",
//		})
//		if err != nil {
//			log.Fatal(err)
//		}
//	}
//
// SMTP sends through an SMTP server with github.com/wneessen/go-mail,
// requiring TLS unless told otherwise. Dev writes each mail to a writer, for
// development without a mail server. Recorder keeps each mail for tests, which
// can wait for the next mail to an address with Recorder.Await.
package mailer
