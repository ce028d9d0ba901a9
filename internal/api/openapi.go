package api

import "net/http"

// endpoint is one operation of the OpenAPI document.
type endpoint struct {
	method, path, summary string
	body                  string // schema name of the request body ("" none)
	result                string // schema name of data ("" free-form)
	params                []string
}

var endpoints = []endpoint{
	{"get", "/healthz", "liveness (no auth)", "", "", nil},
	{"get", "/readyz", "readiness: the store is open and answers (no auth)", "", "", nil},
	{"get", "/api/v1/whoami", "the token's identity", "", "Identity", nil},
	{"post", "/api/v1/query", "run a query and wait for its result", "QueryRequest", "Result", nil},
	{"post", "/api/v1/queries", "start a query (like StartQuery); answers its queryId", "QueryRequest", "", nil},
	{"get", "/api/v1/queries", "the queries kept (running and recent), without rows", "", "", nil},
	{"get", "/api/v1/queries/{id}", "status, statistics and results: when Complete, and the rows of the time slices done while a sliced query runs (like GetQueryResults)", "", "QueryStatus", []string{"id"}},
	{"post", "/api/v1/queries/{id}/stop", "stop a running query (like StopQuery)", "", "", []string{"id"}},
	{"delete", "/api/v1/queries/{id}", "stop a running query", "", "", []string{"id"}},
	{"post", "/api/v1/explain", "the plan and the SQL a query runs as", "QueryRequest", "", nil},
	{"post", "/api/v1/validate", "check a query; errors with positions for the editor", "QueryRequest", "", nil},
	{"get", "/api/v1/language", "commands, functions and keywords for completion", "", "", nil},
	{"get", "/api/v1/datasets", "every dataset", "", "", nil},
	{"get", "/api/v1/datasets/{name}", "one dataset", "", "Dataset", []string{"name"}},
	{"get", "/api/v1/datasets/{name}/fields", "the fields of a dataset's formats", "", "", []string{"name"}},
	{"get", "/api/v1/fields", "the fields of the datasets named in ?datasets=a,b (default all)", "", "", nil},
	{"get", "/api/v1/history", "the newest queries first (?limit=50)", "", "", nil},
	{"get", "/api/v1/jobs", "the scheduled jobs (retention, reports): schedule, last and next run", "", "", nil},
	{"get", "/api/v1/jobs/history", "the job history, newest first (?job=NAME&limit=100; 0: all)", "", "", nil},
	{"post", "/api/v1/jobs/{name}/run", "run a job now (409 while it runs)", "", "", []string{"name"}},
	{"get", "/api/v1/saved-queries", "saved queries", "", "", nil},
	{"post", "/api/v1/saved-queries", "save a query", "SavedQuery", "SavedQuery", nil},
	{"get", "/api/v1/saved-queries/{id}", "one saved query", "", "SavedQuery", []string{"id"}},
	{"put", "/api/v1/saved-queries/{id}", "replace a saved query", "SavedQuery", "SavedQuery", []string{"id"}},
	{"delete", "/api/v1/saved-queries/{id}", "delete a saved query", "", "", []string{"id"}},
	{"get", "/api/v1/dashboards", "dashboards", "", "", nil},
	{"post", "/api/v1/dashboards", "create a dashboard", "Dashboard", "Dashboard", nil},
	{"get", "/api/v1/dashboards/{id}", "one dashboard", "", "Dashboard", []string{"id"}},
	{"put", "/api/v1/dashboards/{id}", "replace a dashboard", "Dashboard", "Dashboard", []string{"id"}},
	{"delete", "/api/v1/dashboards/{id}", "delete a dashboard", "", "", []string{"id"}},
	{"get", "/api/v1/metric-filters", "metric filters (?dataset=D&prefix=P)", "", "", nil},
	{"post", "/api/v1/metric-filters", "create a metric filter (409 when the name exists)", "", "", nil},
	{"get", "/api/v1/metric-filters/{dataset}/{name}", "one metric filter", "", "", []string{"dataset", "name"}},
	{"put", "/api/v1/metric-filters/{dataset}/{name}", "create or replace a metric filter", "", "", []string{"dataset", "name"}},
	{"delete", "/api/v1/metric-filters/{dataset}/{name}", "delete a metric filter", "", "", []string{"dataset", "name"}},
	{"post", "/api/v1/metric-filters/{dataset}/{name}/backfill", "evaluate the filter over stored records of [start, end): the minutes of the range replaced, never counted twice", "", "", []string{"dataset", "name"}},
	{"post", "/api/v1/metric-filters/test", "TestMetricFilter: the matches of a pattern in 1-50 messages", "", "", nil},
	{"get", "/api/v1/metrics", "the metric series of the metric filters (?namespace=&metric=)", "", "", nil},
	{"get", "/api/v1/metrics/datapoints", "1-minute statistic sets over a range (?namespace&metric&start&end&period&statistic&dim.NAME=V|dimensions=any|each)", "", "", nil},
	{"get", "/api/v1/alarms", "alarms with their state", "", "", nil},
	{"get", "/api/v1/alarms/{name}", "one alarm", "", "", []string{"name"}},
	{"put", "/api/v1/alarms/{name}", "create or replace an alarm", "", "", []string{"name"}},
	{"delete", "/api/v1/alarms/{name}", "delete an alarm", "", "", []string{"name"}},
	{"get", "/api/v1/alarms/{name}/history", "an alarm's state changes and notifications, newest first", "", "", []string{"name"}},
	{"get", "/api/v1/ingest/s3", "the followed S3 prefixes (flowlens serve --follow): lag, counters, failures", "", "", nil},
	{"get", "/metrics", "Prometheus exposition: metric filter series, alarm states, the server's health", "", "", nil},
}

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func props(kv ...any) obj {
	p := obj{}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i].(string)] = kv[i+1]
	}
	return obj{"type": "object", "properties": p}
}

var (
	str  = obj{"type": "string"}
	num  = obj{"type": "integer"}
	strs = obj{"type": "array", "items": obj{"type": "string"}}
)

func schemas() obj {
	rng := props("since", str, "start", str, "end", str)
	return obj{
		"Error": props("type", obj{"type": "string", "enum": []string{TypeBadQuery, TypeBadRequest, TypeUnauthorized, TypeNotFound,
			TypeTooManyRequests, TypeTimeout, TypeCanceled, TypeTooLarge, TypeInternal}}, "message", str,
			"position", props("line", num, "column", num, "offset", num, "end", num)),
		"Identity": props("id", str, "name", str),
		"QueryRequest": props("query", str, "language", obj{"type": "string", "enum": []string{"insights", "sql"}},
			"datasets", strs, "since", str, "start", obj{"oneOf": []obj{str, num}}, "end", obj{"oneOf": []obj{str, num}},
			"limit", num, "timeoutMs", num),
		"Statistics": props("recordsScanned", num, "recordsMatched", num, "bytesScanned", num, "elapsedMs", num),
		"Column":     props("name", str, "type", obj{"type": "string", "enum": []string{"time", "number", "string", "bool", "json"}}),
		"Shape":      props("timeColumn", obj{"type": "string", "nullable": true}, "keys", strs, "values", strs, "addressKeys", strs),
		"Result": props("columns", obj{"type": "array", "items": ref("Column")}, "rows", obj{"type": "array", "items": obj{"type": "array", "items": obj{}}},
			"statistics", ref("Statistics"), "truncated", obj{"type": "boolean"}, "shape", ref("Shape")),
		"QueryStatus": props("queryId", str, "status", obj{"type": "string", "enum": []string{statusScheduled, statusRunning, statusComplete,
			statusFailed, statusCancelled, statusTimeout}}, "query", str, "language", str, "submittedAt", str,
			"statistics", ref("Statistics"), "columns", obj{"type": "array", "items": ref("Column")},
			"rows", obj{"type": "array", "items": obj{"type": "array", "items": obj{}}}, "shape", ref("Shape"), "error", ref("Error"),
			"partial", obj{"type": "boolean"}, "progress", props("slicesDone", num, "slices", num, "start", str, "end", str)),
		"Dataset": props("name", str, "records", num, "bytes", num, "minTime", str, "maxTime", str, "formats", obj{"type": "object"},
			"lastIngest", str, "files", num, "retentionSeconds", num),
		"SavedQuery": props("id", str, "name", str, "query", str, "language", str, "datasets", strs, "range", rng,
			"chart", obj{"type": "string", "enum": []string{"auto", "line", "area", "bar", "sankey", "table"}}),
		"Dashboard": props("id", str, "name", str, "range", rng, "panels", obj{"type": "array", "items": props("savedQueryId", str,
			"title", str, "chart", str, "x", num, "y", num, "w", num, "h", num)}),
	}
}

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) {
	paths := obj{}
	for _, e := range endpoints {
		data := obj{}
		if e.result != "" {
			data = ref(e.result)
		}
		op := obj{
			"summary": e.summary,
			"responses": obj{
				"200":     obj{"description": "ok", "content": obj{"application/json": obj{"schema": props("status", str, "data", data)}}},
				"default": obj{"description": "error", "content": obj{"application/json": obj{"schema": props("status", str, "error", ref("Error"))}}},
			},
		}
		if e.path != "/healthz" && e.path != "/readyz" {
			op["security"] = []obj{{"bearer": []string{}}}
		}
		if e.body != "" {
			op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(e.body)}}}
		}
		var params []obj
		for _, p := range e.params {
			params = append(params, obj{"name": p, "in": "path", "required": true, "schema": str})
		}
		if params != nil {
			op["parameters"] = params
		}
		item, _ := paths[e.path].(obj)
		if item == nil {
			item = obj{}
			paths[e.path] = item
		}
		item[e.method] = op
	}
	writeJSON(w, http.StatusOK, obj{
		"openapi": "3.0.3",
		"info":    obj{"title": "flowlens API", "version": "1", "description": "Queries, datasets, saved queries and dashboards of a flowlens server. See docs/API.md."},
		"paths":   paths,
		"components": obj{
			"schemas":         schemas(),
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}},
		},
	})
}
