package ihoprauth

import "net/http"

// handleLogout ends the caller's login at once: its access and refresh
// token, every token rotated from them and any session cookie bound to it.
// With all (query ?all=true or body {"all": true}) it ends every login of
// the user. The caller is a bearer token or, with sessions on, the cookie.
func (a *Auth) handleLogout(r *http.Request, in *input) (any, error) {
	ctx := r.Context()
	all := in.flag("all") || r.URL.Query().Get("all") == "true" || r.URL.Query().Get("all") == "1"
	if err := in.err(); err != nil {
		return nil, err
	}
	u, t, err := a.credentials(r)
	if err != nil {
		return nil, err
	}
	if err := a.endSession(ctx); err != nil {
		return nil, err
	}
	end := revocation{userID: u.ID, family: t.FamilyID}
	if all {
		end = revocation{userID: u.ID, allTokens: true}
	}
	if err := a.revokeNow(ctx, end); err != nil {
		return nil, err
	}
	a.event(ctx, EventTokenRevoked, u.ProjectID, u.UserID, "logout")
	return ok, nil
}
