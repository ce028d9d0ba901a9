package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAccessKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := Open(dir)
	akid, secret, tok, err := s.CreateAccessKey(ctx, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if len(akid) != 20 || !strings.HasPrefix(akid, AccessKeyPrefix) || len(secret) != 40 || tok.AccessKeyID != akid {
		t.Fatalf("key %q secret %q token %+v", akid, secret, tok)
	}
	// the secret is nowhere in the data folder's token file
	b, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Fatal("the token file holds the secret")
	}
	if fi, err := os.Stat(filepath.Join(dir, "auth", MasterKeyName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key file: %v %v", fi, err)
	}
	// a second store (the server) derives the same secret
	got, id, err := Open(dir).AccessKeySecret(akid)
	if err != nil || got != secret || id.Name != "laptop" {
		t.Fatalf("AccessKeySecret: %q %+v %v", got, id, err)
	}
	// a secret is not a bearer token
	if _, err := s.Verify(secret); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Verify(secret) = %v", err)
	}
	if _, _, err := s.AccessKeySecret("FLAKNOTAKEY"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
	// keys list and revoke see access keys only; tokens revoke by name leaves them
	plain, _, err := s.Create(ctx, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.AccessKeys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("AccessKeys: %+v %v", keys, err)
	}
	if hit, err := s.RevokeAccessKey(ctx, "laptop"); err != nil || len(hit) != 1 || hit[0].AccessKeyID != akid {
		t.Fatalf("RevokeAccessKey: %+v %v", hit, err)
	}
	if _, err := s.Verify(plain); err != nil {
		t.Fatalf("the token of the same name was revoked too: %v", err)
	}
	if _, _, err := s.AccessKeySecret(akid); !errors.Is(err, ErrRevokedKey) {
		t.Fatalf("revoked key: %v", err)
	}
	// another master key: the key no longer verifies, with a clear error
	akid2, _, _, err := s.CreateAccessKey(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	moved := Open(dir)
	moved.SetMasterKeyFile(filepath.Join(t.TempDir(), "elsewhere"))
	if _, _, err := moved.AccessKeySecret(akid2); err == nil {
		t.Fatal("a missing master key verified a key")
	}
	other := filepath.Join(t.TempDir(), "m")
	if err := os.WriteFile(other, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	moved.SetMasterKeyFile(other)
	if _, _, err := moved.AccessKeySecret(akid2); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("a replaced master key: %v", err)
	}
}
