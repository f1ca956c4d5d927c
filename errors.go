package ihoprauth

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
)

// Error is an error answered to a client: an HTTP status, a message safe to
// show, and for validation failures the message of each failing field. It
// writes itself in the one error shape of the API:
//
//	{"status":"error","message":"...","errors":{"field":["..."]}}
//
// Middleware and apps that want their own errors to look like the API's can
// build an Error and call its ServeHTTP.
type Error struct {
	Status  int    // the HTTP status
	Message string // safe to show to the client
	// Fields maps a request field to what is wrong with it; only for 422.
	Fields map[string][]string
	// Bearer marks a failed bearer-token check: the response carries
	// WWW-Authenticate: Bearer, with error="invalid_token" when TokenSent.
	Bearer    bool
	TokenSent bool // a token was sent and refused
	// RetryAfter, when positive, is sent as the Retry-After header in seconds.
	RetryAfter int
	// failure marks a 429 that counts against the client's address as a
	// failed attempt would (a lock's).
	failure bool
}

// Error returns the message, prefixed "ihoprauth: ".
func (e *Error) Error() string { return "ihoprauth: " + e.Message }

// ServeHTTP writes e as a JSON response.
func (e *Error) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	if e.Bearer {
		if e.TokenSent {
			h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		} else {
			h.Set("WWW-Authenticate", "Bearer")
		}
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, errorBody{Status: "error", Message: e.Message, Errors: e.Fields})
}

type errorBody struct {
	Status  string              `json:"status"`
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors,omitempty"`
}

// The errors clients get. Messages never say which part of a credential was
// wrong, so they cannot be used to find out whether an account exists.
var (
	errBadCredentials = &Error{Status: http.StatusUnauthorized, Message: "These credentials do not match our records."}
	errBadClient      = &Error{Status: http.StatusUnauthorized, Message: "Invalid client credentials."}
	errBadCode        = &Error{Status: http.StatusUnauthorized, Message: "The code is invalid or has expired."}
	errBadRefresh     = &Error{Status: http.StatusUnauthorized, Message: "The refresh token is invalid or has expired."}
	errNoToken        = &Error{Status: http.StatusUnauthorized, Message: "Unauthenticated.", Bearer: true}
	errBadToken       = &Error{Status: http.StatusUnauthorized, Message: "Unauthenticated.", Bearer: true, TokenSent: true}
	errRoleForbidden  = &Error{Status: http.StatusForbidden, Message: "You are not allowed to change the role."}
	errNotFound       = &Error{Status: http.StatusNotFound, Message: "Not found."}
	errTooLarge       = &Error{Status: http.StatusRequestEntityTooLarge, Message: "The request body is too large."}
	errMediaType      = &Error{Status: http.StatusUnsupportedMediaType, Message: "Send application/json or application/x-www-form-urlencoded."}
	errServer         = &Error{Status: http.StatusInternalServerError, Message: "Server error."}
	errConflict       = &Error{Status: http.StatusConflict, Message: "The account was changed by another request at the same time; try again."}
	errUnavailable    = &Error{Status: http.StatusServiceUnavailable, Message: "The service is briefly unavailable. Try again shortly.", RetryAfter: 5}
)

func badRequest(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: msg}
}

func methodNotAllowed() *Error {
	return &Error{Status: http.StatusMethodNotAllowed, Message: "Method not allowed."}
}

// invalid builds the 422 answer for failing fields.
func invalid(fields map[string][]string) *Error {
	msg := "The given data was invalid."
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		msg = fields[name][0]
		break
	}
	return &Error{Status: http.StatusUnprocessableEntity, Message: msg, Fields: fields}
}

func fieldError(field, msg string) *Error {
	return invalid(map[string][]string{field: {msg}})
}

// writeError answers err: an *Error as itself, anything else as a 500 (503
// when the database is unavailable or timed out) with no internals,
// reported through the error hook.
func (a *Auth) writeError(w http.ResponseWriter, r *http.Request, err error) {
	a.internal(r.Context(), err).ServeHTTP(w, r)
}

// internal returns the *Error that answers err, reporting err to OnError
// when it is not the client's fault.
func (a *Auth) internal(ctx context.Context, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, ErrConflict) {
		return errConflict
	}
	a.cfg.OnError(ctx, err)
	if unavailable(err) {
		return errUnavailable
	}
	return errServer
}

// unavailable reports whether err means the database could not answer now:
// a Store's ErrUnavailable (package store classifies its drivers' errors)
// or a deadline.
func unavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// The headers of every JSON answer, by their canonical names: set by
// assignment, they cost no canonicalization and no allocation per answer.
// The slices are shared and never changed (an Add to one of these headers
// would append past their length, into a copy).
var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	noStore         = []string{"no-store"}
	noSniff         = []string{"nosniff"}
)

func writeJSON(w http.ResponseWriter, status int, body any) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
