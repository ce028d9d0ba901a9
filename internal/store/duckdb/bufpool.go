package duckdb

import (
	"math/bits"
	"sync"
)

// bufPool recycles the buffers of the Arrow chunks an ingest hands to
// DuckDB (an arrow memory.Allocator). DuckDB releases a chunk once it has
// copied it; its buffers come back here and build a later chunk, instead
// of each chunk taking fresh memory that the kernel must fault in and zero
// (page faults were a third of an ingest's CPU samples, see
// docs/BENCHMARKS.md). Buffers are kept by power-of-two capacity, at most
// maxBytes in all.
type bufPool struct {
	mu       sync.Mutex
	free     [64][][]byte
	bytes    int
	maxBytes int
}

func newBufPool(maxBytes int) *bufPool { return &bufPool{maxBytes: maxBytes} }

// minPooled is the smallest buffer worth keeping.
const minPooled = 4 << 10

func sizeClass(n int) int { return bits.Len(uint(n - 1)) }

// Allocate returns a buffer of size bytes with unspecified contents.
func (p *bufPool) Allocate(size int) []byte {
	if size < minPooled {
		return make([]byte, size)
	}
	c := sizeClass(size)
	p.mu.Lock()
	if l := p.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		p.bytes -= cap(b)
		p.mu.Unlock()
		return b[:size]
	}
	p.mu.Unlock()
	return make([]byte, size, 1<<c)
}

// Reallocate returns a buffer of size bytes holding b's bytes.
func (p *bufPool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free takes a buffer back (one of another capacity is left to the GC).
func (p *bufPool) Free(b []byte) {
	n := cap(b)
	if n < minPooled || n&(n-1) != 0 {
		return
	}
	p.mu.Lock()
	if p.bytes+n <= p.maxBytes {
		c := sizeClass(n)
		p.free[c] = append(p.free[c], b[:0])
		p.bytes += n
	}
	p.mu.Unlock()
}
