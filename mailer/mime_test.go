package mailer_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// parsedMail is a received mail with its headers and decoded bodies.
type parsedMail struct {
	header      mail.Header
	contentType string
	subject     string
	text, html  string
}

func checkMail(t *testing.T, got parsedMail, msg ihoprauth.Message) {
	t.Helper()
	if from, err := got.header.AddressList("From"); err != nil || len(from) != 1 ||
		from[0].Name != "Example Sender" || from[0].Address != "no-reply@example.com" {
		t.Errorf("From: got %v (%v), want %q", from, err, testFrom)
	}
	if to, err := got.header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != msg.To {
		t.Errorf("To: got %v (%v), want %q", to, err, msg.To)
	}
	if got.subject != msg.Subject {
		t.Errorf("Subject: got %q, want %q", got.subject, msg.Subject)
	}
	if date, err := got.header.Date(); err != nil || time.Since(date).Abs() > time.Hour {
		t.Errorf("Date: got %q (%v), want about now", got.header.Get("Date"), err)
	}
	if id := got.header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID: got %q, want <…@example.com>", id)
	}
	wantType := "text/plain"
	if msg.HTML != "" {
		wantType = "multipart/alternative"
	}
	if got.contentType != wantType {
		t.Errorf("Content-Type: got %q, want %q", got.contentType, wantType)
	}
	if got.text != msg.Text {
		t.Errorf("text part: got %q, want %q", got.text, msg.Text)
	}
	if got.html != msg.HTML {
		t.Errorf("html part: got %q, want %q", got.html, msg.HTML)
	}
}

// parseMail parses a mail as a mail client would: text/plain, or
// multipart/alternative of text/plain and text/html.
func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading mail: %v\n%s", err, data)
	}
	p := parsedMail{header: m.Header}
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("decoding Subject: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	p.contentType = mediaType
	if !strings.HasPrefix(mediaType, "multipart/") {
		p.addPart(t, mediaType, decodeBody(t, m.Header.Get("Content-Transfer-Encoding"), m.Body))
		return p
	}
	parts := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			return p
		}
		if err != nil {
			t.Fatalf("reading part: %v", err)
		}
		partType, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type: %v", err)
		}
		p.addPart(t, partType, decodeBody(t, part.Header.Get("Content-Transfer-Encoding"), part))
	}
}

func (p *parsedMail) addPart(t *testing.T, mediaType, body string) {
	t.Helper()
	switch mediaType {
	case "text/plain":
		p.text = body
	case "text/html":
		p.html = body
	default:
		t.Errorf("part of type %q, want text/plain or text/html", mediaType)
	}
}

// decodeBody decodes a body by its Content-Transfer-Encoding and turns the
// CRLF line ends of MIME's canonical form back into LF.
// multipart.Reader decodes quoted-printable parts itself and drops the header.
func decodeBody(t *testing.T, encoding string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "", "7bit", "8bit":
	default:
		t.Fatalf("Content-Transfer-Encoding %q", encoding)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s body: %v", encoding, err)
	}
	return strings.ReplaceAll(string(body), "\r\n", "\n")
}
