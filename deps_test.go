package ihoprauth_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportersLinkOnlyWhatTheyUse checks what an app on PostgreSQL links
// when it imports the library, the store and the middleware: no cgo SQLite
// driver, no browser driver, no load generator.
func TestImportersLinkOnlyWhatTheyUse(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps",
		"github.com/ihoprauth/ihoprauth", "github.com/ihoprauth/ihoprauth/store",
		"github.com/ihoprauth/ihoprauth/authmw", "gorm.io/driver/postgres").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/mattn/go-sqlite3", "gorm.io/driver/sqlite", "github.com/chromedp/", "/loadtest/"} {
			if strings.Contains(pkg, banned) {
				t.Errorf("an app on PostgreSQL links %s; want no %s", pkg, banned)
			}
		}
	}
}
