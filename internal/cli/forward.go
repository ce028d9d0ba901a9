package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// While flowlens serve owns a data folder it writes, beside the database:
//
//	serve.lock   held (flock) for the server's lifetime: a second serve and
//	             every CLI verb see that a server owns the folder
//	serve.json   where it listens: {"url", "pid", "startedAt", "version"}
//	serve.token  the secret CLI clients send, readable by the owner only
//
// The verbs query, sql, datasets, ingest, retention, export, reports and
// jobs, given that
// folder, send their arguments to the server, which runs the same verb on
// its open store and streams back its standard output, standard error and
// exit status. Relative paths are resolved against the client's working
// directory; standard input is streamed when an argument is "-".
const (
	serveLockName  = "serve.lock"
	serveInfoName  = "serve.json"
	serveTokenName = "serve.token"
	cliRunPath     = "/api/v1/cli/run"
)

// forwardable lists the verbs a running server takes over.
var forwardable = map[string]bool{"query": true, "sql": true, "datasets": true, "ingest": true, "retention": true, "export": true, "reports": true, "jobs": true}

// writeVerb reports whether a verb writes the database (the server runs
// those one at a time).
func writeVerb(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case "ingest", "retention":
		return true
	case "sql":
		for _, a := range args[1:] {
			if a == "--write" || a == "-write" || strings.HasPrefix(a, "--write=") {
				return true
			}
		}
	}
	return false
}

type serveInfo struct {
	URL       string    `json:"url"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"startedAt"`
	Version   string    `json:"version"`
}

// dataArg finds the --data value of a verb's arguments (default: the
// environment's), without parsing the verb's other flags.
func dataArg(env *Env, args []string) string {
	dir := defaultDataDir(env)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		for _, p := range []string{"--data=", "-data="} {
			if v, ok := strings.CutPrefix(a, p); ok {
				dir = v
			}
		}
		if (a == "--data" || a == "-data") && i+1 < len(args) {
			dir = args[i+1]
			i++
		}
	}
	return dir
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

// serverOwns reports whether a running flowlens serve holds dir's lock.
func serverOwns(dir string) bool {
	f, err := os.Open(filepath.Join(dir, serveLockName))
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// lockServe takes dir's serve lock for this process, or says who has it.
func lockServe(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, serveLockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			msg := "another flowlens serve owns " + dir
			if info, err := readServeInfo(dir); err == nil {
				msg += fmt.Sprintf(" (pid %d, %s)", info.PID, info.URL)
			}
			return nil, errors.New(msg + ": stop it first, or give this one another --data")
		}
		return nil, err
	}
	return f, nil
}

func readServeInfo(dir string) (serveInfo, error) {
	var info serveInfo
	b, err := os.ReadFile(filepath.Join(dir, serveInfoName))
	if err != nil {
		return info, err
	}
	err = json.Unmarshal(b, &info)
	return info, err
}

// Frames of the forwarding stream: a type byte, a big-endian uint32
// length, the payload.
const (
	frameStdout = 'o'
	frameStderr = 'e'
	frameExit   = 'x'
)

// forwardRequest is the first line of a forwarding request's body; the
// rest of the body is standard input when Stdin is set.
type forwardRequest struct {
	Args     []string `json:"args"`
	Dir      string   `json:"dir"`
	Terminal bool     `json:"terminal"`
	Stdin    bool     `json:"stdin"`
	// Env holds the client's AWS variables when the command names an
	// s3:// location, so that the server reads S3 as the client would.
	Env map[string]string `json:"env,omitempty"`
}

// forward runs args on the server that owns their data folder. handled is
// false when no server owns it (the verb then runs here).
func forward(ctx context.Context, env *Env, args []string) (code int, handled bool) {
	dir := dataArg(env, args[1:])
	if !serverOwns(dir) {
		return 0, false
	}
	fail := func(err error) (int, bool) {
		fmt.Fprintf(env.Stderr, "flowlens %s: the flowlens serve that owns %s: %v\n", args[0], dir, err)
		return 1, true
	}
	info, err := readServeInfo(dir)
	if err != nil {
		return fail(fmt.Errorf("read %s: %w", serveInfoName, err))
	}
	token, err := os.ReadFile(filepath.Join(dir, serveTokenName))
	if err != nil {
		return fail(fmt.Errorf("read its token (the folder's owner may run this command): %w", err))
	}
	cwd, err := os.Getwd()
	if err != nil {
		return fail(err)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return fail(err)
	}
	// The folder is named first, so the server's verb opens the same one
	// whatever the client's environment says.
	fargs := append([]string{args[0], "--data", absDir}, args[1:]...)
	req := forwardRequest{Args: fargs, Dir: cwd, Terminal: env.StderrIsTerminal}
	if hasS3Arg(args[1:]) {
		req.Env = env.awsEnv()
	}
	for _, a := range args[1:] {
		if a == "-" {
			req.Stdin = true
		}
	}
	head, _ := json.Marshal(req)
	var body io.Reader = bytes.NewReader(append(head, '\n'))
	if req.Stdin {
		body = io.MultiReader(body, env.Stdin)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(info.URL, "/")+cliRunPath, body)
	if err != nil {
		return fail(err)
	}
	hreq.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	hreq.Header.Set("Content-Type", "application/x-flowlens-cli")
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	resp, err := client.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(env.Stderr, "flowlens %s: interrupted\n", args[0])
			return 130, true
		}
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fail(fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b)))
	}
	r := bufio.NewReader(resp.Body)
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(env.Stderr, "flowlens %s: interrupted\n", args[0])
				return 130, true
			}
			return fail(fmt.Errorf("the connection ended before the command did: %w", err))
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return fail(fmt.Errorf("the connection ended before the command did: %w", err))
		}
		switch hdr[0] {
		case frameStdout:
			_, _ = env.Stdout.Write(payload)
		case frameStderr:
			_, _ = env.Stderr.Write(payload)
		case frameExit:
			c, err := strconv.Atoi(string(payload))
			if err != nil {
				return fail(fmt.Errorf("bad exit status %q", payload))
			}
			return c, true
		}
	}
}

// frameWriter writes one stream of a forwarded command as frames.
type frameWriter struct {
	mu    *sync.Mutex
	w     io.Writer
	flush func()
	kind  byte
	err   error
}

func (f *frameWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	for rest := p; len(rest) > 0; {
		chunk := rest[:min(len(rest), 1<<20)]
		rest = rest[len(chunk):]
		var hdr [5]byte
		hdr[0] = f.kind
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(chunk)))
		if _, err := f.w.Write(hdr[:]); err != nil {
			f.err = err
			return 0, err
		}
		if _, err := f.w.Write(chunk); err != nil {
			f.err = err
			return 0, err
		}
	}
	f.flush()
	return len(p), nil
}

// cliHandler runs forwarded commands on the server's store.
type cliHandler struct {
	shared  *sharedStore
	writeMu *sync.Mutex
	logger  *slog.Logger
}

func (h *cliHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	br := bufio.NewReaderSize(r.Body, 64<<10)
	line, err := br.ReadBytes('\n')
	if err != nil && len(line) == 0 {
		http.Error(w, "the request has no command line", http.StatusBadRequest)
		return
	}
	var req forwardRequest
	if err := json.Unmarshal(line, &req); err != nil || len(req.Args) == 0 || !forwardable[req.Args[0]] {
		http.Error(w, "not a command this server runs for clients", http.StatusBadRequest)
		return
	}
	if !filepath.IsAbs(req.Dir) {
		http.Error(w, "the client's working directory must be absolute", http.StatusBadRequest)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex()
	w.Header().Set("Content-Type", "application/x-flowlens-cli")
	w.WriteHeader(http.StatusOK)
	mu := &sync.Mutex{}
	flush := func() { _ = rc.Flush() }
	stdout := &frameWriter{mu: mu, w: w, flush: flush, kind: frameStdout}
	stderr := &frameWriter{mu: mu, w: w, flush: flush, kind: frameStderr}
	var stdin io.Reader = strings.NewReader("")
	if req.Stdin {
		stdin = br
	}
	env := &Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Getenv:           func(k string) string { return awsVar(req.Env, k) },
		StderrIsTerminal: req.Terminal,
		Logger:           slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Program:          "flowlens",
		Dir:              req.Dir,
		shared:           h.shared,
	}
	if writeVerb(req.Args) {
		h.writeMu.Lock()
		defer h.writeMu.Unlock()
	}
	began := time.Now()
	code := Main(r.Context(), req.Args, env)
	h.logger.Info("cli command", "verb", req.Args[0], "exit", code, "elapsed_ms", time.Since(began).Milliseconds())
	ex := &frameWriter{mu: mu, w: w, flush: flush, kind: frameExit}
	_, _ = ex.Write([]byte(strconv.Itoa(code)))
}
