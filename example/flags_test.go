package main

import (
	"flag"
	"io"
	"net"
	"runtime/debug"
	"slices"
	"testing"
	"time"
)

// TestDurationFlag: an unset duration flag leaves the library's default, 0
// or a negative value turns the field off, and a positive one is used as
// it is (docs/design.md, D32).
func TestDurationFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want time.Duration
	}{
		{"unset: the library's default", nil, 0},
		{"0: off", []string{"-token-cache", "0"}, -1},
		{"negative: off", []string{"-token-cache", "-5s"}, -1},
		{"positive", []string{"-token-cache", "1m"}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f durationFlag
			fs := flag.NewFlagSet("example", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.Var(&f, "token-cache", "")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if got := f.config(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMemoryLimit: -memory-limit auto is the hashes' budget plus the
// example's own allowance, off is none, a number is MiB, anything else is
// refused, and GOMEMLIMIT in the environment wins over the flag.
func TestMemoryLimit(t *testing.T) {
	const hashes = 19 << 20
	tests := []struct {
		flag    string
		want    int64
		wantErr bool
	}{
		{"auto", hashes + appMemory, false},
		{"off", 0, false},
		{"96", 96 << 20, false},
		{"0", 0, true},
		{"-5", 0, true},
		{"96MiB", 0, true},
	}
	t.Setenv("GOMEMLIMIT", "")
	for _, tt := range tests {
		got, err := memoryLimit(tt.flag, hashes)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("-memory-limit %s: got %d, %v; want %d (error %v)", tt.flag, got, err, tt.want, tt.wantErr)
		}
	}
	t.Setenv("GOMEMLIMIT", "200MiB")
	if got, err := memoryLimit("auto", hashes); got != 0 || err != nil {
		t.Errorf("with GOMEMLIMIT set: got %d, %v; want 0 (the runtime's own)", got, err)
	}
}

// TestPasskeyFlags: -passkey-rp localhost with no -passkey-origin allows the
// page at http://localhost on the port listened on; other ids default to
// https; an empty -passkey-rp turns passkeys off.
func TestPasskeyFlags(t *testing.T) {
	ln := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 43210}
	tests := []struct {
		name    string
		o       options
		id      string
		origins []string
	}{
		{"default", options{passkeyRP: "localhost"}, "localhost", []string{"http://localhost:43210"}},
		{"a domain", options{passkeyRP: "example.com", passkeyOrigins: listFlag{"https://login.example.com"}},
			"example.com", []string{"https://login.example.com"}},
		{"a domain, no origin: the library's default", options{passkeyRP: "example.com"}, "example.com", nil},
		{"off", options{}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := tt.o.passkeys(ln)
			if rp.ID != tt.id || !slices.Equal(rp.Origins, tt.origins) {
				t.Errorf("got %q %v, want %q %v", rp.ID, rp.Origins, tt.id, tt.origins)
			}
		})
	}
}

// TestCollectByLimit: with a memory limit the example turns GOGC's
// doubling trigger off, unless GOGC is set in the environment.
func TestCollectByLimit(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	collectByLimit()
	if got := debug.SetGCPercent(100); got != -1 {
		t.Errorf("GOGC unset: got GC percent %d, want -1 (off)", got)
	}
	t.Setenv("GOGC", "100")
	collectByLimit()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=100: got GC percent %d, want it left at 100", got)
	}
}
