package ihoprauth

import (
	"context"
	"errors"
	"net/http"
)

// loginAnswer is the answer of login and signup; which token it carries
// depends on the project type.
type loginAnswer struct {
	Status           string      `json:"status"`
	Message          string      `json:"message"`
	Code             string      `json:"code,omitempty"`
	TwoStepAuthToken string      `json:"two_step_auth_token,omitempty"`
	OTPToken         string      `json:"otp_token,omitempty"`
	ProjectType      ProjectType `json:"project_type"`
	// *mfaStep is nil, and none of its fields shown, unless the user has
	// a second factor.
	*mfaStep
}

func answerCode(code string) loginAnswer {
	return loginAnswer{Status: "success", Message: "Auth Code sent successfully", Code: code, ProjectType: TypeNone}
}

func answerTwoStep(token string) loginAnswer {
	return loginAnswer{Status: "success", Message: "Two Step Authentication code sent successfully.",
		TwoStepAuthToken: token, ProjectType: TypeTwoStep}
}

func answerOTP(token string) loginAnswer {
	return loginAnswer{Status: "success", Message: "OTP code sent successfully.", OTPToken: token, ProjectType: TypeOTP}
}

// loginRequest is what login reads.
type loginRequest struct {
	client   clientCreds
	email    string
	password string
	pkce     pkce
}

func (a *Auth) handleLogin(r *http.Request, in *input) (any, error) {
	req := loginRequest{client: readClient(in), email: readEmail(in, "email"),
		password: in.secret("password", false), pkce: a.readPKCE(in)}
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.logIn(r.Context(), req)
}

// logIn checks a login and answers as its project type asks: an auth code
// at once (none), a mailed code to enter next (two-step), or a mailed code
// instead of a password (otp).
func (a *Auth) logIn(ctx context.Context, req loginRequest) (loginAnswer, error) {
	if err := a.passCapAsLogin(ctx, req.client.id, req.email); err != nil {
		return loginAnswer{}, err
	}
	p, err := a.loginClient(ctx, req.client, req.pkce)
	if err != nil {
		return loginAnswer{}, err
	}
	if p.Type == TypeOTP {
		return a.loginOTP(ctx, p, req)
	}
	if req.password == "" {
		return loginAnswer{}, fieldError("password", "The password field is required.")
	}
	u, err := a.checkPassword(ctx, p, req.email, req.password)
	if err != nil {
		return loginAnswer{}, err
	}
	account := accountKey(p.ID, u.EmailKey)
	methods, err := a.factorMethods(ctx, u.ID)
	if err != nil {
		return loginAnswer{}, err
	}
	// While a second factor is pending, the pair's failures stay: a new
	// login buys no new guesses at the factor (docs/design.md, D34).
	if len(methods) == 0 {
		if err := a.attemptSucceeded(ctx, account); err != nil {
			return loginAnswer{}, err
		}
	}
	if p.Type == TypeTwoStep {
		if err := a.allowMail(ctx, p.ID, accountKey(p.ID, u.EmailKey), PurposeTwoStep); err != nil {
			return loginAnswer{}, err
		}
		token, code, err := a.newChallenge(ctx, a.store, p, u, u.EmailKey, PurposeTwoStep, req.pkce)
		if err != nil {
			return loginAnswer{}, err
		}
		a.mailCode(ctx, MailTwoStep, p, u, code)
		return answerTwoStep(token), nil
	}
	if len(methods) > 0 {
		step, err := a.newMFAStep(ctx, a.store, pendingLogin{p.ID, u.ID, account, req.pkce, ""}, methods)
		if err != nil {
			return loginAnswer{}, err
		}
		return loginAnswer{Status: "success", Message: mfaMessage, ProjectType: p.Type, mfaStep: step}, nil
	}
	code, err := a.newAuthCode(ctx, a.store, p.ID, u.ID, req.pkce, AAL1, "")
	if err != nil {
		return loginAnswer{}, err
	}
	if err := a.loginCompleted(ctx, account); err != nil {
		return loginAnswer{}, err
	}
	return answerCode(code), nil
}

// enabledUser returns the project's user with that canonical email, or a
// zero User when there is none or the user is disabled: codes mailed to
// such an email are decoys, so a disabled account answers exactly like an
// unknown one (docs/design.md, D2 and D29).
func (a *Auth) enabledUser(ctx context.Context, projectID int64, emailKey string) (User, error) {
	u, err := a.store.UserByEmail(ctx, projectID, emailKey)
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && u.Disabled()):
		return User{}, nil
	case err != nil:
		return User{}, err
	}
	return u, nil
}

// loginClient checks the client of a login or signup: its credentials must
// be right, and a public client must send a PKCE challenge, having no
// secret to bind the auth code to (RFC 9700 §2.1.1).
func (a *Auth) loginClient(ctx context.Context, c clientCreds, pk pkce) (Project, error) {
	p, err := a.authClient(ctx, c)
	if err != nil {
		return Project{}, err
	}
	if p.Public && pk.challenge == "" {
		return Project{}, fieldError("code_challenge", "The code_challenge field is required for a public client.")
	}
	return p, nil
}

// loginOTP mails a code to a known email. An unknown email, or a disabled
// user's, gets a token
// that no code matches, and no mail, but the same locks, mail limits,
// render and writes, so neither the answer nor its time tells whether the
// account exists (docs/design.md, D2 and D29).
func (a *Auth) loginOTP(ctx context.Context, p Project, req loginRequest) (loginAnswer, error) {
	emailKey := CanonicalEmail(req.email)
	account := accountKey(p.ID, emailKey)
	if _, err := a.allowAttempt(ctx, p.ID, account, false); err != nil {
		return loginAnswer{}, err
	}
	u, err := a.enabledUser(ctx, p.ID, emailKey)
	if err != nil {
		return loginAnswer{}, err
	}
	if err := a.allowMail(ctx, p.ID, account, PurposeOTP); err != nil {
		return loginAnswer{}, err
	}
	token, code, err := a.newChallenge(ctx, a.store, p, u, emailKey, PurposeOTP, req.pkce)
	if err != nil {
		return loginAnswer{}, err
	}
	a.mailCodeTo(ctx, MailOTP, p, u, req.email, code)
	return answerOTP(token), nil
}

// checkPassword returns the project's user with that email if password is
// theirs. An unknown email is verified against a dummy hash, so it costs
// the same time and gets the same 401 as a wrong password. A hash made with
// other parameters, or an imported bcrypt hash, is replaced by a fresh
// argon2id hash. Failures count against the request's source on the
// account; the right password always passes the account's own counters, so
// concurrent correct logins all succeed. The caller clears the source's
// failures once it knows no second factor is pending.
func (a *Auth) checkPassword(ctx context.Context, p Project, email, password string) (User, error) {
	account := accountKey(p.ID, CanonicalEmail(email))
	at, err := a.allowAttempt(ctx, p.ID, account, false)
	if err != nil {
		return User{}, err
	}
	u, err := a.store.UserByEmail(ctx, p.ID, CanonicalEmail(email))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	gate := func() error { return a.recheck(ctx, at) }
	done := func(ok bool) error {
		if ok {
			return nil
		}
		return a.attemptFailed(ctx, account)
	}
	// A disabled user's password is checked like an unknown email's, with
	// the same work, so a 401 is all that either gets (docs/design.md, D2).
	hash := u.PasswordHash
	if u.Disabled() {
		hash = ""
	}
	belongs := "" // a known source waits ahead of strangers (see hashSlots)
	if at.known {
		belongs = account
	}
	ok, rehash, err := a.hasher.verify(ctx, hash, password, p.BcryptCosts, belongs, gate, done)
	if err != nil {
		return User{}, err
	}
	if !ok {
		a.event(ctx, EventLoginFailed, p.ID, u.UserID, "bad credentials")
		return User{}, errBadCredentials
	}
	if rehash {
		if u.PasswordHash, err = a.hasher.hash(ctx, password, account); err != nil {
			return User{}, err
		}
		// A concurrent change of the user wins: the rehash waits for the
		// next login rather than write over it.
		if err := a.store.UpdateUser(ctx, &u); err != nil && !errors.Is(err, ErrConflict) {
			return User{}, err
		}
	}
	a.event(ctx, EventLogin, p.ID, u.UserID, "ok")
	return u, nil
}
