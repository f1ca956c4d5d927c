package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/ihoprauth/ihoprauth"
)

// pages holds the page a browser opens at / (web/static: plain HTML, CSS and
// JavaScript, no build step) and the templates of the server-rendered pages
// (web/*.html).
//
//go:embed web
var pages embed.FS

// Content-Security-Policy of the example's pages: their scripts and styles
// come from this server only, never inline, and no other site may frame
// them; images may be data: URIs (the QR code of a TOTP setup). The inbox
// allows inline styles for the mails' HTML parts, which it shows in
// sandboxed frames.
const (
	pageCSP  = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	inboxCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// pageConfig tells the page which projects it can use: the public ones,
// since a browser cannot keep a client secret.
type pageConfig struct {
	Projects []pageProject `json:"projects"`
	// Inbox says whether /dev/inbox exists (no -smtp).
	Inbox bool `json:"inbox"`
	// Passkeys says whether passkeys are on (-passkey-rp).
	Passkeys bool `json:"passkeys"`
	// Provider names the provider of -oidc-issuer, which every project
	// offers; empty without it.
	Provider string `json:"provider,omitempty"`
}

type pageProject struct {
	ClientID string                `json:"client_id"`
	Type     ihoprauth.ProjectType `json:"type"`
}

func newPageConfig(specs []ihoprauth.ProjectSpec, inbox, provider bool) pageConfig {
	c := pageConfig{Projects: []pageProject{}, Inbox: inbox}
	if provider {
		c.Provider = localProvider
	}
	for _, s := range specs {
		if s.Public {
			c.Projects = append(c.Projects, pageProject{ClientID: s.ClientID, Type: s.Type})
		}
	}
	return c
}

// ServeHTTP answers GET /config.json.
func (c pageConfig) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(c)
}

// staticFiles serves web/static to GET and HEAD: / is its index.html.
func staticFiles() http.Handler {
	static, err := fs.Sub(pages, "web/static")
	if err != nil {
		panic(err)
	}
	files := pageHeaders(pageCSP, http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// pageHeaders sets the security headers of a page, and asks browsers to
// check for a newer version each time (the files change with the binary).
func pageHeaders(csp string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// render executes t with data and writes it as an HTML page that is never
// cached: the server-rendered pages show a user or codes.
func render(w http.ResponseWriter, t *template.Template, csp string, data any) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		slog.Error("rendering a page", "template", t.Name(), "err", err)
		http.Error(w, "Server error.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}
