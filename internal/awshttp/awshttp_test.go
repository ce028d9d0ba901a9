package awshttp

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestOpenBody(t *testing.T) {
	big := strings.Repeat("x", 5000)
	for _, c := range []struct {
		name, enc string
		body      []byte
		limit     int64
		want      string
		tooLarge  bool
		err       error
	}{
		{"plain", "", []byte(`{"a":1}`), 100, `{"a":1}`, false, nil},
		{"gzip header", "gzip", gz(t, `{"a":1}`), 100, `{"a":1}`, false, nil},
		{"gzip magic", "", gz(t, `{"a":1}`), 100, `{"a":1}`, false, nil},
		{"identity", "identity", []byte("ab"), 100, "ab", false, nil},
		{"over the limit", "", []byte(big), 100, big[:101], true, nil},
		{"over the limit once decoded", "gzip", gz(t, big), 100, big[:101], true, nil},
		{"not gzip", "gzip", []byte("plain"), 100, "", false, ErrGzip},
		{"other encoding", "br", []byte("x"), 100, "", false, ErrEncoding},
	} {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(c.body))
		if c.enc != "" {
			r.Header.Set("Content-Encoding", c.enc)
		}
		b, err := OpenBody(r, c.limit)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: %v, want %v", c.name, err, c.err)
			}
			b.Close()
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, _ := io.ReadAll(b)
		b.Close()
		if string(got) != c.want || b.TooLarge() != c.tooLarge || b.Received() == 0 || b.Received() > int64(len(c.body)) {
			t.Errorf("%s: %q (too large %v, received %d)", c.name, got, b.TooLarge(), b.Received())
		}
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, 400, "application/x-amz-json-1.1", map[string]string{"__type": "X"}, `{}`)
	if w.Code != 400 || w.Header().Get("Content-Type") != "application/x-amz-json-1.1" || w.Body.String() != `{"__type":"X"}` {
		t.Errorf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	WriteJSON(w, 200, "application/json", func() {}, `{"e":1}`)
	if w.Code != 500 || w.Body.String() != `{"e":1}` {
		t.Errorf("unencodable: %d %s", w.Code, w.Body)
	}
}

func TestNewRequestID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewRequestID(), NewRequestID()
	if !re.MatchString(a) || a == b {
		t.Errorf("%s %s", a, b)
	}
}
