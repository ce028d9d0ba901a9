package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/atomicfile"
)

// Access keys are the AWS-style credentials of the CloudWatch Logs API
// (`flowlens keys create`): an access key id and a secret access key that
// clients sign requests with (SigV4). They are tokens of the same file as
// the bearer tokens (same ids, names, revocation), told apart by
// Token.AccessKeyID.
//
// SigV4 needs the secret itself on the server, so a hash alone cannot
// verify a signature. The secret is therefore never stored: it is derived
// from the access key id with HMAC-SHA256 under a master key, kept in its
// own file (DIR/auth/access-keys.master, mode 0600, made by the first
// `keys create`). tokens.json holds only the id, the name and a hash of
// the secret (to notice a replaced master key). Put the master key outside
// the data folder (Store.SetMasterKeyFile, FLOWLENS_ACCESS_KEY_MASTER in
// the CLI) and a copy of the data folder reveals no secret; losing the
// master key invalidates every access key (create new ones).

// MasterKeyName is the default file name of the master key, in DIR/auth.
const MasterKeyName = "access-keys.master"

// AccessKeyPrefix starts every access key id made by flowlens.
const AccessKeyPrefix = "FLAK"

// ErrUnknownKey is returned for an access key id that was never made here.
var ErrUnknownKey = errors.New("unknown access key")

// ErrRevokedKey is returned for a revoked access key.
var ErrRevokedKey = errors.New("revoked access key")

// SetMasterKeyFile moves the master key of access keys to path.
func (s *Store) SetMasterKeyFile(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.masterPath = path
}

// MasterKeyFile is the file of the master key of access keys.
func (s *Store) MasterKeyFile() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.masterPath
}

// CreateAccessKey makes a new access key and returns its id and its secret
// (shown once) with its record.
func (s *Store) CreateAccessKey(ctx context.Context, name string) (id, secret string, t Token, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", Token{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "access-key"
	}
	if len(name) > 100 || strings.ContainsAny(name, "\n\r\t") {
		return "", "", Token{}, errors.New("a key name has at most 100 characters and no line breaks or tabs")
	}
	raw := make([]byte, 10)
	if _, err := rand.Read(raw); err != nil {
		return "", "", Token{}, err
	}
	akid := AccessKeyPrefix + base32.StdEncoding.EncodeToString(raw) // 4 + 16 characters, as AWS's
	tid, err := randomHex(4)
	if err != nil {
		return "", "", Token{}, err
	}
	err = s.update(func(ts []Token) ([]Token, error) {
		master, err := s.master(true)
		if err != nil {
			return nil, err
		}
		secret = deriveSecret(master, akid)
		t = Token{ID: tid, Name: name, Hash: hashToken(secret), CreatedAt: s.now().UTC().Truncate(time.Second), AccessKeyID: akid}
		return append(ts, t), nil
	})
	if err != nil {
		return "", "", Token{}, err
	}
	return akid, secret, t, nil
}

// AccessKeys returns the access keys, oldest first.
func (s *Store) AccessKeys(ctx context.Context) ([]Token, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Token
	for _, t := range all {
		if t.AccessKeyID != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

// RevokeAccessKey revokes the access keys whose key id, token id or name
// is idOrName.
func (s *Store) RevokeAccessKey(ctx context.Context, idOrName string) ([]Token, error) {
	return s.revoke(ctx, idOrName, func(t Token) bool { return t.AccessKeyID != "" }, "flowlens keys list")
}

// AccessKeySecret returns the secret of an access key and who it belongs
// to: ErrUnknownKey or ErrRevokedKey when it cannot be used.
func (s *Store) AccessKeySecret(akid string) (string, Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(); err != nil {
		return "", Identity{}, err
	}
	t, ok := s.byAKID[akid]
	if !ok {
		return "", Identity{}, ErrUnknownKey
	}
	if t.Revoked() {
		return "", Identity{}, ErrRevokedKey
	}
	master, err := s.master(false)
	if err != nil {
		return "", Identity{}, err
	}
	secret := deriveSecret(master, akid)
	if subtle.ConstantTimeCompare([]byte(hashToken(secret)), []byte(t.Hash)) != 1 {
		return "", Identity{}, fmt.Errorf("access key %s: the master key %s is not the one the key was made with", akid, s.masterPath)
	}
	return secret, Identity{ID: t.ID, Name: t.Name}, nil
}

// master reads (or, with create, makes) the master key.
func (s *Store) master(create bool) ([]byte, error) {
	path := s.masterPath
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("access key master: %w", err)
		}
		if err := atomicfile.Write(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("access key master: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("access key master: %w", err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) < 16 {
		return nil, fmt.Errorf("access key master %s: not a hex key of at least 16 bytes", path)
	}
	return k, nil
}

func deriveSecret(master []byte, akid string) string {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("flowlens access key v1\x00" + akid))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))[:40]
}
