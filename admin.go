package ihoprauth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The admin API (BasePath/admin/) manages the users of one project at a
// time, as the Go methods of users.go do, for two kinds of callers:
//
//   - a user of the project, logged in with a bearer token or a cookie
//     session, whom Config.AdminPolicy admits (default: role "admin");
//     their login reaches only their own project;
//   - a server API key of the app (CreateAPIKey), which reaches the
//     projects it names; the request says which with client_id.
//
// Everyone else gets 401 (no or a bad credential) or 403 (a login that is
// not admitted, a key for another project). A user of another project is
// answered 404, as one that does not exist. Every change is recorded in
// the audit trail with the admin as its Event.Actor (the admin's user_id,
// or "key:" and the key's ID), and so is every read of a user's data.
//
//	GET    admin/users                 list (client_id, email_prefix, role,
//	                                   created_from, created_before, cursor, limit)
//	GET    admin/users/{user_id}       one user
//	DELETE admin/users/{user_id}       DeleteUser
//	PUT    admin/users/{user_id}/role  SetRole, body {"role": "..."}
//	POST   admin/users/{user_id}/disable, …/enable, …/logout (EndLogins)
//	GET    admin/users/{user_id}/events  UserEvents (since, limit)
//	DELETE admin/projects/{client_id}  DeleteProject; server API keys only
//
// docs/design.md, D39.

// Kinds of audit events of the admin API's reads.
const (
	EventAdminListed = "admin listed users"
	EventAdminViewed = "admin viewed a user"
)

var errAdminForbidden = &Error{Status: http.StatusForbidden, Message: "You are not allowed to manage these users."}

// adminCall is an admitted caller of the admin API and the project it
// manages.
type adminCall struct {
	project Project
	key     bool // a server API key, not a user's login
}

// adminHandler answers one admin request; arg is the path's user_id or
// client_id ("" for the list).
type adminHandler func(r *http.Request, in *input, c adminCall, arg string) (any, error)

// adminRoute returns the handlers, by method, of the admin path rest (the
// path after BasePath/admin/) and its argument, or nil when there is none.
func (a *Auth) adminRoute(rest string) (map[string]adminHandler, string) {
	if clientID, ok := strings.CutPrefix(rest, "projects/"); ok && clientID != "" {
		return map[string]adminHandler{http.MethodDelete: a.adminDeleteProject}, clientID
	}
	parts := strings.Split(rest, "/")
	if parts[0] != "users" || len(parts) > 3 || (len(parts) > 1 && parts[1] == "") {
		return nil, ""
	}
	switch {
	case len(parts) == 1:
		return map[string]adminHandler{http.MethodGet: a.adminListUsers}, ""
	case len(parts) == 2:
		return map[string]adminHandler{http.MethodGet: a.adminGetUser, http.MethodDelete: a.adminDeleteUser}, parts[1]
	}
	h := map[string]adminHandler{
		"role":    a.adminSetRole,
		"disable": a.adminDisable,
		"enable":  a.adminEnable,
		"logout":  a.adminEndLogins,
		"events":  a.adminUserEvents,
	}[parts[2]]
	method := http.MethodPost
	switch parts[2] {
	case "role":
		method = http.MethodPut
	case "events":
		method = http.MethodGet
	}
	if h == nil {
		return nil, ""
	}
	return map[string]adminHandler{method: h}, parts[1]
}

// serveAdmin answers a request to the admin path rest.
func (a *Auth) serveAdmin(w http.ResponseWriter, r *http.Request, rest string) {
	routes, arg := a.adminRoute(rest)
	if routes == nil {
		errNotFound.ServeHTTP(w, r)
		return
	}
	h := routes[r.Method]
	if h == nil && r.Method == http.MethodHead {
		h = routes[http.MethodGet]
	}
	if h == nil {
		methods := map[string]handler{}
		for m := range routes {
			methods[m] = nil
		}
		w.Header().Set("Allow", allowed(methods))
		methodNotAllowed().ServeHTTP(w, r)
		return
	}
	clientID := r.URL.Query().Get("client_id")
	if strings.HasPrefix(rest, "projects/") {
		clientID = arg
	}
	ctx, cancel := a.bounded(withClient(r.Context(), a.clientOf(r)))
	defer cancel()
	a.serve(w, r.WithContext(ctx), func(r *http.Request, in *input) (any, error) {
		c, ctx, err := a.admitAdmin(r, clientID)
		if err != nil {
			return nil, err
		}
		return h(r.WithContext(ctx), in, c, arg)
	}, a.cfg.Sessions != nil)
}

// admitAdmin returns the caller of r if it may manage the project with
// that client_id ("": a user's own project), and r's context carrying the
// caller as the actor of the events it causes.
func (a *Auth) admitAdmin(r *http.Request, clientID string) (adminCall, context.Context, error) {
	ctx := r.Context()
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if found && strings.EqualFold(scheme, "Bearer") {
		k, isKey, err := a.apiKey(ctx, strings.TrimSpace(token))
		if isKey {
			if err != nil {
				return adminCall{}, ctx, err
			}
			if clientID == "" {
				return adminCall{}, ctx, fieldError("client_id", "The client_id field is required with an API key.")
			}
			ctx = withActor(ctx, "key:"+strconv.FormatInt(k.ID, 10))
			if !k.Allows(clientID) {
				a.recordRefusal(ctx, Event{Kind: EventAdminRefused, Result: "key for another project"})
				return adminCall{}, ctx, errAdminForbidden
			}
			p, err := a.project(ctx, clientID)
			if errors.Is(err, ErrNotFound) {
				return adminCall{}, ctx, errNotFound
			}
			return adminCall{project: p, key: true}, ctx, err
		}
	}
	if a.cfg.Sessions != nil && r.Header.Get("Authorization") == "" && crossOrigin(r) {
		// Reads too: each is audited under the admin's name, so another
		// site must not make the admin's browser send one.
		return adminCall{}, ctx, errCrossSite
	}
	u, _, err := a.credentials(r)
	if err != nil {
		return adminCall{}, ctx, err
	}
	ctx = withActor(ctx, u.UserID)
	if !a.cfg.AdminPolicy(ctx, u) {
		a.recordRefusal(ctx, Event{Kind: EventAdminRefused, ProjectID: u.ProjectID, Result: "not an admin"})
		return adminCall{}, ctx, errAdminForbidden
	}
	p, err := a.store.ProjectByID(ctx, u.ProjectID)
	if err != nil {
		return adminCall{}, ctx, err
	}
	if clientID != "" && clientID != p.ClientID {
		a.recordRefusal(ctx, Event{Kind: EventAdminRefused, ProjectID: u.ProjectID, Result: "another project"})
		return adminCall{}, ctx, errAdminForbidden
	}
	return adminCall{project: p}, ctx, nil
}

// withActor returns ctx whose client is the admin actor (Event.Actor).
func withActor(ctx context.Context, actor string) context.Context {
	c := clientFrom(ctx)
	c.actor = actor
	return withClient(ctx, c)
}

// user returns the user of c's project with that public user_id; a user of
// another project is not found.
func (a *Auth) adminUser(ctx context.Context, c adminCall, userID string) (User, error) {
	u, err := a.store.UserByUserID(ctx, userID)
	if errors.Is(err, ErrNotFound) || (err == nil && u.ProjectID != c.project.ID) {
		return User{}, errNotFound
	}
	return u, err
}

// adminUserJSON is a user as the admin API shows it: the iHopr fields,
// provider, and the account's state.
type adminUserJSON struct {
	userJSON
	UpdatedAt  string  `json:"updated_at"`
	DisabledAt *string `json:"disabled_at"`
}

func adminView(u User) adminUserJSON {
	v := adminUserJSON{userJSON: view(u, true), UpdatedAt: u.UpdatedAt.UTC().Format(createdFormat)}
	if u.DisabledAt != nil {
		at := u.DisabledAt.UTC().Format(createdFormat)
		v.DisabledAt = &at
	}
	return v
}

type adminUserAnswer struct {
	Status string        `json:"status"`
	User   adminUserJSON `json:"user"`
}

type adminUsersAnswer struct {
	Status string          `json:"status"`
	Users  []adminUserJSON `json:"users"`
	// NextCursor continues the listing; null on the last page.
	NextCursor *string `json:"next_cursor"`
}

// query reads r's query string as an input, each parameter's first value.
func query(r *http.Request) *input {
	in := &input{form: map[string]string{}}
	for k, v := range r.URL.Query() {
		in.form[k] = v[0]
	}
	return in
}

// timeParam returns the RFC 3339 time of the query parameter name, zero
// when it is not sent.
func timeParam(in *input, name string) time.Time {
	s := in.str(name, false, 64)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		in.fail(name, "The "+name+" must be an RFC 3339 date-time.")
	}
	return t
}

// limitParam returns the query parameter name as a limit from 1 to max,
// 0 when it is not sent.
func limitParam(in *input, name string, max int) int {
	s := in.str(name, false, 8)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		in.fail(name, "The "+name+" must be a whole number from 1 to "+strconv.Itoa(max)+".")
	}
	return n
}

func (a *Auth) adminListUsers(r *http.Request, _ *input, c adminCall, _ string) (any, error) {
	q := query(r)
	f := UserFilter{
		EmailPrefix: q.str("email_prefix", false, maxEmail), Role: q.str("role", false, maxRole),
		CreatedFrom: timeParam(q, "created_from"), CreatedBefore: timeParam(q, "created_before"),
		Cursor: q.str("cursor", false, 32), Limit: limitParam(q, "limit", 1000),
	}
	if err := q.err(); err != nil {
		return nil, err
	}
	page, err := a.ListUsers(r.Context(), c.project.ClientID, f)
	if errors.Is(err, ErrBadCursor) {
		return nil, fieldError("cursor", "The cursor is not one that a page gave.")
	}
	if err != nil {
		return nil, err
	}
	a.event(r.Context(), EventAdminListed, c.project.ID, "", "ok")
	answer := adminUsersAnswer{Status: "success", Users: make([]adminUserJSON, len(page.Users))}
	for i, u := range page.Users {
		answer.Users[i] = adminView(u)
	}
	if page.Next != "" {
		answer.NextCursor = &page.Next
	}
	return answer, nil
}

func (a *Auth) adminGetUser(r *http.Request, _ *input, c adminCall, userID string) (any, error) {
	u, err := a.adminUser(r.Context(), c, userID)
	if err != nil {
		return nil, err
	}
	a.event(r.Context(), EventAdminViewed, u.ProjectID, u.UserID, "ok")
	return adminUserAnswer{Status: "success", User: adminView(u)}, nil
}

func (a *Auth) adminDeleteUser(r *http.Request, _ *input, c adminCall, userID string) (any, error) {
	u, err := a.adminUser(r.Context(), c, userID)
	if err != nil {
		return nil, err
	}
	if err := a.DeleteUser(r.Context(), u.UserID); err != nil {
		return nil, err
	}
	return ok, nil
}

func (a *Auth) adminSetRole(r *http.Request, in *input, c adminCall, userID string) (any, error) {
	role := in.str("role", true, maxRole)
	if err := in.err(); err != nil {
		return nil, err
	}
	u, err := a.adminUser(r.Context(), c, userID)
	if err != nil {
		return nil, err
	}
	if u, err = a.SetRole(r.Context(), u.UserID, role); err != nil {
		return nil, err
	}
	return adminUserAnswer{Status: "success", User: adminView(u)}, nil
}

func (a *Auth) adminDisable(r *http.Request, _ *input, c adminCall, userID string) (any, error) {
	return a.adminChange(r.Context(), c, userID, a.DisableUser)
}

func (a *Auth) adminEnable(r *http.Request, _ *input, c adminCall, userID string) (any, error) {
	return a.adminChange(r.Context(), c, userID, a.EnableUser)
}

// adminChange applies change to the user of c's project with that user_id
// and answers the user as it is then.
func (a *Auth) adminChange(ctx context.Context, c adminCall, userID string, change func(context.Context, string) (User, error)) (any, error) {
	u, err := a.adminUser(ctx, c, userID)
	if err != nil {
		return nil, err
	}
	if u, err = change(ctx, u.UserID); err != nil {
		return nil, err
	}
	return adminUserAnswer{Status: "success", User: adminView(u)}, nil
}

func (a *Auth) adminEndLogins(r *http.Request, _ *input, c adminCall, userID string) (any, error) {
	u, err := a.adminUser(r.Context(), c, userID)
	if err != nil {
		return nil, err
	}
	if err := a.EndLogins(r.Context(), u.UserID); err != nil {
		return nil, err
	}
	return ok, nil
}

// eventJSON is an audit event as the admin API shows it.
type eventJSON struct {
	Kind      string `json:"kind"`
	Result    string `json:"result"`
	Actor     string `json:"actor"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	Count     int    `json:"count"`
	At        string `json:"at"`
}

type eventsAnswer struct {
	Status string      `json:"status"`
	Events []eventJSON `json:"events"`
}

func (a *Auth) adminUserEvents(r *http.Request, _ *input, c adminCall, userID string) (any, error) {
	q := query(r)
	since, limit := timeParam(q, "since"), limitParam(q, "limit", 1000)
	if err := q.err(); err != nil {
		return nil, err
	}
	u, err := a.adminUser(r.Context(), c, userID)
	if err != nil {
		return nil, err
	}
	events, err := a.UserEvents(r.Context(), u.UserID, since, cmpOr(limit, 100))
	if err != nil {
		return nil, err
	}
	a.event(r.Context(), EventAdminViewed, u.ProjectID, u.UserID, "events")
	answer := eventsAnswer{Status: "success", Events: make([]eventJSON, len(events))}
	for i, e := range events {
		answer.Events[i] = eventJSON{Kind: e.Kind, Result: e.Result, Actor: e.Actor, IP: e.IP,
			UserAgent: e.UserAgent, Count: e.Count, At: e.At.UTC().Format(createdFormat)}
	}
	return answer, nil
}

func (a *Auth) adminDeleteProject(r *http.Request, _ *input, c adminCall, _ string) (any, error) {
	if !c.key {
		// A user's login cannot delete the project it belongs to, with
		// every other account in it: that is for the app's servers.
		a.recordRefusal(r.Context(), Event{Kind: EventAdminRefused, ProjectID: c.project.ID, Result: "project deletion by a login"})
		return nil, errAdminForbidden
	}
	if err := a.DeleteProject(r.Context(), c.project.ClientID); err != nil {
		return nil, err
	}
	return ok, nil
}
