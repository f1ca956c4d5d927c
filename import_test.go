package ihoprauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/ihoprauth/ihoprauth"
)

func TestImportedBcryptUserLogsInAndIsUpgraded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hash, err := bcrypt.GenerateFromPassword([]byte("old laravel password"), 4)
	if err != nil {
		t.Fatal(err)
	}
	laravel := "$2y$" + string(hash[4:]) // Laravel writes $2y$
	u, err := e.auth.ImportUser(ctx, "web-none", ihoprauth.ImportedUser{
		Email: "Legacy@example.com", FirstName: "Leg", LastName: "Acy", MobileNumber: "1", PasswordHash: laravel,
		UserID: "8d0aae04d621f4246df96b9de511c744",
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.UserID != "8d0aae04d621f4246df96b9de511c744" {
		t.Errorf("got user_id %s, want the imported one", u.UserID)
	}
	want(t, e.post("/api/v1/login", with(e.none, "email", "legacy@example.com", "password", "old laravel password x")), 401)
	r := e.post("/api/v1/login", with(e.none, "email", "legacy@example.com", "password", "old laravel password"))
	want(t, r, 200)
	after, err := e.auth.UserByEmail(ctx, "web-none", "legacy@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$") {
		t.Errorf("got hash %.7s…, want it upgraded to argon2id", after.PasswordHash)
	}
	want(t, e.post("/api/v1/login", with(e.none, "email", "legacy@example.com", "password", "old laravel password")), 200)
	if _, err := e.auth.ImportUser(ctx, "web-none", ihoprauth.ImportedUser{Email: "legacy@EXAMPLE.com"}); !errors.Is(err, ihoprauth.ErrDuplicate) {
		t.Errorf("got %v, want ErrDuplicate for the same email again", err)
	}
}

func TestBcryptNeverVerifiesPast72Bytes(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("x", 72)
	hash, err := bcrypt.GenerateFromPassword([]byte(long), 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.ImportUser(context.Background(), "web-none", ihoprauth.ImportedUser{Email: "long@example.com", PasswordHash: string(hash)}); err != nil {
		t.Fatal(err)
	}
	want(t, e.post("/api/v1/login", with(e.none, "email", "long@example.com", "password", long+"tail")), 401)
	want(t, e.post("/api/v1/login", with(e.none, "email", "long@example.com", "password", long)), 200)
}

func TestImportRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	cases := map[string]ihoprauth.ImportedUser{
		"bad email":    {Email: "not-an-email"},
		"control char": {Email: "c@example.com", FirstName: "a\nb"},
		"unknown hash": {Email: "h@example.com", PasswordHash: "md5:abc"},
		"bad user_id":  {Email: "u@example.com", UserID: "not-hex"},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := e.auth.ImportUser(context.Background(), "web-none", in); err == nil {
				t.Error("got nil, want an error")
			}
		})
	}
	if _, err := e.auth.ImportUser(context.Background(), "no-such-project", ihoprauth.ImportedUser{Email: "x@example.com"}); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound for an unknown project", err)
	}
}
