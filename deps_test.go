package ihoprauth_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportersLinkOnlyWhatTheyUse checks what an app links when it
// imports the library, the store and the middleware with one database:
// on PostgreSQL no SQLite driver, no browser driver, no load generator; on
// SQLite through store/sqlite (cgo) not the pure-Go SQLite; on SQLite
// through store/puresqlite not mattn/go-sqlite3, which needs cgo.
func TestImportersLinkOnlyWhatTheyUse(t *testing.T) {
	const (
		mattn    = "github.com/mattn/go-sqlite3"
		gormLite = "gorm.io/driver/sqlite"
		glebarez = "github.com/glebarez/"
		modernc  = "modernc.org/"
	)
	unused := []string{"github.com/chromedp/", "/loadtest/"}
	tests := []struct {
		name   string
		db     string
		banned []string
	}{
		{"PostgreSQL", "gorm.io/driver/postgres", append([]string{mattn, gormLite, glebarez, modernc}, unused...)},
		{"store/sqlite", "github.com/ihoprauth/ihoprauth/store/sqlite", append([]string{glebarez, modernc}, unused...)},
		{"store/puresqlite", "github.com/ihoprauth/ihoprauth/store/puresqlite", append([]string{mattn, gormLite}, unused...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps",
				"github.com/ihoprauth/ihoprauth", "github.com/ihoprauth/ihoprauth/store",
				"github.com/ihoprauth/ihoprauth/authmw", tt.db).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps: %v\n%s", err, out)
			}
			pkgs := strings.Fields(string(out))
			for _, pkg := range pkgs {
				for _, banned := range tt.banned {
					if strings.Contains(pkg, banned) {
						t.Errorf("an app on %s links %s; want no %s", tt.name, pkg, banned)
					}
				}
			}
			if !slices.Contains(pkgs, tt.db) {
				t.Errorf("go list -deps: got no %s in its own list, want it (the list is wrong)", tt.db)
			}
		})
	}
}
