package ihoprauth

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"text/template"
)

// MailTemplate is the text of one kind of mail. Subject and Text are
// text/template sources, HTML an html/template source (empty: the mail is
// plain text only). All three are executed with a MailData.
type MailTemplate struct {
	Subject string // text/template of the subject line
	Text    string // text/template of the plain-text body
	HTML    string // html/template of the HTML body; empty: text only
}

// MailData is what templates can use.
type MailData struct {
	// Code is the 6-digit code; empty in notices.
	Code string
	// Email is the account's stored address, FirstName its first name.
	Email     string
	FirstName string // the account's first name
	// Project is the project's client_id.
	Project string
	// ValidMinutes is how long the code works.
	ValidMinutes int
	// Language is the first language of the request's Accept-Language
	// header, lowercased ("fr-ca"), or "" when it has none.
	Language string
}

// defaultTemplates put the code first, before any other number, so that
// people and tools that look for the first six digits find it.
var defaultTemplates = map[MailKind]MailTemplate{
	MailOTP: codeTemplate("Your login code", "Your login code is"),
	MailTwoStep: codeTemplate("Your verification code",
		"Your verification code is"),
	MailReset: codeTemplate("Your password reset code",
		"Your password reset code is"),
	MailAccountExists: noticeTemplate("Someone tried to sign up with your email",
		"Someone, perhaps you, tried to sign up to {{.Project}} with {{.Email}}, which already has an account.",
		"If it was you, log in instead, or reset your password if you forgot it. If it was not, you can ignore this mail."),
	MailPasswordChanged: noticeTemplate("Your password was changed",
		"The password of your {{.Project}} account {{.Email}} was just changed, and your other sessions were signed out.",
		"If you did not do this, reset your password now."),
	MailRecoveryCodeUsed: noticeTemplate("A recovery code was used",
		"A recovery code of your {{.Project}} account {{.Email}} was just used in place of your authenticator app. Each code works once.",
		"If this was not you, reset your password now and make a new set of recovery codes."),
}

// noticeTemplate is a mail without a code: two paragraphs, as text and HTML.
func noticeTemplate(subject, first, second string) MailTemplate {
	return MailTemplate{
		Subject: subject,
		Text:    first + "\n\n" + second + "\n",
		HTML: `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">` +
			`<p>` + first + `</p><p style="color:#666">` + second + `</p></body></html>`,
	}
}

func codeTemplate(subject, lead string) MailTemplate {
	return MailTemplate{
		Subject: subject,
		Text: lead + " {{.Code}}\n\nIt works once, for {{.ValidMinutes}} minutes, for your {{.Project}} account " +
			"{{.Email}}.\nIf you did not ask for it, ignore this mail: nobody can use your account without it.\n",
		HTML: `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">` +
			`<p>` + lead + `</p><p style="font-size:28px;font-weight:bold;letter-spacing:4px">{{.Code}}</p>` +
			`<p>It works once, for {{.ValidMinutes}} minutes, for your {{.Project}} account {{.Email}}.</p>` +
			`<p style="color:#666">If you did not ask for it, ignore this mail: nobody can use your account without it.</p>` +
			`</body></html>`,
	}
}

// template returns the template of kind for the project and language:
// Config.TemplateFor's when it has one, else Config.Templates' or the
// built-in one.
func (a *Auth) template(kind MailKind, clientID, lang string) (compiledTemplate, error) {
	if a.cfg.TemplateFor != nil {
		if t, ok := a.cfg.TemplateFor(kind, clientID, lang); ok {
			return compile(kind, t)
		}
	}
	return a.templates[kind], nil
}

type compiledTemplate struct {
	subject, text *template.Template
	html          *htmltemplate.Template
}

func compileTemplates(overrides map[MailKind]MailTemplate) (map[MailKind]compiledTemplate, error) {
	out := map[MailKind]compiledTemplate{}
	for kind, t := range defaultTemplates {
		if o, ok := overrides[kind]; ok {
			t = o
		}
		c, err := compile(kind, t)
		if err != nil {
			return nil, err
		}
		out[kind] = c
	}
	return out, nil
}

func compile(kind MailKind, t MailTemplate) (compiledTemplate, error) {
	var c compiledTemplate
	var err error
	if c.subject, err = template.New("subject").Parse(t.Subject); err != nil {
		return c, fmt.Errorf("ihoprauth: %s mail subject: %w", kind, err)
	}
	if c.text, err = template.New("text").Parse(t.Text); err != nil {
		return c, fmt.Errorf("ihoprauth: %s mail text: %w", kind, err)
	}
	if t.HTML != "" {
		if c.html, err = htmltemplate.New("html").Parse(t.HTML); err != nil {
			return c, fmt.Errorf("ihoprauth: %s mail html: %w", kind, err)
		}
	}
	return c, nil
}

func (c compiledTemplate) render(kind MailKind, to string, d MailData) (Message, error) {
	var subject, text, html bytes.Buffer
	if err := c.subject.Execute(&subject, d); err != nil {
		return Message{}, err
	}
	if err := c.text.Execute(&text, d); err != nil {
		return Message{}, err
	}
	if c.html != nil {
		if err := c.html.Execute(&html, d); err != nil {
			return Message{}, err
		}
	}
	return Message{Kind: kind, To: to, Subject: subject.String(), Text: text.String(), HTML: html.String()}, nil
}
