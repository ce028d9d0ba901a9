//go:build isal && cgo

package inflate

/*
#cgo LDFLAGS: -lisal
#include <stdlib.h>
#include <isa-l/igzip_lib.h>

// step runs one isal_inflate call; a finished member with input left is
// reset for the next member (keeping the input position).
static int step(struct inflate_state *s, int *finished) {
	int ret = isal_inflate(s);
	*finished = s->block_state == ISAL_BLOCK_FINISH;
	return ret;
}

static void next_member(struct inflate_state *s) {
	uint8_t *in = s->next_in;
	uint32_t avail = s->avail_in;
	isal_inflate_reset(s);
	s->crc_flag = ISAL_GZIP;
	s->next_in = in;
	s->avail_in = avail;
}

static struct inflate_state *new_state(void) {
	struct inflate_state *s = malloc(sizeof(struct inflate_state));
	if (s == NULL) return NULL;
	isal_inflate_init(s);
	s->crc_flag = ISAL_GZIP;
	return s;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// Impl names the inflater this build uses.
const Impl = "isa-l"

const (
	inSize  = 256 << 10
	outSize = 1 << 20
)

// isalReader inflates with ISA-L. The state and both buffers live in C
// memory, so no Go pointer is ever handed to C.
type isalReader struct {
	src      io.Reader
	state    *C.struct_inflate_state
	in, out  unsafe.Pointer
	inBuf    []byte // views of the C buffers
	outBuf   []byte
	pending  []byte // inflated bytes not yet returned
	srcEOF   bool
	finished bool // the current member is complete
	members  int
	err      error
}

// NewReader returns a reader of the decompressed content of every gzip
// member in r.
func NewReader(r io.Reader) (io.ReadCloser, error) {
	z := &isalReader{src: r}
	z.state = C.new_state()
	z.in = C.malloc(inSize)
	z.out = C.malloc(outSize)
	if z.state == nil || z.in == nil || z.out == nil {
		z.Close()
		return nil, errors.New("isa-l: out of memory")
	}
	z.inBuf = unsafe.Slice((*byte)(z.in), inSize)
	z.outBuf = unsafe.Slice((*byte)(z.out), outSize)
	// Fail early on input that is not gzip, as compress/gzip does.
	if err := z.fill(); err != nil {
		z.Close()
		return nil, err
	}
	if z.state.avail_in < 2 || z.inBuf[0] != 0x1f || z.inBuf[1] != 0x8b {
		z.Close()
		return nil, fmt.Errorf("%w: not gzip", ErrCorrupt)
	}
	return z, nil
}

// fill reads more compressed input when all of it has been consumed.
func (z *isalReader) fill() error {
	if z.state.avail_in > 0 || z.srcEOF {
		return nil
	}
	n, err := io.ReadFull(z.src, z.inBuf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		z.srcEOF, err = true, nil
	}
	z.state.next_in = (*C.uint8_t)(z.in)
	z.state.avail_in = C.uint32_t(n)
	return err
}

func (z *isalReader) Read(p []byte) (int, error) {
	for len(z.pending) == 0 {
		if z.err != nil {
			return 0, z.err
		}
		z.err = z.inflate()
	}
	n := copy(p, z.pending)
	z.pending = z.pending[n:]
	return n, nil
}

// inflate produces the next piece of output into pending, or an error
// (io.EOF at the clean end of the last member).
func (z *isalReader) inflate() error {
	if err := z.fill(); err != nil {
		return err
	}
	if z.finished {
		if z.state.avail_in == 0 && z.srcEOF {
			return io.EOF
		}
		C.next_member(z.state)
		z.finished = false
	}
	if z.state.avail_in == 0 && z.srcEOF {
		return io.ErrUnexpectedEOF // the member was cut short
	}
	z.state.next_out = (*C.uint8_t)(z.out)
	z.state.avail_out = outSize
	var fin C.int
	ret := C.step(z.state, &fin)
	if ret < 0 {
		return fmt.Errorf("%w: isa-l error %d after %d members", ErrCorrupt, int(ret), z.members)
	}
	z.pending = z.outBuf[:outSize-int(z.state.avail_out)]
	if fin != 0 {
		z.finished = true
		z.members++
	}
	return nil
}

// Close frees the C memory.
func (z *isalReader) Close() error {
	if z.state != nil {
		C.free(unsafe.Pointer(z.state))
		z.state = nil
	}
	if z.in != nil {
		C.free(z.in)
		z.in = nil
	}
	if z.out != nil {
		C.free(z.out)
		z.out = nil
	}
	z.err = errors.New("isa-l: reader closed")
	return nil
}
