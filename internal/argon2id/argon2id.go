// Package argon2id is Argon2id, version 1.3 (RFC 9106), in pure Go, whose
// working memory outlives a hash: a Memory keeps the blocks of the hashes
// it ran and hands them to the next, so that a server hashing passwords
// does not allocate Memory KiB afresh for every login.
//
//	m := argon2id.NewMemory(1, 19456, time.Minute) // one hash at a time, 19 MiB kept
//	key := m.Key([]byte(password), salt, 2, 19456, 1, 32)
//
// golang.org/x/crypto/argon2 allocates them anew each time and takes no
// memory from its caller (golang/go#36634). In a Go server that logs users
// in back to back, each of those allocations lands on the garbage
// collector at once: with a memory limit that keeps the process small, one
// collection per hash, paid in mark assists by whatever else the process
// is doing (docs/design.md, D47). This package gives the same keys as
// x/crypto's IDKey, which its tests check over random inputs and
// parameters. It has no assembly: its rounds are written out by gen.go,
// and the XORs of whole blocks run on crypto/subtle's vector code, which
// makes it about as fast as x/crypto's (BENCHMARKS.md).
package argon2id

import (
	"crypto/subtle"
	"encoding/binary"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/crypto/blake2b"
)

//go:generate go run gen.go

// Version is the version of Argon2 this package implements, 0x13.
const Version = 0x13

const (
	blockWords = 128 // a block is 1 KiB: 128 little-endian 64-bit words
	syncPoints = 4   // slices of a lane (RFC 9106 §3.4: SL)
	typeID     = 2   // Argon2id (RFC 9106 §3.2: y)
)

type block [blockWords]uint64

// checkEvery is how many blocks a hash computes between two looks at the
// Go scheduler, about a fifth of a millisecond's worth (see waiting).
const checkEvery = 256

// Memory hands out the working memory of hashes and takes it back: at
// most keep sets of blocks, of at most maxKiB each, are kept between
// hashes, and all of them are dropped once no hash has run for idle, so
// that an idle process gives the memory back to the garbage collector. A
// nil Memory keeps none.
type Memory struct {
	keep      int
	maxBlocks int
	idle      time.Duration

	mu    sync.Mutex
	free  [][]block
	timer *time.Timer
}

// NewMemory returns a Memory that keeps up to keep sets of blocks of at
// most maxKiB each (a hash of more memory, say of a stored hash made at a
// higher cost, gets blocks of its own), and drops them after idle without
// a hash.
func NewMemory(keep int, maxKiB uint32, idle time.Duration) *Memory {
	return &Memory{keep: keep, maxBlocks: int(maxKiB), idle: idle}
}

// get returns n blocks, kept from an earlier hash when it can (which
// cleared them; every block is written before it is read anyway).
func (m *Memory) get(n int) []block {
	if m == nil || n > m.maxBlocks {
		return make([]block, n)
	}
	m.mu.Lock()
	var b []block
	if len(m.free) > 0 {
		b = m.free[len(m.free)-1]
		m.free = m.free[:len(m.free)-1]
	}
	m.mu.Unlock()
	if b == nil {
		b = make([]block, m.maxBlocks)
	}
	return b[:n]
}

// put takes b back for the next hash.
func (m *Memory) put(b []block) {
	if m == nil || cap(b) > m.maxBlocks {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.free) < m.keep {
		m.free = append(m.free, b)
	}
	if m.timer == nil {
		m.timer = time.AfterFunc(m.idle, m.drop)
	} else {
		m.timer.Reset(m.idle)
	}
}

// drop lets the collector have the kept blocks.
func (m *Memory) drop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.free)
	m.free = m.free[:0]
}

// Kept returns how many sets of blocks m holds between hashes.
func (m *Memory) Kept() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.free)
}

// Key derives a keyLen-byte key from password and salt with Argon2id of
// time passes over memory KiB in threads lanes, as x/crypto's
// argon2.IDKey does, running the lanes of each slice one after another.
// Its blocks come from m, and go back to it. It panics, as IDKey does,
// when time or threads is 0.
func (m *Memory) Key(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	if time < 1 {
		panic("argon2id: number of rounds too small")
	}
	if threads < 1 {
		panic("argon2id: parallelism degree too low")
	}
	lanes := uint32(threads)
	h0 := initialHash(password, salt, time, memory, lanes, keyLen)
	memory = max(memory, 2*syncPoints*lanes) / (syncPoints * lanes) * (syncPoints * lanes)
	b := m.get(int(memory))
	defer func() {
		// The blocks of a hash test a guess of its password cheaply (walked
		// back from the last, they give up the first), so none outlives
		// its hash, kept or not: the reference implementation clears them
		// too, against reads of a process's memory.
		clear(b)
		m.put(b)
	}()
	first(b, &h0, memory, lanes)
	fill(b, time, memory, lanes)
	return finalHash(b, memory, lanes, keyLen)
}

// initialHash is H0 (RFC 9106 §3.2, step 1), with no secret and no
// associated data.
func initialHash(password, salt []byte, time, memory, lanes, keyLen uint32) [blake2b.Size + 8]byte {
	var h0 [blake2b.Size + 8]byte
	d, _ := blake2b.New512(nil)
	var le [4]byte
	word := func(v uint32) {
		binary.LittleEndian.PutUint32(le[:], v)
		d.Write(le[:])
	}
	for _, v := range []uint32{lanes, keyLen, memory, time, Version, typeID} {
		word(v)
	}
	word(uint32(len(password)))
	d.Write(password)
	word(uint32(len(salt)))
	d.Write(salt)
	word(0) // no secret
	word(0) // no associated data
	d.Sum(h0[:0])
	return h0
}

// first fills the first two blocks of every lane from H0 (§3.2, steps 3
// and 4). h0's last 8 bytes are where the block's index and lane go.
func first(b []block, h0 *[blake2b.Size + 8]byte, memory, lanes uint32) {
	var out [1024]byte
	q := memory / lanes
	for lane := range lanes {
		binary.LittleEndian.PutUint32(h0[blake2b.Size+4:], lane)
		for i := range uint32(2) {
			binary.LittleEndian.PutUint32(h0[blake2b.Size:], i)
			hashPrime(out[:], h0[:])
			dst := &b[lane*q+i]
			for w := range dst {
				dst[w] = binary.LittleEndian.Uint64(out[8*w:])
			}
		}
	}
	clear(out[:])
}

// finalHash XORs the last block of every lane and hashes the result to
// keyLen bytes (§3.2, steps 7 and 8).
func finalHash(b []block, memory, lanes, keyLen uint32) []byte {
	q := memory / lanes
	c := b[q-1]
	for lane := uint32(1); lane < lanes; lane++ {
		last := &b[lane*q+q-1]
		for w := range c {
			c[w] ^= last[w]
		}
	}
	var in [1024]byte
	for w, v := range c {
		binary.LittleEndian.PutUint64(in[8*w:], v)
	}
	key := make([]byte, keyLen)
	hashPrime(key, in[:])
	clear(c[:])
	clear(in[:])
	return key
}

// hashPrime is H' (§3.3): out gets len(out) bytes of the variable-length
// hash of in.
func hashPrime(out, in []byte) {
	var le [4]byte
	binary.LittleEndian.PutUint32(le[:], uint32(len(out)))
	if len(out) <= blake2b.Size {
		d, _ := blake2b.New(len(out), nil)
		d.Write(le[:])
		d.Write(in)
		d.Sum(out[:0])
		return
	}
	d, _ := blake2b.New512(nil)
	d.Write(le[:])
	d.Write(in)
	var v [blake2b.Size]byte
	d.Sum(v[:0])
	n := copy(out, v[:32])
	for len(out)-n > blake2b.Size {
		v = blake2b.Sum512(v[:])
		n += copy(out[n:], v[:32])
	}
	d, _ = blake2b.New(len(out)-n, nil)
	d.Write(v[:])
	d.Sum(out[n:n])
}

// fill computes every block of every pass after the first two of each
// lane (§3.2, steps 5 and 6; §3.4 for the reference blocks).
func fill(b []block, time, memory, lanes uint32) {
	var w work
	defer clear(w.r[:])
	defer clear(w.z[:])
	q := memory / lanes
	segment := q / syncPoints
	for pass := range time {
		for slice := range uint32(syncPoints) {
			for lane := range lanes {
				fillSegment(&w, b, pass, slice, lane, time, memory, lanes, q, segment)
			}
		}
	}
}

// fillSegment computes the blocks of one slice of one lane. Argon2id
// takes its reference blocks' indices from a counter-driven stream of
// address blocks in the first half of the first pass (data-independent),
// and from the previous block everywhere else.
func fillSegment(w *work, b []block, pass, slice, lane, time, memory, lanes, q, segment uint32) {
	independent := pass == 0 && slice < syncPoints/2
	var input, address, zero block
	if independent {
		input[0], input[1], input[2] = uint64(pass), uint64(lane), uint64(slice)
		input[3], input[4], input[5] = uint64(memory), uint64(time), typeID
	}
	start := uint32(0)
	if pass == 0 && slice == 0 {
		start = 2 // the first two blocks are made from H0
		if independent {
			w.nextAddresses(&address, &input, &zero)
		}
	}
	offset := lane*q + slice*segment + start
	for index := start; index < segment; index, offset = index+1, offset+1 {
		if index%checkEvery == 0 && w.sched.waiting() {
			runtime.Gosched()
		}
		prev := offset - 1
		if slice == 0 && index == 0 {
			prev = offset + q - 1 // the first block of a lane follows its last
		}
		var rand uint64
		if independent {
			if index%blockWords == 0 {
				w.nextAddresses(&address, &input, &zero)
			}
			rand = address[index%blockWords]
		} else {
			rand = b[prev][0]
		}
		refLane := lane // always so in the first slice of the first pass
		if lanes > 1 && (pass > 0 || slice > 0) {
			refLane = uint32(rand>>32) % lanes
		}
		ref := refIndex(pass, slice, index, uint32(rand), refLane == lane, q, segment)
		w.compress(&b[offset], &b[prev], &b[refLane*q+ref], pass > 0)
	}
}

// nextAddresses advances the counter of input and makes the next 128
// reference words: G(0, G(0, input)).
func (w *work) nextAddresses(address, input, zero *block) {
	input[6]++
	w.compress(address, zero, input, false)
	w.compress(address, zero, address, false)
}

// refIndex maps the 32 bits j1 to the column of the reference block within
// its lane (§3.4.1.2): a block already computed and not in the slice
// being computed by other lanes, biased toward the most recent.
func refIndex(pass, slice, index, j1 uint32, sameLane bool, q, segment uint32) uint32 {
	var area, begin uint32
	switch {
	case pass == 0 && sameLane:
		area = slice*segment + index - 1
	case pass == 0:
		area = slice * segment
		if index == 0 {
			area--
		}
	case sameLane:
		area = q - segment + index - 1
	default:
		area = q - segment
		if index == 0 {
			area--
		}
	}
	if pass > 0 && slice != syncPoints-1 {
		begin = (slice + 1) * segment
	}
	x := uint64(j1) * uint64(j1) >> 32
	y := uint32(uint64(area) * x >> 32)
	ref := begin + area - 1 - y // below 2q: begin and area are each below q
	if ref >= q {
		ref -= q
	}
	return ref
}

// work is the two blocks compress computes in, kept for a whole hash
// rather than zeroed on the stack for every block, and what the hash
// reads of the scheduler.
type work struct {
	r, z  block
	sched sched
}

// sched reads whether a goroutine waits for a P, so that a hash can step
// aside for it: a goroutine that becomes runnable while every P is busy
// (an app's request, on a server whose CPUs are all hashing or serving)
// would otherwise wait for the scheduler to preempt a hash, 10 ms or
// more. A hash yields only then: yielding whenever it could moves it
// between CPUs while another P sits idle, which cost a fifth of the
// logins a second in a storm (BENCHMARKS.md).
type sched [3]metrics.Sample

func (s *sched) waiting() bool {
	if s[0].Name == "" {
		s[0].Name = "/sched/goroutines/runnable:goroutines"
		s[1].Name = "/sched/goroutines/running:goroutines"
		s[2].Name = "/sched/gomaxprocs:threads"
	}
	metrics.Read(s[:])
	for i := range s {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return false // a Go without these metrics: never yield
		}
	}
	return s[0].Value.Uint64() > 0 && s[1].Value.Uint64() >= s[2].Value.Uint64()
}

// compress sets *dst to G(x, y) (§3.5), XORed with its old contents when
// xor is set (passes after the first, version 1.3). dst may be y.
func (w *work) compress(dst, x, y *block, xor bool) {
	r, z := &w.r, &w.z
	subtle.XORBytes(bytesOf(r), bytesOf(x), bytesOf(y))
	permute(z, r)
	subtle.XORBytes(bytesOf(z), bytesOf(z), bytesOf(r))
	if xor {
		subtle.XORBytes(bytesOf(dst), bytesOf(dst), bytesOf(z))
		return
	}
	*dst = *z
}

// bytesOf is b's memory as bytes, for crypto/subtle's XOR, which runs
// vector instructions where the CPU has them.
func bytesOf(b *block) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(b)), 8*blockWords)
}
