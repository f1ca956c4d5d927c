package ihoprauth

import (
	"context"
	"errors"
	"net/http"
)

// signupRequest is what signup reads.
type signupRequest struct {
	client    clientCreds
	email     string
	password  string
	firstName string
	lastName  string
	mobile    string
	meta      *string
	pkce      pkce
}

func (a *Auth) readSignup(in *input) signupRequest {
	req := signupRequest{
		client:    readClient(in),
		email:     readEmail(in, "email"),
		password:  in.secret("password", false),
		firstName: in.str("first_name", true, maxName),
		lastName:  in.str("last_name", true, maxName),
		mobile:    in.mobile("mobile_number", true),
		pkce:      a.readPKCE(in),
	}
	req.meta, _ = in.meta("meta")
	if req.password != "" {
		if why := passwordProblem(req.password, req.email, a.cfg.MinPasswordLength); why != "" {
			in.fail("password", why)
		}
	}
	return req
}

// handleSignup creates a user and answers like login for the project type.
func (a *Auth) handleSignup(r *http.Request, in *input) (any, error) {
	req := a.readSignup(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	return a.signUp(r.Context(), req)
}

// signUp creates the account req asks for and answers like a login of its
// project type. The source's signup budget is spent before the password
// is hashed.
func (a *Auth) signUp(ctx context.Context, req signupRequest) (loginAnswer, error) {
	p, err := a.loginClient(ctx, req.client, req.pkce)
	if err != nil {
		return loginAnswer{}, err
	}
	if err := a.checkNewPassword(p, req); err != nil {
		return loginAnswer{}, err
	}
	if err := a.allowSignup(ctx, p.ID); err != nil {
		return loginAnswer{}, err
	}
	u, err := a.newUser(ctx, p, req)
	if err != nil {
		return loginAnswer{}, err
	}
	token, err := a.storeAndMailSignup(ctx, p, u, req)
	if err != nil {
		return loginAnswer{}, err
	}
	switch p.Type {
	case TypeOTP:
		return answerOTP(token), nil
	case TypeTwoStep:
		return answerTwoStep(token), nil
	}
	return answerCode(token), nil
}

// checkNewPassword asks for a password except in otp projects, where it is
// optional; readSignup has applied the password rules to one that was sent.
func (a *Auth) checkNewPassword(p Project, req signupRequest) error {
	if req.password == "" && p.Type != TypeOTP {
		return fieldError("password", "The password field is required.")
	}
	return nil
}

// newUser builds the user a signup asks for, its password hashed.
func (a *Auth) newUser(ctx context.Context, p Project, req signupRequest) (User, error) {
	now := a.now()
	u := User{
		UserID: newOpaque(userIDBytes), ProjectID: p.ID, Email: req.email, EmailKey: CanonicalEmail(req.email),
		FirstName: req.firstName, LastName: req.lastName, MobileNumber: req.mobile, Meta: req.meta,
		Role: a.cfg.DefaultRole, CreatedAt: now, UpdatedAt: now,
	}
	if a.cfg.NewUserRole != nil {
		u.Role = a.cfg.NewUserRole(ctx, p, u.EmailKey)
	}
	if req.password != "" {
		var err error
		if u.PasswordHash, err = a.hasher.hash(ctx, req.password, ""); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

// storeAndMailSignup stores u with what its project type issues, in one
// transaction, then mails the code, and returns the token or code for the
// answer. A taken email is a 422 in a none
// project, where the code comes back at once; elsewhere the answer is that
// of a new signup and the owner is mailed a notice instead of a code, so
// signup does not reveal who has an account (docs/design.md, D2). The notice has a
// budget of its own, one a day, and never spends the owner's code mails
// (docs/design.md, D27); past it nothing is mailed and the answer is the same.
func (a *Auth) storeAndMailSignup(ctx context.Context, p Project, u User, req signupRequest) (string, error) {
	var (
		token, code string
		owner       User
		err         error
	)
	account := accountKey(p.ID, u.EmailKey)
	// The code-mail budget is keyed by email whether or not it is taken, and
	// only read here, so a 429 tells nothing about who has an account.
	if p.Type != TypeNone {
		if err := a.allowSignupMail(ctx, p, account, u.EmailKey); err != nil {
			return "", err
		}
	}
	// A concurrent signup of the same email can win between the lookup and
	// the insert; the second try then finds its account.
	for try := 0; try < 2; try++ {
		err = a.store.InTx(ctx, func(tx Store) error {
			token, code, owner, err = a.storeSignup(ctx, tx, p, &u, req.pkce)
			return err
		})
		if !errors.Is(err, ErrDuplicate) {
			break
		}
	}
	if err != nil {
		return "", err
	}
	switch {
	case owner.ID != 0:
		if err := a.notifyOwner(ctx, p, owner); err != nil {
			return "", err
		}
	case p.Type != TypeNone:
		a.mailCode(ctx, mailKindOf(p.Type), p, u, code)
		a.event(ctx, EventSignup, p.ID, u.UserID, "ok")
	default:
		if err := a.loginCompleted(ctx, account); err != nil {
			return "", err
		}
		a.event(ctx, EventSignup, p.ID, u.UserID, "ok")
	}
	return token, nil
}

// allowSignupMail spends what the mail of a signup costs, before anything
// is stored: the code-mail budget for a new email, only the address's mail
// cap for a taken one (its notice has a budget of its own). The code-mail
// budget is read first for both, so a spent budget answers 429 whether or
// not the email is taken.
//
// Every signup of an email, taken or not, also spends a pace of its own,
// one a CodeMailInterval per account, and is refused like a spent code
// budget within it. Otherwise a second signup within the minute would tell
// who has an account: a first signup of a new email creates the account
// and spends its code budget, so the second got 429, while both signups of
// a taken email got 200.
func (a *Auth) allowSignupMail(ctx context.Context, p Project, account, emailKey string) error {
	wait, err := a.spendPace(ctx, counterKey("signup-pace", account), a.cfg.CodeMailInterval)
	if err != nil {
		return err
	}
	if wait > 0 {
		return a.mailThrottled(ctx, p.ID, wait)
	}
	wait, err = a.mailBudgetSpent(ctx, account, purposeOf(p.Type))
	if err != nil {
		return err
	}
	if wait > 0 {
		return a.mailThrottled(ctx, p.ID, wait)
	}
	_, err = a.store.UserByEmail(ctx, p.ID, emailKey)
	switch {
	case errors.Is(err, ErrNotFound):
		return a.allowMail(ctx, p.ID, account, purposeOf(p.Type))
	case err != nil:
		return err
	}
	return a.allowMailFromIP(ctx, p.ID)
}

// notifyOwner mails the owner of a taken email that someone tried to sign
// up with it, within the notice's own budget of one a day.
func (a *Auth) notifyOwner(ctx context.Context, p Project, owner User) error {
	send, err := a.allowNotice(ctx, accountKey(p.ID, owner.EmailKey))
	if err != nil {
		return err
	}
	if !send {
		a.event(ctx, EventSignupTaken, p.ID, owner.UserID, "notice budget spent: not mailed")
		return nil
	}
	a.mailCode(ctx, MailAccountExists, p, owner, "")
	a.event(ctx, EventSignupTaken, p.ID, owner.UserID, "owner notified")
	return nil
}

// storeSignup writes the signup inside tx. The email is looked up before
// the insert, since a failed insert would end a PostgreSQL transaction.
// When it is taken, owner is its account and token a decoy.
func (a *Auth) storeSignup(ctx context.Context, tx Store, p Project, u *User, pk pkce) (token, code string, owner User, err error) {
	owner, err = tx.UserByEmail(ctx, p.ID, u.EmailKey)
	switch {
	case err == nil && p.Type == TypeNone:
		return "", "", User{}, fieldError("email", "The email has already been taken.")
	case err == nil:
		token, _, err = a.newChallenge(ctx, tx, p, User{}, u.EmailKey, purposeOf(p.Type), pk)
		return token, "", owner, err
	case !errors.Is(err, ErrNotFound):
		return "", "", User{}, err
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		return "", "", User{}, err
	}
	if p.Type == TypeNone {
		token, err = a.newAuthCode(ctx, tx, p.ID, u.ID, pk, AAL1, "")
		return token, "", User{}, err
	}
	token, code, err = a.newChallenge(ctx, tx, p, *u, u.EmailKey, purposeOf(p.Type), pk)
	return token, code, User{}, err
}

// purposeOf is the purpose of the codes a login of project type t mails.
func purposeOf(t ProjectType) Purpose {
	if t == TypeOTP {
		return PurposeOTP
	}
	return PurposeTwoStep
}

// mailKindOf is the kind of the code mail of project type t.
func mailKindOf(t ProjectType) MailKind {
	if t == TypeOTP {
		return MailOTP
	}
	return MailTwoStep
}
