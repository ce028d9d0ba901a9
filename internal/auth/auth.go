// Package auth keeps the API tokens of a data folder: created and revoked
// by `flowlens tokens`, checked by the server on every request that reads
// or writes data. Tokens are stored as SHA-256 hashes only; the plain token
// is shown once, when it is created. The file is shared by the CLI and a
// running server: writes take an exclusive lock and replace the file
// atomically, and the server notices changes (a revoked token stops working
// at once).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flowlens/flowlens/internal/atomicfile"
)

// TokenPrefix starts every token, so that a leaked one is recognisable.
const TokenPrefix = "flt_"

// ErrInvalid is returned for a token that is unknown, malformed or revoked.
var ErrInvalid = errors.New("invalid or revoked API token")

// ErrNotFound is returned by Revoke for an unknown token id or name.
var ErrNotFound = errors.New("no such token")

// Token is one stored token (never the plain secret).
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"createdAt"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
	// AccessKeyID is set for an AWS-style access key (see keys.go): Hash
	// is then the hash of its secret, which is never a bearer token.
	AccessKeyID string `json:"accessKeyId,omitempty"`
}

// Revoked reports whether the token was revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Identity is who a request authenticated as.
type Identity struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Store is the token file of one data folder. It is safe for concurrent use.
type Store struct {
	path string
	now  func() time.Time
	// masterPath is the file of the key that access key secrets derive from.
	masterPath string

	mu      sync.Mutex
	stamp   fileStamp
	byHash  map[string]Token
	byAKID  map[string]Token
	extra   map[string]Identity // in-memory tokens (the server's CLI-forwarding secret)
	loadErr error
}

type fileStamp struct {
	size  int64
	mtime time.Time
	ino   uint64
	ok    bool
}

// Open returns the token store of a data folder (DIR/auth/tokens.json).
// The file need not exist yet.
func Open(dataDir string) *Store {
	return &Store{path: filepath.Join(dataDir, "auth", "tokens.json"), masterPath: filepath.Join(dataDir, "auth", MasterKeyName),
		now: time.Now, extra: map[string]Identity{}}
}

// Path is the token file.
func (s *Store) Path() string { return s.path }

// Create makes a new token and returns its plain text (shown once) and its record.
func (s *Store) Create(ctx context.Context, name string) (string, Token, error) {
	if err := ctx.Err(); err != nil {
		return "", Token{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "token"
	}
	if len(name) > 100 || strings.ContainsAny(name, "\n\r\t") {
		return "", Token{}, errors.New("a token name has at most 100 characters and no line breaks or tabs")
	}
	secret, err := randomHex(24)
	if err != nil {
		return "", Token{}, err
	}
	id, err := randomHex(4)
	if err != nil {
		return "", Token{}, err
	}
	plain := TokenPrefix + secret
	t := Token{ID: id, Name: name, Hash: hashToken(plain), CreatedAt: s.now().UTC().Truncate(time.Second)}
	err = s.update(func(ts []Token) ([]Token, error) { return append(ts, t), nil })
	if err != nil {
		return "", Token{}, err
	}
	return plain, t, nil
}

// List returns every token, oldest first.
func (s *Store) List(ctx context.Context) ([]Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ts, err := s.read()
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].CreatedAt.Before(ts[j].CreatedAt) })
	return ts, nil
}

// Revoke revokes the tokens whose id or name is idOrName and returns them.
func (s *Store) Revoke(ctx context.Context, idOrName string) ([]Token, error) {
	return s.revoke(ctx, idOrName, func(Token) bool { return true }, "flowlens tokens list")
}

func (s *Store) revoke(ctx context.Context, idOrName string, keep func(Token) bool, listCmd string) ([]Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var hit []Token
	err := s.update(func(ts []Token) ([]Token, error) {
		for i := range ts {
			if (ts[i].ID == idOrName || ts[i].Name == idOrName || ts[i].AccessKeyID == idOrName) && !ts[i].Revoked() && keep(ts[i]) {
				ts[i].RevokedAt = s.now().UTC().Truncate(time.Second)
				hit = append(hit, ts[i])
			}
		}
		if len(hit) == 0 {
			return nil, fmt.Errorf("%w: %q (see '%s')", ErrNotFound, idOrName, listCmd)
		}
		return ts, nil
	})
	return hit, err
}

// AddEphemeral makes plain valid until the process ends, without storing it
// (the server's secret for CLI forwarding).
func (s *Store) AddEphemeral(plain string, id Identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extra[hashToken(plain)] = id
}

// Verify checks a plain token and returns who it belongs to.
func (s *Store) Verify(plain string) (Identity, error) {
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) > 200 {
		return Identity{}, ErrInvalid
	}
	h := hashToken(plain)
	s.mu.Lock()
	defer s.mu.Unlock()
	for eh, id := range s.extra {
		if subtle.ConstantTimeCompare([]byte(eh), []byte(h)) == 1 {
			return id, nil
		}
	}
	if err := s.refreshLocked(); err != nil {
		return Identity{}, err
	}
	t, ok := s.byHash[h]
	if !ok || t.Revoked() || t.AccessKeyID != "" {
		return Identity{}, ErrInvalid
	}
	return Identity{ID: t.ID, Name: t.Name}, nil
}

// NewSecret returns a new random token text.
func NewSecret() (string, error) {
	s, err := randomHex(24)
	return TokenPrefix + s, err
}

// refreshLocked reloads the file when it changed since the last load.
func (s *Store) refreshLocked() error {
	st, err := stamp(s.path)
	if err != nil {
		return err
	}
	if st == s.stamp && s.byHash != nil {
		return s.loadErr
	}
	ts, err := readFile(s.path)
	s.stamp, s.loadErr = st, err
	if err != nil {
		return err
	}
	s.byHash = make(map[string]Token, len(ts))
	s.byAKID = map[string]Token{}
	for _, t := range ts {
		s.byHash[t.Hash] = t
		if t.AccessKeyID != "" {
			s.byAKID[t.AccessKeyID] = t
		}
	}
	return nil
}

func stamp(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fileStamp{}, nil
	}
	if err != nil {
		return fileStamp{}, fmt.Errorf("token file: %w", err)
	}
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime(), ok: true}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st, nil
}

func (s *Store) read() ([]Token, error) {
	unlock, err := s.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return readFile(s.path)
}

// update runs f over the tokens under an exclusive lock and writes the result atomically.
func (s *Store) update(f func([]Token) ([]Token, error)) error {
	unlock, err := s.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	ts, err := readFile(s.path)
	if err != nil {
		return err
	}
	if ts, err = f(ts); err != nil {
		return err
	}
	b, err := json.MarshalIndent(struct {
		Tokens []Token `json:"tokens"`
	}{ts}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path, append(b, '\n'), 0o600)
}

func (s *Store) lock(exclusive bool) (func(), error) {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("token folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "tokens.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("token lock: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("token lock: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func readFile(path string) ([]Token, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	var doc struct {
		Tokens []Token `json:"tokens"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	return doc.Tokens, nil
}

func hashToken(plain string) string {
	h := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(h[:])
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
