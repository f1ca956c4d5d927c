package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRun serves the program on a loopback port: the project takes a
// signup, the app's route refuses a request without a token, and run
// returns nil soon after its context ends.
func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, filepath.Join(t.TempDir(), "minimal.db"), "test-secret") }()

	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 30 * time.Second}
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"signup in the project", "POST", "/api/v1/signup", `{"client_id":"app","client_secret":"test-secret",
			"email":"ada@example.com","password":"correct horse battery","first_name":"Ada","last_name":"Lovelace",
			"mobile_number":"5550100"}`, http.StatusOK},
		{"the app's route needs a token", "GET", "/hello", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %s %s: got %d, want %d", tt.name, tt.method, tt.path, resp.StatusCode, tt.status)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: got %v, want nil after its context ended", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return within 15 s of its context ending")
	}
}
