//go:build !isal || !cgo

package inflate

import (
	"io"

	"github.com/klauspost/compress/gzip"
)

// Impl names the inflater this build uses.
const Impl = "klauspost/compress"

// NewReader returns a reader of the decompressed content of every gzip
// member in r.
func NewReader(r io.Reader) (io.ReadCloser, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	zr.Multistream(true)
	return zr, nil
}
