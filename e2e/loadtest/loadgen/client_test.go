package main

import (
	"net/netip"
	"testing"
)

func TestSourceAddr(t *testing.T) {
	for i, want := range map[int]string{0: "127.1.0.1", 253: "127.1.0.254", 254: "127.1.1.1", maxSources - 1: "127.1.255.254"} {
		if got := sourceAddr(i).String(); got != want {
			t.Errorf("sourceAddr(%d) = %s, want %s", i, got, want)
		}
	}
	seen := map[netip.Addr]bool{}
	for i := range maxSources {
		a := sourceAddr(i)
		if !a.IsLoopback() || seen[a] {
			t.Fatalf("sourceAddr(%d) = %s: not loopback, or repeated", i, a)
		}
		seen[a] = true
	}
}
