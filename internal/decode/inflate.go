package decode

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flowlens/flowlens/internal/decode/inflate"
)

// newInflater returns a reader of the decompressed content of the gzip
// stream r (every member). Inflation runs in its own goroutine, a chunk
// ahead of the decoder, so that on two cores a .log.gz decodes in about the
// time inflating it takes. Close stops the goroutine.
func newInflater(ctx context.Context, r io.Reader) (io.ReadCloser, error) {
	zr, err := inflate.NewReader(r)
	if err != nil {
		return nil, err
	}
	return newAsyncReader(ctx, zr), nil
}

// The inflating goroutine hands over chunks of up to chunkSize bytes, at
// most numChunks at a time; buffers are allocated as needed, the first one
// small so that a small payload stays cheap.
const (
	firstChunk = 32 << 10
	chunkSize  = 512 << 10
	numChunks  = 4
)

type chunk struct {
	buf []byte
	err error
}

// asyncReader reads src in a goroutine into a ring of chunks.
type asyncReader struct {
	src  io.ReadCloser
	full chan chunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
	made int // buffers allocated by the goroutine
	cur  []byte
	back []byte // the buffer cur points into
	err  error
}

func newAsyncReader(ctx context.Context, src io.ReadCloser) *asyncReader {
	a := &asyncReader{
		src:  src,
		full: make(chan chunk, numChunks),
		free: make(chan []byte, numChunks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go a.run(ctx)
	return a
}

func (a *asyncReader) run(ctx context.Context) {
	defer close(a.done)
	for {
		if err := ctx.Err(); err != nil {
			select {
			case a.full <- chunk{err: err}:
			case <-a.stop:
			}
			return
		}
		var buf []byte
		select {
		case buf = <-a.free:
		default:
		}
		if buf == nil && a.made < numChunks {
			size := chunkSize
			if a.made == 0 {
				size = firstChunk
			}
			buf = make([]byte, size)
			a.made++
		}
		if buf == nil {
			select {
			case buf = <-a.free:
			case <-a.stop:
				return
			case <-ctx.Done():
				select {
				case a.full <- chunk{err: ctx.Err()}:
				case <-a.stop:
				}
				return
			}
		}
		n, err := fill(a.src, buf)
		if err != nil && !errors.Is(err, io.EOF) {
			err = fmt.Errorf("gzip: %w", err)
		}
		select {
		case a.full <- chunk{buf: buf[:n], err: err}:
		case <-a.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// fill reads into buf until it is full or src fails; unlike io.ReadFull it
// passes src's own error through (a truncated gzip stream's
// io.ErrUnexpectedEOF must not look like a clean end).
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := src.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (a *asyncReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.back != nil {
			a.free <- a.back[:cap(a.back)]
			a.back = nil
		}
		c := <-a.full
		a.cur, a.back, a.err = c.buf, c.buf, c.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the inflating goroutine and waits for it.
func (a *asyncReader) Close() error {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	<-a.done
	return a.src.Close()
}
