package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// TestEmbeddedBundle: the committed bundle is embedded, "/" is its
// index.html, and the assets it names are served.
func TestEmbeddedBundle(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	resp := get(t, h, "GET", "/", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `<div id="app">`) {
		t.Fatalf("GET /: %d %s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("index.html Cache-Control %q", cc)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(string(body), -1)
	if len(refs) < 2 {
		t.Fatalf("index.html names %d assets: %s", len(refs), body)
	}
	for _, m := range refs {
		r := get(t, h, "GET", m[1], nil)
		if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: %d %q", m[1], r.StatusCode, r.Header.Get("Cache-Control"))
		}
	}
}

// TestCaching: gzip when accepted, 304 for a known ETag, HEAD without a
// body, 404 for other paths, 405 for writes.
func TestCaching(t *testing.T) {
	js := strings.Repeat("console.log('flowlens');\n", 100)
	h, err := NewFS(fstest.MapFS{
		"index.html":       {Data: []byte(`<!doctype html><div id="app"></div>` + strings.Repeat(" ", 600))},
		"assets/app-1.js":  {Data: []byte(js)},
		"assets/tiny-2.js": {Data: []byte("x()")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		status             int
		encoding, ctype    string
		body               string
	}{
		{"plain", "GET", "/assets/app-1.js", nil, 200, "", "text/javascript; charset=utf-8", js},
		{"gzip", "GET", "/assets/app-1.js", map[string]string{"Accept-Encoding": "br, gzip"}, 200, "gzip", "text/javascript; charset=utf-8", js},
		{"gzip refused", "GET", "/assets/app-1.js", map[string]string{"Accept-Encoding": "gzip;q=0"}, 200, "", "", js},
		{"small not compressed", "GET", "/assets/tiny-2.js", map[string]string{"Accept-Encoding": "gzip"}, 200, "", "", "x()"},
		{"head", "HEAD", "/", nil, 200, "", "text/html; charset=utf-8", ""},
		{"unknown path", "GET", "/nope", nil, 404, "", "", ""},
		{"dir traversal", "GET", "/../web.go", nil, 404, "", "", ""},
		{"post", "POST", "/", nil, 405, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, h, tc.method, tc.path, tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("Content-Encoding %q, want %q", got, tc.encoding)
			}
			if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
			}
			var rd io.Reader = resp.Body
			if tc.encoding == "gzip" {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				rd = zr
			}
			b, _ := io.ReadAll(rd)
			if tc.status == 200 && string(b) != tc.body {
				t.Errorf("body %d bytes, want %d", len(b), len(tc.body))
			}
		})
	}
	first := get(t, h, "GET", "/", nil)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r := get(t, h, "GET", "/", map[string]string{"If-None-Match": etag}); r.StatusCode != 304 {
		t.Errorf("revalidation: %d, want 304", r.StatusCode)
	}
	if r := get(t, h, "GET", "/", map[string]string{"If-None-Match": `"other"`}); r.StatusCode != 200 {
		t.Errorf("changed: %d, want 200", r.StatusCode)
	}
	if _, err := NewFS(fstest.MapFS{"a.js": {Data: []byte("x")}}); err == nil || !strings.Contains(err.Error(), "make ui") {
		t.Errorf("a bundle without index.html: %v", err)
	}
}

// TestBundleFresh rebuilds the console from web/ into a temporary folder
// and fails when the committed internal/web/dist differs: run `make ui`
// and commit. It needs node and web/node_modules (scripts/setup.sh runs
// npm ci); without them it skips unless FLOWLENS_REQUIRE_UI is set (make
// test sets it).
func TestBundleFresh(t *testing.T) {
	webDir, err := filepath.Abs("../../web")
	if err != nil {
		t.Fatal(err)
	}
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(webDir, "node_modules", ".bin", "vite"))
	if nodeErr != nil || modErr != nil {
		if os.Getenv("FLOWLENS_REQUIRE_UI") != "" {
			t.Fatalf("node (%v) and web/node_modules (%v) are needed: run scripts/setup.sh", nodeErr, modErr)
		}
		t.Skip("node or web/node_modules missing (scripts/setup.sh installs them; FLOWLENS_REQUIRE_UI=1 makes this a failure)")
	}
	out := t.TempDir()
	cmd := exec.Command("npm", "run", "--silent", "build")
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), "FLOWLENS_UI_OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm run build: %v\n%s", err, b)
	}
	want := readTree(t, os.DirFS(out))
	got := readTree(t, Bundle())
	for name, b := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s is missing from internal/web/dist", name)
		} else if !bytes.Equal(g, b) {
			t.Errorf("%s differs from a fresh build", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("internal/web/dist/%s is not part of a fresh build", name)
		}
	}
	if t.Failed() {
		t.Log("the committed console bundle is stale: run `make ui` and commit internal/web/dist")
	}
}

func readTree(t *testing.T, fsys fs.FS) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
