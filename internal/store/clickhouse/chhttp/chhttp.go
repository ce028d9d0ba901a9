// Package chhttp sends statements to a ClickHouse server's HTTP interface
// (the tests' servers of chtest, the peer and the store figures of
// `flowlens bench`). It knows no schema and no driver: a statement goes
// out, the body of the answer comes back.
package chhttp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client talks to one server.
type Client struct {
	// URL is the base URL of the HTTP interface (http://host:8123/).
	URL string
	// HTTP is the client used (nil: http.DefaultClient).
	HTTP *http.Client
}

// Query runs one statement and returns the body of the answer
// (TabSeparated unless the statement says FORMAT).
func (c *Client) Query(ctx context.Context, sql string) (string, error) {
	return c.Do(ctx, sql, nil, nil)
}

// Do runs one statement with the given settings (URL parameters such as
// database). With data, the statement goes in the URL and data is the
// body (the rows of an INSERT … FORMAT); otherwise the statement is the
// body.
func (c *Client) Do(ctx context.Context, sql string, data io.Reader, params url.Values) (string, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return "", fmt.Errorf("clickhouse: %w", err)
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = append(q[k], vs...)
	}
	body := data
	if data != nil {
		q.Set("query", sql)
	} else {
		body = strings.NewReader(sql)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
	if err != nil {
		return "", err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("clickhouse: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
