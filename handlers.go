package ihoprauth

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// handler answers one endpoint: it reads in (already decoded), validates,
// calls the domain and returns the body of a 200 answer, or an error (an
// *Error for the client, anything else is a 500).
type handler func(r *http.Request, in *input) (any, error)

// routeTable maps each path below BasePath to its handlers by method.
func (a *Auth) routeTable() map[string]map[string]handler {
	return map[string]map[string]handler{
		"login":                        {http.MethodPost: a.ownerGuarded(a.handleLogin)},
		"signup":                       {http.MethodPost: a.ipGuarded(a.handleSignup)},
		"otp-code":                     {http.MethodPost: a.ownerGuarded(a.handleOTPCode)},
		"two-step-auth-code":           {http.MethodPost: a.ownerGuarded(a.handleTwoStepCode)},
		"send-reset-password-code":     {http.MethodPost: a.ipGuarded(a.handleSendResetCode)},
		"reset-password":               {http.MethodPost: a.ipGuarded(a.handleResetPassword)},
		"api-tauth-token":              {http.MethodPost: a.ownerGuarded(a.handleToken)},
		"user":                         {http.MethodGet: a.handleGetUser},
		"user/update":                  {http.MethodPut: a.handleUpdateUser},
		"user/update/role":             {http.MethodPut: a.handleUpdateRole},
		"refresh-token":                {http.MethodPost: a.ownerGuarded(a.handleRefresh)},
		"logout":                       {http.MethodPost: a.handleLogout},
		"session":                      {http.MethodPost: a.handleStartSession},
		"mfa-code":                     {http.MethodPost: a.ownerGuarded(a.handleMFACode)},
		"user/mfa":                     {http.MethodGet: a.handleFactors},
		"user/mfa/totp":                {http.MethodPost: a.handleStartTOTP},
		"user/mfa/totp/confirm":        {http.MethodPost: a.handleConfirmTOTP},
		"user/mfa/totp/remove":         {http.MethodPost: a.handleRemoveTOTP},
		"user/mfa/recovery-codes":      {http.MethodPost: a.handleNewRecoveryCodes},
		"user/mfa/passkeys":            {http.MethodGet: a.handlePasskeys},
		"user/mfa/passkey":             {http.MethodPost: a.handleStartPasskey},
		"user/mfa/passkey/confirm":     {http.MethodPost: a.handleConfirmPasskey},
		"user/mfa/passkey/remove":      {http.MethodPost: a.handleRemovePasskey},
		"mfa-passkey":                  {http.MethodPost: a.ownerGuarded(a.handleMFAPasskey)},
		"passkey-login":                {http.MethodPost: a.ipGuarded(a.handlePasskeyLogin)},
		"passkey-code":                 {http.MethodPost: a.ownerGuarded(a.handlePasskeyCode)},
		"user/identities":              {http.MethodGet: a.handleIdentities},
		"user/identities/link":         {http.MethodPost: a.handleLink},
		"user/identities/link/confirm": {http.MethodPost: a.handleLinkConfirm},
		"user/identities/remove":       {http.MethodPost: a.handleUnlink},
		"openapi.json":                 {http.MethodGet: a.handleOpenAPI},
	}
}

// success is the body of answers that carry nothing else.
type success struct {
	Status string `json:"status"`
}

var ok = success{Status: "success"}

// ServeHTTP answers the API's requests. It routes on the request's full
// path, so mount it at Config.BasePath with its trailing slash:
// mux.Handle("/api/v1/", auth). Unknown paths get 404 and known paths with
// the wrong method 405, both as JSON.
func (a *Auth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.tel.on {
		a.serveObserved(w, r)
		return
	}
	a.route(w, r)
}

// route answers r by its path and method.
func (a *Auth) route(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, a.prefix)
	if admin, isAdmin := strings.CutPrefix(rest, "admin/"); ok && isAdmin {
		a.serveAdmin(w, r, admin)
		return
	}
	if provider, isOAuth := strings.CutPrefix(rest, "oauth/"); ok && isOAuth {
		a.serveOAuth(w, r, provider)
		return
	}
	methods := a.routes[rest]
	if !ok || methods == nil {
		errNotFound.ServeHTTP(w, r)
		return
	}
	h := methods[r.Method]
	if h == nil && r.Method == http.MethodHead {
		h = methods[http.MethodGet]
	}
	if h == nil {
		w.Header().Set("Allow", allowed(methods))
		methodNotAllowed().ServeHTTP(w, r)
		return
	}
	ctx, cancel := a.bounded(withClient(r.Context(), a.clientOf(r)))
	defer cancel()
	a.serve(w, r.WithContext(ctx), h, a.cfg.Sessions != nil && (rest == "session" || rest == "logout"))
}

// Mount registers the API on mux at Config.BasePath, once for each method
// of RFC 9110 ("GET /api/v1/", "POST /api/v1/", …; HEAD goes with GET). It
// is what to use on a Go 1.22+ ServeMux that also has a catch-all route
// with a method, such as the app's "GET /": there a plain "/api/v1/" would
// make ServeMux panic, because each pattern is more specific than the
// other in one way (one by path, the other by method), while
// "GET /api/v1/" is more specific than "GET /" in every way. So every
// standard method reaches the API and its JSON answers (405 with the
// path's own Allow); a request with a method of its own making (say FOO)
// gets ServeMux's plain-text 405, which no pattern can catch beside
// "GET /". On a mux without such routes mux.Handle("/api/v1/", auth) does
// the same and answers every method in JSON.
func (a *Auth) Mount(mux *http.ServeMux) {
	for _, method := range mountMethods {
		mux.Handle(method+" "+a.prefix, a)
	}
}

// mountMethods are the methods that Mount registers: RFC 9110's, but HEAD,
// which ServeMux sends to the GET pattern.
var mountMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
	http.MethodOptions, http.MethodTrace, http.MethodConnect}

// serve runs h and writes its answer; with session, the request's cookie
// session is loaded before h and saved after it. Panics are not recovered
// here: the http.Server (or the app's recovery middleware) deals with them.
func (a *Auth) serve(w http.ResponseWriter, r *http.Request, h handler, session bool) {
	if session {
		ctx, err := a.loadSession(r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		r = r.WithContext(ctx)
	}
	in, err := decodeInput(r, a.cfg.MaxBodyBytes)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	body, err := h(r, in)
	if err == nil && session {
		err = a.saveSession(w, r.Context())
	}
	if c := clientFrom(r.Context()); err == nil && c.state != nil && c.state.device != "" {
		http.SetCookie(w, a.deviceCookie(r, c.state.device))
	}
	if err != nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return // the client has gone; nobody reads an answer
		}
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// allowed lists the methods of a path for the Allow header; HEAD goes
// wherever GET does.
func allowed(methods map[string]handler) string {
	list := slices.Sorted(maps.Keys(methods))
	if methods[http.MethodGet] != nil {
		list = append(list, http.MethodHead)
	}
	return strings.Join(list, ", ")
}
