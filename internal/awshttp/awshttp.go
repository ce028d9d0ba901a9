// Package awshttp holds what flowlens serve's AWS-protocol endpoints (the
// CloudWatch Logs JSON 1.1 API of package cwlogs, the Firehose HTTP
// endpoint of package firehose) share: request bodies bounded before and
// after gzip decoding, JSON answers, and request ids. Each endpoint keeps
// its own error shapes; this package only reads and writes bytes.
package awshttp

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Errors of OpenBody.
var (
	// ErrEncoding: a Content-Encoding other than gzip or identity.
	ErrEncoding = errors.New("unsupported Content-Encoding")
	// ErrGzip: the body says gzip but is not.
	ErrGzip = errors.New("gzip body")
)

// Body is a request body, decoded when it is gzip (Content-Encoding gzip,
// or gzip's magic bytes at its start), of which at most limit bytes are
// read as received and after decoding.
type Body struct {
	io.Reader
	wire  *countReader
	out   *io.LimitedReader
	limit int64
	zr    *gzip.Reader
}

// OpenBody opens the body of r with a limit in bytes.
func OpenBody(r *http.Request, limit int64) (*Body, error) {
	b := &Body{wire: &countReader{r: io.LimitReader(r.Body, limit+1)}, limit: limit}
	br := bufio.NewReaderSize(b.wire, 64<<10)
	var rd io.Reader = br
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	magic, _ := br.Peek(2)
	switch {
	case enc == "gzip" || (len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return b, fmt.Errorf("%w: %v", ErrGzip, err)
		}
		b.zr, rd = zr, zr
	case enc != "" && enc != "identity":
		return b, fmt.Errorf("%w %q (gzip or none)", ErrEncoding, enc)
	}
	b.out = &io.LimitedReader{R: rd, N: limit + 1}
	b.Reader = b.out
	return b, nil
}

// Received is the number of bytes read as received.
func (b *Body) Received() int64 { return b.wire.n }

// TooLarge reports whether more than the limit was read, as received or
// after decoding.
func (b *Body) TooLarge() bool { return b.wire.n > b.limit || (b.out != nil && b.out.N <= 0) }

// Close releases the gzip decoder.
func (b *Body) Close() {
	if b.zr != nil {
		_ = b.zr.Close()
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// WriteJSON answers v as JSON with status and contentType; a value that
// cannot be encoded is answered 500 with fallback (a JSON error body in
// the endpoint's shape).
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any, fallback string) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(fallback)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// NewRequestID returns a random UUID (version 4), the form of AWS's
// request ids.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
