package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/store"
	"github.com/ihoprauth/ihoprauth/store/sqlite"
)

func Example() {
	dir, err := os.MkdirTemp("", "ihoprauth")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sqlite.Open(filepath.Join(dir, "auth.db"))
	if err != nil {
		log.Fatal(err)
	}
	st, err := store.New(context.Background(), db, store.Config{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	p := ihoprauth.Project{ClientID: "web", Type: ihoprauth.TypeOTP, Public: true}
	if err := st.SaveProject(ctx, &p); err != nil {
		log.Fatal(err)
	}
	got, err := st.ProjectByClientID(ctx, "web")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.ID, got.Type, got.Public)
	// Output: 1 otp true
}
