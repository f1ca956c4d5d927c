package main

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
)

var accountPage = template.Must(template.ParseFS(pages, "web/account.html"))

// projectFinder finds a project by its internal id; *store.Store is one.
type projectFinder interface {
	ProjectByID(ctx context.Context, id int64) (ihoprauth.Project, error)
}

// account is the server-rendered page at /account, the kind of page a
// server-rendered app protects with the session cookie. It is mounted
// behind authmw.RequireUser, which lets in a browser that holds the
// cookie (or a client with a bearer token) and refuses anyone else.
type account struct {
	projects projectFinder
}

func (a account) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, _ := authmw.UserFrom(r.Context())
	p, err := a.projects.ProjectByID(r.Context(), u.ProjectID)
	if err != nil {
		slog.Error("account page: reading the project", "err", err)
		http.Error(w, "Server error.", http.StatusInternalServerError)
		return
	}
	via := "the session cookie"
	if r.Header.Get("Authorization") != "" {
		via = "a bearer token"
	}
	render(w, accountPage, pageCSP, struct {
		User    ihoprauth.User
		Project ihoprauth.Project
		Via     string
	}{u, p, via})
}
