package chhttp_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
)

// TestClient: statements as the body, rows as the body with the statement
// in the URL, settings as URL parameters, the server's error as an error.
func TestClient(t *testing.T) {
	srv := chtest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	if got, err := c.Query(ctx, "SELECT 1 + 1"); err != nil || got != "2\n" {
		t.Fatalf("SELECT 1 + 1: %q, %v", got, err)
	}
	if _, err := c.Query(ctx, "CREATE DATABASE IF NOT EXISTS h"); err != nil {
		t.Fatal(err)
	}
	db := url.Values{"database": {"h"}}
	if _, err := c.Do(ctx, "CREATE TABLE t (a UInt32, b String) ENGINE = Memory", nil, db); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, "INSERT INTO t FORMAT TabSeparated", strings.NewReader("1\tx\n2\ty\n"), db); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Do(ctx, "SELECT sum(a), groupArray(b) FROM t", nil, db); err != nil || got != "3\t['x','y']\n" {
		t.Errorf("the inserted rows: %q, %v", got, err)
	}
	if _, err := c.Query(ctx, "SELECT nosuchcolumn FROM h.t"); err == nil || !strings.Contains(err.Error(), "clickhouse: HTTP ") || !strings.Contains(err.Error(), "nosuchcolumn") {
		t.Errorf("an unknown column: %v, want the server's error", err)
	}
}
