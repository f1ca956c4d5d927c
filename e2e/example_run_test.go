package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// repoRoot is the root module's directory, which holds ./example.
const repoRoot = ".."

// exampleBinary is the example, built once for every test of the process.
var exampleBinary struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if exampleBinary.dir != "" {
		os.RemoveAll(exampleBinary.dir)
	}
	os.Exit(code)
}

// buildExample builds ./example with the root module, as go run ./example
// does, and returns the path of the binary.
func buildExample(t *testing.T) string {
	t.Helper()
	b := &exampleBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "ihoprauth-e2e-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "example")
		cmd := exec.Command("go", "build", "-o", b.path, "./example")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build ./example: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// listening is the first line the example prints, with its URL.
var listening = regexp.MustCompile(`listening on (http://\S+)\n`)

// startExample runs the example with its demo projects on a loopback port,
// over a new SQLite file, with flags added, and stops it with SIGINT when the test ends,
// which must end it cleanly within 10 s. It returns the example's URL and
// its stderr, where the dev mailer writes every mail.
func startExample(t *testing.T, flags ...string) (string, *output) {
	t.Helper()
	stdout, stderr := &output{}, &output{}
	args := append([]string{"-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "example.db")}, flags...)
	cmd := exec.Command(buildExample(t), args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the example: %v", err)
	}
	running, exited := context.WithCancel(context.Background())
	var exitErr error
	go func() {
		exitErr = cmd.Wait()
		exited()
	}()
	t.Cleanup(func() {
		stopExample(t, cmd, running)
		if exitErr != nil {
			t.Errorf("the example stopped with %v, want a clean exit", exitErr)
		}
		if t.Failed() {
			t.Logf("the example's stdout:\n%s\nits stderr (log and mails):\n%s", stdout, stderr)
		}
	})
	ctx, cancel := context.WithTimeout(running, stepTimeout)
	defer cancel()
	m, err := stdout.await(ctx, listening, 1)
	if err != nil {
		t.Fatalf("waiting for the example to listen: %v\nits stderr:\n%s", err, stderr)
	}
	return m[1], stderr
}

// stopExample interrupts the example, as Ctrl-C does, and kills it if it
// has not exited within 10 s.
func stopExample(t *testing.T, cmd *exec.Cmd, running context.Context) {
	t.Helper()
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-running.Done():
		return
	case <-time.After(10 * time.Second):
	}
	t.Errorf("the example did not stop within 10 s of SIGINT")
	cmd.Process.Kill()
	<-running.Done()
}

// output keeps what a process writes and lets a test wait for it.
type output struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{} // closed by the next Write
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b.Write(p)
	if o.wrote != nil {
		close(o.wrote)
		o.wrote = nil
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// await returns the n-th match of re (its submatches) once it was written.
func (o *output) await(ctx context.Context, re *regexp.Regexp, n int) ([]string, error) {
	for {
		o.mu.Lock()
		matches := re.FindAllStringSubmatch(o.b.String(), n)
		if o.wrote == nil {
			o.wrote = make(chan struct{})
		}
		wrote := o.wrote
		o.mu.Unlock()
		if len(matches) >= n {
			return matches[n-1], nil
		}
		select {
		case <-wrote:
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d matches of %s: %w", len(matches), n, re, ctx.Err())
		}
	}
}
