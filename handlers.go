package ihoprauth

import (
	"net/http"
	"slices"
	"strconv"
)

// handler answers one endpoint: it reads in (already decoded), validates,
// calls the domain and returns the body of a 200 answer, or an error (an
// *Error for the client, anything else is a 500).
type handler func(r *http.Request, in *input) (any, error)

// routeTable maps each path below BasePath to its handlers by method.
func (a *Auth) routeTable() map[string]map[string]handler {
	return map[string]map[string]handler{
		"login":                    {http.MethodPost: a.guarded(a.handleLogin)},
		"signup":                   {http.MethodPost: a.guarded(a.handleSignup)},
		"otp-code":                 {http.MethodPost: a.guarded(a.handleOTPCode)},
		"two-step-auth-code":       {http.MethodPost: a.guarded(a.handleTwoStepCode)},
		"send-reset-password-code": {http.MethodPost: a.guarded(a.handleSendResetCode)},
		"reset-password":           {http.MethodPost: a.guarded(a.handleResetPassword)},
		"api-tauth-token":          {http.MethodPost: a.guarded(a.handleToken)},
		"user":                     {http.MethodGet: a.handleGetUser},
		"user/update":              {http.MethodPut: a.handleUpdateUser},
		"user/update/role":         {http.MethodPut: a.handleUpdateRole},
		"refresh-token":            {http.MethodPost: a.guarded(a.handleRefresh)},
		"logout":                   {http.MethodPost: a.handleLogout},
		"session":                  {http.MethodPost: a.handleStartSession},
		"openapi.json":             {http.MethodGet: a.handleOpenAPI},
	}
}

// success is the body of answers that carry nothing else.
type success struct {
	Status string `json:"status"`
}

var ok = success{Status: "success"}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func itoa(n int) string { return strconv.Itoa(n) }
