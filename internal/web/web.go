// Package web serves flowlens's web console: the bundle that `make ui`
// builds from web/ (TypeScript, Vite, ECharts) into dist/, committed and
// embedded so that `go build` needs no npm.
//
// Caching: files under /assets/ carry a content hash in their names and
// are served as immutable for a year; index.html is revalidated on every
// load (an ETag of its content), so a new binary's console is picked up at
// once. Text files are gzip-compressed once, when the handler is built,
// and sent compressed to clients that accept it.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Bundle is the embedded console bundle, rooted at its index.html.
func Bundle() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// file is one bundle file, ready to send.
type file struct {
	body, gz    []byte
	contentType string
	etag        string
	immutable   bool
}

// Handler serves a console bundle.
type Handler struct {
	files map[string]*file
}

// New builds the handler of the embedded bundle.
func New() (*Handler, error) { return NewFS(Bundle()) }

// NewFS builds the handler of a bundle rooted at its index.html.
func NewFS(bundle fs.FS) (*Handler, error) {
	h := &Handler{files: map[string]*file{}}
	err := fs.WalkDir(bundle, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(bundle, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := &file{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`,
			immutable: strings.HasPrefix(p, "assets/")}
		f.contentType = mime.TypeByExtension(path.Ext(p))
		if f.contentType == "" {
			f.contentType = http.DetectContentType(b)
		}
		if compressible(f.contentType) && len(b) > 512 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(b)
			_ = zw.Close()
			if buf.Len() < len(b) {
				f.gz = buf.Bytes()
			}
		}
		h.files["/"+p] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read the console bundle: %w", err)
	}
	if h.files["/index.html"] == nil {
		return nil, fmt.Errorf("web: the console bundle has no index.html (run make ui)")
	}
	return h, nil
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") ||
		strings.Contains(ct, "json") || strings.Contains(ct, "svg")
}

// ServeHTTP answers GET and HEAD for the bundle's files; "/" is index.html
// (the console routes in the URL fragment, so no other path needs it).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == "/" {
		p = "/index.html"
	}
	f := h.files[p]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("ETag", f.etag)
	if f.immutable {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	if p == "/index.html" {
		// The console talks to its own origin only; ECharts and the
		// editor set inline styles.
		hd.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "+
			"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
	}
	if match(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hd.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	hd.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func match(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip listed without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
