package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserProvider clicks "Sign in with the local test provider" on the
// example's page, started as the README says with -oidc-issuer pointing at
// go run ./example/testprovider: the browser goes to the provider and back,
// and the page ends signed in as the provider's user (docs/design.md, D44).
func TestBrowserProvider(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping the browser test: no Chromium at %s (install Debian's chromium package; .ci/run does)", chromiumPath)
	}
	issuer := startTestProvider(t)
	addr := freeAddr(t)
	base, _ := startExample(t, "-addr", addr, "-public-url", "http://"+addr, "-oidc-issuer", issuer,
		"-oidc-client-id", "ihoprauth-demo", "-oidc-client-secret", "demo-secret")
	e := &browserEnv{browser: startBrowser(t), base: base}
	app, _ := e.open(t, "web-none")
	app.waitVisible("#provider-button")
	// The page leaves for the provider and comes back: wait for the page
	// that came back to be ready, not the one that left.
	value(app, "mark the page that leaves", chromedp.Evaluate[string](`document.body.dataset.ready = 'left'`))
	app.do("click the provider button and come back",
		chromedp.Click(chromedp.CSS("#provider-button")),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="true"]`)),
	)
	app.waitSignedIn("jane.doe@example.com")
	app.wantUser("jane.doe@example.com", "local") // the token answer's provider
}

// startTestProvider builds and runs ./example/testprovider on a loopback
// port until the test ends, and returns its issuer.
func startTestProvider(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "testprovider")
	build := exec.Command("go", "build", "-o", bin, "./example/testprovider")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./example/testprovider: %v\n%s", err, out)
	}
	stdout := &output{}
	cmd := exec.Command(bin, "-addr", freeAddr(t))
	cmd.Stdout, cmd.Stderr = stdout, stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	m, err := stdout.await(ctx, regexp.MustCompile(`provider \(mockoidc\) at (http://\S+),`), 1)
	if err != nil {
		t.Fatalf("waiting for the test provider: %v\n%s", err, stdout)
	}
	return m[1]
}

// freeAddr returns a loopback address with a port that was free just now:
// the example's -public-url must name its port before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
