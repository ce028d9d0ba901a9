// Package inflate decompresses gzip streams, every member of a multi-member
// stream included. With the build tag isal it uses Intel's ISA-L through cgo
// (about five times faster than pure Go on flow log text); without it, the
// pure-Go inflater of klauspost/compress.
package inflate

import "errors"

// ErrCorrupt is matched (errors.Is) by errors about damaged gzip data.
var ErrCorrupt = errors.New("corrupt gzip data")
