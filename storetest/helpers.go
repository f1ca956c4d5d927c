package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// racers is how many goroutines call a one-time method at once.
const racers = 20

// raceRounds is how many fresh rows each one-time method is raced on: a
// store that checks and then writes in two statements lets two calls win
// only now and then.
const raceRounds = 5

// t0 is the time the test data is built around: microsecond precision, in
// a zone other than UTC, so that a store must convert it and keep it whole.
var t0 = time.Date(2030, 5, 6, 7, 8, 9, 123456000, time.FixedZone("UTC+2", 2*60*60))

// hash returns a 64-character hex string derived from label, shaped like
// the SHA-256 hashes the store keeps.
func hash(label string) string {
	sum := sha256.Sum256([]byte(label))
	return hex.EncodeToString(sum[:])
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// fixture is one fresh store holding one project and one of its users.
type fixture struct {
	ctx     context.Context
	store   ihoprauth.Store
	project ihoprauth.Project
	user    ihoprauth.User
}

func newFixture(t *testing.T, newStore newStoreFunc) *fixture {
	t.Helper()
	f := &fixture{ctx: t.Context(), store: newStore(t)}
	f.project = f.saveProject(t, newProject("web"))
	f.user = f.createUser(t, newUser(f.project.ID, "ann@example.com"))
	return f
}

func newProject(clientID string) ihoprauth.Project {
	return ihoprauth.Project{
		ClientID:   clientID,
		SecretHash: hash("secret of " + clientID),
		Type:       ihoprauth.TypeTwoStep,
		CreatedAt:  t0,
		UpdatedAt:  t0,
	}
}

func newUser(projectID int64, emailKey string) ihoprauth.User {
	return ihoprauth.User{
		UserID:       hash(strconv.FormatInt(projectID, 10) + emailKey)[:32],
		ProjectID:    projectID,
		Email:        " " + emailKey,
		EmailKey:     emailKey,
		FirstName:    "Ann",
		LastName:     "Example",
		MobileNumber: "+4915112345678",
		Meta:         ptr(`{"plan":"free"}`),
		Role:         "member",
		Provider:     "email",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
		CreatedAt:    t0,
		UpdatedAt:    t0.Add(time.Second),
	}
}

func (f *fixture) saveProject(t *testing.T, p ihoprauth.Project) ihoprauth.Project {
	t.Helper()
	if err := f.store.SaveProject(f.ctx, &p); err != nil {
		t.Fatalf("SaveProject: %v", err)
	}
	return p
}

func (f *fixture) createUser(t *testing.T, u ihoprauth.User) ihoprauth.User {
	t.Helper()
	if err := f.store.CreateUser(f.ctx, &u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func (f *fixture) newChallenge(purpose ihoprauth.Purpose, label string) ihoprauth.Challenge {
	return ihoprauth.Challenge{
		Purpose:             purpose,
		ProjectID:           f.project.ID,
		UserID:              f.user.ID,
		TokenHash:           hash("token " + label),
		AccountKey:          hash("account " + label),
		CodeHash:            hash("code " + label),
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		ExpiresAt:           t0.Add(10 * time.Minute),
		CreatedAt:           t0,
		Provider:            "oidc",
	}
}

func (f *fixture) createChallenge(t *testing.T, purpose ihoprauth.Purpose, label string) ihoprauth.Challenge {
	t.Helper()
	c := f.newChallenge(purpose, label)
	if err := f.store.CreateChallenge(f.ctx, &c); err != nil {
		t.Fatalf("CreateChallenge: %v", err)
	}
	return c
}

func (f *fixture) newAuthCode(label string) ihoprauth.AuthCode {
	return ihoprauth.AuthCode{
		Hash:                hash("auth code " + label),
		ProjectID:           f.project.ID,
		UserID:              f.user.ID,
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		ExpiresAt:           t0.Add(time.Minute),
		CreatedAt:           t0,
		AAL:                 ihoprauth.AAL1,
		Provider:            "oidc",
	}
}

func (f *fixture) createAuthCode(t *testing.T, label string) ihoprauth.AuthCode {
	t.Helper()
	c := f.newAuthCode(label)
	if err := f.store.CreateAuthCode(f.ctx, &c); err != nil {
		t.Fatalf("CreateAuthCode: %v", err)
	}
	return c
}

func (f *fixture) newToken(label, family string, authCodeID, userID int64) ihoprauth.Token {
	return ihoprauth.Token{
		AccessHash:       hash("access " + label),
		RefreshHash:      hash("refresh " + label),
		FamilyID:         hash("family " + family)[:32],
		ProjectID:        f.project.ID,
		UserID:           userID,
		AuthCodeID:       authCodeID,
		ExpiresAt:        t0.Add(time.Hour),
		RefreshExpiresAt: t0.Add(30 * 24 * time.Hour),
		CreatedAt:        t0,
		AAL:              ihoprauth.AAL1,
		AuthAt:           t0.Add(-time.Second),
	}
}

func (f *fixture) createToken(t *testing.T, label, family string, authCodeID, userID int64) ihoprauth.Token {
	t.Helper()
	tok := f.newToken(label, family, authCodeID, userID)
	if err := f.store.CreateToken(f.ctx, &tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return tok
}

// race calls fn from racers goroutines at once and returns how many of the
// calls reported true. Errors fail the test.
func race(t *testing.T, fn func() (bool, error)) int {
	t.Helper()
	return raceN(t, racers, fn)
}

// raceN is race with n goroutines.
func raceN(t *testing.T, n int, fn func() (bool, error)) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		wins  atomic.Int32
		start = make(chan struct{})
		errs  = make(chan error, n)
	)
	for range n {
		wg.Go(func() {
			<-start
			won, err := fn()
			if err != nil {
				errs <- err
			}
			if won {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: got error %v, want nil", err)
	}
	return int(wins.Load())
}

// checkEqual reports each field in which got differs from want. Times must
// be the same instant and in UTC; pointers are compared by what they point
// to.
func checkEqual[T any](t *testing.T, got, want T) {
	t.Helper()
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		if msg := diff(g.Field(i).Interface(), w.Field(i).Interface()); msg != "" {
			t.Errorf("%s: %s", g.Type().Field(i).Name, msg)
		}
	}
}

// diff describes how got differs from want, or returns "".
func diff(got, want any) string {
	switch g := got.(type) {
	case time.Time:
		return diffTime(g, want.(time.Time))
	case *time.Time:
		w := want.(*time.Time)
		if g == nil || w == nil {
			return diffNil(g == nil, w == nil, got, want)
		}
		return diffTime(*g, *w)
	case *string:
		w := want.(*string)
		if g == nil || w == nil {
			return diffNil(g == nil, w == nil, got, want)
		}
		return diff(*g, *w)
	case []string:
		if w := want.([]string); !slices.Equal(g, w) {
			return fmt.Sprintf("got %q, want %q", g, w)
		}
		return ""
	}
	if got != want {
		return fmt.Sprintf("got %#v, want %#v", got, want)
	}
	return ""
}

func diffTime(got, want time.Time) string {
	if !got.Equal(want) || got.Location() != time.UTC {
		return fmt.Sprintf("got %v, want %v", got, want.UTC())
	}
	return ""
}

func diffNil(gotNil, wantNil bool, got, want any) string {
	switch {
	case gotNil && wantNil:
		return ""
	case gotNil:
		return fmt.Sprintf("got nil, want %v", reflect.ValueOf(want).Elem())
	default:
		return fmt.Sprintf("got %v, want nil", reflect.ValueOf(got).Elem())
	}
}

// accessToken returns the token whose AccessHash equals hash, through
// TokenUser, the Store's only lookup by access hash.
func accessToken(f *fixture, hash string) (ihoprauth.Token, error) {
	tok, _, err := f.store.TokenUser(f.ctx, hash)
	return tok, err
}
