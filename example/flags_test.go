package main

import (
	"flag"
	"io"
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
