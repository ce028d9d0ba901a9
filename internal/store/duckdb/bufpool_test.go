package duckdb

import "testing"

func TestBufPool(t *testing.T) {
	p := newBufPool(1 << 20)
	a := p.Allocate(100 << 10)
	if len(a) != 100<<10 || cap(a) != 128<<10 {
		t.Fatalf("allocate: len %d cap %d", len(a), cap(a))
	}
	a[0] = 7
	p.Free(a)
	b := p.Allocate(90 << 10)
	if &b[0] != &a[0] {
		t.Error("a freed buffer of the same class is not reused")
	}
	p.Free(b)
	if c := p.Allocate(300 << 10); cap(c) != 512<<10 {
		t.Errorf("another class: cap %d", cap(c))
	}
	// Past maxBytes buffers are dropped.
	for range 20 {
		p.Free(make([]byte, 256<<10))
	}
	if p.bytes > p.maxBytes {
		t.Errorf("pool holds %d bytes, max %d", p.bytes, p.maxBytes)
	}
	// Odd capacities are left to the GC.
	p.Free(make([]byte, 5000))
	if got := p.Reallocate(200<<10, make([]byte, 10, 10)); len(got) != 200<<10 {
		t.Errorf("reallocate: len %d", len(got))
	}
}
