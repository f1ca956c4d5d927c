package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// slowSMTP is an SMTP server that takes delay over each mail before it
// accepts it, and records the recipients of the mails it accepted.
type slowSMTP struct {
	delay time.Duration
	mu    sync.Mutex
	to    []string
}

func (s *slowSMTP) NewSession(*smtp.Conn) (smtp.Session, error) { return &slowSession{srv: s}, nil }

func (s *slowSMTP) accepted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.to...)
}

type slowSession struct {
	srv *slowSMTP
	to  []string
}

func (s *slowSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *slowSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *slowSession) Data(r io.Reader) error {
	if _, err := io.ReadAll(r); err != nil {
		return err
	}
	time.Sleep(s.srv.delay)
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.to = append(s.srv.to, s.to...)
	return nil
}
func (s *slowSession) Reset()        { s.to = nil }
func (s *slowSession) Logout() error { return nil }

// TestExampleDrainsOnSIGTERM stops the example with SIGTERM while a request
// is in flight and a mail is queued: /readyz answers 503 during
// -drain-delay, the request in flight gets its whole answer, new
// connections are refused after, the queued mail reaches the (slow) SMTP
// server, and the process exits 0.
func TestExampleDrainsOnSIGTERM(t *testing.T) {
	mails := &slowSMTP{delay: 2 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	smtpSrv := smtp.NewServer(mails)
	smtpSrv.Domain = "localhost"
	smtpSrv.ErrorLog = log.New(io.Discard, "", 0)
	go smtpSrv.Serve(ln)
	t.Cleanup(func() { smtpSrv.Close() })

	stdout, stderr := &output{}, &output{}
	cmd := exec.Command(buildExample(t), "-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "drain.db"),
		"-smtp", ln.Addr().String(), "-smtp-tls", "none", "-drain-delay", "1s",
		"-project", "none:drain-none:drain-secret-0123456789", "-project", "otp:drain-otp:drain-secret-0123456789")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("the example's stderr:\n%s", stderr)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	m, err := stdout.await(ctx, listening, 1)
	if err != nil {
		t.Fatalf("waiting for the example to listen: %v", err)
	}
	base := m[1]
	client := &http.Client{Timeout: 20 * time.Second}
	status := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}
	signup := func(project, email string) string {
		return fmt.Sprintf(`{"client_id":%q,"client_secret":"drain-secret-0123456789","email":%q,`+
			`"password":"Correct horse battery 9","first_name":"Ada","last_name":"Lovelace","mobile_number":"11223344"}`,
			project, email)
	}
	if code, body := status("GET", "/healthz", ""); code != 200 {
		t.Fatalf("/healthz: got %d %s", code, body)
	}
	if code, body := status("GET", "/readyz", ""); code != 200 {
		t.Fatalf("/readyz before SIGTERM: got %d %s", code, body)
	}
	if code, body := status("POST", "/api/v1/signup", signup("drain-none", "inflight@example.com")); code != 200 {
		t.Fatalf("signup: got %d %s", code, body)
	}

	// A login whose body is still being sent when SIGTERM arrives.
	login := `{"client_id":"drain-none","client_secret":"drain-secret-0123456789","email":"inflight@example.com","password":"Correct horse battery 9"}`
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", base+"/api/v1/login", pr)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(login))
	type answer struct {
		code int
		body string
		err  error
	}
	inflight := make(chan answer, 1)
	go func() {
		res, err := client.Do(req)
		if err != nil {
			inflight <- answer{err: err}
			return
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		inflight <- answer{code: res.StatusCode, body: string(raw)}
	}()
	if _, err := io.WriteString(pw, login[:20]); err != nil {
		t.Fatal(err)
	}
	// A mail queued: the otp signup's code, which the SMTP server takes
	// 2 s to accept.
	if code, body := status("POST", "/api/v1/signup", signup("drain-otp", "queued@example.com")); code != 200 {
		t.Fatalf("otp signup: got %d %s", code, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(900 * time.Millisecond)
	for {
		code, body := status("GET", "/readyz", "")
		if code == 503 && strings.Contains(body, "shutting down") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz during the drain delay: got %d %s, want 503 shutting down", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := status("GET", "/healthz", ""); code != 200 {
		t.Errorf("/healthz during the drain delay: got %d, want 200 (still serving)", code)
	}
	time.Sleep(1500 * time.Millisecond) // past the drain delay: the server takes no more requests
	if _, err := io.WriteString(pw, login[20:]); err != nil {
		t.Fatalf("finishing the request in flight: %v", err)
	}
	pw.Close()
	got := <-inflight
	if got.err != nil || got.code != 200 {
		t.Fatalf("the login in flight at SIGTERM: got %d %s %v, want its 200", got.code, got.body, got.err)
	}
	var v struct{ Code string }
	if json.Unmarshal([]byte(got.body), &v); v.Code == "" {
		t.Errorf("the login in flight: got %s, want a code", got.body)
	}
	fresh := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if res, err := fresh.Get(base + "/healthz"); err == nil {
		res.Body.Close()
		t.Errorf("a new connection after shutdown began: got %d, want it refused", res.StatusCode)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the example exited with %v, want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the example did not exit within 15 s of the request's end")
	}
	if got := mails.accepted(); len(got) != 1 || got[0] != "queued@example.com" {
		t.Fatalf("mail accepted by the SMTP server before the example exited: got %v, want the queued one", got)
	}
}
