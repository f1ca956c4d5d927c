package argon2id

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// TestSameKeysAsXCrypto: over random passwords, salts and parameters (one
// to four lanes, memory not a multiple of the slices, below their minimum,
// keys shorter and longer than one BLAKE2b output), Key gives the key of
// x/crypto's argon2.IDKey, on fresh blocks and on blocks kept from other
// hashes with other parameters.
func TestSameKeysAsXCrypto(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kept := NewMemory(1, 1024, time.Minute)
	for i := range 60 {
		password := make([]byte, rng.IntN(40))
		salt := make([]byte, 8+rng.IntN(24))
		for _, b := range [][]byte{password, salt} {
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
		}
		passes := uint32(1 + rng.IntN(3))
		threads := uint8(1 + rng.IntN(4))
		memory := uint32(rng.IntN(600))
		keyLen := []uint32{4, 16, 32, 64, 65, 100, 128}[rng.IntN(7)]
		want := argon2.IDKey(password, salt, passes, memory, threads, keyLen)
		var fresh *Memory
		if got := fresh.Key(password, salt, passes, memory, threads, keyLen); !bytes.Equal(got, want) {
			t.Fatalf("case %d (t=%d m=%d p=%d len=%d), fresh blocks: got %x, want %x", i, passes, memory, threads, keyLen, got, want)
		}
		if got := kept.Key(password, salt, passes, memory, threads, keyLen); !bytes.Equal(got, want) {
			t.Fatalf("case %d (t=%d m=%d p=%d len=%d), kept blocks: got %x, want %x", i, passes, memory, threads, keyLen, got, want)
		}
	}
}

// TestTheDefaultCost: the cost ihoprauth hashes with (19 MiB, 2 passes,
// one lane) gives x/crypto's key, twice on the same kept blocks.
func TestTheDefaultCost(t *testing.T) {
	m := NewMemory(1, 19*1024, time.Minute)
	for _, pw := range []string{"correct horse battery staple", "another password"} {
		want := argon2.IDKey([]byte(pw), []byte("0123456789abcdef"), 2, 19*1024, 1, 32)
		if got := m.Key([]byte(pw), []byte("0123456789abcdef"), 2, 19*1024, 1, 32); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %x, want %x", pw, got, want)
		}
	}
	if m.Kept() != 1 {
		t.Errorf("kept %d sets of blocks after two hashes, want 1", m.Kept())
	}
	m.Key([]byte("pw"), []byte("0123456789abcdef"), 1, 20*1024, 1, 32)
	if m.Kept() != 1 {
		t.Errorf("kept %d sets of blocks after a hash of more memory, want 1 (not its own)", m.Kept())
	}
}

// TestMemoryIsDroppedWhenIdle: the kept blocks are let go once no hash has
// run for the idle time, and at most keep sets are kept.
func TestMemoryIsDroppedWhenIdle(t *testing.T) {
	m := NewMemory(2, 64, 50*time.Millisecond)
	done := make(chan bool)
	for range 3 { // three at once: three sets in use, two kept
		go func() { m.Key([]byte("pw"), []byte("saltsalt"), 1, 64, 1, 32); done <- true }()
	}
	for range 3 {
		<-done
	}
	if got := m.Kept(); got > 2 || got < 1 {
		t.Errorf("kept %d sets after three hashes, want 1 or 2 (at most keep)", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for m.Kept() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := m.Kept(); got != 0 {
		t.Errorf("kept %d sets after the idle time, want 0", got)
	}
}

// BenchmarkKey compares one hash at ihoprauth's cost, here and in x/crypto.
func BenchmarkKey(b *testing.B) {
	pw, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
	b.Run("kept", func(b *testing.B) {
		m := NewMemory(1, 19*1024, time.Minute)
		for b.Loop() {
			m.Key(pw, salt, 2, 19*1024, 1, 32)
		}
	})
	b.Run("xcrypto", func(b *testing.B) {
		for b.Loop() {
			argon2.IDKey(pw, salt, 2, 19*1024, 1, 32)
		}
	})
}

// TestPermuteIsGenerated: permute.go is what gen.go writes, so that the
// written-out rounds cannot drift from their generator by hand.
func TestPermuteIsGenerated(t *testing.T) {
	out := filepath.Join(t.TempDir(), "permute.go")
	if msg, err := exec.Command("go", "run", "gen.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("permute.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("permute.go differs from what gen.go writes: run go generate ./internal/argon2id")
	}
}

// TestReferenceVector: the key of the reference implementation's own test
// (password "password", salt "somesalt", 2 passes, 64 MiB, one lane), a
// check that does not lean on x/crypto.
func TestReferenceVector(t *testing.T) {
	const want = "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7"
	var m *Memory
	if got := fmt.Sprintf("%x", m.Key([]byte("password"), []byte("somesalt"), 2, 65536, 1, 32)); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestKeptBlocksAreCleared: the blocks a hash leaves in the pool hold
// nothing of it.
func TestKeptBlocksAreCleared(t *testing.T) {
	m := NewMemory(1, 64, time.Minute)
	m.Key([]byte("a password"), []byte("saltsalt"), 1, 64, 1, 32)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, set := range m.free {
		for i := range set[:cap(set)] {
			if set[:cap(set)][i] != (block{}) {
				t.Fatalf("kept block %d is not cleared", i)
			}
		}
	}
}
