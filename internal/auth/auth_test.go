package auth

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestCreateVerifyRevoke(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := Open(dir)
	plain, tok, err := s.Create(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) != len(TokenPrefix)+48 {
		t.Fatalf("token %q", plain)
	}
	raw, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), plain[len(TokenPrefix):]) {
		t.Fatal("the plain token is stored")
	}
	fi, _ := os.Stat(s.Path())
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v", fi.Mode().Perm())
	}
	id, err := s.Verify(plain)
	if err != nil || id.Name != "ci" || id.ID != tok.ID {
		t.Fatalf("verify: %v %v", id, err)
	}
	for _, bad := range []string{"", "flt_", plain + "x", "Bearer " + plain, strings.ToUpper(plain)} {
		if _, err := s.Verify(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("verify %q: %v", bad, err)
		}
	}
	// A second store (another process) revokes: the first notices.
	other := Open(dir)
	if _, err := other.Revoke(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(plain); !errors.Is(err, ErrInvalid) {
		t.Fatalf("revoked token still valid: %v", err)
	}
	if _, err := other.Revoke(ctx, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	ts, err := s.List(ctx)
	if err != nil || len(ts) != 1 || !ts[0].Revoked() {
		t.Fatalf("list: %v %v", ts, err)
	}
}

func TestRevokeByNameAndEphemeral(t *testing.T) {
	ctx := context.Background()
	s := Open(t.TempDir())
	a, _, _ := s.Create(ctx, "alice")
	b, _, _ := s.Create(ctx, "bob")
	if _, err := s.Revoke(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(a); err == nil {
		t.Fatal("alice still valid")
	}
	if _, err := s.Verify(b); err != nil {
		t.Fatal(err)
	}
	sec, _ := NewSecret()
	if _, err := s.Verify(sec); err == nil {
		t.Fatal("unknown secret valid")
	}
	s.AddEphemeral(sec, Identity{ID: "serve", Name: "cli"})
	if id, err := s.Verify(sec); err != nil || id.ID != "serve" {
		t.Fatal(id, err)
	}
	if _, _, err := s.Create(ctx, "bad\nname"); err == nil {
		t.Fatal("newline in name accepted")
	}
}
