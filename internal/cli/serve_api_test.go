package cli

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func dataOf(t *testing.T, env map[string]any) any {
	t.Helper()
	if env["status"] != "ok" {
		t.Fatalf("not ok: %v", env)
	}
	return env["data"]
}

// TestServeAPI exercises every endpoint and its errors over the real store.
func TestServeAPI(t *testing.T) {
	data := queryDB(t)
	srv := startServe(t, data)
	tok := srv.token
	tests := []struct {
		name, method, path string
		token              string
		body               any
		status             int
		want               []string // substrings of the JSON envelope
	}{
		{"health without token", "GET", "/healthz", "", nil, 200, []string{`"alive"`}},
		{"ready", "GET", "/readyz", "", nil, 200, []string{`"ready"`}},
		{"no token", "GET", "/api/v1/datasets", "", nil, 401, []string{`"unauthorized"`, "tokens create"}},
		{"wrong token", "GET", "/api/v1/datasets", "flt_00", nil, 401, []string{`"unauthorized"`}},
		{"whoami", "GET", "/api/v1/whoami", tok, nil, 200, []string{`"name":"test"`}},
		{"datasets", "GET", "/api/v1/datasets", tok, nil, 200, []string{`"name":"prod"`, `"records":5`}},
		{"dataset", "GET", "/api/v1/datasets/prod", tok, nil, 200, []string{`"minTime":"2024-05-31T`}},
		{"unknown dataset", "GET", "/api/v1/datasets/nope", tok, nil, 404, []string{`"not_found"`}},
		{"fields", "GET", "/api/v1/datasets/prod/fields", tok, nil, 200, []string{`"name":"srcAddr"`, `"column":"srcaddr"`, `"@timestamp"`}},
		{"fields of unknown", "GET", "/api/v1/fields?datasets=nope", tok, nil, 404, nil},
		{"language", "GET", "/api/v1/language", tok, nil, 200, []string{`"isIpv4InSubnet"`, `"stats"`, `"aggregate"`}},
		{"sync query", "POST", "/api/v1/query", tok, map[string]any{"query": "stats count(*) as n by action | sort n desc"}, 200,
			[]string{`"columns":[{"name":"action","type":"string"},{"name":"n","type":"number"}]`, `["ACCEPT",2]`, `[null,1]]`, `"recordsScanned":5`, `"keys":["action"]`}},
		{"bin shape", "POST", "/api/v1/query", tok, map[string]any{"query": "stats sum(bytes) as b by bin(1h)"}, 200,
			[]string{`"timeColumn":"bin(1h)"`, `"type":"time"`, `"2024-05-31T14:00:00Z"`}},
		{"sankey shape", "POST", "/api/v1/query", tok, map[string]any{"query": "stats sum(bytes) as b by srcAddr, dstAddr | sort b desc | limit 3"}, 200,
			[]string{`"addressKeys":["srcAddr","dstAddr"]`}},
		{"time range", "POST", "/api/v1/query", tok, map[string]any{"query": "stats count(*) as n", "start": "2024-05-31T15:00:00Z", "end": 1717171200000}, 200,
			[]string{`[[3]]`}},
		{"row cap", "POST", "/api/v1/query", tok, map[string]any{"query": "fields srcAddr", "limit": 2}, 200, []string{`"rows":[[`}},
		{"row cap above max", "POST", "/api/v1/query", tok, map[string]any{"query": "fields srcAddr", "limit": 10_000_000}, 400, []string{"--max-rows"}},
		{"sql", "POST", "/api/v1/query", tok, map[string]any{"language": "sql", "query": "SELECT count(*) AS n FROM flows"}, 200, []string{`[[5]]`}},
		{"sql write refused", "POST", "/api/v1/query", tok, map[string]any{"language": "sql", "query": "DROP TABLE flows"}, 400, []string{`"bad_query"`, "read-only"}},
		{"bad query position", "POST", "/api/v1/query", tok, map[string]any{"query": "stats count(* by x"}, 400,
			[]string{`"bad_query"`, `"column":15,"end":16,"line":1,"offset":14`}},
		{"unknown dataset query", "POST", "/api/v1/query", tok, map[string]any{"query": "stats count(*)", "datasets": []string{"prdo"}}, 404, []string{`did you mean \"prod\"`}},
		{"bad json", "POST", "/api/v1/query", tok, `{"query":`, 400, []string{`"bad_request"`}},
		{"unknown member", "POST", "/api/v1/query", tok, `{"qurey":"x"}`, 400, []string{`"bad_request"`, "qurey"}},
		{"since and start", "POST", "/api/v1/query", tok, map[string]any{"query": "stats count(*)", "since": "1h", "start": "2024-05-31"}, 400, nil},
		{"explain", "POST", "/api/v1/explain", tok, map[string]any{"query": "filter dstPort = 22 | stats count(*) by srcAddr"}, 200, []string{`"sql":"`, "dstport"}},
		{"validate ok", "POST", "/api/v1/validate", tok, map[string]any{"query": "stats count(*)"}, 200, []string{`"valid":true`}},
		{"validate bad", "POST", "/api/v1/validate", tok, map[string]any{"query": "filter srcAdr = 1"}, 200,
			[]string{`"valid":false`, `"offset":7`, "srcAddr"}},
		{"openapi", "GET", "/api/v1/openapi.json", "", nil, 200, []string{`"openapi":"3.0.3"`, `"/api/v1/queries/{id}"`}},
		{"no such endpoint", "GET", "/api/v1/nope", tok, nil, 404, []string{"openapi.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, env := srv.call(t, tc.method, tc.path, tc.token, tc.body)
			raw := jsonText(env)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, raw)
			}
			for _, w := range tc.want {
				if !strings.Contains(raw, w) {
					t.Errorf("missing %s in %s", w, raw)
				}
			}
		})
	}
	// The history has the queries, newest first.
	_, _, env := srv.call(t, "GET", "/api/v1/history?limit=2", tok, nil)
	h := dataOf(t, env).([]any)
	if len(h) != 2 || !strings.Contains(jsonText(env), `"status":"Failed"`) {
		t.Errorf("history %s", jsonText(env))
	}
}

// TestServeAsyncSavedDashboards: start/poll/stop, saved queries and dashboards.
func TestServeAsyncSavedDashboards(t *testing.T) {
	data := queryDB(t)
	srv := startServe(t, data)
	tok := srv.token
	_, _, env := srv.call(t, "POST", "/api/v1/queries", tok, map[string]any{"query": "filter action = 'REJECT' | stats count(*) as n by srcAddr"})
	id := dataOf(t, env).(map[string]any)["queryId"].(string)
	st := pollQuery(t, srv, id)
	if st["status"] != "Complete" {
		t.Fatalf("status %v", st)
	}
	stats := st["statistics"].(map[string]any)
	if stats["recordsScanned"].(float64) != 5 || stats["recordsMatched"].(float64) != 2 {
		t.Errorf("statistics %v", stats)
	}
	if rows := st["rows"].([]any); len(rows) != 1 {
		t.Errorf("rows %v", rows)
	}
	if status, _, _ := srv.call(t, "GET", "/api/v1/queries/q-unknown", tok, nil); status != 404 {
		t.Errorf("unknown query: %d", status)
	}
	if status, _, env := srv.call(t, "POST", "/api/v1/queries", tok, map[string]any{"query": "sort"}); status != 400 || !strings.Contains(jsonText(env), "position") {
		t.Errorf("bad async query: %d %s", status, jsonText(env))
	}

	status, _, env := srv.call(t, "POST", "/api/v1/saved-queries", tok, map[string]any{
		"name": "rejects", "query": "filter action = 'REJECT'", "datasets": []string{"prod"}, "range": map[string]any{"since": "1d"}, "chart": "bar"})
	if status != 200 {
		t.Fatalf("save: %d %s", status, jsonText(env))
	}
	sq := dataOf(t, env).(map[string]any)
	sqID := sq["id"].(string)
	status, _, env = srv.call(t, "POST", "/api/v1/dashboards", tok, map[string]any{
		"name": "security", "panels": []any{map[string]any{"savedQueryId": sqID, "x": 0, "y": 0, "w": 6, "h": 4}}})
	if status != 200 {
		t.Fatalf("dashboard: %d %s", status, jsonText(env))
	}
	dbID := dataOf(t, env).(map[string]any)["id"].(string)
	if status, _, env := srv.call(t, "POST", "/api/v1/dashboards", tok, map[string]any{
		"name": "x", "panels": []any{map[string]any{"savedQueryId": "sq-none", "w": 1, "h": 1}}}); status != 400 {
		t.Errorf("dashboard with unknown query: %d %s", status, jsonText(env))
	}
	if status, _, _ := srv.call(t, "DELETE", "/api/v1/saved-queries/"+sqID, tok, nil); status != 400 {
		t.Errorf("deleting a query a dashboard shows: %d", status)
	}
	// Survives a restart.
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	srv = startServe(t, data)
	_, _, env = srv.call(t, "GET", "/api/v1/dashboards/"+dbID, srv.token, nil)
	if !strings.Contains(jsonText(env), sqID) {
		t.Fatalf("dashboard after restart: %s", jsonText(env))
	}
	if status, _, _ := srv.call(t, "PUT", "/api/v1/saved-queries/"+sqID, srv.token, map[string]any{"name": "rejects 2", "query": "filter action = 'REJECT'"}); status != 200 {
		t.Errorf("put: %d", status)
	}
	if status, _, _ := srv.call(t, "DELETE", "/api/v1/dashboards/"+dbID, srv.token, nil); status != 200 {
		t.Errorf("delete dashboard: %d", status)
	}
	if status, _, _ := srv.call(t, "DELETE", "/api/v1/saved-queries/"+sqID, srv.token, nil); status != 200 {
		t.Errorf("delete saved query: %d", status)
	}
}

func pollQuery(t *testing.T, srv *testServer, id string) map[string]any {
	t.Helper()
	for range 600 {
		_, _, env := srv.call(t, "GET", "/api/v1/queries/"+id, srv.token, nil)
		st := dataOf(t, env).(map[string]any)
		if s := st["status"]; s != "Running" && s != "Scheduled" {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("query %s did not finish", id)
	return nil
}

// slowSQL runs for many seconds unless cancelled.
const slowSQL = "SELECT sum(a.range * b.range) AS s FROM range(200000) a, range(200000) b"

// TestServeLimitsAuthCancel: 429 beyond the concurrency limit, stop,
// timeouts, body size, a revoked token.
func TestServeLimitsAuthCancel(t *testing.T) {
	data := queryDB(t)
	srv := startServe(t, data, "--max-concurrent", "1", "--max-body", "2000")
	tok := srv.token
	_, _, env := srv.call(t, "POST", "/api/v1/queries", tok, map[string]any{"language": "sql", "query": slowSQL})
	id := dataOf(t, env).(map[string]any)["queryId"].(string)
	status, hdr, env := srv.call(t, "POST", "/api/v1/query", tok, map[string]any{"query": "stats count(*)"})
	if status != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(jsonText(env), "too_many_requests") {
		t.Fatalf("beyond the limit: %d %v %s", status, hdr, jsonText(env))
	}
	_, _, env = srv.call(t, "POST", "/api/v1/queries/"+id+"/stop", tok, nil)
	if !strings.Contains(jsonText(env), `"success":true`) {
		t.Fatalf("stop: %s", jsonText(env))
	}
	if st := pollQuery(t, srv, id); st["status"] != "Cancelled" {
		t.Fatalf("after stop: %v", st)
	}
	// The slot is free again.
	if status, _, env := srv.call(t, "POST", "/api/v1/query", tok, map[string]any{"query": "stats count(*)"}); status != 200 {
		t.Fatalf("after the slot freed: %d %s", status, jsonText(env))
	}
	status, _, env = srv.call(t, "POST", "/api/v1/query", tok, map[string]any{"language": "sql", "query": slowSQL, "timeoutMs": 200})
	if status != http.StatusGatewayTimeout || !strings.Contains(jsonText(env), "timeout") {
		t.Fatalf("timeout: %d %s", status, jsonText(env))
	}
	big := fmt.Sprintf(`{"query": "stats count(*) %s"}`, strings.Repeat(" ", 3000))
	if status, _, env := srv.call(t, "POST", "/api/v1/query", tok, big); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("big body: %d %s", status, jsonText(env))
	}
	mustStore(t, nil, "tokens", "revoke", "--data", data, "test")
	if status, _, _ := srv.call(t, "GET", "/api/v1/datasets", tok, nil); status != 401 {
		t.Fatalf("revoked token: %d", status)
	}
	out := mustStore(t, nil, "tokens", "list", "--data", data, "--output", "csv")
	if !strings.Contains(out, "test") || strings.Contains(out, tok) {
		t.Fatalf("tokens list: %s", out)
	}
}

func jsonText(v any) string {
	b, _ := jsonMarshal(v)
	return string(b)
}
