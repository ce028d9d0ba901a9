package inflate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func gz(t testing.TB, level int, members ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, m := range members {
		w, err := gzip.NewWriterLevel(&buf, level)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m)
		w.Close()
	}
	return buf.Bytes()
}

func payload(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 3))
	words := []string{"2 ", "111122223333 ", "eni-0a1b2c3d ", "10.0.0.1 ", "443 ", "ACCEPT ", "OK\n"}
	var b bytes.Buffer
	for b.Len() < n {
		if rng.IntN(50) == 0 {
			b.WriteByte(byte(rng.Uint32())) // some entropy
			continue
		}
		b.WriteString(words[rng.IntN(len(words))])
	}
	return b.Bytes()[:n]
}

func inflateAll(t testing.TB, in []byte, chunk int) ([]byte, error) {
	t.Helper()
	zr, err := NewReader(bytes.NewReader(in))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var out bytes.Buffer
	buf := make([]byte, chunk)
	for {
		n, err := zr.Read(buf)
		out.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
	}
}

func TestInflate(t *testing.T) {
	big := payload(5<<20, 1)
	cases := []struct {
		name    string
		members [][]byte
		level   int
	}{
		{"empty member", [][]byte{nil}, gzip.DefaultCompression},
		{"one member", [][]byte{payload(1000, 2)}, gzip.DefaultCompression},
		{"big", [][]byte{big}, gzip.BestSpeed},
		{"stored", [][]byte{payload(300<<10, 3)}, gzip.NoCompression},
		{"many members", [][]byte{payload(10, 4), nil, payload(700<<10, 5), payload(3, 6), big[:2<<20]}, gzip.DefaultCompression},
	}
	for _, c := range cases {
		t.Run(c.name+" "+Impl, func(t *testing.T) {
			in := gz(t, c.level, c.members...)
			want := bytes.Join(c.members, nil)
			for _, chunk := range []int{1 << 20, 4093} {
				got, err := inflateAll(t, in, chunk)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("chunk %d: got %d bytes, want %d", chunk, len(got), len(want))
				}
			}
		})
	}
}

func TestInflateErrors(t *testing.T) {
	good := gz(t, gzip.DefaultCompression, payload(200<<10, 7))
	if _, err := NewReader(bytes.NewReader([]byte("plain text, not gzip"))); err == nil {
		t.Error("not gzip: no error")
	}
	if _, err := inflateAll(t, good[:len(good)/2], 1<<16); err == nil {
		t.Error("truncated: no error")
	}
	if _, err := inflateAll(t, good[:len(good)-4], 1<<16); err == nil {
		t.Error("truncated trailer: no error")
	}
	bad := bytes.Clone(good)
	bad[len(bad)-6] ^= 0xff // the CRC
	if _, err := inflateAll(t, bad, 1<<16); err == nil {
		t.Error("bad checksum: no error")
	}
	garbage := append(bytes.Clone(good), "trailing junk"...)
	if _, err := inflateAll(t, garbage, 1<<16); err == nil {
		t.Error("trailing garbage: no error")
	}
}
